"""What a payment heard from Mercado Pago does here, and refunds.

`apply(found)` takes a payment as Mercado Pago's API answered it (never a notification's body)
and keeps our one row for it in step: created the first time, its status moved forward only
(models.replaces), each change an event on the reservation through reservations.actions
(`recording()`), the one place every action goes through. Deliveries repeated, out of order or
at once change nothing twice: the row is unique per Mercado Pago id and is changed under its lock.

`settle(payment, action)` is what a payment that became approved does to its session: a session
held for it is CONFIRMED (or, with a professional who approves bookings, waits for them, paid);
one whose hold lapsed comes back if its time is still free; anything else (its time taken, the
session cancelled meanwhile, paid twice) is refunded in full.

Refunds are decided inside the action that owes them (`ask_refund`, a REQUESTED row; follow.py
for cancels) and carried out once it commits (`carry_out`, with the row's idempotency key), by
the request or, failing that, by the worker (tasks.py).
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reservations.actions import ActionKind, Actor, recording
from reservations.models import ReasonCode, Reservation, ReservationEvent, Status
from reservations.tasks import schedule_expiry
from scheduling.booking import needs_approval

from . import mercadopago
from .models import (
    OPEN_REFUNDS,
    RECEIVED,
    ZERO,
    Checkout,
    Method,
    Payment,
    PaymentPolicy,
    PaymentStatus,
    Refund,
    RefundStatus,
    money,
    replaces,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What `apply` did: "created", "updated", "unchanged" (a repeat, or older news), or why it
    refused: "unknown_reservation", "not_for_this_session", "amount_differs", "unknown_status"."""

    result: str
    payment: Payment | None = None

    @property
    def refused(self):
        return self.result not in ("created", "updated", "unchanged")


def reservation_of(found):
    """Our reservation named by the payment's external_reference, or None."""
    reference = str(found.get("external_reference") or "")
    try:
        pk = uuid.UUID(reference)
    except ValueError:
        return None
    return Reservation.objects.filter(pk=pk).first()


def amount_asked(reservation):
    """(amount, currency) a payment for `reservation` must be: what its Checkout asked Mercado
    Pago for; without one, what its professional's policy asks for its modality; None when the
    policy asks for nothing."""
    checkout = Checkout.objects.filter(reservation=reservation).first()
    if checkout is not None:
        return (checkout.amount, checkout.currency)
    policy = PaymentPolicy.objects.filter(professional_id=reservation.professional_id).first()
    if policy is None:
        return None
    due = policy.amount_due(reservation.session_modality)
    return (due, policy.currency) if due else None


def apply(found, *, now=None):
    """Bring our row for `found` (the API's payment, numbers as Decimals) in step with it."""
    now = now or timezone.now()
    mp_id = str(found.get("id", ""))
    status = found.get("status")
    if status not in PaymentStatus.values or not mp_id:
        log.warning("payment %s: status %r is not one we know", mp_id, status)
        return Outcome("unknown_status")
    reservation = reservation_of(found)
    if reservation is None:
        log.warning("payment %s: external_reference is none of our reservations", mp_id)
        return Outcome("unknown_reservation")
    metadata = found.get("metadata") or {}
    if str(metadata.get("patient_id", "")) != str(reservation.client_id):
        # Not made through a checkout of this session's patient (our preferences say whose).
        log.warning(
            "payment %s: made for another patient than reservation %s's", mp_id, reservation.pk
        )
        return Outcome("not_for_this_session")
    amount = money(found.get("transaction_amount") or 0)
    currency = found.get("currency_id")
    # A payment recorded already is held to what it was (its policy may have changed since); a
    # new one, to what its policy asks now.
    recorded = Payment.objects.filter(mp_payment_id=mp_id).values_list("amount", "currency")
    asked = recorded.first() or amount_asked(reservation)
    if (amount, currency) != asked:
        # Nothing written: what we asked for is not what was paid. Logged with ids and amounts
        # only, for reception to look into (payer details never reach the log).
        log.warning(
            "payment %s for reservation %s: %s %s is not what was asked (%s)",
            mp_id,
            reservation.pk,
            amount,
            currency,
            asked,
        )
        return Outcome("amount_differs")
    refunded = money(found.get("transaction_amount_refunded") or 0)
    return _upsert(reservation, mp_id, status, amount, currency, refunded, now)


def _upsert(reservation, mp_id, status, amount, currency, refunded, now):
    with recording(ActionKind.PAYMENT, by=Actor.system(), at=now) as action:
        payment = Payment.objects.select_for_update().filter(mp_payment_id=mp_id).first()
        if payment is None:
            try:
                # A savepoint: a concurrent delivery may insert the same id first.
                with transaction.atomic():
                    payment = Payment.objects.create(
                        reservation=reservation,
                        mp_payment_id=mp_id,
                        status=status,
                        amount=amount,
                        currency=currency,
                        amount_refunded=refunded,
                        created_at=now,
                        updated_at=now,
                    )
            except IntegrityError:
                payment = Payment.objects.select_for_update().get(mp_payment_id=mp_id)
            else:
                _log(action, payment, None, status, 0, refunded)
                if status == PaymentStatus.APPROVED:
                    settle(payment, action)
                return Outcome("created", payment)
        old_status = payment.status
        if not _catch_up(action, payment, status, refunded, now):
            return Outcome("unchanged", payment)
        if payment.status == PaymentStatus.APPROVED and old_status != PaymentStatus.APPROVED:
            settle(payment, action)
        return Outcome("updated", payment)


def _catch_up(action, payment, status, refunded, now):
    """Move our row (locked) forward to what Mercado Pago says: its status only when it replaces
    ours (models.replaces), what was refunded only up (a late "approved" without the refund says
    less); the change saved and logged. Returns whether anything changed."""
    old_status, old_refunded = payment.status, payment.amount_refunded
    moves_on = status in PaymentStatus.values and replaces(status, old_status)
    new_status = status if moves_on else old_status
    new_refunded = max(old_refunded, refunded)
    if (new_status, new_refunded) == (old_status, old_refunded):
        return False
    payment.status, payment.amount_refunded, payment.updated_at = new_status, new_refunded, now
    payment.save(update_fields=["status", "amount_refunded", "updated_at"])
    _log(action, payment, old_status, new_status, old_refunded, new_refunded)
    return True


def _log(action, payment, old_status, new_status, old_refunded, new_refunded):
    """One event on the reservation per change: PAID when it became approved, REFUNDED when more
    was given back, PAYMENT for any other change of status. The session's status is unchanged."""
    reservation = payment.reservation
    changes = {
        "mp_payment_id": payment.mp_payment_id,
        "amount": str(payment.amount),
        "currency": payment.currency,
    }
    if old_status != new_status:
        changes["payment_status"] = [old_status, new_status]
    if new_refunded > old_refunded:
        what = ReservationEvent.Action.REFUNDED
        changes["refunded"] = [str(money(old_refunded)), str(new_refunded)]
    elif new_status == PaymentStatus.APPROVED:
        what = ReservationEvent.Action.PAID
    else:
        what = ReservationEvent.Action.PAYMENT
    action.log(
        ReservationEvent(
            reservation=reservation,
            action=what,
            from_status=reservation.status,
            to_status=reservation.status,
            changes=changes,
        )
    )


# Why a refund was made, as its patient reads it (Refund.reason holds the code; reception's own
# refunds hold the reason they wrote).
REFUND_REASONS = {
    "cancelled": _("The session was cancelled."),
    "late": _(
        "The session was cancelled late or missed: the practice keeps part, as its policy says."
    ),
    "declined": _("Your professional could not take the session."),
    "expired": _("The request lapsed before your professional confirmed it."),
    "slot_taken": _("Your payment arrived after the hold had lapsed, and the time was taken."),
    "too_late": _("Your payment arrived after the session's time."),
    "paid_twice": _("The session was already paid."),
}


def refund_reason_text(reason):
    """A refund's reason as its patient reads it."""
    return REFUND_REASONS.get(reason, reason)


def settle(payment, action):
    """What `payment`, just recorded as approved (locked, in `action`), does to its session."""
    now = action.at
    r = Reservation.objects.select_for_update().get(pk=payment.reservation_id)
    payment.reservation = r
    # Paid twice through Mercado Pago (two tabs, say): the second is given back. What reception
    # records by hand (the balance in cash, say) is never refunded by itself.
    paid_before = (
        Payment.objects.filter(
            reservation=r,
            method=Method.MERCADOPAGO,
            status__in=RECEIVED,
            amount_refunded__lt=F("amount"),
        )
        .exclude(pk=payment.pk)
        .exists()
    )
    if paid_before and payment.method == Method.MERCADOPAGO:
        return _refund_all(payment, action, "paid_twice")
    if not r.awaiting_payment:
        return None  # a session not held for payment (paid from the admin's link, say): paid
    if r.start_time <= now:
        return _refund_all(payment, action, "too_late")
    if r.status == Status.PENDING:
        return _accept(r, action, now)
    if r.cancellation_reason == ReasonCode.EXPIRED:
        return _reinstate(r, payment, action, now)
    return _refund_all(payment, action, "cancelled")  # cancelled while she paid


def _paid_status(r, now):
    """(status, expires_at) of a session just paid: CONFIRMED, or PENDING for a professional who
    approves bookings, then held as any request is."""
    if needs_approval(r.professional):
        return Status.PENDING, Reservation.pending_expiry(r.start_time, now)
    return Status.CONFIRMED, None


def _accept(r, action, now):
    """The session held for this payment (still holding its time, even if its hold has just
    lapsed: nobody else could take it) is paid."""
    _write_paid(r, Reservation.objects.filter(pk=r.pk), action, now)


def _reinstate(r, payment, action, now):
    """The hold lapsed before the payment came: the session comes back if its time is still free
    (the database's guard against overlaps decides), else the payment is refunded in full."""
    rows = Reservation.objects.filter(pk=r.pk, status=Status.CANCELLED)
    try:
        with transaction.atomic():
            _write_paid(r, rows, action, now, uncancel=True)
    except IntegrityError:
        return _refund_all(payment, action, "slot_taken")
    return None


def _write_paid(r, rows, action, now, uncancel=False):
    """`rows` (session `r`) updated to paid (_paid_status), as `r` shows it too, and its event
    logged. `uncancel`: it was cancelled when its hold lapsed, and is not any more."""
    old_status = r.status
    status, expires_at = _paid_status(r, now)
    fields = {"status": status, "expires_at": expires_at, "awaiting_payment": False}
    if uncancel:
        fields.update(cancelled_at=None, cancelled_by=None, cancellation_reason="")
    rows.update(**fields)
    for name, value in fields.items():
        setattr(r, name, value)
    if status == Status.CONFIRMED:
        what = ReservationEvent.Action.CONFIRMED
    else:
        # Now a request for the professional, told of it as of a new one (notifications).
        what = ReservationEvent.Action.CREATED
        schedule_expiry(r)
    action.log(
        ReservationEvent(
            reservation=r,
            action=what,
            from_status=old_status,
            to_status=status,
            changes={"paid": True},
        )
    )


def _refund_all(payment, action, reason):
    left = left_to_refund(payment)
    if left > 0:
        ask_refund(payment, left, action=action, reason=reason, key=f"{payment.pk}-{reason}")


def left_to_refund(payment):
    """What may still be refunded of `payment`: what the practice holds, less refunds decided and
    not yet made."""
    coming = sum((r.amount for r in payment.refunds.filter(status__in=OPEN_REFUNDS)), start=ZERO)
    return max(ZERO, payment.held - coming)


def ask_refund(payment, amount, *, action, reason="", key=None, by_user=None):
    """Decide a refund of `amount` of `payment`, inside `action`: a REQUESTED row, carried out
    once the action commits (a payment by other means is given back by hand: recorded made).
    `key`: the same for every attempt at this refund; a key already used is that refund, not a
    new one. Returns the Refund."""
    amount = money(amount)
    key = key or uuid.uuid4().hex
    row = Refund.objects.filter(idempotency_key=key).first()
    if row is not None:
        return row
    if not 0 < amount <= left_to_refund(payment):
        raise ValueError(
            f"A refund is more than nothing and at most what is left ({left_to_refund(payment)})."
        )
    by_hand = payment.method != Method.MERCADOPAGO
    row = Refund.objects.create(
        payment=payment,
        amount=amount,
        idempotency_key=key,
        reason=reason,
        requested_by=by_user,
        status=RefundStatus.APPROVED if by_hand else RefundStatus.REQUESTED,
        created_at=action.at,
        updated_at=action.at,
    )
    if by_hand:
        refunded = payment.amount_refunded + amount
        status = PaymentStatus.REFUNDED if refunded == payment.amount else payment.status
        _catch_up(action, payment, status, refunded, action.at)
    else:
        from .tasks import carry_out_refund

        transaction.on_commit(lambda: carry_out_refund.enqueue(row.pk))
    return row


def refund(payment, amount, *, by, reason="", key=None, now=None):
    """Refund `amount` (a Decimal) of `payment` now, as one action of `by` (an Actor): decided,
    then asked of Mercado Pago at once (reception's refund from the admin). `key` as for
    ask_refund. Raises MercadoPagoError when Mercado Pago could not be asked: the Refund row
    stays REQUESTED, for the worker to ask again with its key."""
    now = now or timezone.now()
    amount = money(amount)
    row = Refund.objects.filter(idempotency_key=key).first() if key else None
    if row is not None and (row.payment_id != payment.pk or row.amount != amount):
        raise ValueError(f"The idempotency key {key} is another refund's.")
    if row is None:
        with recording(ActionKind.REFUND, by=by, at=now, reason=reason) as action:
            payment = Payment.objects.select_for_update().get(pk=payment.pk)
            row = ask_refund(
                payment, amount, action=action, reason=reason, key=key, by_user=by.user
            )
    return carry_out(row, now=now)


def carry_out(row, now=None):
    """Ask Mercado Pago for the refund `row` decided, with its key (asked again, it refunds
    once), and store what it answers; the payment's refunded amount is then read back from
    Mercado Pago. Does nothing to a refund already answered. Raises MercadoPagoError when Mercado
    Pago could not be asked: the row stays REQUESTED."""
    now = now or timezone.now()
    if row.status != RefundStatus.REQUESTED:
        return row
    payment = row.payment
    try:
        answer = mercadopago.refund(payment.mp_payment_id, row.amount, row.idempotency_key)
    except mercadopago.MercadoPagoError as exc:
        if not 400 <= exc.status < 500 or exc.status == 429:
            raise  # not answered, or busy: asked again later with the same key
        # Refused for good (a payment refunded in Mercado Pago's panel meanwhile, say): asking
        # again would be refused again. Left for reception to see, REJECTED.
        log.warning("refund %s of payment %s refused (%s)", row.pk, payment.pk, exc.status)
        Refund.objects.filter(pk=row.pk, status=RefundStatus.REQUESTED).update(
            status=RefundStatus.REJECTED, updated_at=now
        )
        row.refresh_from_db()
        return row
    found = mercadopago.get_payment(payment.mp_payment_id)
    status = answer.get("status")
    # Whoever asked for it (reception, from the admin), else the rules (a cancel's refund).
    by = Actor.staff(row.requested_by) if row.requested_by_id else Actor.system()
    with recording(ActionKind.REFUND, by=by, at=now, reason=row.reason) as action:
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        row = Refund.objects.select_for_update().get(pk=row.pk)
        if row.status != RefundStatus.REQUESTED:
            return row  # another attempt stored the answer first
        row.mp_refund_id = str(answer.get("id", ""))
        row.status = status if status in RefundStatus.values else RefundStatus.IN_PROCESS
        row.updated_at = now
        row.save(update_fields=["mp_refund_id", "status", "updated_at"])
        # What is refunded, as Mercado Pago counts it: its notification of this refund may have
        # been applied already, and must not be counted twice.
        refunded = money(found.get("transaction_amount_refunded") or 0)
        _catch_up(action, payment, found.get("status"), refunded, now)
    return row


def refund_heard(row, found, now=None):
    """A refund in process (`row`), as Mercado Pago's payment `found` now lists it: its status."""
    for item in found.get("refunds") or []:
        status = item.get("status")
        heard = str(item.get("id")) == row.mp_refund_id and status in RefundStatus.values
        if heard and status != row.status:
            Refund.objects.filter(pk=row.pk).update(status=status, updated_at=now or timezone.now())


def record_paid_by_hand(reservation, amount, method, *, by, note="", now=None):
    """Reception records `reservation` as paid `amount` by other means (cash, transfer): a
    Payment of that method, approved, an event, and what an approved payment does (settle)."""
    now = now or timezone.now()
    with recording(ActionKind.PAYMENT, by=by, at=now) as action:
        payment = Payment.objects.create(
            reservation=reservation,
            method=method,
            status=PaymentStatus.APPROVED,
            amount=money(amount),
            currency="ARS",
            recorded_by=by.user,
            note=note,
            created_at=now,
            updated_at=now,
        )
        _log(action, payment, None, PaymentStatus.APPROVED, 0, ZERO)
        settle(payment, action)
    return payment


def open_payments(now):
    """The sessions whose payment we may not have heard of: held for payment (or lapsed so
    within the last day: a payment approved late still counts), with a checkout made."""
    since = now - timedelta(days=1)
    return Reservation.objects.filter(awaiting_payment=True, checkout__isnull=False).filter(
        Q(status=Status.PENDING) | Q(status=Status.CANCELLED, cancelled_at__gte=since)
    )


def reconcile(reservation, now=None):
    """Ask Mercado Pago for every payment made for `reservation` and apply each: how a payment
    whose notification never came is found. Returns the outcomes."""
    return [apply(found, now=now) for found in mercadopago.search_payments(str(reservation.pk))]
