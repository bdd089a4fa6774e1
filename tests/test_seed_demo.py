from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from reservations.actions import Actor
from reservations.models import Reservation, ReservationEvent, Status

pytestmark = pytest.mark.django_db

PATIENT = "paciente@turnos.example"
DEMO_USERS = [
    PATIENT,
    "otra.paciente@turnos.example",
    "lic.gomez@turnos.example",
    "dr.ruiz@turnos.example",
]

# Instants in Buenos Aires (UTC-3 all year: no daylight saving time).
TUESDAY_MORNING = datetime.fromisoformat("2026-03-10T10:10:00-03:00")
TUESDAY_NIGHT = datetime.fromisoformat("2026-03-10T22:00:00-03:00")
THURSDAY_BEFORE_MIDNIGHT = datetime.fromisoformat("2026-03-12T23:59:00-03:00")  # Friday in UTC
FRIDAY_EVENING = datetime.fromisoformat("2026-03-13T20:30:00-03:00")
SATURDAY_NOON = datetime.fromisoformat("2026-03-14T12:00:00-03:00")
INSTANTS = [TUESDAY_MORNING, TUESDAY_NIGHT, THURSDAY_BEFORE_MIDNIGHT, FRIDAY_EVENING, SATURDAY_NOON]


def seed(*args):
    call_command("seed_demo", *args, stdout=_Discard())


class _Discard:
    def write(self, text):
        pass


def demo_sessions():
    return Reservation.objects.filter(
        Q(client__email__in=DEMO_USERS) | Q(professional__email__in=DEMO_USERS)
    )


def demo_ids():
    return set(demo_sessions().values_list("pk", flat=True))


def patient_sessions():
    return Reservation.objects.filter(client__email=PATIENT).with_people()


def states(now):
    """What the demo patient's sessions show at `now`, worked out here from the rows."""
    patient = User.objects.get(email=PATIENT)
    found = set()
    rows = list(patient_sessions().select_related("cancelled_by"))
    for r in rows:
        upcoming = r.status != Status.CANCELLED and r.end_time > now
        if r.status == Status.CANCELLED and r.cancellation_reason:
            if r.cancelled_by == patient:
                found.add("cancelled by the patient")
            elif r.cancelled_by.is_staff:
                found.add("cancelled by the practice")
        if upcoming and r.start_time <= now:
            found.add("in progress")
        if upcoming and r.start_time > now:
            found.add("cancellable" if r.is_cancellable(now) else "within notice")
        if upcoming and r.status == Status.PENDING:
            found.add("pending")
        if upcoming:
            found.add(r.session_modality)
        if r.end_time <= now and r.status == Status.CONFIRMED:
            found.add({True: "attended", False: "absent", None: "past, not recorded"}[r.attended])
        if r.end_time <= now and r.status == Status.PENDING:
            found.add("past, never confirmed")
        if r.video_url:
            found.add("own video link")
    if sum(r.end_time <= now for r in rows) >= 25:
        found.add("long history")
    return found


EVERY_STATE = {
    "within notice",
    "cancellable",
    "pending",
    "cancelled by the patient",
    "cancelled by the practice",
    "Virtual",
    "Presencial",
    "attended",
    "absent",
    "past, never confirmed",
    "own video link",
    "long history",
}


def within_notice_session(now):
    return next(
        r
        for r in patient_sessions().active().filter(start_time__gt=now).order_by("start_time")
        if not r.is_cancellable(now)
    )


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%H%M"))
def test_every_session_starts_on_the_hour_or_half_hour_within_opening_hours(now):
    with time_machine.travel(now, tick=False):
        seed()
    zone = timezone.get_default_timezone()
    for r in demo_sessions():
        start, end = timezone.localtime(r.start_time, zone), timezone.localtime(r.end_time, zone)
        assert time(9) <= start.time() <= time(19), start
        assert start.minute in (0, 30), start
        assert end.date() == start.date() and end.time() <= time(20), end
        assert start.weekday() != 6, start


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%H%M"))
def test_the_demo_patient_shows_every_state(now):
    with time_machine.travel(now, tick=False):
        seed()
    assert states(now) >= EVERY_STATE


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%H%M"))
def test_the_next_session_is_inside_the_notice_and_others_can_be_cancelled(now):
    with time_machine.travel(now, tick=False):
        seed()
    nearest = patient_sessions().active().filter(start_time__gt=now).earliest("start_time")
    assert nearest.professional.email == "lic.gomez@turnos.example"
    assert now < nearest.start_time < now + timedelta(hours=48)
    assert nearest.cancel_refusal(now).code == "notice"
    # Sessions with both professionals, so the patient sees both notices.
    upcoming = patient_sessions().upcoming_for(nearest.client, now)
    assert {r.professional.email for r in upcoming} == {
        "lic.gomez@turnos.example",
        "dr.ruiz@turnos.example",
    }


def test_a_session_is_in_progress_on_a_weekday_during_opening_hours():
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        seed()
    assert "in progress" in states(TUESDAY_MORNING)
    now = TUESDAY_MORNING
    current = patient_sessions().filter(start_time__lte=now, end_time__gt=now).active().get()
    assert now - current.start_time <= timedelta(minutes=20)


@pytest.mark.parametrize(
    "now",
    [
        TUESDAY_NIGHT,
        SATURDAY_NOON,
        # Half past ten is 25 minutes after the last start on the half hour: too long ago.
        datetime.fromisoformat("2026-03-10T10:55:00-03:00"),
        datetime.fromisoformat("2026-03-10T08:50:00-03:00"),
    ],
    ids=lambda d: d.strftime("%a-%H%M"),
)
def test_no_session_is_in_progress_when_the_clock_does_not_allow_one(now):
    with time_machine.travel(now, tick=False):
        seed()
    assert "in progress" not in states(now)
    assert states(now) >= EVERY_STATE


def test_running_it_again_changes_nothing():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as clock:
        seed()
        ids, events = demo_ids(), ReservationEvent.objects.count()
        clock.shift(timedelta(hours=3))
        seed()
    assert demo_ids() == ids
    assert ReservationEvent.objects.count() == events


def test_a_day_later_the_next_session_is_again_ahead_and_inside_the_notice():
    with time_machine.travel(TUESDAY_NIGHT, tick=False) as clock:
        seed()
        clock.shift(timedelta(days=1))
        seed()
        now = timezone.now()
    session = within_notice_session(now)
    assert now < session.start_time < now + session.notice_period
    assert states(now) >= EVERY_STATE


def test_it_rebuilds_once_the_session_inside_the_notice_has_started():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as clock:
        seed()
        ids = demo_ids()
        clock.move_to(within_notice_session(TUESDAY_MORNING).start_time + timedelta(minutes=1))
        seed()
        now = timezone.now()
    assert demo_ids().isdisjoint(ids)
    assert now < within_notice_session(now).start_time
    assert states(now) >= EVERY_STATE


def test_a_week_later_every_state_is_still_on_show():
    with time_machine.travel(SATURDAY_NOON, tick=False) as clock:
        seed()
        clock.shift(timedelta(weeks=1))
        seed()
        now = timezone.now()
    assert states(now) >= EVERY_STATE


def test_it_rebuilds_once_time_has_used_up_the_upcoming_sessions():
    with time_machine.travel(SATURDAY_NOON, tick=False) as clock:
        seed()
        ids = demo_ids()
        clock.shift(timedelta(weeks=6))
        seed()
        now = timezone.now()
    assert demo_ids().isdisjoint(ids)
    assert states(now) >= EVERY_STATE


def test_a_patients_own_cancel_survives_a_restart_the_same_day():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as clock:
        seed()
        patient = User.objects.get(email=PATIENT)
        mine = next(r for r in patient_sessions().active() if r.is_cancellable(timezone.now()))
        assert mine.cancel(by=Actor.patient(patient, "page"), reason="No puedo") is None
        ids = demo_ids()
        clock.shift(timedelta(hours=2))
        seed()
    assert demo_ids() == ids
    mine.refresh_from_db()
    assert mine.status == Status.CANCELLED


def test_reset_replaces_the_demo_sessions_and_their_events_only(
    patient, professional, make_reservation
):
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        seed()
        ids = demo_ids()
        someone_else = make_reservation(patient, TUESDAY_MORNING + timedelta(days=2))
        seed("--reset")
    assert demo_ids() and demo_ids().isdisjoint(ids)
    assert not ReservationEvent.objects.filter(reservation_id__in=ids).exists()
    assert ReservationEvent.objects.filter(reservation__in=demo_sessions()).exists()
    assert Reservation.objects.filter(pk=someone_else.pk).exists()
    assert states(TUESDAY_MORNING) >= EVERY_STATE


def test_every_demo_session_has_its_created_event_and_none_is_dated_after_now():
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        seed()
    for r in demo_sessions().prefetch_related("events"):
        actions = [e.action for e in r.events.all()]
        assert "created" in actions
        assert ("cancelled" in actions) == (r.status == Status.CANCELLED)
        assert r.created_at <= TUESDAY_NIGHT
        assert all(e.at <= TUESDAY_NIGHT for e in r.events.all())


def test_the_professionals_have_full_profiles_with_different_notices_and_contacts():
    seed()
    gomez = User.objects.get(email="lic.gomez@turnos.example").professional_profile
    ruiz = User.objects.get(email="dr.ruiz@turnos.example").professional_profile
    assert gomez.cancellation_notice_hours == 48
    assert gomez.phone and gomez.whatsapp and gomez.address and gomez.video_url
    assert ruiz.cancellation_notice_hours == 24
    assert not ruiz.phone and ruiz.contact_email and ruiz.video_url


def test_lic_gomez_asks_a_deposit_online_and_dr_ruiz_nothing():
    from payments.models import PaymentPolicy

    seed()
    seed()
    policy = PaymentPolicy.objects.get()
    assert policy.professional.email == "lic.gomez@turnos.example"
    assert (policy.price, policy.collect, policy.deposit_percent, policy.late_keeps) == (
        Decimal("20000.00"),
        "deposit",
        30,
        "deposit",
    )
    assert policy.amount_due("Virtual") == Decimal("6000.00")


def test_a_policy_changed_in_the_admin_survives_a_reseed():
    from payments.models import PaymentPolicy

    seed()
    PaymentPolicy.objects.update(price=Decimal("25000.00"), collect="whole")
    seed("--reset")
    policy = PaymentPolicy.objects.get()
    assert (policy.price, policy.collect) == (Decimal("25000.00"), "whole")


def test_lic_gomez_has_sessions_and_pending_requests_from_another_patient():
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        seed()
    theirs = Reservation.objects.filter(
        client__email="otra.paciente@turnos.example", professional__email="lic.gomez@turnos.example"
    )
    assert theirs.filter(end_time__lte=TUESDAY_MORNING).exists()
    assert theirs.filter(start_time__gt=TUESDAY_MORNING, status=Status.CONFIRMED).exists()
    assert theirs.filter(start_time__gt=TUESDAY_MORNING, status=Status.PENDING).exists()


def test_it_keeps_the_password_of_a_demo_user_that_already_exists():
    User.objects.create_user(email=PATIENT, password="changed-during-the-demo")
    seed()
    assert User.objects.get(email=PATIENT).check_password("changed-during-the-demo")
    assert User.objects.get(email="dr.ruiz@turnos.example").check_password("turnos-demo-2026")


def test_the_demo_staff_enrol_at_first_login_and_reset_starts_that_over(client):
    from allauth.mfa.models import Authenticator

    from .conftest import give_factor

    seed()
    gomez = User.objects.get(email="lic.gomez@turnos.example")
    client.force_login(gomez)
    assert client.get("/agenda/")["Location"] == "/accounts/2fa/totp/activate/"
    give_factor(gomez)  # as if Lic. Gómez had set up her app during the demo
    seed()
    assert Authenticator.objects.filter(user=gomez).exists()  # a plain run keeps it
    seed("--reset")
    assert not Authenticator.objects.filter(user=gomez).exists()


def test_it_prints_the_demo_logins(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    for email in [PATIENT, "lic.gomez@turnos.example", "dr.ruiz@turnos.example"]:
        assert email in out
    assert "recepcion@turnos.example" in out
    assert "turnos-demo-2026" in out


def test_the_demo_patients_dashboard_answers(client):
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        seed()
        client.force_login(User.objects.get(email=PATIENT))
        r = client.get("/dashboard/")
    assert r.status_code == 200


def test_weekly_sessions_keep_their_local_hour_across_a_daylight_saving_change(settings):
    # Madrid moves its clocks on 29 March 2026 and 25 October 2025.
    settings.TIME_ZONE = "Europe/Madrid"
    with time_machine.travel(datetime.fromisoformat("2026-04-01T10:10:00+02:00"), tick=False):
        seed()
    zone = timezone.get_default_timezone()
    gomez = patient_sessions().filter(professional__email="lic.gomez@turnos.example")
    local_times = {timezone.localtime(r.start_time, zone).time() for r in gomez}
    assert len(local_times) == 1
    assert time(9) <= local_times.pop() <= time(19)


# The weekly series (seed_demo_series, run after seed_demo) ---------------------------------


def seed_series():
    call_command("seed_demo_series", stdout=_Discard())


def demo_series():
    from series.models import Series

    return Series.objects.filter(client__email=PATIENT)


def test_the_demo_patient_is_in_a_weekly_series_with_lic_gomez(client):
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        seed()
        seed_series()
        series = demo_series().get()
        client.force_login(User.objects.get(email=PATIENT))
        page = client.get("/dashboard/").content.decode()
    assert series.professional.email == "lic.gomez@turnos.example"
    assert series.created_by.is_staff and series.count == 4
    assert [e.action for e in series.events.all()] == ["created"]
    occurrences = list(series.occurrences.select_related("reservation"))
    assert [o.index for o in occurrences] == [0, 1, 2, 3]
    for o in occurrences:
        assert o.reservation.start_time == series.start_for(o.index)
        assert o.reservation.start_time > TUESDAY_MORNING
    # The session inside the notice, one cancellable and the one she cancelled are in it.
    assert within_notice_session(TUESDAY_MORNING).occurrence.series == series
    assert any(o.reservation.status == Status.CANCELLED for o in occurrences)
    assert "Semanal ·" in page
    # The worker adds nothing to it: its dates are all there.
    assert series.extend(TUESDAY_MORNING) == 0


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%H%M"))
def test_the_series_is_built_at_any_time_of_the_week(now):
    with time_machine.travel(now, tick=False):
        seed()
        seed_series()
    series = demo_series().get()
    assert series.occurrences.count() == 4
    assert states(now) >= EVERY_STATE


def test_running_both_again_changes_nothing():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as clock:
        seed()
        seed_series()
        series, ids = demo_series().get(), demo_ids()
        clock.shift(timedelta(hours=3))
        seed()
        seed_series()
    assert demo_series().get().pk == series.pk
    assert demo_ids() == ids


def test_reset_replaces_the_series_with_one_for_the_new_sessions():
    from series.models import Occurrence, SeriesEvent

    with time_machine.travel(TUESDAY_MORNING, tick=False):
        seed()
        seed_series()
        old = demo_series().get()
        seed("--reset")
        assert not demo_series().exists()
        seed_series()
    new = demo_series().get()
    assert new.pk != old.pk
    assert not SeriesEvent.objects.filter(series_id=old.pk).exists()
    assert set(Occurrence.objects.values_list("reservation_id", flat=True)) <= demo_ids()
    assert new.occurrences.count() == 4


def test_a_rebuild_by_time_replaces_the_series_too():
    with time_machine.travel(SATURDAY_NOON, tick=False) as clock:
        seed()
        seed_series()
        old = demo_series().get()
        clock.shift(timedelta(weeks=6))
        seed()
        seed_series()
        now = timezone.now()
    new = demo_series().get()
    assert new.pk != old.pk
    assert all(o.reservation.start_time > now for o in new.occurrences.all())
