"""A confirmed session's reminder: sent at its time (24 h before by default, the professional's
choice of 0, 2, 24 or 48 h), checked again when it fires, and moved with the session."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from notifications.models import Kind, Outbox, State
from reservations.actions import Actor

from .conftest import NOW
from .test_notifications import book, run_due_tasks

pytestmark = pytest.mark.django_db
START = NOW + timedelta(days=7)


@pytest.fixture
def booked(patient, professional, frozen_now, django_capture_on_commit_callbacks):
    profile = professional.professional_profile
    profile.video_url = "https://meet.example/gomez"
    profile.save()
    with django_capture_on_commit_callbacks(execute=True):
        r = book(patient, professional, START)
    run_due_tasks()  # the booking's own message
    mail.outbox.clear()
    return r


def reminders_at(moment):
    with time_machine.travel(moment, tick=False):
        run_due_tasks()
    sent = [m for m in mail.outbox if m.subject.startswith("Recordatorio")]
    mail.outbox.clear()
    return sent


def test_the_reminder_fires_24_hours_before_with_the_join_link(booked):
    assert reminders_at(START - timedelta(hours=24, seconds=1)) == []
    [message] = reminders_at(START - timedelta(hours=24))
    assert message.subject == (
        "Recordatorio: tu turno con Lic. Carolina Gómez, martes 17 de marzo, 12:00 – 12:45 (45 min)"
    )
    assert "https://meet.example/gomez" in message.body
    assert "https://meet.example/gomez" in message.alternatives[0][0]
    assert reminders_at(START - timedelta(hours=1)) == []  # once


def test_an_in_person_reminder_gives_the_address_and_map(
    patient, professional, frozen_now, django_capture_on_commit_callbacks
):
    profile = professional.professional_profile
    profile.address, profile.reminder_hours = "Av. Corrientes 1234, CABA", 2
    profile.save()
    with django_capture_on_commit_callbacks(execute=True):
        r = book(patient, professional, START)
        r.session_modality = "Presencial"
        r.change(["session_modality"], by=Actor.professional(professional))
    run_due_tasks()
    mail.outbox.clear()
    assert reminders_at(START - timedelta(hours=24)) == []
    [message] = reminders_at(START - timedelta(hours=2))
    assert "Dirección: Av. Corrientes 1234, CABA" in message.body
    assert "openstreetmap.org" in message.body


def test_a_session_cancelled_before_gets_no_reminder(booked, patient):
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert booked.cancel(by=Actor.patient(patient, "page")) is None
    assert reminders_at(START - timedelta(hours=24)) == []
    assert Outbox.objects.get(kind=Kind.REMINDER).status == State.SKIPPED


def test_a_cancel_the_receiver_missed_is_caught_when_the_reminder_fires(booked):
    # Written behind the app's back (no event): the check at firing time still holds.
    type(booked).objects.filter(pk=booked.pk).update(status="CANCELLED")
    assert reminders_at(START - timedelta(hours=24)) == []
    row = Outbox.objects.get(kind=Kind.REMINDER)
    assert (row.status, row.last_error) == (State.SKIPPED, "session no longer confirmed")


def test_a_moved_session_is_reminded_at_its_new_time_only(
    booked, staff, django_capture_on_commit_callbacks
):
    new_start = START + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        booked.start_time, booked.end_time = new_start, new_start + timedelta(minutes=45)
        booked.change(["start_time", "end_time"], by=Actor.staff(staff))
    run_due_tasks()
    mail.outbox.clear()
    assert reminders_at(START - timedelta(hours=24)) == []
    [message] = reminders_at(new_start - timedelta(hours=24))
    assert "jueves 19 de marzo, 12:00" in message.subject
    states = dict(Outbox.objects.filter(kind=Kind.REMINDER).values_list("session_start", "status"))
    assert states == {START: State.SKIPPED, new_start: State.SENT}


def test_a_patient_with_reminders_off_gets_none_but_still_hears_of_changes(
    booked, patient, staff, django_capture_on_commit_callbacks
):
    patient.reminders_enabled = False
    patient.save()
    assert reminders_at(START - timedelta(hours=24)) == []
    assert Outbox.objects.get(kind=Kind.REMINDER).status == State.SKIPPED
    with time_machine.travel(START - timedelta(hours=20), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            booked.cancel(by=Actor.staff(staff), reason="Feriado")
        run_due_tasks()
    assert [m.subject for m in mail.outbox] == ["Se canceló tu turno con Lic. Carolina Gómez"]


def test_no_reminder_when_the_professional_wants_none(
    patient, professional, frozen_now, django_capture_on_commit_callbacks
):
    professional.professional_profile.reminder_hours = 0
    professional.professional_profile.save()
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, professional, START)
    assert Outbox.objects.filter(kind=Kind.BOOKED).exists()
    assert not Outbox.objects.filter(kind=Kind.REMINDER).exists()


def test_a_session_booked_inside_the_reminder_window_gets_no_reminder(
    patient, professional, frozen_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, professional, NOW + timedelta(hours=5))
    kinds = sorted(Outbox.objects.values_list("kind", flat=True))
    assert kinds == [Kind.BOOKED, Kind.NEW_BOOKING]
