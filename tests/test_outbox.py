"""The outbox under the real worker: two `db_worker` processes at once against PostgreSQL send each
message exactly once; and the professional's daily agenda, written by the sweep."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from notifications.models import Kind, Outbox, State
from notifications.tasks import send_message, sweep_once

from .conftest import NOW
from .test_notifications import book, run_due_tasks
from .test_smtp import SMTPServer, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_the_daily_agenda_goes_once_each_morning_to_who_asked(
    patient, other_patient, professional, make_reservation
):
    profile = professional.professional_profile
    profile.daily_summary = True
    profile.save()
    # Wednesday 11 March 2026 in Buenos Aires: two sessions that day, one the next.
    make_reservation(patient, NOW + timedelta(days=1, hours=-1))  # 11:00
    make_reservation(other_patient, NOW + timedelta(days=1, hours=2), status="PENDING")  # 14:00
    make_reservation(patient, NOW + timedelta(days=2))
    six, seven = NOW + timedelta(hours=18), NOW + timedelta(hours=19)  # 06:00, 07:00 local
    with time_machine.travel(six, tick=False):
        assert sweep_once(six) == set()
    with time_machine.travel(seven, tick=False):
        sweep_once(seven)
        sweep_once(seven + timedelta(minutes=5))
        run_due_tasks()
    [message] = mail.outbox
    assert message.to == ["gomez@example.com"]
    assert message.subject == "Tus turnos del miércoles 11 de marzo"
    assert "11:00 – 11:45 (45 min) · Lucía" in message.body
    assert "14:00 – 14:45 (45 min) · Martín · Virtual · pendiente" in message.body
    assert "jueves" not in message.body
    assert not message.attachments


@pytest.mark.django_db
def test_no_agenda_on_a_day_without_sessions(professional):
    professional.professional_profile.daily_summary = True
    professional.professional_profile.save()
    seven = NOW + timedelta(hours=19)
    with time_machine.travel(seven, tick=False):
        sweep_once(seven)
        run_due_tasks()
    assert mail.outbox == []
    assert Outbox.objects.get().status == State.SKIPPED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_real_workers_at_once_send_each_message_exactly_once(
    patient, other_patient, professional
):
    now = timezone.now()
    bookings = [
        book(patient, professional, now + timedelta(days=3 + i), status="PENDING") for i in range(5)
    ] + [book(other_patient, professional, now + timedelta(days=3 + i, hours=2)) for i in range(5)]
    due = list(Outbox.objects.exclude(kind=Kind.REMINDER).values_list("pk", flat=True))
    # 5 requests and 5 bookings confirmed at once, each told to the patient and the professional;
    # the reminders later.
    assert len(due) == 20
    # Every message's task three more times (a retry, the sweep, a duplicate): more to race for.
    for _ in range(3):
        for pk in due:
            send_message.enqueue(pk)
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
    }
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"]
    with SMTPServer(port) as inbox:
        workers = [
            subprocess.Popen(
                [*command, "--worker-id", f"w{i}"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        for worker in workers:
            _out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
    received = [(rcpt[0], m.get_body(("plain",)).get_content()) for rcpt, m in inbox.messages]
    assert len(received) == 20
    assert len(set(received)) == 20  # twenty different messages, none twice
    sent = Outbox.objects.filter(pk__in=due)
    assert set(sent.values_list("status", flat=True)) == {State.SENT}
    assert set(sent.values_list("attempts", flat=True)) == {1}
    assert Outbox.objects.filter(kind=Kind.REMINDER, status=State.PENDING).count() == 5
    assert len(bookings) == 10
