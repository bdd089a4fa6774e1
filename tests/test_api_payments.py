"""What the API says of a session's money (api/api.py, docs/api.md "Paying for a session"): its
price, what is due until when and where to pay it, what was paid and what given back, the same in
the list as alone and the same as the session's page says (payments.ledger); booking held for its
payment answers Mercado Pago's checkout (the stand-in here), and POST .../pay makes one when
booking could not."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile
from payments import rules
from payments.ledger import ledger
from payments.models import Checkout, Collect, LateKeeps, Payment, PaymentPolicy, Refund
from reservations.actions import Actor
from reservations.models import Reservation
from scheduling.models import WorkingHours

from .conftest import NOW
from .test_api import bearer_client, session_client
from .test_booking_api import MONDAY, at, book

# With the stand-in and Lic. Gómez's 30% deposit of 10,000 (fixtures, used by their names).
from .test_payments_client import (
    deposit_policy_fixture,  # noqa: F401
    standin_fixture,  # noqa: F401
)
from .test_payments_webhook import deliver

pytestmark = pytest.mark.django_db

NOTHING = {
    "price": None,
    "payment_status": None,
    "amount_due": "0.00",
    "pay_by": None,
    "amount_paid": "0.00",
    "refunded": "0.00",
    "refund_pending": "0.00",
    "payment_url": None,
}
FIELDS = tuple(NOTHING)


def money_of(user, reservation):
    """The payment fields of `reservation` as GET answers them, checked against the list's and
    against what the session's page reads (payments.ledger)."""
    client = bearer_client(user)
    one = client.get(f"/api/reservations/{reservation.pk}")
    assert one.status_code == 200, one.content
    alone = one.json()["data"]
    listed = client.get(f"/api/reservations/user/{reservation.client_id}").json()["data"]
    (in_list,) = [item for item in listed if item["id"] == str(reservation.pk)]
    fields = {field: alone[field] for field in FIELDS}
    assert {field: in_list[field] for field in FIELDS} == fields
    reservation.refresh_from_db()
    assert fields["payment_status"] == (ledger(reservation).status or None)
    return fields


@pytest.fixture
def hours(professional):
    # Mondays 9 to 11 (tests/test_booking_api.py's).
    WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(11)
    )


@pytest.fixture
def api(patient, frozen_now):
    return bearer_client(patient)


@pytest.fixture
def held(api, standin, deposit_policy, hours):
    """Lucía books Monday 9:00 with Lic. Gómez, who asks a deposit: held while she pays."""
    r = book(api, deposit_policy.professional, at(MONDAY, 9))
    assert r.status_code == 201, r.content
    return r


def pay(standin, reservation):
    """Lucía pays on the checkout; Mercado Pago notifies the webhook."""
    checkout = Checkout.objects.get(reservation=reservation)
    paid = standin.pay(checkout.preference_id)
    assert deliver(paid["id"]).status_code == 200
    return paid


def test_a_session_whose_professional_has_no_price_says_nothing_is_paid(
    patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=3))
    assert money_of(patient, reservation) == NOTHING


def test_booking_a_professional_who_asks_a_deposit_answers_where_to_pay_it(held, patient, standin):
    data = held.json()["data"]
    reservation = Reservation.objects.get()
    assert (reservation.status, reservation.awaiting_payment) == ("PENDING", True)
    assert data["status"] == "PENDING"
    (preference_id,) = standin.preferences
    url = f"{standin.url}/checkout/{preference_id}"
    assert {field: data[field] for field in FIELDS} == {
        "price": "10000.00",
        "payment_status": "due",
        "amount_due": "3000.00",
        "pay_by": "2026-03-10T15:30:00Z",  # the 30-minute hold
        "amount_paid": "0.00",
        "refunded": "0.00",
        "refund_pending": "0.00",
        "payment_url": url,
    }
    checkout = Checkout.objects.get()
    assert (checkout.amount, checkout.url) == (Decimal("3000.00"), url)
    assert standin.preferences[preference_id]["external_reference"] == str(reservation.pk)
    # Reading it again gives the same checkout: only POST asks Mercado Pago for one.
    assert money_of(patient, reservation)["payment_url"] == url
    assert list(standin.preferences) == [preference_id]


def test_a_paid_session_says_so_and_has_nothing_left_to_pay(held, patient, standin):
    reservation = Reservation.objects.get()
    pay(standin, reservation)
    assert money_of(patient, reservation) == {
        **NOTHING,
        "price": "10000.00",
        "payment_status": "paid",
        "amount_paid": "3000.00",
    }
    # Lic. Gómez approves her bookings: paid, it waits for her like any request.
    assert (reservation.status, reservation.awaiting_payment) == ("PENDING", False)


def test_a_paid_session_with_a_professional_who_does_not_approve_is_confirmed(
    api, patient, standin, deposit_policy, hours
):
    ProfessionalProfile.objects.filter(user=deposit_policy.professional).update(
        requires_approval=False
    )
    r = book(api, deposit_policy.professional, at(MONDAY, 9))
    assert r.json()["data"]["status"] == "PENDING"  # held until paid, all the same
    reservation = Reservation.objects.get()
    pay(standin, reservation)
    data = api.get(f"/api/reservations/{reservation.pk}").json()["data"]
    assert (data["status"], data["payment_status"], data["payment_url"]) == (
        "CONFIRMED",
        "paid",
        None,
    )


def test_a_paid_session_cancelled_says_refunded_on_its_way_then_made(held, patient, standin):
    reservation = Reservation.objects.get()
    paid = pay(standin, reservation)
    r = bearer_client(patient).delete(f"/api/reservations/{reservation.pk}")
    assert r.status_code == 200, r.content
    refunding = {
        **NOTHING,
        "price": "10000.00",
        "payment_status": "refunded",
        "amount_paid": "3000.00",
        "refunded": "3000.00",
        "refund_pending": "3000.00",  # decided with the cancel, asked of Mercado Pago after it
    }
    assert {field: r.json()["data"][0][field] for field in FIELDS} == refunding
    assert money_of(patient, reservation) == refunding
    # The worker asks Mercado Pago for it.
    rules.carry_out(Refund.objects.get())
    assert standin.payments[paid["id"]]["status"] == "refunded"
    assert money_of(patient, reservation) == {**refunding, "refund_pending": "0.00"}


def test_part_refunded_is_partly_refunded(held, patient, standin):
    reservation = Reservation.objects.get()
    pay(standin, reservation)
    rules.refund(Payment.objects.get(), Decimal("1000.00"), by=Actor.system(), key="k1")
    fields = money_of(patient, reservation)
    assert (fields["payment_status"], fields["amount_paid"], fields["refunded"]) == (
        "partly_refunded",
        "3000.00",
        "1000.00",
    )


def test_mercado_pago_down_when_booking_still_books_and_pay_answers_later(
    api, patient, standin, deposit_policy, hours, settings
):
    url = settings.MERCADOPAGO_API_URL
    settings.MERCADOPAGO_API_URL = "http://127.0.0.1:9"  # nobody there
    r = book(api, deposit_policy.professional, at(MONDAY, 9))
    assert r.status_code == 201, r.content
    data = r.json()["data"]
    assert (data["payment_status"], data["amount_due"], data["payment_url"]) == (
        "due",
        "3000.00",
        None,
    )
    reservation = Reservation.objects.get()
    assert reservation.awaiting_payment  # held all the same
    pay_url = f"/api/reservations/{reservation.pk}/pay"

    # Still down: 503, to try again; nothing changes.
    r = api.post(pay_url)
    assert r.status_code == 503 and r["Retry-After"] == "30"
    assert r.json()["status"] == 503 and "data" not in r.json()
    assert Checkout.objects.get().url == "" and standin.preferences == {}

    settings.MERCADOPAGO_API_URL = url
    r = api.post(pay_url)
    assert r.status_code == 200, r.content
    (preference_id,) = standin.preferences
    checkout_url = f"{standin.url}/checkout/{preference_id}"
    assert r.json()["data"]["payment_url"] == checkout_url
    assert r.json()["data"]["payment_status"] == "due"
    # Asked again: the same checkout, not another.
    assert api.post(pay_url).json()["data"]["payment_url"] == checkout_url
    assert len(standin.preferences) == 1
    assert money_of(patient, reservation)["payment_url"] == checkout_url


def test_pay_refuses_a_session_not_waiting_for_a_payment(
    api, held, patient, standin, make_reservation
):
    free = make_reservation(patient, NOW + timedelta(days=3))
    reservation = Reservation.objects.get(awaiting_payment=True)
    pay(standin, reservation)
    for r in (free, reservation):
        answer = api.post(f"/api/reservations/{r.pk}/pay")
        assert answer.status_code == 409, answer.content
        assert answer.json()["code"] == "not_payable"
    assert len(standin.preferences) == 1


def test_the_end_of_the_hold_is_not_payable(held, patient, standin):
    reservation = Reservation.objects.get()
    client = session_client(patient)  # a token would expire while the test travels in time
    # The last two minutes of the hold: too late to start paying (payments.booking.LEAST_TO_PAY).
    with time_machine.travel(NOW + timedelta(minutes=28, seconds=1), tick=False):
        answer = client.post(f"/api/reservations/{reservation.pk}/pay")
        assert answer.status_code == 409 and answer.json()["code"] == "not_payable"
        fields = money_of(patient, reservation)
        assert (fields["payment_status"], fields["payment_url"]) == ("due", None)
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        fields = money_of(patient, reservation)
    assert fields == {**NOTHING, "price": "10000.00"}


def test_another_patients_session_is_still_404(held, other_patient, staff, standin):
    reservation = Reservation.objects.get()
    for user in (other_patient, staff):
        client = session_client(user)
        answer = client.post(f"/api/reservations/{reservation.pk}/pay")
        assert answer.status_code == 404  # paying is the patient's own, staff's too
        assert set(answer.json()) == {"status", "message"}
    answer = bearer_client(other_patient).get(f"/api/reservations/{reservation.pk}")
    assert answer.status_code == 404
    assert answer.json() == {"status": 404, "message": answer.json()["message"]}
    assert len(standin.preferences) == 1


def test_a_session_moved_while_waiting_for_its_payment_is_409(held, patient, hours):
    reservation = Reservation.objects.get()
    r = bearer_client(patient).post(
        f"/api/reservations/{reservation.pk}/reschedule",
        {"start_time": at(MONDAY, 10).isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 409 and r.json()["code"] == "awaiting_payment"


def test_professionals_say_their_price_and_how_it_is_paid(api, deposit_policy, hours):
    PaymentPolicy.objects.filter(pk=deposit_policy.pk).update(
        price_in_person=Decimal("12000.00"), late_keeps=LateKeeps.DEPOSIT
    )
    (data,) = api.get("/api/professionals").json()["data"]
    assert data["price"] == "10000.00"
    assert data["payment"] == {
        "collect": "deposit",
        "deposit": "3000.00",
        "late_keeps": "deposit",
        "prices": {"Virtual": "10000.00", "Presencial": "12000.00"},
    }
    PaymentPolicy.objects.filter(pk=deposit_policy.pk).update(
        collect=Collect.NONE, deposit_percent=None, late_keeps=LateKeeps.NOTHING
    )
    (data,) = api.get("/api/professionals").json()["data"]
    assert data["price"] == "10000.00"
    assert data["payment"] == {
        "collect": "none",
        "deposit": None,
        "late_keeps": "nothing",
        "prices": {"Virtual": "10000.00", "Presencial": "12000.00"},
    }


def test_the_price_is_the_sessions_modalitys(patient, make_reservation, deposit_policy, frozen_now):
    PaymentPolicy.objects.filter(pk=deposit_policy.pk).update(price_in_person=Decimal("12000.00"))
    in_person = make_reservation(patient, NOW + timedelta(days=3), modality="Presencial")
    assert money_of(patient, in_person)["price"] == "12000.00"


# ---------------------------------------------------------------------------------------------
# The list costs the same however many sessions, paid, refunded or held for payment, it has.


def sessions_with_money(patient, make_reservation, start, n):
    """`n` sessions of each kind from `start`: paid, paid and partly refunded (one refund on its
    way), held with a checkout, and one with nothing."""
    for i in range(n):
        day = start + timedelta(days=4 * i)
        paid = make_reservation(patient, day)
        Payment.objects.create(
            reservation=paid,
            mp_payment_id=f"{day:%j}1",
            status="approved",
            amount=Decimal("3000.00"),
            currency="ARS",
        )
        refunded = make_reservation(patient, day + timedelta(days=1))
        payment = Payment.objects.create(
            reservation=refunded,
            mp_payment_id=f"{day:%j}2",
            status="approved",
            amount=Decimal("3000.00"),
            currency="ARS",
            amount_refunded=Decimal("1000.00"),
        )
        Refund.objects.create(payment=payment, amount=Decimal("500.00"), idempotency_key=f"{day}")
        held = make_reservation(patient, day + timedelta(days=2), status="PENDING")
        Reservation.objects.filter(pk=held.pk).update(
            awaiting_payment=True, expires_at=NOW + timedelta(minutes=30)
        )
        Checkout.objects.create(
            reservation=held,
            amount=Decimal("3000.00"),
            currency="ARS",
            url=f"https://checkout.example/{held.pk}",
            expires_at=NOW + timedelta(minutes=30),
        )
        make_reservation(patient, day + timedelta(days=3))


def listed_with_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        r = client.get(url)
    assert r.status_code == 200, r.content
    return r.json()["data"], len(queries)


def test_the_list_costs_the_same_queries_however_many_sessions_have_money(
    patient, make_reservation, deposit_policy, frozen_now
):
    client = session_client(patient)
    url = f"/api/reservations/user/{patient.pk}"
    sessions_with_money(patient, make_reservation, NOW + timedelta(days=3), 1)
    four, few = listed_with_queries(client, url)
    sessions_with_money(patient, make_reservation, NOW + timedelta(days=10), 5)
    twenty_four, many = listed_with_queries(client, url)
    # 1. the session  2. its user  3. the reservations  4. their professionals, profiles and
    # prices  5. their payments, with the refunds on their way summed  6. the held ones' checkouts
    assert (len(four), few) == (4, 6)
    assert (len(twenty_four), many) == (24, 6)
    statuses = sorted(item["payment_status"] or "" for item in twenty_four)
    assert statuses == [""] * 6 + ["due"] * 6 + ["paid"] * 6 + ["partly_refunded"] * 6
    partly = [item for item in twenty_four if item["payment_status"] == "partly_refunded"]
    assert {(i["refunded"], i["refund_pending"]) for i in partly} == {("1500.00", "500.00")}
    due = [item for item in twenty_four if item["payment_status"] == "due"]
    assert [i["payment_url"] for i in due] == [f"https://checkout.example/{i['id']}" for i in due]
    for item in twenty_four:
        assert item["price"] == "10000.00"
