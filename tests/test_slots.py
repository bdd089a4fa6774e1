"""Free slots: working hours in the professional's zone, minus time off, minus the sessions that
hold time (with the break), minus the patient's own sessions, within lead time and horizon."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from reservations.models import Reservation
from scheduling.models import TimeOff, WorkingHours
from scheduling.slots import free_slots, offered_slot

from .conftest import NOW, make_user

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
# NOW is Tuesday 10 March 2026, 12:00 in Buenos Aires. The next Monday is the 16th.
MONDAY = date(2026, 3, 16)


def at(day, hour, minute=0, zone=BA):
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def hours(pro, weekday=0, start=time(9), end=time(13), **fields):
    return WorkingHours.objects.create(
        professional=pro, weekday=weekday, start_time=start, end_time=end, **fields
    )


def starts(slots, zone=BA):
    return [s.start.astimezone(zone).strftime("%a %H:%M") for s in slots]


def test_working_hours_give_sessions_with_their_break(professional):
    hours(professional)  # Mondays 9 to 13, 50 min + 10
    slots = free_slots(professional, MONDAY, MONDAY, now=NOW)
    assert starts(slots) == ["Mon 09:00", "Mon 10:00", "Mon 11:00", "Mon 12:00"]
    assert slots[0].start == at(MONDAY, 9)
    assert slots[0].end == at(MONDAY, 9, 50)
    assert slots[0].modalities == ("Virtual", "Presencial")


def test_a_session_that_would_end_after_the_range_is_not_offered(professional):
    hours(professional, end=time(12, 40), session_minutes=45, buffer_minutes=15)
    assert starts(free_slots(professional, MONDAY, MONDAY, now=NOW)) == [
        "Mon 09:00",
        "Mon 10:00",
        "Mon 11:00",
    ]


def test_several_ranges_a_day_leave_the_break_between_them(professional):
    hours(professional, start=time(9), end=time(11), modality="Virtual")
    hours(professional, start=time(15), end=time(17), modality="Presencial")
    slots = free_slots(professional, MONDAY, MONDAY, now=NOW)
    assert starts(slots) == ["Mon 09:00", "Mon 10:00", "Mon 15:00", "Mon 16:00"]
    assert [s.modalities for s in slots] == [("Virtual",)] * 2 + [("Presencial",)] * 2


def test_only_the_weekdays_with_hours(professional):
    hours(professional, weekday=0)
    hours(professional, weekday=2, start=time(18), end=time(19))
    slots = free_slots(professional, MONDAY, MONDAY + timedelta(days=6), now=NOW)
    assert starts(slots) == ["Mon 09:00", "Mon 10:00", "Mon 11:00", "Mon 12:00", "Wed 18:00"]


def test_time_off_removes_what_it_touches(professional):
    hours(professional)
    TimeOff.objects.create(
        professional=professional, start=at(MONDAY, 10, 30), end=at(MONDAY, 11, 10)
    )
    assert starts(free_slots(professional, MONDAY, MONDAY, now=NOW)) == ["Mon 09:00", "Mon 12:00"]


def test_a_whole_day_off(professional):
    hours(professional)
    TimeOff.objects.create(
        professional=professional, start=at(MONDAY, 0), end=at(MONDAY + timedelta(days=1), 0)
    )
    assert free_slots(professional, MONDAY, MONDAY, now=NOW) == []


def test_sessions_of_the_professional_need_the_break_around_them(
    professional, other_patient, make_reservation
):
    hours(professional)
    # 10:05 to 10:50, booked by staff off the grid: 9:00 (ends 9:50, +10 = 10:00 < 10:05) stays,
    # 10:00 overlaps, 11:00 starts 10 minutes after its end: stays.
    make_reservation(other_patient, at(MONDAY, 10, 5))
    assert starts(free_slots(professional, MONDAY, MONDAY, now=NOW)) == [
        "Mon 09:00",
        "Mon 11:00",
        "Mon 12:00",
    ]
    # 10:50 to 11:35: 11:00 overlaps, 12:00 is 25 minutes clear, 10:00 ends at 10:50 with no
    # break before it: taken too.
    Reservation.objects.all().delete()
    make_reservation(other_patient, at(MONDAY, 10, 50))
    assert starts(free_slots(professional, MONDAY, MONDAY, now=NOW)) == ["Mon 09:00", "Mon 12:00"]


def test_pending_requests_hold_their_time_until_they_lapse(
    professional, other_patient, make_reservation
):
    hours(professional)
    live = make_reservation(other_patient, at(MONDAY, 9), minutes=50, status="PENDING")
    Reservation.objects.filter(pk=live.pk).update(expires_at=NOW + timedelta(hours=1))
    lapsed = make_reservation(other_patient, at(MONDAY, 10), minutes=50, status="PENDING")
    Reservation.objects.filter(pk=lapsed.pk).update(expires_at=NOW - timedelta(minutes=1))
    forever = make_reservation(other_patient, at(MONDAY, 11), minutes=50, status="PENDING")
    make_reservation(other_patient, at(MONDAY, 12), minutes=50, status="CANCELLED")
    assert forever.expires_at is None  # waits as long as it takes
    # The lapsed one frees its time even before the worker expires it; cancelled ones never hold.
    assert starts(free_slots(professional, MONDAY, MONDAY, now=NOW)) == ["Mon 10:00", "Mon 12:00"]


def test_the_patients_own_sessions_elsewhere_block_too(professional, patient, make_reservation):
    hours(professional)
    elsewhere = make_user("ruiz@example.com", first_name="Andrés", last_name="Ruiz")
    make_reservation(patient, at(MONDAY, 10, 30), minutes=30, pro=elsewhere)
    # Only overlapping ones: the patient needs no break between two professionals.
    assert starts(free_slots(professional, MONDAY, MONDAY, now=NOW, patient=patient)) == [
        "Mon 09:00",
        "Mon 11:00",
        "Mon 12:00",
    ]
    assert len(free_slots(professional, MONDAY, MONDAY, now=NOW)) == 4


def test_lead_time_and_horizon(professional):
    hours(professional, weekday=1, min_lead_hours=24, horizon_weeks=2)  # Tuesdays
    tuesday = date(2026, 3, 10)  # today, 12:00: 24 h ahead is tomorrow noon
    slots = free_slots(professional, tuesday, tuesday + timedelta(weeks=4), now=NOW)
    assert [s.start.astimezone(BA).date() for s in slots[::4]] == [
        date(2026, 3, 17),
        date(2026, 3, 24),
    ]
    # 24 h exactly is allowed: Wednesdays 12:00 with a 24 h lead, asked at Tuesday 12:00.
    hours(professional, weekday=2, start=time(12), end=time(13), min_lead_hours=24)
    wednesday = date(2026, 3, 11)
    assert starts(free_slots(professional, wednesday, wednesday, now=NOW)) == ["Wed 12:00"]
    later = NOW + timedelta(seconds=1)
    assert free_slots(professional, wednesday, wednesday, now=later) == []


def test_the_horizon_ends_at_now_plus_its_weeks(professional):
    hours(professional, weekday=1, start=time(11), end=time(13), horizon_weeks=1)
    next_tuesday = date(2026, 3, 17)
    # 11:00 is before NOW + 1 week (12:00); 12:00 is not.
    assert starts(free_slots(professional, next_tuesday, next_tuesday, now=NOW)) == ["Tue 11:00"]


def test_a_silly_range_costs_nothing(professional, django_assert_num_queries):
    hours(professional)
    with django_assert_num_queries(1):  # the hours; the range is past the horizon
        assert free_slots(professional, date(9999, 1, 1), date(9999, 12, 31), now=NOW) == []
    assert free_slots(professional, MONDAY, MONDAY - timedelta(days=1), now=NOW) == []


def test_three_queries_for_eight_weeks(
    professional, patient, other_patient, make_reservation, django_assert_num_queries
):
    for weekday in range(5):
        hours(professional, weekday=weekday, start=time(9), end=time(13))
        hours(professional, weekday=weekday, start=time(15), end=time(19))
    for week in range(8):
        make_reservation(other_patient, at(MONDAY + timedelta(weeks=week), 9), minutes=50)
    TimeOff.objects.create(
        professional=professional, start=at(date(2026, 4, 1), 0), end=at(date(2026, 4, 4), 0)
    )
    # 1. the working hours; 2. the sessions and the time off in the range, in one UNION; 3. the
    # practice's closures in the range (holidays are computed).
    with django_assert_num_queries(3):
        slots = free_slots(
            professional, date(2026, 3, 10), date(2026, 5, 10), now=NOW, patient=patient
        )
    assert len(slots) > 200
    assert at(MONDAY, 9) not in [s.start for s in slots]
    assert not [
        s for s in slots if date(2026, 4, 1) <= s.start.astimezone(BA).date() <= date(2026, 4, 3)
    ]


def test_no_hours_no_slots(professional, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert free_slots(professional, MONDAY, MONDAY, now=NOW) == []


def test_offered_slot_checks_start_and_modality(professional):
    hours(professional, modality="Virtual")
    assert offered_slot(professional, at(MONDAY, 10), "Virtual", now=NOW).end == at(MONDAY, 10, 50)
    assert offered_slot(professional, at(MONDAY, 10), "Presencial", now=NOW) is None
    assert offered_slot(professional, at(MONDAY, 10, 30), "Virtual", now=NOW) is None  # off grid
    assert offered_slot(professional, at(MONDAY, 14), "Virtual", now=NOW) is None


# Daylight-saving time: hours are wall-clock times in the professional's zone.


def test_santiago_keeps_9_am_on_both_sides_of_the_april_change(professional):
    # Chile leaves summer time on the night of Saturday 4 April 2026 (UTC-3 -> UTC-4).
    professional.time_zone = "America/Santiago"
    professional.save()
    scl = ZoneInfo("America/Santiago")
    hours(professional, start=time(9), end=time(10), horizon_weeks=8)
    before, after = date(2026, 3, 30), date(2026, 4, 6)
    slots = free_slots(professional, before, after, now=NOW)
    assert [s.start for s in slots] == [
        datetime(2026, 3, 30, 12, tzinfo=UTC),  # 9:00 at UTC-3
        datetime(2026, 4, 6, 13, tzinfo=UTC),  # 9:00 at UTC-4
    ]
    assert [s.start.astimezone(scl).hour for s in slots] == [9, 9]
    # Shown to a patient in Buenos Aires (UTC-3 all year): 9:00, then 10:00.
    assert starts(slots) == ["Mon 09:00", "Mon 10:00"]


def test_santiago_keeps_9_am_on_both_sides_of_the_september_change(professional):
    # Chile starts summer time on the night of Saturday 5 September 2026 (UTC-4 -> UTC-3).
    professional.time_zone = "America/Santiago"
    professional.save()
    hours(professional, weekday=0, start=time(9), end=time(10), horizon_weeks=30)
    slots = free_slots(professional, date(2026, 8, 31), date(2026, 9, 7), now=NOW)
    assert [s.start for s in slots] == [
        datetime(2026, 8, 31, 13, tzinfo=UTC),
        datetime(2026, 9, 7, 12, tzinfo=UTC),
    ]


def test_madrid_spring_forward_skips_the_hour_that_does_not_exist(professional):
    # Sunday 29 March 2026: 2:00 becomes 3:00 in Madrid. A 1:00-4:00 range offers 1:00 and 3:00
    # (2:00 never happens); each session lasts its real 50 minutes.
    professional.time_zone = "Europe/Madrid"
    professional.save()
    mad = ZoneInfo("Europe/Madrid")
    hours(professional, weekday=6, start=time(1), end=time(4))
    sunday = date(2026, 3, 29)
    slots = free_slots(professional, sunday, sunday, now=NOW, zone=mad)
    assert [s.start.astimezone(mad).strftime("%H:%M%z") for s in slots] == [
        "01:00+0100",
        "03:00+0200",
    ]
    assert all(s.end - s.start == timedelta(minutes=50) for s in slots)
    # The Sunday before and after: 9:00 local is 8:00 UTC in winter, 7:00 UTC in summer.
    hours(professional, weekday=6, start=time(9), end=time(10))
    week_before = free_slots(professional, sunday - timedelta(7), sunday - timedelta(7), now=NOW)
    week_after = free_slots(professional, sunday + timedelta(7), sunday + timedelta(7), now=NOW)
    assert datetime(2026, 3, 22, 8, tzinfo=UTC) in [s.start for s in week_before]
    assert datetime(2026, 4, 5, 7, tzinfo=UTC) in [s.start for s in week_after]


def test_madrid_fall_back_offers_the_repeated_hour_once(professional):
    # Sunday 25 October 2026: 3:00 becomes 2:00 again. 1:00-4:00 with 50+10 gives 1:00, 2:00
    # (the first one) and 3:00.
    professional.time_zone = "Europe/Madrid"
    professional.save()
    mad = ZoneInfo("Europe/Madrid")
    hours(professional, weekday=6, start=time(1), end=time(4), horizon_weeks=40)
    sunday = date(2026, 10, 25)
    slots = free_slots(professional, sunday, sunday, now=NOW, zone=mad)
    assert [s.start.astimezone(mad).strftime("%H:%M%z") for s in slots] == [
        "01:00+0200",
        "02:00+0200",
        "03:00+0100",
    ]


def test_days_are_read_in_the_zone_asked_for(professional):
    # A professional in Madrid works Mondays 1:00-2:00 (Sunday 21:00 in Buenos Aires in March).
    professional.time_zone = "Europe/Madrid"
    professional.save()
    hours(professional, weekday=0, start=time(1), end=time(2))
    sunday = date(2026, 3, 15)
    assert starts(free_slots(professional, sunday, sunday, now=NOW, zone=BA)) == ["Sun 21:00"]
    assert free_slots(professional, MONDAY, MONDAY, now=NOW, zone=BA) == []


def test_busy_times_across_midnight_utc_still_block(professional, other_patient, make_reservation):
    # Mondays 20:00-23:00 in Buenos Aires are 23:00-02:00 UTC: the slots and a session straddle
    # a UTC day (busy times are looked up by day).
    hours(professional, start=time(20), end=time(23))
    make_reservation(other_patient, at(MONDAY, 20, 55), minutes=50)  # 23:55-00:45 UTC
    assert starts(free_slots(professional, MONDAY, MONDAY, now=NOW)) == ["Mon 22:00"]
    TimeOff.objects.create(
        professional=professional,
        start=at(MONDAY - timedelta(days=3), 0),
        end=at(MONDAY, 22, 30),
    )
    assert free_slots(professional, MONDAY, MONDAY, now=NOW) == []
