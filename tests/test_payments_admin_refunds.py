"""Reception's side of payments in the admin, through HTTP: a payment refunded, all or part, with
a reason the patient reads (once, however often the form is sent; Mercado Pago down leaves the
refund requested, asked again later); a session paid by other means recorded from its page; and
nobody but staff allowed to do either."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from audit.models import AccessLog
from payments.models import Payment, Refund
from reservations.models import ReservationEvent

from .conftest import CSRF_TOKEN, csrf_client, make_user

# The stand-in and a session paid through it (fixtures, marked noqa: used by their names).
from .test_payments_client import (
    deposit_policy_fixture,  # noqa: F401
    preference_for,
    session_fixture,  # noqa: F401
    standin_fixture,  # noqa: F401
)
from .test_payments_webhook import deliver, snapshot

pytestmark = pytest.mark.django_db

PAYMENTS = "/admin/payments/payment/"
RESERVATIONS = "/admin/reservations/reservation/"


@pytest.fixture
def desk(db):
    """A receptionist: staff in the Recepción group (reservations_site/roles.py), English."""
    user = make_user("mostrador@example.com", first_name="Mostrador", is_staff=True, language="en")
    user.groups.add(Group.objects.get(name="Recepción"))
    return user


@pytest.fixture
def reception(desk):
    return csrf_client(desk)


@pytest.fixture
def payment(standin, session):
    """A deposit of 3,000 paid through Mercado Pago and heard of here."""
    paid = standin.pay(preference_for(session)["id"])
    assert deliver(paid["id"]).status_code == 200
    return Payment.objects.get()


def refund_url(payment):
    return f"{PAYMENTS}{payment.pk}/refund/"


def shown_key(client, payment):
    """The refund form as reception opens it: its idempotency key."""
    page = client.get(refund_url(payment))
    assert page.status_code == 200
    return page.context["form"].initial["key"]


def send_refund(client, payment, amount, key, reason="The professional is ill."):
    return client.post(
        refund_url(payment),
        {"csrfmiddlewaretoken": CSRF_TOKEN, "amount": amount, "reason": reason, "key": key},
        follow=True,
    )


def said(answer):
    return " ".join(str(m) for m in answer.context["messages"])


def test_reception_refunds_a_whole_payment_with_a_reason(reception, desk, payment, standin):
    page = reception.get(f"{PAYMENTS}{payment.pk}/change/")
    assert refund_url(payment).encode() in page.content  # the change page's "Refund"
    form = reception.get(refund_url(payment)).context["form"]
    assert form.initial["amount"] == Decimal("3000.00")  # what is left

    answer = send_refund(reception, payment, "3000", shown_key(reception, payment))

    assert answer.redirect_chain[-1][0] == f"{PAYMENTS}{payment.pk}/change/"
    assert "refunded through Mercado Pago" in said(answer)
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (Decimal("3000.00"), "approved")
    assert (refund.reason, refund.requested_by) == ("The professional is ill.", desk)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("3000.00"))
    assert standin.payments[int(payment.mp_payment_id)]["transaction_amount_refunded"] == 3000
    # The patient's log of the session says why (who asked is the Refund's requested_by).
    assert ReservationEvent.objects.get(action="refunded").reason == "The professional is ill."
    # Whose session it is was shown: the access log says so.
    assert AccessLog.objects.filter(where="admin: refund", subject=payment.reservation.client)


def test_reception_refunds_part_and_the_rest_is_offered_next(reception, payment, standin):
    send_refund(reception, payment, "1000.50", shown_key(reception, payment))

    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("approved", Decimal("1000.50"))
    assert Refund.objects.get().amount == Decimal("1000.50")
    form = reception.get(refund_url(payment)).context["form"]
    assert form.initial["amount"] == Decimal("1999.50")


def test_the_same_form_sent_twice_refunds_once(reception, payment, standin):
    key = shown_key(reception, payment)
    send_refund(reception, payment, "3000", key)
    again = send_refund(reception, payment, "3000", key)

    assert "made already" in said(again)
    assert Refund.objects.count() == 1
    assert list(standin.refunds_by_key) == [key]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("3000.00")
    assert ReservationEvent.objects.filter(action="refunded").count() == 1


@pytest.mark.parametrize("amount", ["3000.01", "0", "-5", "10.001", "mucho"])
def test_a_refund_of_more_than_is_left_or_of_nothing_is_refused(
    reception, payment, standin, amount
):
    before = snapshot()
    answer = send_refund(reception, payment, amount, shown_key(reception, payment))

    assert answer.status_code == 200
    assert "amount" in answer.context["form"].errors
    assert snapshot() == before
    assert not Refund.objects.exists() and standin.refunds_by_key == {}


def test_a_refund_without_a_reason_is_refused(reception, payment, standin):
    answer = send_refund(reception, payment, "1000", shown_key(reception, payment), reason="")
    assert "reason" in answer.context["form"].errors
    assert not Refund.objects.exists() and standin.refunds_by_key == {}


def test_mercado_pago_down_leaves_the_refund_requested_and_says_so(
    reception, payment, standin, settings
):
    url = settings.MERCADOPAGO_API_URL
    settings.MERCADOPAGO_API_URL = "http://127.0.0.1:9"  # nobody there
    key = shown_key(reception, payment)
    answer = send_refund(reception, payment, "3000", key)

    assert "could not be reached" in said(answer)
    assert "recorded as requested" in said(answer)
    assert Refund.objects.get().status == "requested"
    payment.refresh_from_db()
    assert payment.amount_refunded == 0
    # Sent again once Mercado Pago answers, the same form is the same refund, made once.
    settings.MERCADOPAGO_API_URL = url
    send_refund(reception, payment, "3000", key)
    assert Refund.objects.get().status == "approved"
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("3000.00")


def held_session(make_reservation, patient, days=5):
    """A session held for its deposit (payments.booking.book would hold it so)."""
    r = make_reservation(patient, timezone.now() + timedelta(days=days), status="PENDING")
    r.awaiting_payment = True
    r.expires_at = timezone.now() + timedelta(minutes=30)
    r.save(update_fields=["awaiting_payment", "expires_at"])
    return r


def record(client, reservation, amount="3000", method="cash", note="Recibo 0012"):
    return client.post(
        f"{RESERVATIONS}{reservation.pk}/record-payment/",
        {"csrfmiddlewaretoken": CSRF_TOKEN, "amount": amount, "method": method, "note": note},
        follow=True,
    )


def test_a_held_session_paid_in_cash_is_recorded_and_confirmed(
    reception, desk, make_reservation, patient, professional, deposit_policy
):
    # A professional who takes bookings without approving each: paid, the session is confirmed.
    professional.professional_profile.requires_approval = False
    professional.professional_profile.save()
    r = held_session(make_reservation, patient)
    page = reception.get(f"{RESERVATIONS}{r.pk}/change/")
    assert f"{RESERVATIONS}{r.pk}/record-payment/".encode() in page.content
    form = reception.get(f"{RESERVATIONS}{r.pk}/record-payment/").context["form"]
    assert form.initial["amount"] == Decimal("3000.00")  # the deposit it is held for

    answer = record(reception, r)

    assert "Recorded" in said(answer) and "The session is confirmed." in said(answer)
    payment = Payment.objects.get()
    assert (payment.method, payment.status, payment.amount) == ("cash", "approved", Decimal("3000"))
    assert (payment.recorded_by, payment.note, payment.mp_payment_id) == (desk, "Recibo 0012", None)
    r.refresh_from_db()
    assert (r.status, r.awaiting_payment) == ("CONFIRMED", False)
    actions = set(ReservationEvent.objects.filter(reservation=r).values_list("action", flat=True))
    assert {"paid", "confirmed"} <= actions
    assert AccessLog.objects.filter(where="admin: payment by hand", subject=patient).exists()
    # Paid now: no link to record another, and the session's page lists the payment.
    page = reception.get(f"{RESERVATIONS}{r.pk}/change/")
    assert b"/record-payment/" not in page.content
    assert f"{PAYMENTS}{payment.pk}/change/".encode() in page.content


def test_a_payment_by_hand_sent_twice_is_recorded_once(
    reception, make_reservation, patient, deposit_policy
):
    r = held_session(make_reservation, patient)
    record(reception, r)
    again = record(reception, r)

    assert "has a payment already" in said(again)
    assert Payment.objects.count() == 1 and not Refund.objects.exists()


def test_an_amount_of_nothing_records_no_payment(
    reception, make_reservation, patient, deposit_policy
):
    r = held_session(make_reservation, patient)
    for amount in ("0", "-100", ""):
        answer = record(reception, r, amount=amount)
        assert "amount" in answer.context["form"].errors
    assert not Payment.objects.exists()
    assert not ReservationEvent.objects.exists()


def test_a_payment_in_cash_is_refunded_by_hand(
    reception, make_reservation, patient, deposit_policy
):
    r = held_session(make_reservation, patient)
    record(reception, r, method="transfer")
    payment = Payment.objects.get()

    answer = send_refund(reception, payment, "1000", shown_key(reception, payment))

    assert "Give the money back by hand" in said(answer)
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (Decimal("1000.00"), "approved")
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("approved", Decimal("1000.00"))


def test_the_payments_list_shows_and_filters_by_method(
    reception, payment, make_reservation, other_patient, deposit_policy
):
    record(reception, held_session(make_reservation, other_patient, days=6))
    cash = Payment.objects.get(method="cash")

    answer = reception.get(PAYMENTS)
    assert "method" in answer.context["cl"].list_display
    by_cash = reception.get(f"{PAYMENTS}?method__exact=cash").context["cl"].result_list
    assert [p.pk for p in by_cash] == [cash.pk]


def test_only_staff_with_the_permission_refund_or_record(
    payment, standin, patient, professional, make_reservation
):
    r = held_session(make_reservation, patient, days=6)
    before = snapshot()
    staff_without_group = make_user("otro@example.com", is_staff=True)
    for user, refused in ((patient, 302), (professional, 302), (staff_without_group, 403)):
        client = csrf_client(user)
        assert client.get(refund_url(payment)).status_code == refused
        key = "0" * 32
        answer = client.post(
            refund_url(payment),
            {"csrfmiddlewaretoken": CSRF_TOKEN, "amount": "3000", "reason": "x", "key": key},
        )
        assert answer.status_code == refused
        assert client.get(f"{RESERVATIONS}{r.pk}/record-payment/").status_code == refused
        answer = client.post(
            f"{RESERVATIONS}{r.pk}/record-payment/",
            {"csrfmiddlewaretoken": CSRF_TOKEN, "amount": "3000", "method": "cash"},
        )
        assert answer.status_code == refused
        if refused == 302:
            assert "/login/" in answer["Location"]  # to the admin's login, as anyone not staff
    assert snapshot() == before
    assert not Refund.objects.exists() and standin.refunds_by_key == {}
    r.refresh_from_db()
    assert (r.status, r.awaiting_payment) == ("PENDING", True)
