"""Mercado Pago's webhook: believed only when signed, and then only as far as the API confirms.
Every refused delivery leaves the database as it was."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from payments import rules, signature
from payments.models import Payment, PaymentStatus, Refund
from reservations.actions import Actor
from reservations.models import ReservationEvent

from .conftest import csrf_client

# With the stand-in and a session to pay for (fixtures, marked noqa: used by their names).
from .test_payments_client import (
    SECRET,
    WEBHOOK,
    deposit_policy_fixture,  # noqa: F401
    preference_for,
    session_fixture,  # noqa: F401
    standin_fixture,  # noqa: F401
)


def deliver(data_id, *, secret=SECRET, request_id="req-1", at=None, sig=None, query_id=None):
    """POST a notification of payment `data_id` as Mercado Pago would, signed at `at` (now), from
    a client that checks CSRF and holds no token: the view is exempt from it."""
    data_id = str(data_id)
    if sig is None:
        sig = signature.header(secret, data_id, request_id, at or timezone.now())
    query_id = data_id if query_id is None else str(query_id)
    return csrf_client().post(
        f"{WEBHOOK}?data.id={query_id}&type=payment",
        json.dumps({"action": "payment.updated", "type": "payment", "data": {"id": data_id}}),
        content_type="application/json",
        headers={"x-signature": sig, "x-request-id": request_id},
    )


def snapshot():
    return (
        list(Payment.objects.values_list("mp_payment_id", "status", "amount", "amount_refunded")),
        list(ReservationEvent.objects.values_list("action", "changes")),
    )


@pytest.fixture
def paid(standin, session):
    """A deposit of 3,000 approved at Mercado Pago, not yet heard of here."""
    return standin.pay(preference_for(session)["id"])


def test_a_valid_notification_records_the_payment_once(paid, session):
    answer = deliver(paid["id"])
    assert answer.status_code == 200
    payment = Payment.objects.get()
    assert payment.mp_payment_id == str(paid["id"])
    assert payment.reservation == session
    assert (payment.status, payment.amount, payment.currency) == (
        "approved",
        Decimal("3000.00"),
        "ARS",
    )
    event = ReservationEvent.objects.get()
    assert event.action == "paid"
    assert event.actor is None and event.channel == "system"
    assert event.changes == {
        "mp_payment_id": str(paid["id"]),
        "amount": "3000.00",
        "currency": "ARS",
        "payment_status": [None, "approved"],
    }
    assert event.from_status == event.to_status == "PENDING"
    session.refresh_from_db()
    assert session.status == "PENDING"  # confirming on payment is wired later


def test_a_replay_changes_nothing(paid):
    assert deliver(paid["id"]).status_code == 200
    before = snapshot()
    assert deliver(paid["id"]).status_code == 200
    assert deliver(paid["id"], request_id="req-2").status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize(
    "sig",
    [
        pytest.param("ts={ts},v1=" + "0" * 64, id="made-up hash"),
        pytest.param("v1={v1}", id="no ts"),
        pytest.param("ts={ts}", id="no hash"),
        pytest.param("ts=soon,v1={v1}", id="ts not a number"),
        pytest.param("", id="no header"),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_written(paid, sig):
    ts = str(int(timezone.now().timestamp() * 1000))
    v1 = signature.sign(SECRET, str(paid["id"]), "req-1", ts)
    answer = deliver(paid["id"], sig=sig.format(ts=ts, v1=v1))
    assert answer.status_code == 400
    assert snapshot() == ([], [])


def test_the_wrong_secret_is_refused(paid):
    assert deliver(paid["id"], secret="somebody-elses").status_code == 400
    assert snapshot() == ([], [])


def test_no_secret_configured_refuses_everything(paid, settings):
    settings.MERCADOPAGO_WEBHOOK_SECRET = ""
    assert deliver(paid["id"], secret="").status_code == 400
    assert snapshot() == ([], [])


def test_a_tampered_data_id_is_refused(paid, standin, session):
    other = standin.pay(preference_for(session)["id"])
    # Signed for one payment, sent for another.
    assert deliver(paid["id"], query_id=other["id"]).status_code == 400
    # The request id is signed too.
    ts = str(int(timezone.now().timestamp() * 1000))
    sig = f"ts={ts},v1={signature.sign(SECRET, str(paid['id']), 'req-1', ts)}"
    assert deliver(paid["id"], sig=sig, request_id="req-9").status_code == 400
    assert snapshot() == ([], [])


def test_the_signature_is_good_for_five_minutes(paid, frozen_now):
    sent = frozen_now - timedelta(minutes=5, milliseconds=1)
    assert deliver(paid["id"], at=sent).status_code == 400
    assert snapshot() == ([], [])
    assert deliver(paid["id"], at=frozen_now - timedelta(minutes=5)).status_code == 200
    assert Payment.objects.count() == 1


def test_a_recorded_delivery_replayed_later_is_refused(paid, frozen_now):
    assert deliver(paid["id"], at=frozen_now).status_code == 200
    before = snapshot()
    with time_machine.travel(frozen_now + timedelta(minutes=6), tick=False):
        assert deliver(paid["id"], at=frozen_now).status_code == 400
    assert snapshot() == before


def test_a_signature_from_the_future_is_refused(paid, frozen_now):
    assert deliver(paid["id"], at=frozen_now + timedelta(minutes=6)).status_code == 400
    assert snapshot() == ([], [])


def test_a_timestamp_in_seconds_is_read_as_seconds(paid, frozen_now):
    ts = str(int(frozen_now.timestamp()))
    sig = f"ts={ts},v1={signature.sign(SECRET, str(paid['id']), 'req-1', ts)}"
    assert deliver(paid["id"], sig=sig).status_code == 200
    assert Payment.objects.count() == 1


def test_approved_then_pending_stays_approved(paid, standin):
    assert deliver(paid["id"]).status_code == 200
    before = snapshot()
    standin.set_status(paid["id"], "pending")  # an older state, read late
    assert deliver(paid["id"]).status_code == 200
    assert snapshot() == before
    assert Payment.objects.get().status == "approved"


def test_pending_then_approved_records_both(standin, session):
    pay = standin.pay(preference_for(session)["id"], "pending")
    assert deliver(pay["id"]).status_code == 200
    assert Payment.objects.get().status == "pending"
    standin.set_status(pay["id"], "approved")
    assert deliver(pay["id"]).status_code == 200
    assert Payment.objects.get().status == "approved"
    actions = list(ReservationEvent.objects.order_by("at", "id").values_list("action", flat=True))
    assert actions == ["payment", "paid"]


def test_an_amount_that_is_not_what_was_asked_is_refused(standin, session, deposit_policy):
    pay = standin.pay(preference_for(session, Decimal("2999.99"))["id"])
    assert deliver(pay["id"]).status_code == 200  # heard, and refused: not delivered again
    assert snapshot() == ([], [])
    # The policy changed since: what it asks now is what counts.
    deposit_policy.deposit_percent = 40
    deposit_policy.save()
    pay = standin.pay(preference_for(session)["id"])
    assert deliver(pay["id"]).status_code == 200
    assert snapshot() == ([], [])


def test_a_payment_recorded_is_followed_after_its_policy_changed(paid, standin, deposit_policy):
    assert deliver(paid["id"]).status_code == 200
    deposit_policy.deposit_percent = 50
    deposit_policy.save()
    standin.refund(paid["id"], None, "from-their-panel")
    assert deliver(paid["id"]).status_code == 200
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("3000.00"))


def test_a_payment_of_no_reservation_of_ours_is_ignored(standin, session):
    pref = preference_for(session)
    standin.preferences[pref["id"]]["external_reference"] = "b6f0a2a4-0000-4000-8000-000000000000"
    pay = standin.pay(pref["id"])
    assert deliver(pay["id"]).status_code == 200
    standin.preferences[pref["id"]]["external_reference"] = "not-a-uuid"
    pay = standin.pay(pref["id"])
    assert deliver(pay["id"]).status_code == 200
    assert snapshot() == ([], [])


def test_a_payment_mercado_pago_does_not_know_is_ignored(standin, db):
    assert deliver(987654321).status_code == 200
    assert snapshot() == ([], [])


def test_mercado_pago_down_asks_for_another_delivery(paid, standin):
    standin.stop()
    assert deliver(paid["id"]).status_code == 503
    assert snapshot() == ([], [])


def test_a_notification_about_something_else_is_ignored(paid):
    ts = str(int(timezone.now().timestamp() * 1000))
    sig = f"ts={ts},v1={signature.sign(SECRET, '77', 'req-1', ts)}"
    answer = csrf_client().post(
        f"{WEBHOOK}?data.id=77&type=merchant_order",
        "{}",
        content_type="application/json",
        headers={"x-signature": sig, "x-request-id": "req-1"},
    )
    assert answer.status_code == 200
    assert snapshot() == ([], [])


def test_it_rejects_get(standin):
    assert csrf_client().get(WEBHOOK).status_code == 405


def test_an_alphanumeric_id_is_signed_lowercased():
    assert signature.sign("s", "ABC123", "r", "1") == signature.sign("s", "abc123", "r", "1")
    assert signature.sign("s", "A-B", "r", "1") != signature.sign("s", "a-b", "r", "1")


def test_a_refund_asked_twice_with_one_key_is_made_once(paid, standin):
    deliver(paid["id"])
    payment = Payment.objects.get()
    by = Actor.system()
    first = rules.refund(payment, Decimal("1000"), by=by, key="cancel-1")
    again = rules.refund(payment, Decimal("1000"), by=by, key="cancel-1")
    assert first.pk == again.pk and first.status == "approved"
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("1000.00")
    assert payment.status == "approved"
    assert standin.payments[paid["id"]]["transaction_amount_refunded"] == Decimal("1000")
    refunded = ReservationEvent.objects.get(action="refunded")
    assert refunded.changes["refunded"] == ["0.00", "1000.00"]
    # Mercado Pago's notification of that refund says what we know already.
    before = snapshot()
    assert deliver(paid["id"]).status_code == 200
    assert snapshot() == before
    # The rest, refunded: the payment reads refunded.
    rules.refund(payment, Decimal("2000"), by=by, key="cancel-2")
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (
        PaymentStatus.REFUNDED,
        Decimal("3000.00"),
    )


def test_a_refund_made_at_mercado_pago_is_heard_from_the_webhook(paid, standin):
    deliver(paid["id"])
    standin.refund(paid["id"], Decimal("3000"), "from-their-panel")
    assert deliver(paid["id"]).status_code == 200
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("3000.00"))
    assert list(ReservationEvent.objects.order_by("at", "id").values_list("action", flat=True)) == [
        "paid",
        "refunded",
    ]
