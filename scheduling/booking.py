"""A patient books a free slot, or moves a session to another: the rules, once, for the pages and
the API.

Both answer the new Reservation or a Refusal (reservations.models.Refusal: a code for machines, a
message for the patient). The database has the last word on overlaps: of two patients racing for
one slot, one is stored and the other gets the same refusal as if the slot had been taken a minute
before ("unavailable"), never an error.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from reservations.actions import ActionKind, Actor, recording, retrying_deadlocks
from reservations.models import (
    OVERLAP_MESSAGE,
    Modality,
    ReasonCode,
    Refusal,
    Reservation,
    Status,
)
from reservations.tasks import schedule_expiry

from .closures import closed_days
from .models import HoursModality, TimeOff, WorkingHours
from .slots import slot_at

UNAVAILABLE = _("That time is no longer available.")


def unavailable():
    return Refusal("unavailable", UNAVAILABLE)


def _bookable(patient):
    """The professionals `patient` may book, as a query. A professional is bookable once they
    have working hours. Whether patients may book a professional they have never seen is the
    practice's choice (BOOKING_OPEN_TO_ALL)."""
    seen = Reservation.objects.filter(client=patient, professional=OuterRef("pk"))
    professionals = (
        User.objects.filter(is_active=True)
        .filter(Exists(WorkingHours.objects.filter(professional=OuterRef("pk"))))
        .exclude(pk=patient.pk)
        .annotate(seen=Exists(seen))
        .select_related("professional_profile")
    )
    if not settings.BOOKING_OPEN_TO_ALL:
        professionals = professionals.filter(seen=True)
    return professionals


def bookable_professionals(patient):
    """The professionals `patient` may book, the ones they have seen first, then by name."""
    return sorted(_bookable(patient), key=lambda p: (not p.seen, p.display_name.casefold()))


def bookable_professional(patient, pk, related=()):
    """The professional with id `pk` if `patient` may book them, else None; `related`: what the
    door reads of them besides, joined in the same query (select_related)."""
    return _bookable(patient).select_related(*related).filter(pk=pk).first()


def needs_approval(professional):
    """Whether `professional`'s bookings wait for their confirmation (PENDING): their profile
    says so, and a professional without a profile approves each one."""
    try:
        return professional.professional_profile.requires_approval
    except ObjectDoesNotExist:
        return True


def limit_refusal(patient, professional, now, moving=None, holding=False):
    """The patient may hold BOOKING_MAX_PENDING requests for new sessions waiting for one
    professional at once; when booking asks for payment (`holding`), a session held while she
    pays is one, whoever the professional. A request to move a session is not one of them (it
    adds no session), nor is the session being moved."""
    if not (holding or needs_approval(professional)):
        return None
    waiting = Reservation.objects.filter(
        client=patient,
        professional=professional,
        status=Status.PENDING,
        end_time__gt=now,
        rescheduled_from__isnull=True,
    ).exclude(expires_at__lte=now)  # a lapsed request waits for nobody
    if not needs_approval(professional):
        waiting = waiting.filter(awaiting_payment=True)
    if moving is not None:
        waiting = waiting.exclude(pk=moving.pk)
    if waiting.count() >= settings.BOOKING_MAX_PENDING:
        return Refusal(
            "limit",
            _(
                "You already have a request waiting for this professional's confirmation: "
                "when they answer it you can ask for another."
            ),
        )
    return None


def booking_refusal(patient, professional, now, holding=False):
    """Why `patient` cannot book `professional` now whatever time she picks, or None: the
    booking page says it before she chooses, and offers no time as a link. `holding`: booking
    asks for payment (limit_refusal)."""
    return limit_refusal(patient, professional, now, holding=holding)


def is_move_request(reservation):
    """Whether moving `reservation` asks the professional first and keeps it until they accept:
    a confirmed session with a professional who approves bookings. (A pending one is only a
    request itself: moving it replaces it at once.)"""
    return reservation.status == Status.CONFIRMED and needs_approval(reservation.professional)


def moving_exclude(reservation):
    """The session to leave out of the free times when moving `reservation` (its own time is
    free for the move when the move replaces it at once), or None (a move request: it stands
    meanwhile, so the new time may not overlap it)."""
    if reservation is None or is_move_request(reservation):
        return None
    return reservation.pk


def _prepare(patient, professional, start_time, modality, now, moving=None, holding=False):
    """Inside the booking's transaction: serialize this patient's bookings, and check the slot
    and the limit. Returns (slot, modality, refusal). (Lapsed requests hold no slot and count
    toward no limit; one still in the database's way is expired by _booking_again.)"""
    # One booking at a time per patient, so two at once cannot both pass the limit. FOR NO KEY
    # UPDATE, not FOR UPDATE: it still serializes this patient's bookings, yet lets a concurrent
    # cancel of theirs write its event (whose foreign key takes FOR KEY SHARE on the same user).
    # With FOR UPDATE, a move racing a cancel of one session deadlocked: the move held the user
    # and waited for the session's row, the cancel held the row and waited for the user.
    list(User.objects.select_for_update(no_key=True).filter(pk=patient.pk).values_list("pk"))
    exclude = moving_exclude(moving)
    slot = slot_at(professional, start_time, now=now, patient=patient, exclude=exclude)
    if slot is None:
        return None, None, unavailable()
    if modality is None:  # moving a session: keep its modality when the new time offers it
        keep = moving.session_modality if moving is not None else None
        modality = keep if keep in slot.modalities else slot.modalities[0]
    if not slot.offers(modality):
        return None, None, Refusal("modality", _("That modality is not offered at that time."))
    refusal = limit_refusal(patient, professional, now, holding=holding) if moving is None else None
    if refusal:
        return None, None, refusal
    return slot, modality, None


def _new_reservation(patient, professional, slot, modality, now, moving=None, hold=None):
    pending = needs_approval(professional)
    expires_at = Reservation.pending_expiry(slot.start, now) if pending else None
    if hold is not None:
        # Held while she pays: PENDING until the payment comes, or lapsed at the hold's end (the
        # session's start at the latest), whoever the professional.
        pending, expires_at = True, min(now + hold, slot.start)
    if pending and moving is not None and moving.status == Status.CONFIRMED:
        # A request to move a session lapses by that session's start at the latest: then it
        # has taken place, and there is nothing left to move.
        expires_at = min(expires_at, moving.start_time)
    return Reservation(
        client=patient,
        professional=professional,
        start_time=slot.start,
        end_time=slot.end,
        status=Status.PENDING if pending else Status.CONFIRMED,
        session_modality=modality,
        created_at=now,
        expires_at=expires_at,
        rescheduled_from=moving,
        awaiting_payment=hold is not None,
    )


class _Refused(Exception):
    """Rolls the transaction back and carries the refusal out of it."""

    def __init__(self, refusal):
        self.refusal = refusal


class _Taken(_Refused):
    """The database's guard refused `reservation`'s time: someone holds it."""

    def __init__(self, reservation):
        super().__init__(unavailable())
        self.reservation = reservation


def _booking_again(taken, now):
    """Whether a booking refused by the database's guard may be tried again: a late worker never
    blocks a slot, so a request that lapsed (and no worker expired yet) on that time, the
    professional's or the patient's, is expired now."""
    r = taken.reservation
    in_the_way = Q(professional_id=r.professional_id) | Q(client_id=r.client_id)
    return bool(
        Reservation.expire_overdue(
            now, in_the_way, start_time__lt=r.end_time, end_time__gt=r.start_time
        )
    )


def _attempts(work, now):
    """Do `work` (a whole booking transaction; retrying_deadlocks), once more when a lapsed
    request was in its way. Returns its result, or the Refusal it raised."""
    for again in (True, False):
        try:
            return retrying_deadlocks(work)
        except _Taken as taken:
            if not (again and _booking_again(taken, now)):
                return taken.refusal
        except _Refused as refused:
            return refused.refusal
    raise AssertionError("unreachable")


def request_booking(patient, professional, start_time, modality, *, now, channel, hold=None):
    """Book `start_time` with `professional` for `patient`, who books it themself through
    `channel`: PENDING (holding the slot until Reservation.pending_expiry) when the professional
    approves bookings, CONFIRMED otherwise. `hold` (a timedelta): the session is to be paid for
    first (payments.booking decides), so it is PENDING and awaiting_payment, held that long.
    Returns the Reservation, or a Refusal.

    `professional` is one the patient may book: the doors find them with bookable_professional
    (anyone else is a 404 there, like a missing id)."""
    by = Actor.patient(patient, channel)

    def book():
        with recording(ActionKind.BOOK, by=by, at=now) as action:
            slot, chosen, refusal = _prepare(
                patient, professional, start_time, modality, now, holding=hold is not None
            )
            if refusal:
                raise _Refused(refusal)
            reservation = _new_reservation(patient, professional, slot, chosen, now, hold=hold)
            # No full_clean(): _prepare has just checked the time against every session in this
            # transaction, and the fields come from the slot. The database's guard decides races.
            try:
                reservation.insert(by=by, within=action)
            except ValidationError as exc:
                # Another patient won the time since the slots were computed.
                raise _Taken(reservation) from exc
            schedule_expiry(reservation)
        return reservation

    return _attempts(book, now)


MOVE_WAITING = _(
    "You already asked to move this session: your professional has not answered yet. You can "
    "withdraw that request by cancelling it."
)


AWAITING_PAYMENT = _(
    "This session is waiting for its payment: pay for it, or cancel it and book another time."
)


def reschedule_refusal(reservation, now):
    """Why the patient may not move this session now, or None: the cancel rule (notice, status),
    and one request to move it at a time."""
    refusal = reservation.cancel_refusal(now)
    if refusal is None and reservation.awaiting_payment:
        refusal = Refusal("awaiting_payment", AWAITING_PAYMENT)
    if refusal is None and reservation.move_request is not None:
        refusal = Refusal("move_waiting", MOVE_WAITING)
    return refusal


def _ask_to_move(reservation, slot, modality, by, now, action):
    """A request to move `reservation` (is_move_request): the new time PENDING, holding its slot,
    rescheduled_from the session it would replace, which stands until the professional accepts
    (Reservation.confirm carries the move out). Declined or lapsed, nothing else changes."""
    patient, professional = reservation.client, reservation.professional
    new = _new_reservation(patient, professional, slot, modality, now, moving=reservation)
    changes = {"rescheduled_from": str(reservation.pk), "request": True}
    try:
        new.insert(by=by, changes=changes, within=action)
    except ValidationError as exc:
        raise _Taken(new) from exc
    except IntegrityError as exc:
        # reservation_one_live_move: another tab asked to move it a moment ago.
        raise _Refused(Refusal("move_waiting", MOVE_WAITING)) from exc
    schedule_expiry(new)
    return new


def reschedule(reservation, start_time, modality=None, *, by, now):
    """The patient (`by`, an Actor) moves their `reservation` to another free slot of the same
    professional, as one action.

    When the professional approves bookings and the session is confirmed, the move is a request
    (_ask_to_move): the session stands until they accept the new time. Otherwise the new
    reservation (PENDING or CONFIRMED as for a booking, rescheduled_from the old one, its
    "created" event saying so) is booked and the old one cancelled with ReasonCode.RESCHEDULED.
    Either both happen or neither. `modality` None keeps the session's when the new time offers
    it. Returns the new Reservation, or a Refusal (the old one unchanged)."""
    refusal = reschedule_refusal(reservation, now)
    if refusal:
        return refusal
    # The patient acting is the session's (the doors find it by its patient).
    patient = by.user if by.user_id == reservation.client_id else reservation.client
    professional = reservation.professional
    # Moving a request to move a session asks for another time for that session: the request
    # gives way to the new one (which stays a request while that session stands).
    stands = reservation.replaces

    def move():
        try:
            with recording(ActionKind.RESCHEDULE, by=by, at=now) as action:
                slot, chosen, refusal = _prepare(
                    patient, professional, start_time, modality, now, moving=reservation
                )
                if refusal:
                    raise _Refused(refusal)
                if is_move_request(reservation):
                    return _ask_to_move(reservation, slot, chosen, by, now, action)
                # The old one goes first, so the new time may overlap it (moved by half an hour).
                refusal = reservation.cancel(
                    by=by, reason=ReasonCode.RESCHEDULED, now=now, within=action
                )
                if refusal:
                    raise _Refused(refusal)
                if stands is not None:
                    return _ask_to_move(stands, slot, chosen, by, now, action)
                new = _new_reservation(patient, professional, slot, chosen, now, moving=reservation)
                try:  # checked as a booking is (request_booking)
                    new.insert(
                        by=by, changes={"rescheduled_from": str(reservation.pk)}, within=action
                    )
                except ValidationError as exc:
                    raise _Taken(new) from exc
                schedule_expiry(new)
        except BaseException:
            # Rolled back: the old session is as it was in the database; so it is here.
            reservation.refresh_from_db()
            raise
        return new

    return _attempts(move, now)


# The practice books for a patient (reception, in the admin).

OUTSIDE_HOURS = _(
    "That time is outside the professional's working hours, or on a day off. To book it all "
    "the same, tick “Book anyway”."
)


def _hours_at(professional, start_time, end_time):
    """The modalities the professional's working hours offer from `start_time` to `end_time`
    (one range of that weekday holds it whole, in their zone, on a day the practice is open, and
    no time off overlaps it), or None when that time is outside their calendar."""
    zone = ZoneInfo(professional.time_zone)
    start, end = start_time.astimezone(zone), end_time.astimezone(zone)
    if end.date() != start.date():
        return None  # past midnight: no range of hours does that
    if closed_days(professional, start.date(), start.date()):
        return None  # a holiday or a closure: booked only when reception says so
    if TimeOff.objects.filter(
        professional=professional, start__lt=end_time, end__gt=start_time
    ).exists():
        return None
    found = []
    for hours in WorkingHours.objects.filter(
        professional=professional,
        weekday=start.weekday(),
        start_time__lte=start.time(),
    ):
        if end.time() <= hours.end_time:
            both = hours.modality == HoursModality.BOTH
            found += Modality.values if both else [hours.modality]
    return tuple(m for m in Modality.values if m in found) or None


def _staff_refusal(patient, professional, start_time, end_time, modality, now, override):
    """Why the practice may not book this, or None; and the modality to book. The practice is
    not bound by the lead time, the horizon's slots nor the break between sessions: a time of
    the professional's calendar (a free slot, or any time inside a range of their hours clear of
    time off) is booked as asked; another only with `override`. Overlaps are the database's."""
    if start_time < now:
        return Refusal("past", _("That time has already passed.")), None
    slot = slot_at(professional, start_time, now=now, patient=patient, lead=False)
    if slot is not None and slot.end == end_time:
        offered = slot.modalities
    else:
        offered = _hours_at(professional, start_time, end_time)
    if offered is None:
        if not override:
            return Refusal("outside_hours", OUTSIDE_HOURS), None
        return None, modality or Modality.VIRTUAL
    if modality is None:
        return None, offered[0]
    if modality not in offered and not override:
        return Refusal("modality", _("That modality is not offered at that time.")), None
    return None, modality


def book_for_patient(
    patient,
    professional,
    start_time,
    end_time,
    modality=None,
    *,
    by,
    now,
    status=Status.CONFIRMED,
    override=False,
):
    """The practice (`by`, an Actor: staff in the admin) books `start_time`–`end_time` with
    `professional` for `patient`: CONFIRMED unless `status` says PENDING (the professional
    confirms it; it lapses as a patient's request would). No lead time and no limit of requests
    apply; outside the professional's calendar only with `override`; never over another session
    of either (the database's guard decides). `modality` None: the first the hours offer.
    Returns the Reservation, or a Refusal."""

    def book():
        with recording(ActionKind.BOOK, by=by, at=now) as action:
            # Serialized with the patient's own bookings, as request_booking is.
            list(
                User.objects.select_for_update(no_key=True).filter(pk=patient.pk).values_list("pk")
            )
            refusal, chosen = _staff_refusal(
                patient, professional, start_time, end_time, modality, now, override
            )
            if refusal:
                raise _Refused(refusal)
            pending = status == Status.PENDING
            reservation = Reservation(
                client=patient,
                professional=professional,
                start_time=start_time,
                end_time=end_time,
                status=Status.PENDING if pending else Status.CONFIRMED,
                session_modality=chosen,
                created_at=now,
                expires_at=Reservation.pending_expiry(start_time, now) if pending else None,
            )
            try:
                reservation.insert(by=by, within=action)
            except ValidationError as exc:
                taken = _Taken(reservation)
                taken.refusal = Refusal("overlap", OVERLAP_MESSAGE)
                raise taken from exc
            schedule_expiry(reservation)
        return reservation

    return _attempts(book, now)
