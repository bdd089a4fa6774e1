"""Mercado Pago delivering one payment's notification many times at once, with real threads and
real transactions on PostgreSQL (deselected on SQLite): one payment row, one PAID event."""

import pytest

from payments.models import Payment
from reservations.models import ReservationEvent

# With the stand-in and a session to pay for (fixtures, marked noqa: used by their names).
from .test_payments_client import (
    deposit_policy_fixture,  # noqa: F401
    preference_for,
    session_fixture,  # noqa: F401
    standin_fixture,  # noqa: F401
)
from .test_payments_hold import clock_fixture, hours_fixture, instant_fixture  # noqa: F401
from .test_payments_webhook import deliver
from .test_races import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_deliveries_of_one_payment_at_once_record_it_once(standin, session):
    paid = standin.pay(preference_for(session)["id"])
    answers = run_together(
        *[lambda n=n: deliver(paid["id"], request_id=f"req-{n}") for n in range(10)]
    )
    assert [a.status_code for a in answers] == [200] * 10
    payment = Payment.objects.get()
    assert (payment.mp_payment_id, payment.status) == (str(paid["id"]), "approved")
    assert ReservationEvent.objects.filter(reservation=session).count() == 1
    assert ReservationEvent.objects.get().action == "paid"


def test_pending_and_approved_arriving_together_end_approved(standin, session):
    paid = standin.pay(preference_for(session)["id"], "pending")
    first = run_together(*[lambda n=n: deliver(paid["id"], request_id=f"a{n}") for n in range(5)])
    standin.set_status(paid["id"], "approved")
    second = run_together(*[lambda n=n: deliver(paid["id"], request_id=f"b{n}") for n in range(5)])
    assert {a.status_code for a in first + second} == {200}
    assert Payment.objects.get().status == "approved"
    actions = sorted(ReservationEvent.objects.values_list("action", flat=True))
    assert actions == ["paid", "payment"]


def test_ten_deliveries_for_a_held_session_confirm_it_once(
    patient, instant, hours, deposit_policy, standin, clock
):
    from .test_payments_hold import book_held, preference_of

    _, held = book_held(patient, instant)
    paid = standin.pay(preference_of(standin, held)["id"])
    answers = run_together(
        *[lambda n=n: deliver(paid["id"], request_id=f"held-{n}") for n in range(10)]
    )
    assert [a.status_code for a in answers] == [200] * 10
    assert Payment.objects.count() == 1
    held.refresh_from_db()
    assert held.status == "CONFIRMED"
    actions = sorted(held.events.values_list("action", flat=True))
    assert actions == ["confirmed", "created", "paid"]
