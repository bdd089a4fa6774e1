"""Money in the professional's agenda, through HTTP with CSRF checks on: each session says what was
paid for it, a session held for its patient's payment is no request for the professional yet,
the settings page says what this month's sessions brought in and edits the professional's own
price and payment policy (and nobody else's). The professional reads English here: these strings
are new, their Spanish comes later."""

import itertools
import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile, ProfileChange
from agenda import money
from payments.models import Payment, PaymentPolicy, Refund
from reservations.models import Reservation, ReservationEvent

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PRACTICE = ZoneInfo("America/Argentina/Buenos_Aires")
POLICY_URL = "/agenda/settings/payments/"
MP_IDS = itertools.count(1_000_001)


@pytest.fixture
def pro(professional):
    professional.language = "en"
    professional.save(update_fields=["language"])
    return csrf_client(professional)


@pytest.fixture
def other_professional(db):
    user = make_user("ruiz@example.com", first_name="Andrés", factor=True)
    ProfessionalProfile.objects.create(user=user, display_name="Lic. Andrés Ruiz")
    return user


def post(client, path, htmx=False, **data):
    return client.post(
        path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data}, headers=HTMX if htmx else {}
    )


def html_of(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def pay(r, amount, refunded="0", status="approved", method="cash", at=NOW):
    return Payment.objects.create(
        reservation=r,
        method=method,
        mp_payment_id=str(next(MP_IDS)) if method == "mercadopago" else None,
        status=status,
        amount=Decimal(amount),
        amount_refunded=Decimal(refunded),
        currency="ARS",
        created_at=at,
    )


def hold(r, minutes=30):
    """`r` held for its patient's payment, as payments.booking.book leaves it."""
    Reservation.objects.filter(pk=r.pk).update(
        status="PENDING", awaiting_payment=True, expires_at=NOW + timedelta(minutes=minutes)
    )
    r.refresh_from_db()
    return r


def element(html, element_id):
    """The HTML of the element with this id, up to its closing tag (the agenda's rows are <li>,
    its blocks <a>, neither nested in one of its own kind)."""
    match = re.search(rf'<(\w+) id="{element_id}"[^>]*>', html)
    assert match, element_id
    tag = match.group(1)
    return html[match.start() : html.index(f"</{tag}>", match.end())]


def pending_section(html):
    return html[html.index('id="pending"') : html.index('id="week"')]


@pytest.fixture
def deposit_policy(professional):
    return PaymentPolicy.objects.create(
        professional=professional,
        price=Decimal("10000"),
        collect="deposit",
        deposit_percent=30,
        late_keeps="deposit",
    )


# Each session's money, in the week and on its page


def test_the_week_says_what_each_session_was_paid_and_refunded(
    pro, patient, other_patient, make_reservation, frozen_now
):
    paid = make_reservation(patient, NOW + timedelta(days=1))
    pay(paid, "3000")
    partly = make_reservation(other_patient, NOW + timedelta(days=2))
    pay(partly, "10000", refunded="4000")
    refunded = make_reservation(patient, NOW + timedelta(days=3), status="CANCELLED")
    pay(refunded, "3000", refunded="3000", status="refunded")
    unpaid = make_reservation(other_patient, NOW + timedelta(days=4))
    # A payment that never went through is no money received.
    pay(unpaid, "3000", status="rejected")

    html = html_of(pro.get("/agenda/"))
    assert "Paid $ 3,000.00" in element(html, f"session-{paid.pk}")
    assert "Paid $ 3,000.00" in element(html, f"grid-{paid.pk}")
    row = element(html, f"session-{partly.pk}")
    assert "Paid $ 10,000.00, $ 4,000.00 refunded" in row
    assert "Refunded $ 3,000.00" in element(html, f"session-{refunded.pk}")
    # The cancelled one is listed under the grid with its refund.
    cancelled = html[html.index("agenda-grid__cancelled") :]
    assert "Refunded $ 3,000.00" in cancelled
    assert 'class="money' not in element(html, f"session-{unpaid.pk}")


def test_a_refund_on_its_way_back_counts_as_refunded_on_the_row_and_is_said_on_the_page(
    pro, patient, make_reservation, frozen_now
):
    r = make_reservation(patient, NOW + timedelta(days=1), status="CANCELLED")
    payment = pay(r, "3000", method="mercadopago")
    Refund.objects.create(payment=payment, amount=Decimal("3000"), idempotency_key="k1")

    html = html_of(pro.get("/agenda/"))
    assert "Refunded $ 3,000.00" in element(html, f"session-{r.pk}")
    page = html_of(pro.get(f"/agenda/{r.pk}/"))
    assert "Refunded $ 3,000.00" in page
    assert "$ 3,000.00 · Mercado Pago · 03/10/2026" in page
    assert "Being refunded: $ 3,000.00" in page


def test_the_session_page_says_what_the_practice_keeps_of_a_missed_session(
    pro, patient, make_reservation, frozen_now
):
    r = make_reservation(patient, NOW - timedelta(days=1))
    Reservation.objects.filter(pk=r.pk).update(attended=False)
    pay(r, "10000", refunded="7000")
    page = html_of(pro.get(f"/agenda/{r.pk}/"))
    assert "Paid $ 10,000.00, $ 7,000.00 refunded" in page
    assert "The practice keeps $ 3,000.00" in page


def test_a_session_nothing_was_paid_for_says_nothing_of_money(
    pro, patient, make_reservation, frozen_now
):
    r = make_reservation(patient, NOW + timedelta(days=1))
    assert 'class="money' not in html_of(pro.get("/agenda/"))
    page = html_of(pro.get(f"/agenda/{r.pk}/"))
    assert 'class="money' not in page and "<dt>Payment</dt>" not in page


# A session held for its patient's payment


def test_a_session_held_for_payment_is_not_a_pending_request(
    pro, patient, other_patient, make_reservation, deposit_policy, frozen_now
):
    held = hold(make_reservation(patient, NOW + timedelta(days=1)))
    request = make_reservation(other_patient, NOW + timedelta(days=2), status="PENDING")

    html = html_of(pro.get("/agenda/"))
    pending = pending_section(html)
    assert f"pending-{request.pk}" in pending and f"pending-{held.pk}" not in pending
    assert '<span id="pending-count" class="count">(1)</span>' in pending
    # In the week, marked as waiting for its payment, with nothing to confirm.
    row = element(html, f"session-{held.pk}")
    assert "Waiting for payment" in row
    assert "Waiting for payment" in element(html, f"grid-{held.pk}")
    assert f"/agenda/{held.pk}/confirm/" not in html

    page = html_of(pro.get(f"/agenda/{held.pk}/"))
    assert "Waiting for the patient's payment" in page
    assert f"/agenda/{held.pk}/confirm/" not in page
    assert f"/agenda/{held.pk}/decline/" not in page
    # The professional may still free the time: cancelling is offered as for any session.
    assert f"/agenda/{held.pk}/cancel/" in page


def test_only_held_sessions_waiting_leave_no_requests(
    pro, patient, make_reservation, deposit_policy, frozen_now
):
    hold(make_reservation(patient, NOW + timedelta(days=1)))
    pending = pending_section(html_of(pro.get("/agenda/")))
    assert '<span id="pending-count" class="count"></span>' in pending
    assert "No requests are waiting for you." in pending


def test_a_held_session_whose_hold_just_lapsed_still_waits_for_payment(
    pro, patient, make_reservation, deposit_policy, frozen_now
):
    # The worker has not cancelled it yet: nothing is due any more, and it is still no request.
    held = hold(make_reservation(patient, NOW + timedelta(days=1)), minutes=-1)
    html = html_of(pro.get("/agenda/"))
    assert "Waiting for payment" in element(html, f"session-{held.pk}")
    assert f"pending-{held.pk}" not in pending_section(html)


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("action", ["confirm", "decline"])
def test_confirming_or_declining_a_held_session_is_refused_and_changes_nothing(
    pro, patient, make_reservation, deposit_policy, frozen_now, action, htmx
):
    held = hold(make_reservation(patient, NOW + timedelta(days=1)))
    response = post(
        pro, f"/agenda/{held.pk}/{action}/", htmx=htmx, reason="No puedo", date="2026-03-10"
    )
    if htmx:
        assert "waiting for its patient&#x27;s payment" in html_of(response)
    else:
        assert response.status_code == 302
        assert "waiting for its patient&#x27;s payment" in html_of(pro.get(response["Location"]))
    fresh = Reservation.objects.get(pk=held.pk)
    assert (fresh.status, fresh.awaiting_payment, fresh.expires_at) == (
        "PENDING",
        True,
        held.expires_at,
    )
    assert not ReservationEvent.objects.filter(reservation=held).exists()


def test_a_paid_request_is_a_request_and_says_it_was_paid(
    pro, patient, make_reservation, frozen_now
):
    # Paid for a professional who approves bookings: PENDING, no longer held (payments.rules).
    r = make_reservation(patient, NOW + timedelta(days=1), status="PENDING")
    pay(r, "3000", method="mercadopago")
    html = html_of(pro.get("/agenda/"))
    item = element(html, f"pending-{r.pk}")
    assert "Paid $ 3,000.00" in item and f"/agenda/{r.pk}/confirm/" in item

    response = post(
        pro, f"/agenda/{r.pk}/confirm/", htmx=True, date="2026-03-10", **{"from": "pending"}
    )
    answer = html_of(response)
    assert Reservation.objects.get(pk=r.pk).status == "CONFIRMED"
    # Drawn again in its new state, still saying what was paid.
    assert "Paid $ 3,000.00" in element(answer, f"pending-{r.pk}")
    assert "Paid $ 3,000.00" in element(answer, f"session-{r.pk}")


# The agenda's queries


def test_the_agenda_queries_do_not_grow_with_paid_sessions(
    pro, professional, patient, other_patient, deposit_policy, frozen_now
):
    def week_of(count):
        Refund.objects.all().delete()
        Payment.objects.all().delete()
        Reservation.objects.all().delete()
        rows = Reservation.objects.bulk_create(
            Reservation(
                client=(patient, other_patient)[i % 2],
                professional=professional,
                start_time=NOW + timedelta(days=i % 6 - 1, hours=i // 6 - 8),
                end_time=NOW + timedelta(days=i % 6 - 1, hours=i // 6 - 8, minutes=45),
                status=("CONFIRMED", "PENDING", "CANCELLED")[i % 3],
                # Every fourth one held for its payment (its checkout made for some).
                awaiting_payment=i % 4 == 1,
                expires_at=NOW + timedelta(minutes=30) if i % 4 == 1 else None,
            )
            for i in range(count)
        )
        for i, r in enumerate(rows):
            if i % 2 == 0:
                payment = pay(r, "3000", refunded="1000" if i % 3 == 2 else "0")
                if i % 3 == 2:
                    Refund.objects.create(
                        payment=payment,
                        amount=Decimal("500"),
                        idempotency_key=f"k{i}",
                        status="requested",
                    )
        with CaptureQueriesContext(connection) as ctx:
            html = html_of(pro.get("/agenda/"))
        return len(ctx.captured_queries), html.count('class="money ')

    pro.get("/agenda/")  # the first visit also marks the session (the menu's "Agenda")
    few, shown_few = week_of(6)
    many, shown_many = week_of(60)
    assert shown_many > shown_few > 0
    # tests/test_agenda.py's nine, and one for the payments of every session listed.
    assert few == many == 10


def test_money_attach_reads_every_sessions_payments_in_one_query(
    patient, make_reservation, deposit_policy, django_assert_num_queries, frozen_now
):
    sessions = [make_reservation(patient, NOW + timedelta(days=d)) for d in range(1, 6)]
    for r in sessions[:3]:
        pay(r, "3000")
    hold(sessions[4])
    listed = list(
        Reservation.objects.filter(pk__in=[r.pk for r in sessions])
        .select_related(*money.WITH_MONEY)
        .order_by("start_time")
    )
    with django_assert_num_queries(1):
        money.attach(listed, NOW)
    assert [r.money.kind for r in listed] == ["paid", "paid", "paid", "", "waiting"]


# This month's total


def at(day, hour=10):
    """A time in the practice's zone (Buenos Aires)."""
    return datetime(2026, *day, hour, tzinfo=PRACTICE)


def test_the_settings_page_says_what_this_months_sessions_were_paid(
    pro, professional, other_professional, patient, make_reservation, deposit_policy, frozen_now
):
    # March 2026 in Buenos Aires, where the practice keeps its books.
    pay(make_reservation(patient, at((3, 2))), "3000")
    pay(make_reservation(patient, at((3, 20))), "10000", refunded="4000")
    pay(make_reservation(patient, at((3, 21)), status="CANCELLED"), "3000", "3000", "refunded")
    # The first minutes of March there are still February in UTC, and the reverse.
    pay(make_reservation(patient, at((3, 1), 0)), "1000")
    pay(make_reservation(patient, at((2, 28), 23)), "700")
    pay(make_reservation(patient, at((4, 1), 0)), "700")
    # Not received, or another professional's.
    pay(make_reservation(patient, at((3, 4))), "700", status="rejected")
    pay(make_reservation(patient, at((3, 5)), pro=other_professional), "700")

    page = html_of(pro.get("/agenda/settings/"))
    # 3,000 + 10,000 - 4,000 + 3,000 - 3,000 + 1,000
    assert "Paid for your sessions of March 2026: $ 10,000.00" in page


def test_the_months_total_is_one_query(
    professional, patient, make_reservation, django_assert_num_queries, frozen_now
):
    for day in range(2, 12):
        pay(make_reservation(patient, at((3, day))), "1000", refunded="100")
    with django_assert_num_queries(1):
        total = money.month_total(professional, NOW)
    assert total.paid == Decimal("9000.00")
    assert total.first.isoformat() == "2026-03-01"


def test_a_professional_who_takes_no_payments_is_not_shown_a_total(pro, frozen_now):
    page = html_of(pro.get("/agenda/settings/"))
    assert "Paid for your sessions of" not in page
    assert 'action="/agenda/settings/payments/"' in page


# The professional's price and payment policy


POLICY = {
    "price": "10000",
    "price_virtual": "",
    "price_in_person": "12000",
    "collect": "deposit",
    "deposit_percent": "30",
    "deposit_amount": "",
    "late_keeps": "deposit",
}


def policy_row(user):
    return PaymentPolicy.objects.filter(professional=user).values().first()


def test_a_professional_saves_a_deposit_policy(pro, professional, frozen_now):
    response = post(pro, POLICY_URL, **POLICY)
    assert response.status_code == 302
    assert response["Location"] == "/agenda/settings/#payments"
    policy = PaymentPolicy.objects.get(professional=professional)
    assert (policy.price, policy.price_virtual, policy.price_in_person) == (
        Decimal("10000.00"),
        None,
        Decimal("12000.00"),
    )
    assert (policy.collect, policy.deposit_percent, policy.deposit_amount) == ("deposit", 30, None)
    assert (policy.late_keeps, policy.currency) == ("deposit", "ARS")
    change = ProfileChange.objects.get(profile__user=professional)
    assert change.actor == professional
    assert change.changes["payment_policy.price"] == [None, "10000.00"]
    assert change.changes["payment_policy.collect"] == [None, "deposit"]
    # The page shows it back.
    page = html_of(pro.get("/agenda/settings/"))
    assert 'name="price" value="10000.00"' in page
    assert '<option value="deposit" selected>' in page


def test_a_professional_changes_their_policy_and_only_what_changed_is_recorded(
    pro, professional, deposit_policy, frozen_now
):
    data = {**POLICY, "price_in_person": "", "collect": "whole", "late_keeps": "everything"}
    assert post(pro, POLICY_URL, **data).status_code == 302
    deposit_policy.refresh_from_db()
    assert (deposit_policy.collect, deposit_policy.late_keeps) == ("whole", "everything")
    change = ProfileChange.objects.get(profile__user=professional)
    assert change.changes == {
        "payment_policy.collect": ["deposit", "whole"],
        "payment_policy.late_keeps": ["deposit", "everything"],
    }
    # The same again: nothing to save, nothing recorded.
    response = post(pro, POLICY_URL, **data)
    assert "Nothing to save" in html_of(pro.get(response["Location"]))
    assert ProfileChange.objects.count() == 1


INVALID = {
    "a deposit of no amount": {"deposit_percent": ""},
    "both a percentage and an amount": {"deposit_amount": "1000"},
    "keeping a deposit there is not": {"collect": "whole", "deposit_percent": ""},
    "a deposit above the lowest price": {
        "deposit_percent": "",
        "deposit_amount": "11000",
    },
    "no price": {"price": ""},
    "a price of zero": {"price": "0"},
    "a price in tenths of a centavo": {"price": "10000.005"},
    "a percentage above 100": {"deposit_percent": "101"},
    "a way to collect that is not one": {"collect": "later"},
    "a negative in-person price": {"price_in_person": "-5"},
}


@pytest.mark.parametrize("change", INVALID.values(), ids=INVALID.keys())
def test_a_policy_that_does_not_add_up_is_refused_and_nothing_saved(
    pro, professional, change, frozen_now
):
    response = post(pro, POLICY_URL, **{**POLICY, **change})
    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode()
    assert not PaymentPolicy.objects.exists()
    assert not ProfileChange.objects.exists()


def test_a_refused_change_leaves_the_stored_policy_as_it_was(
    pro, professional, deposit_policy, frozen_now
):
    before = policy_row(professional)
    response = post(pro, POLICY_URL, **{**POLICY, "price": "9000", "deposit_amount": "500"})
    assert response.status_code == 400
    assert "not both" in response.content.decode()
    assert policy_row(professional) == before
    assert not ProfileChange.objects.exists()


def test_the_form_cannot_choose_whose_policy_it_is(
    pro, professional, other_professional, frozen_now
):
    theirs = PaymentPolicy.objects.create(professional=other_professional, price=Decimal("5000"))
    before = policy_row(other_professional)
    data = {**POLICY, "professional": str(other_professional.pk), "pk": str(other_professional.pk)}
    assert post(pro, POLICY_URL, **data).status_code == 302
    # Saved as the signed-in professional's own; the other's untouched.
    assert PaymentPolicy.objects.get(professional=professional).price == Decimal("10000.00")
    assert policy_row(other_professional) == before
    theirs.refresh_from_db()
    assert theirs.price == Decimal("5000.00")


@pytest.mark.parametrize("who, status", [("patient", 403), ("staff", 403), ("anonymous", 302)])
def test_only_a_professional_reaches_the_payment_policy(request, who, status, frozen_now):
    client = csrf_client(None if who == "anonymous" else request.getfixturevalue(who))
    response = post(client, POLICY_URL, **POLICY)
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    assert not PaymentPolicy.objects.exists()


def test_the_policy_needs_the_pages_csrf_token(pro, frozen_now):
    response = pro.post(POLICY_URL, POLICY)
    assert response.status_code == 403
    assert not PaymentPolicy.objects.exists()


def test_the_policy_is_only_posted(pro, frozen_now):
    assert pro.get(POLICY_URL).status_code == 405
