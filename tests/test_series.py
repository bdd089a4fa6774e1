"""Weekly series: every date checked before it is written, clashes listed and skipped only with
consent, a rolling horizon the worker extends, "this and later" cancels and moves, the same wall
clock time on both sides of a summer change, and no double booking when a booking races a series.
"""

import zoneinfo
from datetime import date, datetime, time, timedelta
from time import sleep

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone, translation

from reservations.actions import Actor
from reservations.models import Reservation, ReservationEvent
from scheduling.models import TimeOff
from series.models import Occurrence, Series, SeriesEvent, SkippedOccurrence
from series.planning import ClashKind, SeriesClash
from series.services import create_series, extend_all_series, preview_series

from .conftest import NOW, make_user

pytestmark = pytest.mark.django_db

BA = zoneinfo.ZoneInfo("America/Argentina/Buenos_Aires")
TUESDAY, THURSDAY = 1, 3


def at(day, hour, minute=0, tz=BA):
    """An instant: this wall-clock time on this date in `tz`."""
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=tz)


@pytest.fixture
def second_professional(db):
    from accounts.models import ProfessionalProfile

    user = make_user("ruiz@example.com", first_name="Andrés", last_name="Ruiz")
    ProfessionalProfile.objects.create(user=user, display_name="Dr. Andrés Ruiz")
    return user


@pytest.fixture
def fields(patient, professional):
    """Tuesdays 18:00 in Buenos Aires, 45 minutes, from today (Tuesday 10 March 2026, 12:00)."""
    return {
        "client": patient,
        "professional": professional,
        "weekday": TUESDAY,
        "local_time": time(18, 0),
        "minutes": 45,
        "session_modality": "Virtual",
        "starts_on": date(2026, 3, 10),
    }


def create(fields, staff, **options):
    return create_series(**fields, by=Actor.staff(staff), **options)


def starts(series):
    return [
        timezone.localtime(o.reservation.start_time, BA).strftime("%d/%m %H:%M")
        for o in series.occurrences.select_related("reservation").order_by("index")
    ]


# Creating


def test_a_series_without_clashes_books_every_date_up_to_the_horizon(fields, staff, frozen_now):
    series = create(fields, staff)
    # 12 weeks from Tuesday 10 March 12:00: Tuesdays 10 March to 26 May at 18:00.
    assert series.occurrences.count() == 12
    assert starts(series)[:2] == ["10/03 18:00", "17/03 18:00"]
    assert starts(series)[-1] == "26/05 18:00"
    assert [o.index for o in series.occurrences.order_by("index")] == list(range(12))
    reservations = Reservation.objects.filter(occurrence__series=series)
    assert {r.status for r in reservations} == {"CONFIRMED"}
    assert {r.duration_minutes for r in reservations} == {45}
    created = ReservationEvent.objects.filter(reservation__in=reservations, action="created")
    assert {(e.actor, e.channel) for e in created} == {(staff, "admin")}
    assert SeriesEvent.objects.get(series=series).action == "created"
    assert SkippedOccurrence.objects.count() == 0
    assert series.time_zone == "America/Argentina/Buenos_Aires"
    assert series.created_by == staff


def test_a_series_for_a_number_of_sessions_or_until_a_date_stops_there(fields, staff, frozen_now):
    assert create({**fields, "count": 3}, staff).occurrences.count() == 3
    until = create({**fields, "local_time": time(19, 0), "ends_on": date(2026, 3, 31)}, staff)
    assert starts(until) == ["10/03 19:00", "17/03 19:00", "24/03 19:00", "31/03 19:00"]


def test_every_two_weeks(fields, staff, frozen_now):
    series = create({**fields, "interval_weeks": 2, "starts_on": date(2026, 3, 11)}, staff)
    # From Wednesday 11 March the first Tuesday is the 17th; then every other week.
    assert starts(series)[:3] == ["17/03 18:00", "31/03 18:00", "14/04 18:00"]
    assert series.occurrences.count() == 6


@pytest.mark.parametrize(
    "change, field",
    [
        ({"count": 4, "ends_on": date(2026, 5, 1)}, "count"),
        ({"ends_on": date(2026, 3, 1)}, "ends_on"),
        ({"minutes": 0}, "minutes"),
        ({"interval_weeks": 0}, "interval_weeks"),
    ],
)
def test_an_invalid_series_is_refused(fields, staff, frozen_now, change, field):
    with pytest.raises(ValidationError) as refused:
        create({**fields, **change}, staff)
    assert field in refused.value.message_dict
    assert Series.objects.count() == 0 and Reservation.objects.count() == 0


def test_the_professional_must_be_a_professional(fields, staff, other_patient, frozen_now):
    with pytest.raises(ValidationError) as refused:
        create({**fields, "professional": other_patient}, staff)
    assert "professional" in refused.value.message_dict


# Clashes


@pytest.fixture
def clashes(patient, other_patient, professional, second_professional, make_reservation):
    """In the way of Tuesdays 18:00–18:45: the patient's session with another professional
    (17 March, 18:30), the professional's session with another patient (24 March, 17:30–18:15),
    and the professional's day off (31 March)."""
    return {
        "patient": make_reservation(patient, at("2026-03-17", 18, 30), pro=second_professional),
        "professional": make_reservation(other_patient, at("2026-03-24", 17, 30)),
        "time_off": TimeOff.objects.create(
            professional=professional,
            start=at("2026-03-31", 0),
            end=at("2026-04-01", 0),
            reason="Congreso",
        ),
    }


def test_clashes_are_listed_before_saving_and_nothing_is_saved_without_consent(
    fields, staff, clashes, frozen_now
):
    _, plan = preview_series(**fields)
    clashing = {p.index: [c.kind for c in p.clashes] for p in plan if p.clashes}
    assert clashing == {
        1: [ClashKind.PATIENT],
        2: [ClashKind.PROFESSIONAL],
        3: [ClashKind.TIME_OFF],
    }
    messages = [str(c) for p in plan for c in p.clashes]
    assert "Dr. Andrés Ruiz" in messages[0]
    assert "Martín" in messages[1]
    assert "Congreso" in messages[2]

    with pytest.raises(SeriesClash) as refused:
        create(fields, staff)
    assert [p.index for p in refused.value.clashing] == [1, 2, 3]
    assert Series.objects.count() == 0
    assert SkippedOccurrence.objects.count() == 0
    assert Reservation.objects.count() == 2  # the two that were there


def test_with_consent_each_clashing_date_is_skipped_and_recorded(
    fields, staff, clashes, frozen_now
):
    series = create(fields, staff, skip_clashes=True)
    assert series.occurrences.count() == 9
    skipped = list(series.skipped.order_by("index"))
    assert [(s.index, s.action, s.consented_by) for s in skipped] == [
        (1, "create", staff),
        (2, "create", staff),
        (3, "create", staff),
    ]
    assert "Congreso" in skipped[2].reason
    assert skipped[0].start == at("2026-03-17", 18)
    assert SeriesEvent.objects.get(series=series).changes == {"skipped": [1, 2, 3]}
    # Nothing double booked, and the others' sessions untouched.
    for r in Reservation.objects.exclude(status="CANCELLED"):
        assert not r.overlapping().exists()
    assert Reservation.objects.get(pk=clashes["patient"].pk).status == "CONFIRMED"


def test_consent_covers_the_dates_seen_and_no_other(
    fields, staff, clashes, make_reservation, other_patient, frozen_now
):
    # Staff saw dates 1, 2 and 3 clash; meanwhile someone booked 7 April.
    make_reservation(other_patient, at("2026-04-07", 18))
    with pytest.raises(SeriesClash) as refused:
        create(fields, staff, skip_clashes={1, 2, 3})
    assert [p.index for p in refused.value.clashing] == [1, 2, 3, 4]
    assert Series.objects.count() == 0
    series = create(fields, staff, skip_clashes={1, 2, 3, 4})
    assert series.skipped.count() == 4


def test_a_date_already_gone_is_a_clash(fields, staff, frozen_now):
    with pytest.raises(SeriesClash) as refused:
        create({**fields, "local_time": time(9, 0)}, staff)  # 9:00 today has passed
    assert [c.kind for c in refused.value.clashing[0].clashes] == [ClashKind.PAST]
    assert [p.index for p in refused.value.clashing] == [0]


def test_a_lapsed_request_does_not_block_a_series(fields, staff, other_patient, frozen_now):
    lapsed = Reservation.objects.create(
        client=other_patient,
        professional=fields["professional"],
        start_time=at("2026-03-17", 18),
        end_time=at("2026-03-17", 18, 45),
        status="PENDING",
        expires_at=NOW - timedelta(minutes=1),
    )
    series = create(fields, staff)
    assert series.occurrences.count() == 12
    lapsed.refresh_from_db()
    assert (lapsed.status, lapsed.cancellation_reason) == ("CANCELLED", "expired")


# The rolling horizon


def test_the_worker_extends_the_horizon_and_running_twice_changes_nothing(
    fields, staff, frozen_now
):
    series = create(fields, staff)
    assert extend_all_series(NOW) == 0
    with time_machine.travel(NOW + timedelta(weeks=1), tick=False):
        assert extend_all_series() == 1
        rows = list(Occurrence.objects.values_list("series", "index", "reservation"))
        assert extend_all_series() == 0
        assert list(Occurrence.objects.values_list("series", "index", "reservation")) == rows
    with time_machine.travel(NOW + timedelta(weeks=3), tick=False):
        call_command("extend_series", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert starts(series)[-1] == "16/06 18:00"
    assert series.occurrences.count() == 15


def test_the_worker_stops_at_the_series_end(fields, staff, frozen_now):
    series = create({**fields, "count": 14}, staff)
    with time_machine.travel(NOW + timedelta(weeks=10), tick=False):
        assert extend_all_series() == 2
    assert series.occurrences.count() == 14


def test_a_cancelled_session_is_not_created_again_and_the_series_goes_on(
    fields, staff, patient, frozen_now
):
    series = create(fields, staff)
    one = series.occurrences.get(index=3).reservation
    assert one.cancel(by=Actor.patient(patient, "page")) is None  # the patient's usual cancel
    with time_machine.travel(NOW + timedelta(weeks=1), tick=False):
        assert extend_all_series() == 1
    series.refresh_from_db()
    assert series.active
    assert series.occurrences.count() == 13
    assert Reservation.objects.filter(start_time=one.start_time).count() == 1


def test_the_worker_never_double_books_a_date_taken_since(
    fields, staff, other_patient, make_reservation, frozen_now
):
    series = create(fields, staff)
    taken = make_reservation(other_patient, at("2026-06-02", 18))  # beyond the horizon then
    with time_machine.travel(NOW + timedelta(weeks=1), tick=False):
        assert extend_all_series() == 0
    skipped = series.skipped.get()
    # Skipped, recorded, and nobody agreed: for staff to review.
    assert (skipped.index, skipped.consented_by, skipped.action) == (12, None, "create")
    assert "Martín" in skipped.reason
    assert not Reservation.objects.filter(client=fields["client"], start_time=taken.start_time)
    with time_machine.travel(NOW + timedelta(weeks=2), tick=False):
        assert extend_all_series() == 1  # and it goes on past it
    assert series.occurrences.order_by("index").last().index == 13


def test_the_daily_run_is_scheduled_once_and_schedules_the_next(
    fields, staff, frozen_now, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from series.tasks import extend_series

    with django_capture_on_commit_callbacks(execute=True):
        create(fields, staff)
        create({**fields, "client": make_user("ana@example.com"), "local_time": time(19)}, staff)
    # (Each session created also queues its messages: tests/test_notifications.py.)
    daily = DBTaskResult.objects.filter(task_path="series.tasks.extend_series")
    waiting = daily.get()
    assert waiting.run_after == NOW + timedelta(days=1)
    # The run: the waiting row is the worker's now (RUNNING); it schedules the next one.
    DBTaskResult.objects.filter(pk=waiting.pk).update(status="RUNNING")
    with time_machine.travel(NOW + timedelta(weeks=1), tick=False):
        assert extend_series.call() == 2
    assert daily.filter(status="READY").count() == 1


# Cancel this and later


def test_cancel_this_and_later_cancels_from_there_and_ends_the_series(fields, staff, frozen_now):
    series = create(fields, staff)
    fourth = series.occurrences.get(index=3).reservation
    result = series.cancel_from(fourth, by=Actor.staff(staff), reason="Alta terapéutica")
    assert len(result.cancelled) == 9 and result.refused == []
    statuses = dict(series.occurrences.values_list("index", "reservation__status"))
    assert [statuses[i] for i in range(12)] == ["CONFIRMED"] * 3 + ["CANCELLED"] * 9
    cancelled = Reservation.objects.filter(occurrence__series=series, status="CANCELLED")
    assert {(r.cancelled_by, r.cancellation_reason) for r in cancelled} == {
        (staff, "Alta terapéutica")
    }
    series.refresh_from_db()
    assert not series.active and series.ended_by == staff
    assert series.events.filter(action="ended", from_index=3).exists()
    with time_machine.travel(NOW + timedelta(weeks=4), tick=False):
        assert extend_all_series() == 0
    assert series.occurrences.count() == 12


def test_cancel_this_and_later_by_the_professional_leaves_started_sessions(
    fields, staff, professional, frozen_now
):
    series = create(fields, staff)
    with time_machine.travel(at("2026-03-17", 18, 10), tick=False):
        result = series.cancel_from(0, by=Actor.professional(professional), reason="Alta")
    # 10 March is over and 17 March has started: from 24 March on.
    assert len(result.cancelled) == 10
    statuses = dict(series.occurrences.values_list("index", "reservation__status"))
    assert statuses[0] == statuses[1] == "CONFIRMED" and statuses[2] == "CANCELLED"


# Change the time of this and later


def test_move_this_and_later_moves_each_session_and_the_rule(fields, staff, frozen_now):
    series = create(fields, staff)
    third = series.occurrences.get(index=2).reservation
    moved = series.move_from(third, THURSDAY, time(10, 0), by=Actor.staff(staff))
    assert len(moved) == 10
    assert starts(series)[:4] == ["10/03 18:00", "17/03 18:00", "26/03 10:00", "02/04 10:00"]
    events = ReservationEvent.objects.filter(reservation=third, action="rescheduled")
    assert events.get().actor == staff
    series.refresh_from_db()
    assert (series.weekday, series.local_time) == (THURSDAY, time(10, 0))
    assert series.events.get(action="moved").changes["local_time"] == ["18:00", "10:00"]
    # Later sessions follow the new rule.
    with time_machine.travel(NOW + timedelta(weeks=1), tick=False):
        assert extend_all_series() == 1
    assert starts(series)[-1] == "04/06 10:00"


def test_a_move_with_a_clash_is_refused_and_changes_nothing_without_consent(
    fields, staff, other_patient, make_reservation, frozen_now
):
    series = create(fields, staff)
    make_reservation(other_patient, at("2026-04-02", 10))  # a Thursday 10:00
    before = starts(series)
    with pytest.raises(SeriesClash) as refused:
        series.move_from(2, THURSDAY, time(10, 0), by=Actor.staff(staff))
    assert [p.start for p in refused.value.clashing] == [at("2026-04-02", 10)]
    assert starts(series) == before
    assert not ReservationEvent.objects.filter(action="rescheduled").exists()
    series.refresh_from_db()
    assert (series.weekday, series.local_time) == (TUESDAY, time(18, 0))

    # With consent: the clashing one stays where it was, recorded.
    series.move_from(2, THURSDAY, time(10, 0), by=Actor.staff(staff), skip_clashes={3})
    assert starts(series)[2:5] == ["26/03 10:00", "31/03 18:00", "09/04 10:00"]
    skipped = series.skipped.get()
    assert (skipped.index, skipped.action, skipped.consented_by) == (3, "move", staff)


def test_the_series_own_sessions_are_not_in_the_way_of_a_move(fields, staff, frozen_now):
    series = create(fields, staff)
    # Half an hour later, overlapping.
    series.move_from(1, TUESDAY, time(18, 30), by=Actor.staff(staff))
    assert starts(series)[:3] == ["10/03 18:00", "17/03 18:30", "24/03 18:30"]


def test_a_move_to_a_time_already_gone_is_a_clash(fields, staff, frozen_now):
    series = create(fields, staff)
    with pytest.raises(SeriesClash) as refused:
        series.move_from(0, 0, time(10, 0), by=Actor.staff(staff))  # Monday 9 March
    assert refused.value.clashing[0].clashes[0].kind == ClashKind.PAST


# Summer time


@pytest.mark.parametrize(
    "zone, first_day, before, after",
    [
        # Madrid: summer time from Sunday 29 March 2026 (UTC+1 -> UTC+2) ...
        ("Europe/Madrid", "2026-03-24", "17:00", "16:00"),
        # ... until Sunday 25 October (UTC+2 -> UTC+1).
        ("Europe/Madrid", "2026-10-20", "16:00", "17:00"),
        # Santiago: winter from Sunday 5 April 2026 (UTC-3 -> UTC-4) ...
        ("America/Santiago", "2026-03-31", "21:00", "22:00"),
        # ... and summer again from Sunday 6 September (UTC-4 -> UTC-3).
        ("America/Santiago", "2026-09-01", "22:00", "21:00"),
    ],
)
def test_the_local_time_stays_across_a_summer_change(
    fields, staff, professional, frozen_now, settings, zone, first_day, before, after
):
    settings.SERIES_HORIZON_WEEKS = 52
    professional.time_zone = zone
    professional.save()
    series = create({**fields, "starts_on": date.fromisoformat(first_day), "count": 2}, staff)
    tz = zoneinfo.ZoneInfo(zone)
    sessions = [o.reservation for o in series.occurrences.order_by("index")]
    assert [timezone.localtime(r.start_time, tz).strftime("%H:%M") for r in sessions] == [
        "18:00",
        "18:00",
    ]
    utc = [r.start_time.astimezone(zoneinfo.ZoneInfo("UTC")).strftime("%H:%M") for r in sessions]
    assert utc == [before, after]


def test_a_move_keeps_the_local_time_across_a_summer_change(fields, staff, professional):
    professional.time_zone = "Europe/Madrid"
    professional.save()
    with time_machine.travel(NOW, tick=False):
        series = create({**fields, "starts_on": date(2026, 3, 17), "count": 3}, staff)
        series.move_from(0, THURSDAY, time(9, 30), by=Actor.staff(staff))
    madrid = zoneinfo.ZoneInfo("Europe/Madrid")
    sessions = [o.reservation for o in series.occurrences.order_by("index")]
    assert [timezone.localtime(r.start_time, madrid).strftime("%a %H:%M") for r in sessions] == [
        "Thu 09:30"
    ] * 3
    offsets = [timezone.localtime(r.start_time, madrid).utcoffset() for r in sessions]
    assert offsets == [timedelta(hours=1), timedelta(hours=1), timedelta(hours=2)]


# The label the patient reads


def test_the_label_in_both_languages_and_the_readers_zone(fields, staff, frozen_now):
    series = create(fields, staff)
    with translation.override("es-ar"):
        assert series.label() == "Semanal · martes 18:00"
        series.interval_weeks = 2
        assert series.label() == "Cada 2 semanas · martes 18:00"
    with translation.override("en"):
        assert series.label() == "Every 2 weeks · Tuesday 18:00"
        series.interval_weeks = 1
        assert series.label() == "Weekly · Tuesday 18:00"
        # A reader in Madrid: 18:00 in Buenos Aires is 22:00 there (before its summer time).
        assert series.label(zoneinfo.ZoneInfo("Europe/Madrid")) == "Weekly · Tuesday 22:00"
    occurrence = Reservation.objects.filter(occurrence__isnull=False).first().occurrence
    assert occurrence.series == series


# The catalog


def test_every_message_of_the_series_app_is_translated():
    # tests/test_i18n.py reads the other apps' code and the project's templates, not series/.
    import ast
    import re
    from pathlib import Path

    import polib
    from django.utils.translation.template import templatize

    root = Path(__file__).resolve().parent.parent
    po = polib.pofile(str(root / "locale" / "es_AR" / "LC_MESSAGES" / "django.po"))
    translated = {e.msgid for e in po.translated_entries()}
    used = set()
    names = {"_", "gettext", "gettext_lazy", "ngettext"}
    for source in (root / "series").rglob("*.py"):
        if "migrations" in source.parts:
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in names
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                used.add(node.args[0].value)
    call = re.compile(r"\b(?:n?gettext)\((u'(?:[^'\\]|\\.)*')")
    for template in (root / "series" / "templates").rglob("*.html"):
        for literal in call.findall(templatize(template.read_text(), origin=str(template))):
            used.add(ast.literal_eval(literal))
    assert len(used) > 50
    assert sorted(used - translated) == []


# A booking racing a series, for real (PostgreSQL, threads, committed transactions)


def run_together(*calls):
    """Run the calls in threads released at the same instant; return what each returned or
    raised, in order."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    barrier = threading.Barrier(len(calls))

    def wrapped(call):
        try:
            barrier.wait(timeout=10)
            return call()
        except ValidationError as exc:
            return exc
        finally:
            connection.close()  # each thread has its own connection

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result(timeout=60) for f in [pool.submit(wrapped, c) for c in calls]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_booking_racing_a_series_for_one_slot_leaves_exactly_one(
    patient, other_patient, professional, staff
):
    today = timezone.localdate()
    for round_ in range(5):
        # Inside the horizon, and each round's dates clear of the others'.
        first = today + timedelta(days=7 + 14 * round_)
        fields = {
            "client": patient,
            "professional": professional,
            "weekday": first.weekday(),
            "local_time": time(18, 0),
            "minutes": 45,
            "session_modality": "Virtual",
            "starts_on": first,
            "count": 2,
        }
        # The booking wants the series' second date, 15 minutes in.
        start = datetime.combine(first + timedelta(weeks=1), time(18, 15), tzinfo=BA)
        # The booking starts a little later each round, so that each side gets to win.
        delay = [0, 0.03, 0.06, 0.12, 0.3][round_]
        series_result, booking_result = run_together(
            lambda f=fields: create_series(**f, by=Actor.staff(staff)),
            lambda s=start, d=delay: (
                sleep(d)
                or Reservation.book(
                    by=Actor.patient(other_patient, "page"),
                    client=other_patient,
                    professional=professional,
                    start_time=s,
                    end_time=s + timedelta(minutes=45),
                    status="CONFIRMED",
                )
            ),
        )
        series_won = isinstance(series_result, Series)
        booking_won = isinstance(booking_result, Reservation)
        assert series_won != booking_won, (series_result, booking_result)
        if series_won:
            assert series_result.occurrences.count() == 2
            assert isinstance(booking_result, ValidationError)
        else:
            # Refused with the clash listed; nothing of the series written.
            assert isinstance(series_result, SeriesClash)
            assert [p.index for p in series_result.clashing] == [1]
            assert not Series.objects.filter(starts_on=first).exists()
        near = Reservation.objects.active().filter(
            professional=professional,
            start_time__lt=start + timedelta(minutes=45),
            end_time__gt=start,
        )
        assert near.count() == 1
    # No double booking anywhere.
    for r in Reservation.objects.active():
        assert not r.overlapping().exists()


def test_the_patient_reads_the_series_on_its_sessions_without_more_queries(
    fields, staff, patient, frozen_now, django_assert_num_queries
):
    from .conftest import csrf_client

    series = create(fields, staff)
    first = series.occurrences.order_by("index").first().reservation
    client = csrf_client(patient)
    # session, user, upcoming sessions, history page, the professionals on the page
    with django_assert_num_queries(5):
        dashboard = client.get("/dashboard/").content.decode()
    assert dashboard.count("Semanal · martes 18:00") == dashboard.count('class="turn-card ')
    assert "Semanal · martes 18:00" in client.get(f"/reservations/{first.pk}/").content.decode()
