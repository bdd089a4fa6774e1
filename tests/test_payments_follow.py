"""Refunds follow the cancel rule: whoever cancels, through whichever door, what comes back is
decided with the cancel, in its transaction, and made once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from payments.models import Collect, LateKeeps, Payment, PaymentPolicy, Refund
from reservations.actions import Actor
from reservations.models import Reservation

from .conftest import CSRF_TOKEN, NOW, csrf_client
from .test_booking import param
from .test_notifications import run_due_tasks
from .test_payments_client import standin_fixture  # noqa: F401
from .test_payments_hold import (
    START,
    book_held,
    clock_fixture,  # noqa: F401
    hours_fixture,  # noqa: F401
    instant_fixture,  # noqa: F401
    preference_of,
    run_payment_tasks,
    told_fixture,  # noqa: F401
)
from .test_payments_webhook import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def whole_policy(professional):
    """The whole session (10,000) paid when booking; a late cancel or an absence keeps the 30%
    deposit (3,000) and gives back the rest."""
    return PaymentPolicy.objects.create(
        professional=professional,
        price=Decimal("10000.00"),
        collect=Collect.WHOLE,
        deposit_percent=30,
        late_keeps=LateKeeps.DEPOSIT,
    )


@pytest.fixture
def paid(patient, instant, hours, whole_policy, standin, clock, told):
    """Her session, paid in full (10,000) and confirmed."""
    _, held = book_held(patient, instant)
    mp = standin.pay(preference_of(standin, held)["id"])
    told(deliver, mp["id"])
    held.refresh_from_db()
    assert held.status == "CONFIRMED"
    return held


def refunds():
    return sorted((r.amount, r.reason, r.status) for r in Refund.objects.all())


def carried_out(standin, told):
    told(run_payment_tasks)
    payment = Payment.objects.get()
    return standin.payments[int(payment.mp_payment_id)]["transaction_amount_refunded"]


def test_her_cancel_in_time_refunds_everything(patient, paid, standin, told):
    answer = told(
        csrf_client(patient).post,
        f"/reservations/{paid.pk}/cancel/",
        {"csrfmiddlewaretoken": CSRF_TOKEN, "reason": ""},
    )
    assert answer.status_code == 302
    assert refunds() == [(Decimal("10000.00"), "cancelled", "requested")]
    assert carried_out(standin, told) == Decimal("10000")
    assert Payment.objects.get().status == "refunded"
    # Her cancel's message says what comes back; the refund's, that it came.
    run_due_tasks()
    bodies = [m.body for m in mail.outbox if m.to == [patient.email]]
    assert any("10.000,00" in body for body in bodies)


def test_a_late_cancel_keeps_what_the_policy_says(paid, staff, standin, told, clock):
    clock.shift(START - NOW - timedelta(hours=2))  # inside the 48 h notice
    refusal = told(paid.cancel, by=Actor.staff(staff), reason="Avisó tarde", for_patient=True)
    assert refusal is None
    assert refunds() == [(Decimal("7000.00"), "late", "requested")]
    assert carried_out(standin, told) == Decimal("7000")


def test_an_absence_keeps_what_the_policy_says(paid, professional, standin, told, clock):
    clock.shift(START - NOW + timedelta(minutes=60))  # the session has taken place
    assert told(paid.record_attendance, False, by=Actor.professional(professional)) is None
    assert refunds() == [(Decimal("7000.00"), "late", "requested")]
    # Recorded again (a slip corrected back and forth), nothing more comes back.
    told(paid.record_attendance, True, by=Actor.professional(professional))
    told(paid.record_attendance, False, by=Actor.professional(professional))
    assert carried_out(standin, told) == Decimal("7000")
    assert Refund.objects.count() == 1


def test_the_practice_cancelling_refunds_everything(paid, professional, standin, told, clock):
    clock.shift(START - NOW - timedelta(hours=2))  # late, but the practice's doing
    told(paid.cancel, by=Actor.professional(professional), reason="Enfermedad")
    assert refunds() == [(Decimal("10000.00"), "cancelled", "requested")]
    assert carried_out(standin, told) == Decimal("10000")


def test_a_declined_paid_request_is_refunded_in_full(
    patient, professional, hours, whole_policy, standin, clock, told
):
    _, held = book_held(patient, professional)  # she approves each booking
    told(deliver, standin.pay(preference_of(standin, held)["id"])["id"])
    held.refresh_from_db()
    assert told(held.decline, by=Actor.professional(professional), reason="Sin lugar") is None
    assert refunds() == [(Decimal("10000.00"), "declined", "requested")]
    assert carried_out(standin, told) == Decimal("10000")


def test_a_paid_request_that_lapses_is_refunded_in_full(
    patient, professional, hours, whole_policy, standin, clock, told, settings
):
    _, held = book_held(patient, professional)
    told(deliver, standin.pay(preference_of(standin, held)["id"])["id"])
    held.refresh_from_db()
    clock.shift(timedelta(hours=settings.PENDING_EXPIRY_HOURS, minutes=1))
    assert told(held.expire)
    assert refunds() == [(Decimal("10000.00"), "expired", "requested")]


def test_a_repeated_refund_is_made_once(patient, paid, standin, told):
    client = csrf_client(patient)
    for _ in range(2):
        told(
            client.post,
            f"/reservations/{paid.pk}/cancel/",
            {"csrfmiddlewaretoken": CSRF_TOKEN},
        )
    assert len(refunds()) == 1
    row = Refund.objects.get()
    # The worker carries it out twice (a task run again), and reconciles it after.
    from payments import rules, tasks

    told(tasks.carry_out_refund.call, row.pk)
    row.status = "requested"  # as if the first answer had been lost
    row.save()
    told(rules.carry_out, row)
    tasks.reconcile_once(NOW)
    payment = Payment.objects.get()
    assert standin.payments[int(payment.mp_payment_id)]["transaction_amount_refunded"] == Decimal(
        "10000"
    )
    assert len(standin.payments[int(payment.mp_payment_id)]["refunds"]) == 1
    assert payment.amount_refunded == Decimal("10000.00")


def test_a_moved_session_keeps_its_payment(patient, paid, standin, told):
    answer = told(
        csrf_client(patient).post,
        f"/reservations/{paid.pk}/reschedule/",
        {"start": param(START + timedelta(hours=1)), "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert answer.status_code == 302
    new = Reservation.objects.get(rescheduled_from=paid)
    assert Payment.objects.get().reservation == new
    assert not Refund.objects.exists()
    # Cancelled in time afterwards, the new session gives back what she paid for the old one.
    told(new.cancel, by=Actor.patient(patient, "page"))
    assert refunds() == [(Decimal("10000.00"), "cancelled", "requested")]


def test_unpaid_sessions_owe_nothing(patient, instant, hours, whole_policy, standin, clock, told):
    _, held = book_held(patient, instant)
    told(held.cancel, by=Actor.patient(patient, "page"))
    assert not Refund.objects.exists()
