"""What a payment heard from Mercado Pago does here, and refunds.

`apply(found)` takes a payment as Mercado Pago's API answered it (never a notification's body)
and keeps our one row for it in step: created the first time, its status moved forward only
(models.replaces), each change an event on the reservation through reservations.actions
(`recording()`), the one place every action goes through. Deliveries repeated, out of order or
at once change nothing twice: the row is unique per Mercado Pago id and is changed under its lock.

`settle(payment, action)` is where a payment that became approved will act on its session
(confirm it, or refund it when its slot was lost); booking does not ask for payment yet, so it
does nothing.
"""

import logging
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from reservations.actions import ActionKind, Actor, recording
from reservations.models import Reservation, ReservationEvent

from . import mercadopago
from .models import (
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
    refused: "unknown_reservation", "amount_differs", "unknown_status"."""

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
    """(amount, currency) a payment for `reservation` must be: for now, what its professional's
    policy asks for its modality; None when the policy asks for nothing."""
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


def settle(payment, action):
    """The hook for what an approved payment does to its session, called once per payment, in
    the action (and transaction) that recorded it as approved.

    Booking does not ask for payment yet, so nothing: the session keeps its status. When it
    does, this is where a PENDING session held for payment is CONFIRMED (or stays PENDING, paid,
    for a professional who approves bookings), and where a payment approved after its hold
    lapsed confirms only if the slot is still free and is otherwise refunded in full.
    """
    return None


def refund(payment, amount, *, by, reason="", key=None, now=None):
    """Give back `amount` (a Decimal) of `payment` through Mercado Pago, as one action of `by`
    (an Actor). `key`: the idempotency key, the same for every attempt at this refund (a new one
    when None). Asked again with a key it has seen, it asks Mercado Pago again with that key
    (which refunds once) and stores what it answers; the payment's refunded amount is then read
    back from Mercado Pago. Raises MercadoPagoError when Mercado Pago could not be asked: the
    Refund row stays REQUESTED, to ask again with its key.
    """
    now = now or timezone.now()
    amount = money(amount)
    key = key or uuid.uuid4().hex
    left = payment.amount - payment.amount_refunded
    if not Refund.objects.filter(idempotency_key=key).exists() and not 0 < amount <= left:
        raise ValueError(f"A refund is more than nothing and at most what is left ({left}).")
    row, _ = Refund.objects.get_or_create(
        idempotency_key=key,
        defaults={"payment": payment, "amount": amount, "created_at": now, "updated_at": now},
    )
    if row.payment_id != payment.pk or row.amount != amount:
        raise ValueError(f"The idempotency key {key} is another refund's.")
    if row.status != RefundStatus.REQUESTED:
        return row
    answer = mercadopago.refund(payment.mp_payment_id, row.amount, key)
    found = mercadopago.get_payment(payment.mp_payment_id)
    status = answer.get("status")
    with recording(ActionKind.REFUND, by=by, at=now, reason=reason) as action:
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
