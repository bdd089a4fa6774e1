"""Which messages an action causes, and when a reminder is due.

`record(action)` runs once the action has committed (reservations.actions sends
`action_recorded`; notifications/apps.py connects it here). It decides per action, not per row:
each person hears once of everything the action did to their sessions (a weekly series of nine
sessions is one email listing nine dates), and the worker sends the rows it writes.

A message written after the commit can be lost if the process dies between the two; the change
itself never is, and never waits for, or fails because of, its messages.
"""

from contextlib import nullcontext
from datetime import timedelta

from django.db import transaction

from reservations.actions import ActionKind, Role
from reservations.models import ReservationEvent, Status

from .models import Kind, Outbox, State

Event = ReservationEvent.Action
# Kinds about sessions that are off: their .ics says METHOD:CANCEL.
CANCEL_KINDS = (
    Kind.CANCELLED,
    Kind.YOU_CANCELLED,
    Kind.DECLINED,
    Kind.EXPIRED,
    Kind.PATIENT_CANCELLED,
)
# What each kind of message tells, among an action's events: the sessions it lists.
EVENTS_OF_KIND = {
    Kind.BOOKED: (Event.CREATED,),
    Kind.BOOKED_FOR_YOU: (Event.CREATED,),
    Kind.NEW_REQUEST: (Event.CREATED,),
    # A booking confirmed at once; or one paid for after its hold, confirmed by the payment.
    Kind.NEW_BOOKING: (Event.CREATED, Event.CONFIRMED),
    Kind.CONFIRMED: (Event.CONFIRMED,),
    Kind.DECLINED: (Event.DECLINED,),
    Kind.CANCELLED: (Event.CANCELLED,),
    Kind.YOU_CANCELLED: (Event.CANCELLED,),
    Kind.PATIENT_CANCELLED: (Event.CANCELLED,),
    # A patient's move: the new session (its "created" event; the old one is rescheduled_from).
    # The practice's: the sessions whose time changed.
    Kind.RESCHEDULED: (Event.CREATED, Event.RESCHEDULED),
    Kind.PATIENT_RESCHEDULED: (Event.CREATED,),
    Kind.CHANGED: (Event.CHANGED,),
    Kind.EXPIRED: (Event.EXPIRED,),
    Kind.REFUNDED: (Event.REFUNDED,),
}
# Fields of a session its patient sees change (the time has a message of its own).
SEEN_FIELDS = ("session_modality", "video_url")
# An action recorded as having happened longer ago than this is a record, not news.
AFTER_THE_FACT = timedelta(hours=1)
# Sessions get their reminder when an action leaves them confirmed like this.
REMINDED_AFTER = (Event.CREATED, Event.CONFIRMED, Event.RESCHEDULED)


def reminder_hours(reservation):
    profile = reservation.profile
    return profile.reminder_hours if profile else 24


def reminder_due(reservation):
    """When the patient is reminded of this session, or None (the professional said no
    reminders)."""
    hours = reminder_hours(reservation)
    return reservation.start_time - timedelta(hours=hours) if hours else None


def _news(action, now):
    """[(kind, recipient id, [events])]: who is told what. Sessions that have ended, and actions
    dated in the past (an import, an edit of the record) tell nobody."""
    events = [
        e
        for e in action.events_of(ReservationEvent)
        if e.reservation.end_time > now and e.action in _TOLD
    ]
    if action.at < now - AFTER_THE_FACT or action.kind in _SILENT or not events:
        return []
    by = action.by
    found = []

    def tell(kind, events, to="client"):
        """`kind` to the patient (or the professional) of each of `events`, one message each."""
        by_person = {}
        for event in events:
            by_person.setdefault(getattr(event.reservation, f"{to}_id"), []).append(event)
        for person, theirs in by_person.items():
            if to == "professional" and person == by.user_id:
                continue  # nobody is told of what they did themself
            found.append((kind, person, theirs))

    def of(*names):
        return [e for e in events if e.action in names]

    kind = action.kind
    if kind == ActionKind.RESCHEDULE:
        tell(Kind.RESCHEDULED, of(Event.CREATED))
        if by.role == Role.PATIENT:
            tell(Kind.PATIENT_RESCHEDULED, of(Event.CREATED), to="professional")
    elif kind in (ActionKind.BOOK, ActionKind.SERIES_CREATE):
        # A session held while its patient pays is news once paid (ActionKind.PAYMENT, below).
        created = [e for e in of(Event.CREATED) if not e.reservation.awaiting_payment]
        # A session the practice booked for the patient is told as such ("we booked a session
        # for you"), not as the patient's own request.
        for_you = kind == ActionKind.BOOK and by.is_practice
        tell(Kind.BOOKED_FOR_YOU if for_you else Kind.BOOKED, created)
        tell(
            Kind.NEW_REQUEST, [e for e in created if e.to_status == Status.PENDING], "professional"
        )
        instant = [
            e
            for e in created
            if e.to_status == Status.CONFIRMED and _wants_booking_emails(e.reservation)
        ]
        tell(Kind.NEW_BOOKING, instant, "professional")
    elif kind in (ActionKind.CANCEL, ActionKind.SERIES_CANCEL):
        if by.role == Role.PATIENT:
            tell(Kind.YOU_CANCELLED, of(Event.CANCELLED))
            tell(Kind.PATIENT_CANCELLED, of(Event.CANCELLED), "professional")
        else:
            tell(Kind.CANCELLED, of(Event.CANCELLED))
    elif kind in (ActionKind.PAYMENT, ActionKind.REFUND):
        # A session paid for: confirmed (the professional told as of a booking), or now a
        # request for a professional who approves bookings (its "created" event). Money given
        # back, however we heard of it.
        confirmed = of(Event.CONFIRMED)
        tell(Kind.CONFIRMED, confirmed)
        tell(
            Kind.NEW_BOOKING,
            [e for e in confirmed if _wants_booking_emails(e.reservation)],
            "professional",
        )
        tell(Kind.BOOKED, of(Event.CREATED))
        tell(Kind.NEW_REQUEST, of(Event.CREATED), "professional")
        tell(Kind.REFUNDED, of(Event.REFUNDED))
    else:
        tell(Kind.CONFIRMED, of(Event.CONFIRMED))
        tell(Kind.DECLINED, of(Event.DECLINED))
        tell(Kind.EXPIRED, of(Event.EXPIRED))
        tell(Kind.RESCHEDULED, of(Event.RESCHEDULED))
        tell(Kind.CHANGED, [e for e in of(Event.CHANGED) if set(SEEN_FIELDS) & set(e.changes)])
    return found


# What no message is about: attendance, the notes, the system's own writing.
_TOLD = (
    Event.CREATED,
    Event.CONFIRMED,
    Event.DECLINED,
    Event.CANCELLED,
    Event.RESCHEDULED,
    Event.CHANGED,
    Event.EXPIRED,
    Event.REFUNDED,
)
_SILENT = (ActionKind.IMPORT, ActionKind.SERIES_EXTEND, ActionKind.ATTENDANCE)


def _wants_booking_emails(reservation):
    profile = reservation.profile
    return profile is None or profile.booking_emails


def _reminders(action, now):
    """[(reservation, due)]: the sessions this action left confirmed, reminded when their time
    comes (not for an import: nobody booked those)."""
    if action.kind == ActionKind.IMPORT:
        return []
    found = {}
    for event in action.events_of(ReservationEvent):
        r = event.reservation
        if event.action in REMINDED_AFTER and r.status == Status.CONFIRMED:
            due = reminder_due(r)
            if due is not None and due > now:
                found[r.pk] = (r, due)
    return list(found.values())


def messages_for(action, now):
    """The Outbox rows (unsaved) that `action` causes."""
    rows = []
    for kind, person, events in _news(action, now):
        first = min((e.reservation for e in events), key=lambda r: (r.start_time, r.pk))
        rows.append(
            Outbox(
                kind=kind,
                action_id=action.id,
                reservation=first,
                recipient_id=person,
                session_start=first.start_time,
                next_attempt_at=now,
                created_at=now,
            )
        )
    for r, due in _reminders(action, now):
        rows.append(
            Outbox(
                kind=Kind.REMINDER,
                reservation=r,
                recipient_id=r.client_id,
                session_start=r.start_time,
                next_attempt_at=due,
                created_at=now,
            )
        )
    return rows


def record(action, now):
    """Write the messages `action` causes and have the worker send them.

    A session confirmed or moved gets a new reminder, and its waiting one is skipped with it. A
    session cancelled keeps its waiting reminder row until its time, when sending finds it no
    longer applies (emails.skip_reason) and skips it: no statement more per cancel."""
    from .tasks import schedule

    again = _reminded_again(action)
    with transaction.atomic() if again else nullcontext():
        if again:
            Outbox.objects.filter(
                kind=Kind.REMINDER, status=State.PENDING, reservation_id__in=again
            ).update(status=State.SKIPPED, last_error="replaced after a change")
        rows = _write(messages_for(action, now))
    schedule([(row.pk, row.next_attempt_at) for row in rows], now)


def _reminded_again(action):
    """The sessions this action confirmed or moved: their waiting reminder gives way to the one
    _reminders() writes."""
    return {
        e.reservation.pk
        for e in action.events_of(ReservationEvent)
        if e.action in (Event.CONFIRMED, Event.RESCHEDULED)
        and e.reservation.status == Status.CONFIRMED
    }


def _write(rows):
    """Save the rows. bulk_create is a transaction of its own (BEGIN and COMMIT: two statements
    more), so an action's few messages (a patient and a professional) go as single INSERTs."""
    if len(rows) > 3:
        return Outbox.objects.bulk_create(rows)
    for row in rows:
        row.save(force_insert=True)
    return rows


def _reminders_changed(action):
    """The sessions whose waiting reminder this action makes wrong: ({no longer confirmed},
    {confirmed or moved: _reminders() writes their new one}). Checked again when a reminder
    fires (emails.skip_reason)."""
    off, again = set(), set()
    for event in action.events_of(ReservationEvent):
        r = event.reservation
        if event.action == Event.CREATED:
            continue  # a new session has no reminder yet
        if r.status != Status.CONFIRMED:
            off.add(r.pk)
        elif event.action in REMINDED_AFTER:
            again.add(r.pk)
    return off, again
