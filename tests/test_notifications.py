"""Each change to a reservation sends its messages exactly once, through the outbox: written with
the change, sent by the worker (its task called here, as tests/test_pending_expiry.py does), in
the recipient's language and zone, with the session's .ics."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from notifications.models import Kind, Outbox, State
from notifications.tasks import send_message, sweep_once
from reservations.actions import ActionKind, Actor
from reservations.models import Reservation

from .conftest import NOW

pytestmark = pytest.mark.django_db


def run_due_tasks():
    """The worker's pass over what is due now (each task's function called here). Returns how many
    ran."""
    ran = 0
    while True:
        rows = [r for r in DBTaskResult.objects.ready() if r.task_path.startswith("notifications.")]
        rows = [r for r in rows if r.task_path != "notifications.tasks.sweep"]
        if not rows:
            return ran
        for row in rows:
            DBTaskResult.objects.filter(pk=row.pk).update(status="SUCCESSFUL")
            send_message.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
            ran += 1


def book(patient, professional, start, status="CONFIRMED", by=None, minutes=45):
    return Reservation.book(
        by=by or Actor.patient(patient, "page"),
        client=patient,
        professional=professional,
        start_time=start,
        end_time=start + timedelta(minutes=minutes),
        status=status,
        expires_at=Reservation.pending_expiry(start, timezone.now())
        if status == "PENDING"
        else None,
    )


def ics_of(message, index=0):
    name, payload, mimetype = message.attachments[index]
    return Calendar.from_ical(payload), mimetype


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def test_an_instant_booking_tells_the_patient_with_its_ics_and_the_professional(
    patient, professional, frozen_now, on_commit
):
    with on_commit():
        r = book(patient, professional, NOW + timedelta(days=7))
    run_due_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == ["gomez@example.com", "lucia@example.com"]
    (message,) = [m for m in mail.outbox if m.to == ["lucia@example.com"]]
    assert message.to == ["lucia@example.com"]
    assert message.from_email == "Turnos <no-reply@turnos.example>"
    assert message.subject == "Tu turno con Lic. Carolina Gómez está reservado"
    assert "martes 17 de marzo, 12:00 – 12:45 (45 min)" in message.body
    assert f"http://127.0.0.1:8000/reservations/{r.pk}/" in message.body
    html = message.alternatives[0][0]
    assert "martes 17 de marzo, 12:00 – 12:45 (45 min)" in html
    calendar, mimetype = ics_of(message)
    assert mimetype.startswith("text/calendar; method=REQUEST")
    event = calendar.events[0]
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == f"{r.pk}@turnos"
    assert event["SEQUENCE"] == 0
    assert event.start == NOW + timedelta(days=7)
    assert str(event.start.tzinfo) == "America/Argentina/Buenos_Aires"
    row = Outbox.objects.get(kind=Kind.BOOKED)
    assert (row.status, row.sent_at, row.to, row.attempts) == (
        State.SENT,
        NOW,
        "lucia@example.com",
        1,
    )
    # The professional hears of it (their preference: booking_emails), linked to their agenda.
    (told,) = [m for m in mail.outbox if m.to == ["gomez@example.com"]]
    assert told.subject == "Turno nuevo: Lucía, martes 17 de marzo, 12:00 – 12:45 (45 min)"
    assert f"http://127.0.0.1:8000/agenda/{r.pk}/" in told.body
    assert Outbox.objects.get(kind=Kind.NEW_BOOKING).status == State.SENT
    # The reminder waits for its time.
    assert Outbox.objects.get(kind=Kind.REMINDER).status == State.PENDING
    # Running the worker again sends nothing more.
    assert run_due_tasks() == 0 and len(mail.outbox) == 2


def test_a_professional_who_wants_no_booking_emails_gets_none_but_still_gets_requests(
    patient, professional, frozen_now, on_commit
):
    profile = professional.professional_profile
    profile.booking_emails = False
    profile.save()
    with on_commit():
        book(patient, professional, NOW + timedelta(days=7))
        book(patient, professional, NOW + timedelta(days=8), status="PENDING")
    run_due_tasks()
    kinds = sorted(Outbox.objects.filter(recipient=professional).values_list("kind", flat=True))
    assert kinds == [Kind.NEW_REQUEST]


def test_a_pending_request_tells_the_patient_and_the_professional(
    patient, professional, frozen_now, on_commit
):
    with on_commit():
        book(patient, professional, NOW + timedelta(days=7), status="PENDING")
    run_due_tasks()
    by_to = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 2
    assert by_to["lucia@example.com"].subject == "Tu pedido de turno con Lic. Carolina Gómez"
    assert "Está pendiente" in by_to["lucia@example.com"].body
    assert by_to["gomez@example.com"].subject.startswith("Pedido nuevo: Lucía, martes 17 de marzo")
    # Each links to where they act on it: the patient's page of it, the session in the agenda.
    request = Reservation.objects.get()
    assert f"/reservations/{request.pk}/" in by_to["lucia@example.com"].body
    assert f"/agenda/{request.pk}/" in by_to["gomez@example.com"].body
    assert not Outbox.objects.filter(kind=Kind.REMINDER).exists()  # not confirmed yet


LUCIA, GOMEZ = "lucia@example.com", "gomez@example.com"


@pytest.mark.parametrize(
    "change, told, method, words",
    [
        ("confirm", {LUCIA: Kind.CONFIRMED}, "REQUEST", "confirmó tu turno"),
        ("decline", {LUCIA: Kind.DECLINED}, "CANCEL", "Motivo: Agenda completa"),
        ("practice_cancel", {LUCIA: Kind.CANCELLED}, "CANCEL", "Motivo: Enfermedad"),
        # The patient's own cancel: the professional is told, and she gets her confirmation.
        (
            "patient_cancel",
            {GOMEZ: Kind.PATIENT_CANCELLED, LUCIA: Kind.YOU_CANCELLED},
            "CANCEL",
            "cancel",
        ),
        ("move", {LUCIA: Kind.RESCHEDULED}, "REQUEST", "pasó del martes 17"),
        ("expire", {LUCIA: Kind.EXPIRED}, "CANCEL", "no se confirmó a tiempo"),
    ],
)
def test_each_change_sends_one_message_to_each_person_told(
    patient, professional, staff, frozen_now, on_commit, change, told, method, words
):
    r = book(patient, professional, NOW + timedelta(days=7), status="PENDING")
    Outbox.objects.all().delete()
    with on_commit():
        if change == "confirm":
            assert r.confirm(by=Actor.professional(professional))
        elif change == "decline":
            assert r.decline(by=Actor.professional(professional), reason="Agenda completa") is None
        elif change == "practice_cancel":
            assert r.cancel(by=Actor.staff(staff), reason="Enfermedad") is None
        elif change == "patient_cancel":
            assert r.cancel(by=Actor.patient(patient, "page"), reason="Viaje") is None
        elif change == "move":
            r.start_time += timedelta(days=1)
            r.end_time += timedelta(days=1)
            r.change(["start_time", "end_time"], by=Actor.staff(staff))
        elif change == "expire":
            with time_machine.travel(r.expires_at, tick=False):
                assert r.expire()
    with time_machine.travel(r.expires_at if change == "expire" else NOW, tick=False):
        run_due_tasks()
        run_due_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(told)
    for message in mail.outbox:
        assert words in message.body, message.body
        calendar, mimetype = ics_of(message)
        assert calendar["METHOD"] == method and f"method={method}" in mimetype
        assert calendar.events[0]["SEQUENCE"] == 1
    for to, kind in told.items():
        assert Outbox.objects.get(to=to, kind=kind).status == State.SENT


def test_messages_speak_the_recipients_language_and_zone(
    patient, professional, frozen_now, on_commit
):
    patient.language, patient.time_zone = "en", "Europe/Madrid"
    patient.save()
    with on_commit():
        book(patient, professional, NOW + timedelta(days=7))
    run_due_tasks()
    message = mail.outbox[0]
    assert message.subject == "Your session with Lic. Carolina Gómez is booked"
    assert "Tuesday, March 17, 16:00 – 16:45 (45 min)" in message.body
    assert str(ics_of(message)[0].events[0].start.tzinfo) == "Europe/Madrid"


def test_nothing_is_sent_about_a_session_that_has_ended(
    patient, professional, frozen_now, on_commit
):
    with on_commit() as callbacks:
        book(patient, professional, NOW - timedelta(days=2))
    assert callbacks  # the action was handed over, and decided on nothing
    assert not Outbox.objects.exists()


def test_records_made_after_the_fact_tell_nobody(patient, professional, frozen_now, on_commit):
    # The demo's sessions and imports: written by the system, not booked by someone.
    with on_commit():
        Reservation.book(
            by=Actor.system(),
            kind=ActionKind.IMPORT,
            client=patient,
            professional=professional,
            start_time=NOW + timedelta(days=7),
            end_time=NOW + timedelta(days=7, minutes=45),
            status="CONFIRMED",
        )
    assert not Outbox.objects.exists()
    # A cancel recorded as of last week.
    r = book(patient, professional, NOW + timedelta(days=8))
    with on_commit():
        assert r.cancel(by=Actor.patient(patient, "page"), now=NOW - timedelta(days=7)) is None
    assert not Outbox.objects.exists()


def test_a_change_rolled_back_leaves_no_message(patient, professional, frozen_now, on_commit):
    from django.db import transaction

    with on_commit() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        book(patient, professional, NOW + timedelta(days=7))
        raise RuntimeError
    assert callbacks == []
    assert not Outbox.objects.exists()


def test_the_sweep_sends_what_a_lost_task_never_did(patient, professional, frozen_now, on_commit):
    # The worker was killed between the change and the send: its task row is gone.
    with on_commit():
        book(patient, professional, NOW + timedelta(days=7))
    DBTaskResult.objects.all().delete()
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        assert len(sweep_once(NOW + timedelta(minutes=3))) == 2  # the patient's, the pro's
        run_due_tasks()
        sweep_once(NOW + timedelta(minutes=4))
        run_due_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == [GOMEZ, LUCIA]


def test_a_row_stuck_in_sending_past_the_lease_is_sent_once_more(
    patient, professional, frozen_now, on_commit
):
    with on_commit():
        book(patient, professional, NOW + timedelta(days=7))
    Outbox.objects.exclude(kind=Kind.BOOKED).delete()
    row = Outbox.objects.get(kind=Kind.BOOKED)
    assert row.claim(NOW)  # a worker took it and died before sending
    DBTaskResult.objects.all().delete()
    with time_machine.travel(NOW + timedelta(minutes=9), tick=False):
        assert sweep_once(NOW + timedelta(minutes=9)) == set()  # inside the lease: left alone
    later = NOW + timedelta(minutes=11)
    with time_machine.travel(later, tick=False):
        assert sweep_once(later) == {row.pk}
        run_due_tasks()
        sweep_once(later)
        run_due_tasks()
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (State.SENT, 2)


def test_starting_the_sweep_again_never_makes_a_second_chain(frozen_now):
    # make run and make worker start it each time (manage.py outbox_sweep); a sweep waiting for
    # its time is the chain, and another one would sweep twice as often, forever.
    from django.core.management import call_command

    for _ in range(3):
        call_command("outbox_sweep", stdout=io.StringIO())
    waiting = DBTaskResult.objects.filter(status="READY", task_path="notifications.tasks.sweep")
    assert waiting.count() == 1
    assert waiting.get().run_after == NOW + timedelta(minutes=5)
