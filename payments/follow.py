"""The money an action owes, decided inside it (reservations.actions.action_finishing).

Refunds follow the cancel rule, whoever cancels and through whichever door (the patient's page,
the agenda, the admin, the API, the worker), because they are decided here, once, for every
action, in its transaction: a session cancelled and its refund are written together or not at
all. The refund itself is asked of Mercado Pago once the action commits (rules.ask_refund).

- The patient cancels (always in time: inside the notice she cannot): everything paid.
- Cancelled late on the patient's behalf (she called), or she did not come: the policy keeps
  nothing, the deposit or everything (PaymentPolicy.kept_on_late); the rest is refunded.
- The practice cancels or declines, or a paid request lapses: everything.
- A session moved by its patient: what she paid goes with her to the new time, refunded never.
"""

from django.db.models import Exists, OuterRef

from reservations.models import Lateness, ReasonCode, Reservation, ReservationEvent, Status

from . import rules
from .models import RECEIVED, ZERO, Method, Payment, PaymentPolicy

Event = ReservationEvent.Action


def _owed(event):
    """Why `event` owes its session's patient money back: "cancelled", "declined", "expired" (all
    of it), "late" (all but what the policy keeps), "moved" (it goes to the new session), or
    None."""
    r = event.reservation
    if event.action == Event.DECLINED:
        return "declined"
    if event.action == Event.EXPIRED:
        return "expired"
    if event.action == Event.ATTENDANCE and event.changes.get("attended", [None, None])[1] is False:
        return "late"
    if event.action != Event.CANCELLED:
        return None
    if r.cancellation_reason == ReasonCode.RESCHEDULED:
        return "moved"
    if r.late_cancellation == Lateness.PATIENT:
        return "late"
    return "cancelled"


def with_payments(reservations):
    """`reservations` (a queryset) with each row's `has_payments`, in the same query: a cancel of
    one then knows whether anything was paid without asking again (follow)."""
    paid = Payment.objects.filter(reservation=OuterRef("pk"), status__in=RECEIVED)
    return reservations.annotate(has_payments=Exists(paid))


def follow(sender, action, **kwargs):
    owing = {}
    for event in list(action.events_of(ReservationEvent)):
        why = _owed(event)
        if why and getattr(event.reservation, "has_payments", True):
            owing[event.reservation.pk] = (event.reservation, why)
    if not owing:
        return
    # One query for every session the action touched: most were never paid.
    paid = list(
        Payment.objects.select_for_update()
        .filter(reservation_id__in=owing, status__in=RECEIVED)
        .order_by("created_at", "id")
    )
    for payment in paid:
        r, why = owing[payment.reservation_id]
        if why == "moved":
            _move(payment, action)
        elif payment.method == Method.MERCADOPAGO:
            # A payment by other means is given back by hand: reception records it (admin).
            _refund(payment, r, why, action)


def _refund(payment, reservation, why, action):
    left = rules.left_to_refund(payment)
    if why == "late":
        policy = PaymentPolicy.objects.filter(professional_id=reservation.professional_id).first()
        kept = policy.kept_on_late(payment.amount, reservation.session_modality) if policy else ZERO
        # The practice keeps `kept` of it: what it still holds, less refunds on their way.
        left = max(ZERO, left - kept)
    if left > 0:
        key = f"{payment.pk}-{why}-{action.id}"
        rules.ask_refund(payment, left, action=action, reason=why, key=key)


def _move(payment, action):
    """The session paid for was moved: the payment belongs to the session that replaced it."""
    new = (
        next(
            (
                e.reservation
                for e in action.events_of(ReservationEvent)
                if e.reservation.rescheduled_from_id == payment.reservation_id
                and e.reservation.status != Status.CANCELLED
            ),
            None,
        )
        or Reservation.objects.filter(rescheduled_from_id=payment.reservation_id)
        .exclude(status=Status.CANCELLED)
        .first()
    )
    if new is not None:
        Payment.objects.filter(pk=payment.pk).update(reservation=new)
