"""Our Mercado Pago client against the local stand-in, a real HTTP server on a free port: the SDK
reaches it through our HttpClient (MERCADOPAGO_API_URL), with no monkeypatching. And the stand-in's
checkout: paying sends the signed notification to our webhook, served for real."""

import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payments import mercadopago
from payments.models import Collect, Payment, PaymentPolicy
from payments.standin import StandIn
from reservations.models import ReservationEvent

SECRET = "webhook-secret-for-tests"
TOKEN = "TEST-0000-access-token"
WEBHOOK = "/payments/mercadopago/webhook"


@pytest.fixture(name="standin")
def standin_fixture(settings):
    """The stand-in on a port the system picks, and the site pointed at it."""
    server = StandIn(port=0, secret=SECRET, token=TOKEN).start()
    settings.MERCADOPAGO_API_URL = server.url
    settings.MERCADOPAGO_ACCESS_TOKEN = TOKEN
    settings.MERCADOPAGO_WEBHOOK_SECRET = SECRET
    yield server
    server.stop()


@pytest.fixture(name="deposit_policy")
def deposit_policy_fixture(professional):
    """Lic. Gómez asks for a 30% deposit of 10,000 pesos: 3,000."""
    return PaymentPolicy.objects.create(
        professional=professional,
        price=Decimal("10000.00"),
        collect=Collect.DEPOSIT,
        deposit_percent=30,
    )


@pytest.fixture(name="session")
def session_fixture(patient, make_reservation, deposit_policy):
    return make_reservation(patient, timezone.now() + timedelta(days=3), status="PENDING")


def preference_for(reservation, amount=Decimal("3000.00"), site="http://testserver"):
    return mercadopago.create_preference(
        reservation,
        amount,
        "Sesión con Lic. Carolina Gómez",
        notification_url=f"{site}{WEBHOOK}",
        back_urls={
            "success": f"{site}/dashboard/",
            "failure": f"{site}/dashboard/",
            "pending": f"{site}/dashboard/",
        },
        expires_at=timezone.now() + timedelta(minutes=30),
    )


def test_a_preference_carries_the_reservation_amount_and_urls(standin, session):
    pref = preference_for(session)
    assert pref["init_point"] == f"{standin.url}/checkout/{pref['id']}"
    stored = standin.preferences[pref["id"]]
    assert stored["external_reference"] == str(session.pk)
    assert stored["items"][0]["unit_price"] == Decimal("3000")
    assert stored["items"][0]["currency_id"] == "ARS"
    assert stored["notification_url"] == f"http://testserver{WEBHOOK}"
    assert stored["back_urls"]["success"] == "http://testserver/dashboard/"
    assert stored["expiration_date_to"]


def test_a_payment_is_read_with_decimal_amounts(standin, session):
    pref = preference_for(session, Decimal("3000.10"))
    paid = standin.pay(pref["id"])
    found = mercadopago.get_payment(paid["id"])
    assert found["status"] == "approved"
    assert found["transaction_amount"] == Decimal("3000.1")
    assert isinstance(found["transaction_amount"], Decimal)
    assert found["external_reference"] == str(session.pk)


def test_an_unknown_payment_and_a_wrong_token_are_errors(standin, session, settings):
    with pytest.raises(mercadopago.MercadoPagoError) as error:
        mercadopago.get_payment(123)
    assert error.value.status == 404
    settings.MERCADOPAGO_ACCESS_TOKEN = "TEST-someone-else"
    with pytest.raises(mercadopago.MercadoPagoError) as error:
        preference_for(session)
    assert error.value.status == 401


def test_nobody_answering_is_an_error_with_no_status(standin, session):
    standin.stop()
    with pytest.raises(mercadopago.MercadoPagoError) as error:
        mercadopago.get_payment(1)
    assert error.value.status == 0


def test_search_finds_a_reservations_payments_newest_first(standin, session, make_reservation):
    pref = preference_for(session)
    first = standin.pay(pref["id"], "rejected")
    second = standin.pay(pref["id"])
    other = preference_for(make_reservation(session.client, session.start_time + timedelta(1)))
    standin.pay(other["id"])
    found = mercadopago.search_payments(str(session.pk))
    assert [p["id"] for p in found] == [second["id"], first["id"]]
    assert mercadopago.search_payments(str(uuid.uuid4())) == []


def test_a_refund_asked_twice_with_one_key_refunds_once(standin, session):
    paid = standin.pay(preference_for(session)["id"])
    one = mercadopago.refund(paid["id"], Decimal("1000.00"), "key-1")
    again = mercadopago.refund(paid["id"], Decimal("1000.00"), "key-1")
    assert one["id"] == again["id"]
    assert one["amount"] == Decimal("1000")
    found = mercadopago.get_payment(paid["id"])
    assert found["transaction_amount_refunded"] == Decimal("1000")
    assert found["status"] == "approved"
    rest = mercadopago.refund(paid["id"], None, "key-2")
    assert rest["amount"] == Decimal("2000")
    assert mercadopago.get_payment(paid["id"])["status"] == "refunded"
    with pytest.raises(mercadopago.MercadoPagoError) as error:
        mercadopago.refund(paid["id"], Decimal("1"), "key-3")
    assert error.value.status == 400


def post(url):
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        return urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    except urllib.error.HTTPError as answer:
        return answer


@pytest.mark.django_db(transaction=True)
def test_paying_on_the_checkout_notifies_the_webhook_and_returns(
    standin, live_server, patient, make_reservation, deposit_policy
):
    session = make_reservation(patient, timezone.now() + timedelta(days=3), status="PENDING")
    pref = preference_for(session, site=live_server.url)
    with urllib.request.urlopen(pref["init_point"], timeout=10) as page:  # noqa: S310
        html = page.read().decode()
    assert "Approve payment" in html and "ARS 3000" in html

    answer = post(f"{standin.url}/checkout/{pref['id']}/approve")
    assert answer.status == 303
    location = answer.headers["Location"]
    assert location.startswith(f"{live_server.url}/dashboard/?")
    assert "status=approved" in location and f"external_reference={session.pk}" in location
    assert standin.notifications == [(f"{live_server.url}{WEBHOOK}", 200)]

    payment = Payment.objects.get()
    assert (payment.reservation, payment.status, payment.amount) == (
        session,
        "approved",
        Decimal("3000.00"),
    )
    assert ReservationEvent.objects.filter(reservation=session, action="paid").count() == 1
    session.refresh_from_db()
    assert session.status == "PENDING"  # booking does not wait for payment yet


@pytest.mark.django_db(transaction=True)
def test_a_rejected_payment_is_recorded_and_returns_to_failure(
    standin, live_server, patient, make_reservation, deposit_policy
):
    session = make_reservation(patient, timezone.now() + timedelta(days=3), status="PENDING")
    pref = preference_for(session, site=live_server.url)
    answer = post(f"{standin.url}/checkout/{pref['id']}/reject")
    assert answer.status == 303 and "status=rejected" in answer.headers["Location"]
    assert Payment.objects.get().status == "rejected"
    assert list(ReservationEvent.objects.values_list("action", flat=True)) == ["payment"]
