"""Sending the outbox, run by the worker (`make worker`, manage.py db_worker).

- send_message(*outbox_ids): for each row, claims it (pending and due -> sending, one conditional
  UPDATE: of two workers exactly one sends), checks that the message still applies (a reminder),
  renders and sends it, and marks it sent; a failure makes it pending again after a backoff and
  enqueues the next try, or failed after the last.
- sweep(): every SWEEP_EVERY, picks up what a lost task or a killed worker left behind (pending
  rows overdue, rows stuck in "sending" past the lease) and writes the day's agenda summaries,
  having queued its next run first. `manage.py outbox_sweep` runs it once and starts the chain
  if none is queued: `make run` and `make worker` do so before the worker starts (and a deploy,
  or cron, as a safety net).
"""

import logging
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import default_task_backend, task

from .models import Kind, Outbox, State

logger = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(minutes=5)
# A pending row due for longer than this has no task coming for it (the worker was down when it
# was written, the task row was lost): the sweep enqueues one.
OVERDUE = timedelta(minutes=2)
# Daily summaries are written from this local hour until noon (a worker back at 15:00 does not
# send the morning's agenda in the afternoon).
SUMMARY_FROM, SUMMARY_UNTIL = time(7), time(12)


@task()
def send_message(*outbox_ids):
    """Send these rows (an action's messages go together, in one task)."""
    for row in Outbox.objects.filter(pk__in=outbox_ids).order_by("pk"):
        if row.claim(timezone.now()):  # else sent, skipped or taken by another worker already
            deliver(row)


def deliver(row):
    """Send a claimed row: skipped if it no longer applies, else rendered and sent."""
    from .emails import build, skip_reason

    try:
        why = skip_reason(row, timezone.now())
        if why:
            row.mark_skipped(why)
            return
        message = build(row)
        message.send()
    except Exception as exc:  # a refused connection, a timeout, a bad address: try again later
        retry_at = row.mark_failed_attempt(timezone.now(), f"{type(exc).__name__}: {exc}")
        logger.warning(
            "outbox %s (%s) attempt %s failed: %s; %s",
            row.pk,
            row.kind,
            row.attempts,
            type(exc).__name__,
            f"retry at {retry_at:%Y-%m-%d %H:%M:%S}Z" if retry_at else "failed",
        )
        if retry_at:
            schedule([(row.pk, retry_at)], timezone.now())
        return
    row.mark_sent(timezone.now(), message.to[0])


def schedule(rows, now):
    """Enqueue the sending of (pk, due) rows: those due now in one task, each later one as a
    deferred task of its own."""
    if not rows:
        return
    now_due = [pk for pk, due in rows if due <= now or not default_task_backend.supports_defer]
    if now_due:
        send_message.enqueue(*now_due)
    for pk, due in rows:
        if pk not in now_due:
            send_message.using(run_after=due).enqueue(pk)


def ensure_sweep():
    """Queue the sweep unless one is waiting already, due now or later (one query): one chain.
    (DBTaskResult.objects.ready() leaves out tasks due later, which the waiting sweep is.)"""
    if not default_task_backend.supports_defer:
        return
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(status="READY", task_path=sweep.module_path)
    if not waiting.exists():
        sweep.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()


@task()
def sweep():
    # The next run is queued first, so a run that fails does not end the chain.
    if default_task_backend.supports_defer:
        sweep.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()
    sweep_once(timezone.now())


def sweep_once(now):
    """What a sweep does, without enqueuing the next one. Returns the ids it enqueued."""
    from accounts import lockout

    # The login counters' expired rows (their table never culls, so that no live lock is lost).
    lockout.delete_expired(now)
    again = set()
    for row in Outbox.objects.stuck(now):
        # Its worker died mid-send (it may or may not have reached the server): once more.
        if Outbox.objects.filter(pk=row.pk, status=State.SENDING, claimed_at=row.claimed_at).update(
            status=State.PENDING, next_attempt_at=now, last_error="worker lost mid-send"
        ):
            again.add(row.pk)
    again |= set(write_daily_summaries(now))
    again |= set(Outbox.objects.due(now - OVERDUE).values_list("pk", flat=True))
    if again:
        send_message.enqueue(*sorted(again))
    return again


def write_daily_summaries(now):
    """One row per professional who asked for it, per day, between SUMMARY_FROM and noon of
    their zone. The unique key makes a second sweep that morning write nothing."""
    from accounts.models import ProfessionalProfile

    rows = []
    for profile in ProfessionalProfile.objects.filter(daily_summary=True).select_related("user"):
        user = profile.user
        local = timezone.localtime(now, user.zone)
        if not (SUMMARY_FROM <= local.time() < SUMMARY_UNTIL) or not user.is_active:
            continue
        day = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
        rows.append(
            Outbox(
                kind=Kind.DAILY_SUMMARY,
                recipient=user,
                to=user.email,
                session_start=day,
                next_attempt_at=now,
                created_at=now,
            )
        )
    if not rows:
        return []
    with transaction.atomic():
        Outbox.objects.bulk_create(rows, ignore_conflicts=True)
    return Outbox.objects.due(now).filter(kind=Kind.DAILY_SUMMARY).values_list("pk", flat=True)
