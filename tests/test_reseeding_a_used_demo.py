"""Reseeding a demo that people have used. Every flow the demo shows is done through HTTP, as a
browser sends it (CSRF checked): a patient books, moves a session twice and cancels one; the
professional confirms, declines, cancels and records attendance in the agenda; the receptionist
creates a weekly series in the admin, skipping a clash, and cancels it from its second session on.
Then `seed_demo` (plain, and --reset) and `seed_demo_series` must build the demo again, and the
same flows done by people outside the demo (on a practice's real data, the same database) must
leave every one of their rows as it was."""

import io
import re
import zoneinfo
from datetime import UTC, time, timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core.management import call_command

from accounts.models import ProfessionalProfile, User
from notifications.models import Outbox
from payments.models import Checkout, Payment, Refund
from reservations.actions import ActionKind, Actor
from reservations.models import Reservation, ReservationEvent, Status
from scheduling.models import WorkingHours
from series.models import Occurrence, Series, SeriesEvent, SkippedOccurrence

from .conftest import CSRF_TOKEN, csrf_client, give_factor, make_user
from .test_payments_client import standin_fixture  # noqa: F401 (used by its name)
from .test_payments_webhook import deliver
from .test_seed_demo import (
    DEMO_USERS,
    EVERY_STATE,
    PATIENT,
    TUESDAY_MORNING,
    demo_ids,
    demo_series,
    seed,
    seed_series,
    states,
    within_notice_session,
)

pytestmark = pytest.mark.django_db

NOW = TUESDAY_MORNING  # 10:10 in Buenos Aires: the session inside the notice is tomorrow
GOMEZ = "lic.gomez@turnos.example"
RECEPTION = "recepcion@turnos.example"


def post(browser, path, data=None):
    return browser.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **(data or {})})


def slots_on(html):
    """The free times a week page offers, as the `start` its links carry."""
    return re.findall(r"confirm/\?start=([0-9T:Z-]+)", html)


def upcoming(patient, pro):
    return (
        Reservation.objects.filter(client=patient, professional=pro, start_time__gt=NOW)
        .active()
        .order_by("start_time")
    )


def use_every_flow(patient, pro, staff, standin):
    """What people do with the demo, through its pages. `patient` is one of `pro`'s, with a
    request waiting for them, a session inside the notice and two beyond it; `pro` has a session
    in the last week without attendance, and one ahead with another patient. `standin`: the local
    Mercado Pago a deposit is paid at (make run starts one)."""
    for person in (pro, staff):
        # They set up two-step verification at their first login (README, "Two-step
        # verification"); reseeding keeps it.
        if not Authenticator.objects.filter(user=person).exists():
            give_factor(person)
    me, agenda, admin = csrf_client(patient), csrf_client(pro), csrf_client(staff)

    # The professional confirms the patient's request; the patient may then ask for another.
    waiting = upcoming(patient, pro).filter(status=Status.PENDING).get()
    assert post(agenda, f"/agenda/{waiting.pk}/confirm/").status_code == 302

    # The patient books: a week of free times, one of them, its modality, confirm.
    week = me.get(f"/book/{pro.pk}/").content.decode()
    start = slots_on(week)[-1]
    page = me.get(f"/book/{pro.pk}/confirm/", {"start": start}).content.decode()
    modality = re.search(r'name="modality" value="(\w+)"', page)[1]
    r = post(me, f"/book/{pro.pk}/", {"start": start, "modality": modality})
    assert r.status_code == 302, r.content.decode()
    if r["Location"].startswith(standin.url):
        # Lic. Gómez asks a deposit: she pays it at the checkout, Mercado Pago tells the site.
        booked = Reservation.objects.filter(client=patient).latest("created_at")
        paid = standin.pay(r["Location"].rsplit("/", 1)[1])
        assert deliver(paid["id"]).status_code == 200
        assert booked.payments.get().status == "approved"
    else:
        booked = Reservation.objects.get(pk=r["Location"].split("/")[2])
    # ...and the professional declines that request, saying why (a paid one is refunded).
    r = post(agenda, f"/agenda/{booked.pk}/decline/", {"reason": "Ese día no atiendo."})
    assert r.status_code == 302

    # The patient moves a session, then moves the new one again: a chain of three.
    moving = next(r for r in upcoming(patient, pro) if r.is_cancellable(NOW))
    for _ in range(2):
        week = me.get(f"/reservations/{moving.pk}/reschedule/").content.decode()
        now_at = moving.start_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        start = [s for s in slots_on(week) if s != now_at][-1]
        r = post(me, f"/reservations/{moving.pk}/reschedule/", {"start": start})
        assert r.status_code == 302, r.content.decode()
        moved = Reservation.objects.get(pk=r["Location"].split("/")[2])
        assert moved.rescheduled_from_id == moving.pk
        if moved.replaces is not None:  # a request to move it: the professional accepts it
            assert post(agenda, f"/agenda/{moved.pk}/confirm/", {}).status_code == 302
        moving = moved

    # The patient cancels another session.
    mine = next(r for r in upcoming(patient, pro).exclude(pk=moving.pk) if r.is_cancellable(NOW))
    r = post(me, f"/reservations/{mine.pk}/cancel/", {"reason": "Tengo un viaje."})
    assert r.status_code == 302
    assert Reservation.objects.get(pk=mine.pk).status == Status.CANCELLED

    # The professional cancels the session too close for the patient to cancel online...
    soon = next(r for r in upcoming(patient, pro) if r.cancel_refusal(NOW).code == "notice")
    r = post(agenda, f"/agenda/{soon.pk}/cancel/", {"reason": "Me surgió un congreso."})
    assert r.status_code == 302
    assert Reservation.objects.get(pk=soon.pk).status == Status.CANCELLED
    # ...and records attendance of a session of the last week.
    last_week = Reservation.objects.filter(
        professional=pro,
        status=Status.CONFIRMED,
        attended=None,
        end_time__lte=NOW,
        start_time__gte=NOW - timedelta(days=6),
    ).first()
    r = post(agenda, f"/agenda/{last_week.pk}/attendance/", {"attended": "no"})
    assert r.status_code == 302
    assert Reservation.objects.get(pk=last_week.pk).attended is False

    # The receptionist makes the patient's sessions a weekly series, at the time of the
    # professional's next session with someone else: that date clashes and is skipped.
    clash = (
        Reservation.objects.filter(professional=pro, start_time__gt=NOW + timedelta(days=1))
        .exclude(client=patient)
        .active()
        .earliest("start_time")
    )
    local = clash.start_time.astimezone(zoneinfo.ZoneInfo(pro.time_zone))
    form = {
        "client": str(patient.pk),
        "professional": str(pro.pk),
        "weekday": str(local.weekday()),
        "local_time": local.strftime("%H:%M"),
        "minutes": "45",
        "session_modality": "Virtual",
        "interval_weeks": "1",
        "starts_on": local.date().isoformat(),
        "ends_on": "",
        "count": "6",
    }
    add = "/admin/series/series/add/"
    preview = post(admin, add, {**form, "_preview": "1"}).content.decode()
    digest = re.search(r'name="digest" value="(\w+)"', preview)[1]
    skip = re.findall(r'name="skip" value="(\d+)"', preview)
    assert skip  # the clash, to tick
    r = post(admin, add, {**form, "_confirm": "1", "digest": digest, "skip": skip})
    assert r.status_code == 302, r.content.decode()
    series = Series.objects.get(pk=r["Location"].split("/")[-3])
    assert series.skipped.exists() and series.occurrences.count() >= 2
    # ...and cancels it from its second session on.
    second = str(series.occurrences.order_by("index")[1].index)
    cancel_from = f"/admin/series/series/{series.pk}/cancel-from/"
    assert admin.get(cancel_from, {"from": second}).status_code == 200
    assert post(admin, cancel_from, {"from": second, "reason": "Alta."}).status_code == 302
    series.refresh_from_db()
    assert series.ended_at is not None


def outsiders():
    """A practice's own people in the same database: Lic. Paz and two of her patients, with the
    sessions use_every_flow needs."""
    paz = make_user("paz@example.com", first_name="Elena", last_name="Paz")
    ProfessionalProfile.objects.create(user=paz, display_name="Lic. Elena Paz")
    for weekday in range(5):
        WorkingHours.objects.create(
            professional=paz, weekday=weekday, start_time=time(9), end_time=time(13)
        )
    ana = make_user("ana@example.com", first_name="Ana")
    bruno = make_user("bruno@example.com", first_name="Bruno")
    today = NOW.date()

    def book(client, days, hour, status=Status.CONFIRMED):
        start = NOW.replace(hour=hour, minute=0) + timedelta(days=days)
        assert start.date() == today + timedelta(days=days)
        return Reservation.book(
            by=Actor.system(),
            kind=ActionKind.IMPORT,
            client=client,
            professional=paz,
            start_time=start,
            end_time=start + timedelta(minutes=50),
            status=status,
            created_at=NOW - timedelta(days=10),
        )

    book(ana, -1, 10)  # yesterday: attendance not recorded yet
    book(ana, 1, 10)  # tomorrow: inside the notice
    book(ana, 2, 11, status=Status.PENDING)
    book(ana, 6, 9)
    book(ana, 7, 9)
    book(bruno, 8, 10)
    return ana, paz


def outsiders_rows():
    """Every row that is not the demo's, as it is."""
    demo = User.objects.filter(email__in=DEMO_USERS)
    sessions = Reservation.objects.exclude(client__in=demo).exclude(professional__in=demo)
    series = Series.objects.exclude(client__in=demo).exclude(professional__in=demo)
    demo_sessions = Reservation.objects.exclude(pk__in=sessions)
    rows = {
        "users": User.objects.all(),
        "profiles": ProfessionalProfile.objects.exclude(user__in=demo),
        "hours": WorkingHours.objects.exclude(professional__in=demo),
        "sessions": sessions,
        "events": ReservationEvent.objects.filter(reservation__in=sessions),
        "messages": Outbox.objects.exclude(reservation__in=demo_sessions),
        "series": series,
        "occurrences": Occurrence.objects.filter(series__in=series),
        "skipped": SkippedOccurrence.objects.filter(series__in=series),
        "series events": SeriesEvent.objects.filter(series__in=series),
    }
    return {name: list(qs.order_by("pk").values()) for name, qs in rows.items()}


def assert_the_demo_is_whole(old_ids):
    assert states(NOW) >= EVERY_STATE
    assert demo_ids() and demo_ids().isdisjoint(old_ids)
    assert within_notice_session(NOW)
    # One series, the one seed_demo_series builds; the receptionist's is gone.
    series = demo_series().get()
    assert series.occurrences.count() == 4 and not series.skipped.exists()
    assert [e.action for e in series.events.all()] == ["created"]
    # Nothing is left of the sessions that were there before.
    assert not ReservationEvent.objects.filter(reservation_id__in=old_ids).exists()
    assert not Outbox.objects.filter(reservation_id__in=old_ids).exists()
    assert not Occurrence.objects.filter(reservation_id__in=old_ids).exists()
    assert not Checkout.objects.filter(reservation_id__in=old_ids).exists()
    assert not Payment.objects.filter(reservation_id__in=old_ids).exists()


@pytest.mark.parametrize("command", [["seed_demo"], ["seed_demo", "--reset"]], ids=" ".join)
def test_the_demo_is_built_again_after_every_flow_has_been_used(
    command, django_capture_on_commit_callbacks, standin
):
    with time_machine.travel(NOW, tick=False):
        seed()
        seed_series()
        staff = User.objects.get(email=RECEPTION)
        # Each action's messages are written once it commits, as in production.
        with django_capture_on_commit_callbacks(execute=True):
            use_every_flow(
                User.objects.get(email=PATIENT), User.objects.get(email=GOMEZ), staff, standin
            )
            # The same done on the practice's own data, the series by the demo's receptionist.
            use_every_flow(*outsiders(), staff, standin)
        theirs = outsiders_rows()
        assert theirs["messages"] and theirs["skipped"]
        used = demo_ids()
        assert Outbox.objects.filter(reservation_id__in=used).exists()
        # The deposit paid for the request Lic. Gómez declined, and its refund.
        assert Refund.objects.filter(payment__reservation_id__in=used).exists()
        assert Checkout.objects.filter(reservation_id__in=used).exists()
        assert SkippedOccurrence.objects.filter(series__client__email=PATIENT).exists()
        # The professional cancelled the session inside the notice: a plain run rebuilds too.
        assert "within notice" not in states(NOW)

        call_command(*command, stdout=io.StringIO())
        assert not demo_series().exists()
        seed_series()

        assert_the_demo_is_whole(used)
        assert outsiders_rows() == theirs


def test_make_runs_sequence_twice_after_every_flow_has_been_used(standin):
    with time_machine.travel(NOW, tick=False):
        seed()
        seed_series()
        use_every_flow(
            User.objects.get(email=PATIENT),
            User.objects.get(email=GOMEZ),
            User.objects.get(email=RECEPTION),
            standin,
        )
        used = demo_ids()
        for _ in range(2):  # make run: migrate, seed_demo, seed_demo_series
            call_command("migrate", verbosity=0)
            seed()
            seed_series()
        assert_the_demo_is_whole(used)


def test_the_reset_knows_every_kind_of_row_that_points_at_a_session():
    """demo/reset.py deletes these before the sessions. A new kind of row pointing at a session,
    an event or a series must be deleted there too: otherwise, once someone has used the feature
    that writes it, reseeding the demo stops on it (ProtectedError), or on its cascade."""
    pointing = {
        f"{rel.related_model.__name__}.{rel.field.name}"
        for model in (Reservation, ReservationEvent, Series)
        for rel in model._meta.get_fields(include_hidden=True)  # related_name="+" too
        if rel.auto_created and not rel.concrete
    }
    assert pointing == {
        "Reservation.rescheduled_from",
        "ReservationEvent.reservation",
        "Outbox.reservation",
        "Payment.reservation",
        "Checkout.reservation",
        "Occurrence.reservation",
        "Occurrence.series",
        "SkippedOccurrence.series",
        "SeriesEvent.series",
    }
