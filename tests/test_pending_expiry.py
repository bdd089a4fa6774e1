"""A pending request holds its time until it lapses; then the worker cancels it ("expired"), and
whoever needs the time before the worker comes by expires it first. Tasks are rows in the database
(the production backend); these tests run the worker over them."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from reservations.actions import Actor
from reservations.models import ReasonCode, Reservation
from reservations.tasks import expire_request, schedule_expiry

from .conftest import NOW

pytestmark = pytest.mark.django_db
EXPIRY = "reservations.tasks.expire_request"


def request(patient, professional, start, now=NOW):
    r = Reservation(
        client=patient,
        professional=professional,
        start_time=start,
        end_time=start + timedelta(minutes=45),
        status="PENDING",
        expires_at=Reservation.pending_expiry(start, now),
    )
    r.full_clean()
    return r.insert(by=Actor.patient(patient, "page"))


def run_due_tasks():
    """What the worker does with the tasks that are due now (their function, called here: the
    worker itself closes database connections, which a test's transaction cannot survive;
    test_the_real_worker_process_expires_a_request runs the real one)."""
    # (The messages each change sends are tasks too: tests/test_notifications.py runs those.)
    for row in DBTaskResult.objects.ready().filter(task_path=EXPIRY):
        expire_request.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])


def test_a_request_lapses_after_the_hold_or_at_its_start_whichever_comes_first(
    patient, professional, frozen_now, settings
):
    settings.PENDING_EXPIRY_HOURS = 48
    far = request(patient, professional, NOW + timedelta(days=7))
    near = request(patient, professional, NOW + timedelta(hours=5))
    assert far.expires_at == NOW + timedelta(hours=48)
    assert near.expires_at == near.start_time


def test_the_worker_expires_a_request_nobody_confirmed(
    patient, professional, frozen_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = request(patient, professional, NOW + timedelta(days=7))
        schedule_expiry(r)
    assert DBTaskResult.objects.filter(task_path=EXPIRY).count() == 1
    with time_machine.travel(r.expires_at - timedelta(seconds=1), tick=False):
        run_due_tasks()  # not due yet
    assert Reservation.objects.get(pk=r.pk).status == "PENDING"
    with time_machine.travel(r.expires_at, tick=False):
        run_due_tasks()
    r.refresh_from_db()
    assert (r.status, r.cancellation_reason, r.cancelled_by) == (
        "CANCELLED",
        ReasonCode.EXPIRED,
        None,
    )
    assert [e.action for e in r.patient_events()] == ["created", "expired"]


def test_a_request_confirmed_in_time_is_left_alone_by_the_worker(
    patient, professional, frozen_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = request(patient, professional, NOW + timedelta(days=7))
        schedule_expiry(r)
    assert r.confirm(by=Actor.professional(professional))
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        run_due_tasks()
    r.refresh_from_db()
    assert r.status == "CONFIRMED" and r.expires_at is None


def test_a_lapsed_request_cannot_be_confirmed_even_before_the_worker_comes(
    patient, professional, frozen_now
):
    r = request(patient, professional, NOW + timedelta(days=7))
    with time_machine.travel(r.expires_at, tick=False):
        assert not r.confirm(by=Actor.professional(professional))
    assert Reservation.objects.get(pk=r.pk).status == "PENDING"


def test_whoever_needs_the_time_expires_lapsed_requests_first(
    patient, other_patient, professional, frozen_now
):
    start = NOW + timedelta(days=7)
    lapsed = request(patient, professional, start)
    with time_machine.travel(lapsed.expires_at + timedelta(minutes=1), tick=False):
        from django.utils import timezone

        assert Reservation.expire_overdue(timezone.now(), professional=professional) == 1
        taken = request(other_patient, professional, start, now=timezone.now())
    assert Reservation.objects.get(pk=lapsed.pk).status == "CANCELLED"
    assert taken.status == "PENDING"
    # Twice is harmless: nothing left to expire.
    assert Reservation.expire_overdue(lapsed.expires_at + timedelta(days=1)) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_real_worker_process_expires_a_request(patient, professional):
    # The worker as production runs it: its own process, against the same PostgreSQL database.
    from django.utils import timezone

    now = timezone.now()
    r = request(patient, professional, now + timedelta(days=2), now=now)
    Reservation.objects.filter(pk=r.pk).update(expires_at=now - timedelta(seconds=1))
    r.refresh_from_db()
    schedule_expiry(r)  # outside a transaction: enqueued at once
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    r.refresh_from_db()
    assert r.status == "CANCELLED" and r.cancellation_reason == ReasonCode.EXPIRED
    assert DBTaskResult.objects.get(task_path=EXPIRY).status == "SUCCESSFUL"
