"""Through a real SMTP server (aiosmtpd, started here on a free port): the message as a mail
client receives it, and a mail server that is down loses nothing."""

import email
import email.policy
import socket
import time
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from icalendar import Calendar

from notifications.models import Kind, Outbox, State
from reservations.actions import Actor

from .conftest import CSRF_TOKEN, NOW, csrf_client
from .test_notifications import book, run_due_tasks

pytestmark = pytest.mark.django_db


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (
                envelope.rcpt_tos,
                email.message_from_bytes(envelope.content, policy=email.policy.default),
            )
        )
        return "250 OK"


class SMTPServer:
    def __init__(self, port):
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self):
        self.controller.start()
        return self.inbox

    def __exit__(self, *exc):
        self.controller.stop()


@pytest.fixture
def smtp_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 5
    return settings


def test_a_booking_arrives_with_both_parts_and_its_calendar(
    patient, professional, smtp_settings, frozen_now, django_capture_on_commit_callbacks
):
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox:
        with django_capture_on_commit_callbacks(execute=True):
            r = book(patient, professional, NOW + timedelta(days=7))
        run_due_tasks()
    # The patient's, and the professional's (a booking confirmed at once).
    assert sorted(to for to, _ in inbox.messages) == [["gomez@example.com"], ["lucia@example.com"]]
    [(recipients, message)] = [m for m in inbox.messages if m[0] == ["lucia@example.com"]]
    assert message["From"] == "Turnos <no-reply@turnos.example>"
    assert message["To"] == "lucia@example.com"
    assert message["Subject"].strip() == "Tu turno con Lic. Carolina Gómez está reservado"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Hola, Lucía:" in part
        assert "martes 17 de marzo, 12:00 – 12:45 (45 min)" in part
        assert f"http://127.0.0.1:8000/reservations/{r.pk}/" in part
        assert "127.0.0.1:8000" not in part.replace("http://127.0.0.1:8000/reservations/", "")
        assert "Turnos" in part
    assert "<p>" in html and "<p>" not in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(attachment.get_content())
    assert calendar["METHOD"] == "REQUEST"
    event = calendar.events[0]
    assert event["UID"] == f"{r.pk}@turnos"
    assert event["SEQUENCE"] == 0
    assert event.start == NOW + timedelta(days=7)
    assert event["DTSTART"].params["TZID"] == "America/Argentina/Buenos_Aires"
    assert calendar.timezones[0]["TZID"] == "America/Argentina/Buenos_Aires"


def test_a_cancel_by_the_practice_arrives_as_a_calendar_cancel(
    patient, professional, staff, smtp_settings, frozen_now, django_capture_on_commit_callbacks
):
    r = book(patient, professional, NOW + timedelta(days=7))
    Outbox.objects.all().delete()
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox:
        with django_capture_on_commit_callbacks(execute=True):
            r.cancel(by=Actor.staff(staff), reason="La profesional está enferma")
        run_due_tasks()
    [(_, message)] = inbox.messages
    assert message["Subject"].strip() == "Se canceló tu turno con Lic. Carolina Gómez"
    assert "Motivo: La profesional está enferma" in message.get_body(("plain",)).get_content()
    calendar = Calendar.from_ical(next(message.iter_attachments()).get_content())
    assert calendar["METHOD"] == "CANCEL"
    event = calendar.events[0]
    assert (event["UID"], event["SEQUENCE"], event["STATUS"]) == (f"{r.pk}@turnos", 1, "CANCELLED")


def test_a_password_reset_with_the_mail_server_down_answers_and_is_sent_when_it_is_back(
    patient, smtp_settings, frozen_now
):
    # Nothing listens on EMAIL_PORT: the request never tries; the worker's first try is refused.
    response = csrf_client().post(
        "/accounts/password/reset/",
        {"email": "lucia@example.com", "csrfmiddlewaretoken": CSRF_TOKEN},
        follow=True,
    )
    assert response.status_code == 200
    assert "/accounts/password/reset/done/" in response.redirect_chain[-1][0]
    row = Outbox.objects.get(kind=Kind.ACCOUNT)
    assert (row.status, row.attempts, row.to) == (State.PENDING, 0, "lucia@example.com")
    run_due_tasks()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (State.PENDING, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox:
        run_due_tasks()  # not due yet
        assert inbox.messages == []
        with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
            run_due_tasks()
            run_due_tasks()
    [(recipients, message)] = inbox.messages
    assert recipients == ["lucia@example.com"]
    assert "/accounts/password/reset/key/" in message.get_body(("plain",)).get_content()
    row.refresh_from_db()
    assert (row.status, row.sent_at, row.attempts) == (State.SENT, NOW + timedelta(minutes=1), 2)
    # Sent, the link is gone from the database.
    assert (row.body, row.html) == ("", "")


def test_a_password_reset_never_waits_on_a_mail_server_that_never_answers(
    patient, smtp_settings, frozen_now
):
    # A server that accepts the connection and never says a word (no SMTP greeting).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        smtp_settings.EMAIL_PORT = silent.getsockname()[1]
        smtp_settings.EMAIL_TIMEOUT = 3
        started = time.monotonic()
        response = csrf_client().post(
            "/accounts/password/reset/",
            {"email": "lucia@example.com", "csrfmiddlewaretoken": CSRF_TOKEN},
        )
        took = time.monotonic() - started
    assert response.status_code == 302
    # Nothing was tried in the request (a try would have waited EMAIL_TIMEOUT, 3 s).
    assert took < 2
    row = Outbox.objects.get(kind=Kind.ACCOUNT)
    assert (row.status, row.attempts) == (State.PENDING, 0)


def test_a_mail_server_down_for_good_ends_in_failed_and_retry_starts_again(
    patient, professional, staff, smtp_settings, frozen_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, professional, NOW + timedelta(days=7))
    row = Outbox.objects.get(kind=Kind.BOOKED)
    at, waits = NOW, []
    while row.status != State.FAILED:
        with time_machine.travel(at, tick=False):
            assert run_due_tasks() >= 1
        row.refresh_from_db()
        if row.status == State.PENDING:
            waits.append(row.next_attempt_at - at)
            at = row.next_attempt_at
    assert [int(w.total_seconds() // 60) for w in waits] == [1, 5, 30, 120, 360]
    assert row.attempts == 6
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox, time_machine.travel(at, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = csrf_client(staff).post(
                "/admin/notifications/outbox/",
                {
                    "action": "retry",
                    "_selected_action": [row.pk],
                    "csrfmiddlewaretoken": CSRF_TOKEN,
                },
                follow=True,
            )
        assert response.status_code == 200
        assert "Se va a enviar de nuevo 1 mensaje." in response.content.decode()
        run_due_tasks()
    assert len(inbox.messages) == 1
    row.refresh_from_db()
    assert row.status == State.SENT
