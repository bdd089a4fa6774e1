"""Paying a deposit online, in a real Chromium at 390 and 1366 px, against the local Mercado Pago
stand-in running as a real server (payments/standin.py): a patient sees the price and the deposit
before she picks a time, books, is sent to the checkout, approves, comes back to a page that says
the payment was received and her session is confirmed; then she cancels in time from the
session's page and the deposit comes back (decided at once, made by the worker). The site's own
CSP is enforced throughout (its form-action must let the booking's redirect reach the checkout);
axe-core runs in a second context that may inject it. Screenshots: payments-*.png
(SCREENSHOT_DIR)."""

import copy
from datetime import time, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks_db.models import DBTaskResult

from notifications.models import Outbox
from payments.models import Collect, LateKeeps, Payment, PaymentPolicy, Refund
from payments.standin import StandIn
from payments.tasks import carry_out_refund
from reservations.models import Reservation
from scheduling.models import WorkingHours

from .browser import ConsoleErrors, enter, screenshot
from .test_a11y import axe_violations
from .test_browser import SMALL_TARGETS_JS
from .test_notifications import run_due_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
TOKEN, SECRET = "TEST-browser-token", "browser-webhook-secret"


@pytest.fixture
def mercado_pago(settings, live_server):
    """The stand-in on a free port, and the site pointed at it as `make run` points it: its API,
    token and secret, links back to this live server (the notification_url and back_urls), and
    the checkout's origin allowed as a form's destination (settings.py does so at startup)."""
    server = StandIn(port=0, secret=SECRET, token=TOKEN).start()
    settings.MERCADOPAGO_API_URL = server.url
    settings.MERCADOPAGO_ACCESS_TOKEN = TOKEN
    settings.MERCADOPAGO_WEBHOOK_SECRET = SECRET
    settings.SITE_URL = live_server.url
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    csp["DIRECTIVES"]["form-action"] = ["'self'", server.url]
    settings.CONTENT_SECURITY_POLICY = csp
    yield server
    server.stop()


@pytest.fixture
def practice(patient, professional):
    """Lic. Gómez confirms bookings at once, with a 12 h notice, every day 9 to 13 and 15 to 19;
    a session costs 20,000 pesos and 30% is paid to book, kept on a late cancel. Lucía reads the
    site in English (the payment's words are not translated yet)."""
    profile = professional.professional_profile
    profile.cancellation_notice_hours = 12
    profile.requires_approval = False
    profile.save()
    for weekday in range(7):
        for start, end in ((time(9), time(13)), (time(15), time(19))):
            WorkingHours.objects.create(
                professional=professional, weekday=weekday, start_time=start, end_time=end
            )
    PaymentPolicy.objects.create(
        professional=professional,
        price=Decimal("20000.00"),
        collect=Collect.DEPOSIT,
        deposit_percent=30,
        late_keeps=LateKeeps.DEPOSIT,
    )
    patient.language = "en"
    patient.save(update_fields=["language"])
    return professional


def open_page(browser, live_server, viewport, path, audit=False):
    # The flow runs under the site's CSP; only the audit's pages bypass it, so that axe can be
    # injected (tests/test_a11y.py).
    context = browser.new_context(viewport=viewport, locale="en-US", bypass_csp=audit)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleErrors(page)
    enter(page, live_server, path=path)
    return page


def close(page):
    errors = page.console.unexpected()
    page.context.close()
    assert not errors, f"console errors: {errors}"


def audit(browser, live_server, viewport, path):
    """axe-core's serious and critical findings on `path`, as the patient sees it."""
    page = open_page(browser, live_server, viewport, path, audit=True)
    found = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    close(page)
    return found


def fits(page, viewport):
    """No sideways scrolling, no small targets."""
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], page.url
    assert page.evaluate(SMALL_TARGETS_JS) == []


def run_refunds():
    """The worker's pass over the refunds due (each task's function called here)."""
    ran = 0
    while rows := [
        r for r in DBTaskResult.objects.ready() if r.task_path == carry_out_refund.module_path
    ]:
        for row in rows:
            DBTaskResult.objects.filter(pk=row.pk).update(status="SUCCESSFUL")
            carry_out_refund.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
            ran += 1
    return ran


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_patient_pays_the_deposit_to_book_and_gets_it_back_when_she_cancels_in_time(
    browser, live_server, mercado_pago, practice, patient, viewport
):
    name = "phone" if viewport is PHONE else "desktop"
    week_path = f"/book/{practice.pk}/"

    # The booking week says what a session costs and what is paid now, before she picks a time.
    page = open_page(browser, live_server, viewport, week_path)
    page.wait_for_selector(".slot")
    note = page.inner_text(".price-note")
    assert "A session costs $ 20,000.00." in note
    assert "To book, you pay a deposit of $ 6,000.00 with Mercado Pago." in note
    assert "Cancel at least 12 h before and you get everything back." in note
    assert "Cancelled later or missed, the practice keeps the deposit." in note
    fits(page, viewport)
    screenshot(page, f"payments-week-{name}")

    # A time next week, more than a day ahead: well before the notice, so she may cancel it.
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url("**?week=*")
    page.wait_for_load_state("networkidle")
    tomorrow = timezone.now() + timedelta(days=1)
    slots = page.locator("a.slot")
    hrefs = [slots.nth(i).get_attribute("href") for i in range(slots.count())]
    chosen = next(
        h for h in hrefs if parse_datetime(parse_qs(urlsplit(h).query)["start"][0]) > tomorrow
    )
    page.locator(f'a.slot[href="{chosen}"]').click()
    page.wait_for_url("**/confirm/?start=*")
    page.get_by_label("Virtual").check()
    page.get_by_role("button", name="Book and pay").click()

    # Sent to Mercado Pago's checkout (the stand-in), the session held for her meanwhile.
    page.wait_for_url(f"{mercado_pago.url}/checkout/*")
    session = Reservation.objects.get(client=patient)
    assert (session.status, session.awaiting_payment) == ("PENDING", True)
    assert session.checkout.amount == Decimal("6000.00")
    assert "6000" in page.inner_text("main")
    fits(page, viewport)
    screenshot(page, f"payments-checkout-{name}")
    page.get_by_role("button", name="Approve payment").click()

    # Back on the site: the payment is received and the session confirmed.
    page.wait_for_url(f"{live_server.url}/reservations/{session.pk}/paid/*")
    status = page.inner_text("#payment-status")
    assert "Payment received. Your session is confirmed." in status
    assert "You paid $ 6,000.00 with Mercado Pago" in status
    fits(page, viewport)
    screenshot(page, f"payments-paid-{name}")
    session.refresh_from_db()
    assert (session.status, session.awaiting_payment) == ("CONFIRMED", False)
    payment = Payment.objects.get(reservation=session)
    assert (payment.status, payment.amount) == ("approved", Decimal("6000.00"))
    assert mercado_pago.notifications == [(f"{live_server.url}/payments/mercadopago/webhook", 200)]

    # She cancels in time from the session's page: everything paid comes back.
    page.get_by_role("link", name="See the session").click()
    page.wait_for_url(f"**/reservations/{session.pk}/")
    assert "You paid $ 6,000.00 with Mercado Pago" in page.inner_text(".money")
    page.locator("#reservation-detail .cancel-form button").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Yes, cancel it").click()
    # The card comes back in its new state (htmx), with what is coming back.
    page.locator("#reservation-detail .money", has_text="We are refunding").wait_for()
    money = page.inner_text("#reservation-detail .money")
    assert "We are refunding $ 6,000.00" in money
    fits(page, viewport)
    screenshot(page, f"payments-refunding-{name}")
    session.refresh_from_db()
    assert session.status == "CANCELLED"
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.status, refund.reason) == (
        Decimal("6000.00"),
        "requested",
        "cancelled",
    )

    # The worker makes it at Mercado Pago; the page then says it was made.
    assert run_refunds() == 1
    # Her messages, and Lic. Gómez's (a new booking, once paid; its cancel): each one sent.
    run_due_tasks()
    assert not Outbox.objects.exclude(last_error="").exists()
    sent = [(m.to[0], m.subject) for m in mail.outbox]
    assert any(to == "gomez@example.com" and "Turno nuevo: Lucía" in what for to, what in sent)
    refunded = "We refunded $ 6,000.00 for your session with Lic. Carolina Gómez"
    assert ("lucia@example.com", refunded) in sent
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == "approved"
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("6000.00"))
    at_mercado_pago = mercado_pago.payments[int(payment.mp_payment_id)]
    assert at_mercado_pago["status"] == "refunded"
    assert at_mercado_pago["transaction_amount_refunded"] == Decimal("6000")
    page.reload()
    assert "We refunded $ 6,000.00." in page.inner_text("#reservation-detail .money")
    fits(page, viewport)
    screenshot(page, f"payments-refunded-{name}")
    assert page.console.csp_violations() == []
    close(page)

    # axe-core: nothing serious on the week, the return page and the session's page.
    for path in (week_path, f"/reservations/{session.pk}/paid/", f"/reservations/{session.pk}/"):
        assert audit(browser, live_server, viewport, path) == [], path
