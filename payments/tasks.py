"""The payments' background work, run by the worker (`make worker`, manage.py db_worker).

- `carry_out_refund`: a refund decided (rules.ask_refund) is asked of Mercado Pago once the action
  that decided it commits.
- `reconcile`: every PAYMENT_RECONCILE_MINUTES, Mercado Pago is asked about every session held
  for payment (and those lapsed in the last day: a payment approved late still counts) and every
  refund still in progress, so a notification that never came loses nothing. It schedules its
  next run before it works, so a run that fails does not end the chain; at most one waits. The
  chain starts with the first hold, or with `manage.py reconcile_payments` (cron-safe).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from reservations.tasks import enqueue_unless_waiting

log = logging.getLogger(__name__)


def _every():
    return timedelta(minutes=settings.PAYMENT_RECONCILE_MINUTES)


@task()
def carry_out_refund(refund_id):
    from . import mercadopago, rules
    from .models import Refund

    row = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if row is None:
        return
    try:
        rules.carry_out(row)
    except mercadopago.MercadoPagoError as exc:
        # Left REQUESTED: the reconciliation asks again, with the same key.
        log.warning("refund %s: Mercado Pago answered %s; asked again later", row.pk, exc.status)


@task()
def reconcile():
    ensure_reconciling()
    return reconcile_once(timezone.now())


def reconcile_once(now):
    """What a reconciliation run does, without scheduling the next. Returns how many sessions and
    refunds it asked about."""
    from . import mercadopago, rules
    from .models import OPEN_REFUNDS, Refund, RefundStatus

    asked = 0
    for reservation in rules.open_payments(now):
        asked += 1
        try:
            rules.reconcile(reservation, now=now)
        except mercadopago.MercadoPagoError as exc:
            log.warning("reconciling %s: Mercado Pago answered %s", reservation.pk, exc.status)
    for row in Refund.objects.filter(status__in=OPEN_REFUNDS).select_related("payment"):
        asked += 1
        try:
            if row.status == RefundStatus.REQUESTED:
                rules.carry_out(row, now=now)
            else:
                found = mercadopago.get_payment(row.payment.mp_payment_id)
                rules.apply(found, now=now)
                rules.refund_heard(row, found, now=now)
        except mercadopago.MercadoPagoError as exc:
            log.warning("reconciling refund %s: Mercado Pago answered %s", row.pk, exc.status)
    return asked


def ensure_reconciling():
    """Enqueue the next run unless one is already waiting (a run asks for its successor). Call
    after commit (Django's tasks docs)."""
    return enqueue_unless_waiting(reconcile, timezone.now() + _every())
