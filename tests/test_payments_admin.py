"""Reception and payments in the admin: each professional's price and policy, edited there; the
payments Mercado Pago reported, read-only, filtered by status and date."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AccessLog
from payments.models import Collect, Payment, PaymentPolicy

from .conftest import CSRF_TOKEN, csrf_client, make_user

pytestmark = pytest.mark.django_db

POLICIES = "/admin/payments/paymentpolicy/"
PAYMENTS = "/admin/payments/payment/"


@pytest.fixture
def reception(db):
    """Staff in the Recepción group (reservations_site/roles.py), not a superuser."""
    user = make_user("mostrador@example.com", first_name="Mostrador", is_staff=True)
    user.groups.add(Group.objects.get(name="Recepción"))
    return csrf_client(user)


def form(professional, **fields):
    data = {
        "csrfmiddlewaretoken": CSRF_TOKEN,
        "professional": professional.pk,
        "price": "10000",
        "price_virtual": "",
        "price_in_person": "",
        "collect": "deposit",
        "deposit_percent": "30",
        "deposit_amount": "",
        "late_keeps": "deposit",
    }
    return {**data, **fields}


def test_reception_sets_up_a_professionals_policy(reception, professional, patient):
    page = reception.get(f"{POLICIES}add/")
    assert page.status_code == 200
    choices = {str(pk) for pk, _ in page.context["adminform"].form.fields["professional"].choices}
    assert str(professional.pk) in choices and str(patient.pk) not in choices  # professionals only
    answer = reception.post(f"{POLICIES}add/", form(professional))
    assert answer.status_code == 302
    policy = PaymentPolicy.objects.get()
    assert (policy.price, policy.currency, policy.deposit_percent) == (Decimal("10000"), "ARS", 30)

    answer = reception.post(
        f"{POLICIES}{professional.pk}/change/",
        form(professional, collect="whole", price_in_person="12000.50", deposit_percent="30"),
    )
    assert answer.status_code == 302
    policy.refresh_from_db()
    assert policy.collect == Collect.WHOLE and policy.price_in_person == Decimal("12000.50")


def test_a_policy_that_makes_no_sense_is_sent_back(reception, professional):
    answer = reception.post(
        f"{POLICIES}add/", form(professional, deposit_percent="", deposit_amount="")
    )
    assert answer.status_code == 200
    assert "deposit_percent" in answer.context["adminform"].form.errors
    answer = reception.post(f"{POLICIES}add/", form(professional, price="10.001"))
    assert "price" in answer.context["adminform"].form.errors
    assert not PaymentPolicy.objects.exists()


def test_reception_cannot_delete_a_policy(reception, professional):
    PaymentPolicy.objects.create(professional=professional, price=Decimal("1000"))
    assert reception.get(f"{POLICIES}{professional.pk}/delete/").status_code == 403


def pay(reservation, n, status="approved", days_ago=0):
    return Payment.objects.create(
        reservation=reservation,
        mp_payment_id=str(1_000_000_000 + n),
        status=status,
        amount=Decimal("3000"),
        currency="ARS",
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def test_the_payments_list_filters_by_status_and_date(reception, patient, make_reservation):
    r = make_reservation(patient, timezone.now() + timedelta(days=2))
    approved, pending, old = pay(r, 1), pay(r, 2, "pending"), pay(r, 3, days_ago=40)

    def listed(query=""):
        answer = reception.get(f"{PAYMENTS}{query}")
        assert answer.status_code == 200
        return {p.pk for p in answer.context["cl"].result_list}

    assert listed() == {approved.pk, pending.pk, old.pk}
    assert listed("?status__exact=approved") == {approved.pk, old.pk}
    assert listed("?status__exact=pending") == {pending.pk}
    today = timezone.localdate()
    this_month = f"?created_at__year={today.year}&created_at__month={today.month}"
    assert listed(this_month) == {approved.pk, pending.pk}  # the date hierarchy's links
    assert listed(this_month + "&status__exact=approved") == {approved.pk}


def test_the_payments_list_costs_the_same_with_more_payments(
    reception, patient, other_patient, make_reservation
):
    r = make_reservation(patient, timezone.now() + timedelta(days=2))
    pay(r, 1)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert reception.get(PAYMENTS).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(2, 12):
        other = make_reservation(other_patient, timezone.now() + timedelta(days=n + 3))
        pay(other, n)
    assert count() == few


def test_a_payment_is_read_only_and_its_page_is_logged(reception, patient, make_reservation):
    r = make_reservation(patient, timezone.now() + timedelta(days=2))
    payment = pay(r, 1)
    page = reception.get(f"{PAYMENTS}{payment.pk}/change/")
    assert page.status_code == 200
    assert AccessLog.objects.filter(subject=patient).count() == 1
    answer = reception.post(
        f"{PAYMENTS}{payment.pk}/change/",
        {"csrfmiddlewaretoken": CSRF_TOKEN, "status": "refunded"},
    )
    assert answer.status_code == 403
    assert reception.get(f"{PAYMENTS}add/").status_code == 403
    assert reception.get(f"{PAYMENTS}{payment.pk}/delete/").status_code == 403
    payment.refresh_from_db()
    assert payment.status == "approved"
