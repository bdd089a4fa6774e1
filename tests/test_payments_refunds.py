"""Refunds through Mercado Pago: made once per idempotency key, counted once whichever way we hear
of them (our own call, or its notification), and never more than is left."""

from decimal import Decimal

import pytest

from payments import mercadopago, rules
from payments.models import Payment, Refund
from reservations.actions import Actor
from reservations.models import ReservationEvent

# With the stand-in and a session to pay for (fixtures, marked noqa: used by their names).
from .test_payments_client import (
    deposit_policy_fixture,  # noqa: F401
    preference_for,
    session_fixture,  # noqa: F401
    standin_fixture,  # noqa: F401
)
from .test_payments_webhook import deliver, snapshot

BY = Actor.system()


@pytest.fixture
def payment(standin, session):
    """A deposit of 3,000, approved and recorded here."""
    paid = standin.pay(preference_for(session)["id"])
    assert deliver(paid["id"]).status_code == 200
    return Payment.objects.get()


def test_a_refund_already_heard_from_the_webhook_is_counted_once(payment, standin):
    mp_id = int(payment.mp_payment_id)
    # Mercado Pago refunds, and its notification arrives before our call has stored its answer.
    standin.refund(mp_id, Decimal("1000"), "k1")
    assert deliver(mp_id).status_code == 200
    rules.refund(payment, Decimal("1000"), by=BY, key="k1")
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("1000.00")
    assert ReservationEvent.objects.filter(action="refunded").count() == 1
    assert Refund.objects.get().status == "approved"


def test_more_than_is_left_is_refused_before_asking(payment, standin):
    before = snapshot()
    with pytest.raises(ValueError):
        rules.refund(payment, Decimal("3000.01"), by=BY)
    with pytest.raises(ValueError):
        rules.refund(payment, Decimal("0"), by=BY)
    with pytest.raises(TypeError):
        rules.refund(payment, 10.0, by=BY)
    assert snapshot() == before and not Refund.objects.exists()
    assert standin.refunds_by_key == {}


def test_a_key_is_one_refunds_only(payment):
    rules.refund(payment, Decimal("500"), by=BY, key="k1")
    with pytest.raises(ValueError):
        rules.refund(payment, Decimal("700"), by=BY, key="k1")
    assert Refund.objects.count() == 1


def test_mercado_pago_down_leaves_the_refund_to_ask_again(payment, standin, settings):
    url = settings.MERCADOPAGO_API_URL
    settings.MERCADOPAGO_API_URL = "http://127.0.0.1:9"  # nobody there
    with pytest.raises(mercadopago.MercadoPagoError):
        rules.refund(payment, Decimal("3000"), by=BY, key="k1")
    assert Refund.objects.get().status == "requested"
    settings.MERCADOPAGO_API_URL = url
    row = rules.refund(payment, Decimal("3000"), by=BY, key="k1")
    assert row.status == "approved"
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("3000.00"))
    assert standin.payments[int(payment.mp_payment_id)]["transaction_amount_refunded"] == 3000
