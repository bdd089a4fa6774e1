"""Which messages a change to a reservation causes, and when a reminder is due.

Called by the post_save receiver of ReservationEvent (notifications/apps.py), inside the
transaction that wrote the event: the rows are committed with the change or not at all.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from reservations.models import Channel, ReservationEvent, Status

from .models import Kind, Outbox, State

Action = ReservationEvent.Action
# The reason of a session cancelled because its patient moved it to a new one (rescheduled_from):
# the new session's message tells it, the old one's cancel sends nothing of its own.
RESCHEDULED_REASON = "rescheduled"
# Kinds about a session that is off: their .ics says METHOD:CANCEL.
CANCEL_KINDS = (Kind.CANCELLED, Kind.DECLINED, Kind.EXPIRED, Kind.PATIENT_CANCELLED)
# A change recorded as having happened longer ago than this is a record, not news.
AFTER_THE_FACT = timedelta(hours=1)


def reminder_hours(reservation):
    profile = reservation.profile
    return profile.reminder_hours if profile else 24


def reminder_due(reservation):
    """When the patient is reminded of this session, or None (the professional said no
    reminders)."""
    hours = reminder_hours(reservation)
    return reservation.start_time - timedelta(hours=hours) if hours else None


def messages_for(event, reservation, now):
    """The Outbox rows (unsaved) that `event` causes.

    Records made after the fact tell nobody: a change dated in the past (more than AFTER_THE_FACT
    ago), anything about a session that has ended, and sessions written by the system rather
    than booked by someone (an import, the demo's `seed_demo`). A request the system expires is
    news, and is told.
    """
    if reservation.end_time <= now or event.at < timezone.now() - AFTER_THE_FACT:
        return []
    if (
        event.action == Action.CREATED
        and event.channel == Channel.SYSTEM
        and event.actor_id is None
    ):
        return []
    patient, professional = reservation.client, reservation.professional
    by_patient = event.actor_id is not None and event.actor_id == reservation.client_id
    rows = []

    def add(kind, user, due=now):
        rows.append(
            Outbox(
                kind=kind,
                reservation=reservation,
                event=event,
                recipient=user,
                to=user.email,
                session_start=reservation.start_time,
                next_attempt_at=due,
                created_at=now,
            )
        )

    action = event.action
    if action == Action.CREATED and reservation.rescheduled_from_id:
        add(Kind.RESCHEDULED, patient)
        if by_patient:
            add(Kind.PATIENT_RESCHEDULED, professional)
    elif action == Action.CREATED:
        add(Kind.BOOKED, patient)
        if reservation.status == Status.PENDING:
            add(Kind.NEW_REQUEST, professional)
    elif action == Action.CONFIRMED:
        add(Kind.CONFIRMED, patient)
    elif action == Action.DECLINED:
        add(Kind.DECLINED, patient)
    elif action == Action.CANCELLED and event.reason != RESCHEDULED_REASON:
        if by_patient:
            add(Kind.PATIENT_CANCELLED, professional)
        else:
            add(Kind.CANCELLED, patient)
    elif action == Action.RESCHEDULED:
        add(Kind.RESCHEDULED, patient)
        if by_patient:
            add(Kind.PATIENT_RESCHEDULED, professional)
    elif action == Action.EXPIRED:
        add(Kind.EXPIRED, patient)

    # A confirmed session (booked confirmed, confirmed, or moved) gets its reminder, unless its
    # time has already come: the message just sent says it all.
    if reservation.status == Status.CONFIRMED and action in (
        Action.CREATED,
        Action.CONFIRMED,
        Action.RESCHEDULED,
    ):
        due = reminder_due(reservation)
        if due is not None and due > now:
            add(Kind.REMINDER, patient, due=due)
    return rows


def record(event, now):
    """Write the messages `event` causes (in the caller's transaction) and have the worker send
    them once it commits."""
    from .tasks import schedule

    reservation = (
        type(event.reservation)
        .objects.select_related("client", "professional__professional_profile")
        .get(pk=event.reservation_id)
    )
    # Reminders that no longer apply are skipped now (and checked again when they fire anyway).
    stale = Outbox.objects.filter(reservation=reservation, kind=Kind.REMINDER, status=State.PENDING)
    if reservation.status != Status.CONFIRMED:
        stale.update(status=State.SKIPPED, last_error="session no longer confirmed")
    else:
        stale.exclude(session_start=reservation.start_time).update(
            status=State.SKIPPED, last_error="session moved"
        )
    rows = messages_for(event, reservation, now)
    if not rows:
        return
    # A row whose key exists already (the same change seen twice) is left alone.
    Outbox.objects.bulk_create(rows, ignore_conflicts=True)
    new = list(
        Outbox.objects.filter(event=event, status=State.PENDING).values_list(
            "pk", "next_attempt_at"
        )
    )
    transaction.on_commit(lambda: schedule(new, now))
