"""One action, one record, one set of messages.

Every change someone makes to sessions (a booking, a confirmation, a cancel, a move, a weekly
series made, moved or ended, a request that lapses, an edit in the admin) is one `Action`: who did
it (an `Actor`: a person in a role, through a door; or the system), when, why, and the events it
wrote on every session it touched, all under one id. The rules that change sessions
(reservations.models, series) open the action with `recording()`, write their rows and log their
events into it; once the transaction commits, `recording()` sends `action_recorded` with the whole
action. That is how notifications hears of it (notifications/apps.py connects its receiver): it
decides per action, so a series of nine sessions is one email, not nine. Just before the commit,
`action_finishing` lets a capability decide inside the same transaction what the action owes
(payments: the refund of a cancelled session that was paid).

An action that writes nothing (a cancel refused, a confirm that lost a race) sends nothing.
"""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import OperationalError, models, transaction
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

# Sent once an action's transaction has committed, with `action` (an Action). Receivers run in
# the request (or the worker) that acted: keep them short, and never let them undo the change.
action_recorded = Signal()
# Sent inside an action's transaction, once its work is done and before it commits, with
# `action`: for what must be decided with the change or not at all (payments decides there the
# refund a cancel owes, payments/follow.py). Receivers may write rows and log events into the
# action; an exception rolls the whole action back.
action_finishing = Signal()


class Channel(models.TextChoices):
    """The door an action came through."""

    PAGE = "page", _("Patient dashboard")
    AGENDA = "agenda", _("Professional's agenda")
    ADMIN = "admin", _("Admin")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class Role(models.TextChoices):
    """Whose rules apply to who acts. A patient cancels under the notice; the practice
    (a professional, or staff) is not bound by it and must say why; the system writes what
    nobody did by hand (a request that lapsed, a series' next weeks, an import)."""

    PATIENT = "patient", _("Patient")
    PROFESSIONAL = "professional", _("Professional")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")


@dataclass(frozen=True)
class Actor:
    """Who acts: a user in a role, through a door (`channel`). The system has no user."""

    role: str
    user: object = None
    channel: str = Channel.SYSTEM

    @classmethod
    def patient(cls, user, channel):
        return cls(Role.PATIENT, user, channel)

    @classmethod
    def professional(cls, user, channel=Channel.AGENDA):
        return cls(Role.PROFESSIONAL, user, channel)

    @classmethod
    def staff(cls, user, channel=Channel.ADMIN):
        return cls(Role.STAFF, user, channel)

    @classmethod
    def system(cls):
        return cls(Role.SYSTEM)

    @property
    def is_practice(self):
        """A professional or staff: the practice, not the patient."""
        return self.role in (Role.PROFESSIONAL, Role.STAFF)

    @property
    def user_id(self):
        return getattr(self.user, "pk", None)


class ActionKind(models.TextChoices):
    """What an action was, as a whole (its events say what happened to each session)."""

    BOOK = "book", _("Booked")
    CONFIRM = "confirm", _("Confirmed")
    DECLINE = "decline", _("Declined")
    CANCEL = "cancel", _("Cancelled")
    # A patient moving their session: the old one cancelled, a new one booked.
    RESCHEDULE = "reschedule", _("Moved by the patient")
    # An edit of a session's fields (its time, modality, link, notes).
    CHANGE = "change", _("Changed")
    ATTENDANCE = "attendance", _("Attendance recorded")
    EXPIRE = "expire", _("Request expired")
    SERIES_CREATE = "series_create", _("Weekly series created")
    SERIES_MOVE = "series_move", _("Weekly series moved from a session on")
    SERIES_CANCEL = "series_cancel", _("Weekly series cancelled from a session on")
    # The worker creating a series' sessions as they come inside its horizon.
    SERIES_EXTEND = "series_extend", _("Weekly series extended")
    # Sessions written by the system, not booked by anyone (the demo, an import): nobody is told.
    IMPORT = "import", _("Imported")
    # A range of working hours or a time off added, changed or removed.
    SCHEDULE = "schedule", _("Hours or time off changed")
    # Mercado Pago telling of a payment for a session (payments/rules.py), and money given back.
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


@dataclass
class Action:
    """One action: who, through which door, when, why, and every event it wrote."""

    kind: str
    by: Actor
    at: datetime
    reason: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    # The events written, in order: ReservationEvent rows, and any event of a capability built
    # on the core (a series' own), each carrying this action's id.
    events: list = field(default_factory=list)

    def log(self, event, *, reason=None):
        """Save `event` (an unsaved reservations.models.Event) as part of this action: its id, who,
        through which door, when and why (this action's reason unless `reason` says otherwise,
        as a code does for the session a patient moved away from)."""
        event.action_id = self.id
        event.actor = self.by.user
        event.channel = self.by.channel
        event.at = self.at
        event.reason = self.reason if reason is None else reason
        event.save(force_insert=True)
        self.events.append(event)
        return event

    def events_of(self, model):
        return [e for e in self.events if isinstance(e, model)]


@contextmanager
def recording(kind, *, by, at, reason="", within=None):
    """Open an action and its transaction; yields the Action to log events into. Once the
    transaction commits, `action_recorded` is sent with it (when it logged anything).

    `within`: an action already open (a reschedule is a cancel and a booking; a series is many
    bookings): the work joins it and its transaction (no savepoint of its own: a caller that
    goes on after a part fails makes its own), and that action is the one told about when it
    commits.
    """
    if within is not None:
        logged = len(within.events)
        try:
            with transaction.atomic(savepoint=False):
                yield within
        except BaseException:
            # The part's rows are rolled back with its caller's savepoint: its events go too.
            del within.events[logged:]
            raise
        return
    action = Action(kind=kind, by=by, at=at, reason=reason)
    with transaction.atomic():
        yield action
        if action.events:
            action_finishing.send(sender=Action, action=action)
            transaction.on_commit(
                lambda: action_recorded.send(sender=Action, action=action), robust=True
            )


def retrying_deadlocks(work, attempts=3):
    """Call `work()`, a whole transaction, again when PostgreSQL aborted it to break a deadlock.

    Two overlapping bookings check each other's uncommitted rows under two exclusion constraints
    and can deadlock; PostgreSQL aborts one. Trying it again meets the committed winner, and the
    loser gets the overlap refusal like anyone else. Only a transaction of its own can be tried
    again: inside a caller's, the deadlock is the caller's to handle.
    """
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as exc:
            deadlock = getattr(exc.__cause__, "sqlstate", None) == "40P01"
            inside = transaction.get_connection().in_atomic_block
            if not deadlock or inside or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
