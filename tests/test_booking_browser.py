"""Booking, moving and cancelling a session as a patient, in Chromium on a phone (390 px):
links and forms only, under the site's strict CSP. Screenshots: booking-*.png (SCREENSHOT_DIR;
`SCREENSHOT_DIR=docs/screenshots` writes the documentation's)."""

from datetime import time, timedelta

import pytest

from reservations.models import Reservation
from scheduling.models import WorkingHours

from .browser import ConsoleErrors, enter, screenshot
from .test_a11y import axe_violations
from .test_browser import PHONE, SMALL_TARGETS_JS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="es-AR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleErrors(page)
    yield page
    errors = page.console.unexpected()
    context.close()
    assert not errors, f"console errors: {errors}"


@pytest.fixture
def hours(professional):
    # A notice shorter than the lead time: every session booked may be moved and cancelled.
    professional.professional_profile.cancellation_notice_hours = 12
    professional.professional_profile.save()
    for weekday in range(7):
        for start, end in ((time(9), time(13)), (time(15), time(19))):
            WorkingHours.objects.create(
                professional=professional, weekday=weekday, start_time=start, end_time=end
            )


def fits(page):
    """No sideways scrolling, no small targets."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (page.url, width)
    assert page.evaluate(SMALL_TARGETS_JS) == []


def test_a_patient_books_moves_and_cancels_on_a_phone(phone, live_server, patient, hours):
    page = phone
    enter(page, live_server)
    page.get_by_role("link", name="Pedir turno").click()
    page.wait_for_url(f"{live_server.url}/book/")
    fits(page)
    page.get_by_role("link", name="Lic. Carolina Gómez").click()

    # A week of free times, day by day.
    page.wait_for_selector(".slot")
    fits(page)
    assert page.locator(".days").evaluate("el => getComputedStyle(el).gridTemplateColumns")
    days = page.locator(".day")
    assert 1 <= days.count() <= 7  # from today on
    first_box, second_box = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    assert second_box["y"] > first_box["y"]  # one under the other, not side by side
    screenshot(page, "booking-phone")
    # The next week comes in place (htmx), and the address follows.
    page.evaluate("window.__marker = 'same page'")
    page.get_by_role("link", name="Semana siguiente").click()
    page.wait_for_url("**?week=*")
    assert page.evaluate("window.__marker") == "same page"
    # Wait for this week to replace the next one: reading the slots before the swap would take
    # the next week's first time, and clicking after it this week's.
    back = page.get_by_role("link", name="Semana anterior")
    this_week = back.get_attribute("href").split("week=")[1]
    back.click()
    page.wait_for_url(f"**?week={this_week}")
    page.wait_for_load_state("networkidle")

    first = page.locator(".slot").first
    first_time = first.locator(".slot__time").inner_text()
    first.click()
    page.wait_for_url("**/confirm/?start=*")
    fits(page)
    assert first_time in page.locator(".turn-card__when").inner_text()
    page.get_by_label("Presencial").check()
    screenshot(page, "booking-confirm-phone")
    page.get_by_role("button", name="Pedir este horario").click()
    page.wait_for_url("**/reservations/*/")
    assert "Enviamos tu pedido. Tu profesional lo va a confirmar." in page.inner_text("#flash")
    booked = Reservation.objects.get()
    assert booked.status == "PENDING" and booked.session_modality == "Presencial"

    # Move it to the next free time.
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="Cambiar horario").click()
    page.wait_for_selector(".slot")
    fits(page)
    assert "Estás cambiando este turno" in page.inner_text(".page-head")
    page.locator(".slot").nth(1).click()
    page.wait_for_url("**/reschedule/confirm/?start=*")
    assert page.get_by_label("Presencial").is_checked()  # the session's own modality
    page.get_by_role("button", name="Cambiar mi turno").click()
    page.wait_for_url("**/reservations/*/")
    assert "Tu turno cambió de horario." in page.inner_text("#flash")
    booked.refresh_from_db()
    assert booked.status == "CANCELLED" and booked.cancellation_reason == "rescheduled"
    moved = Reservation.objects.get(rescheduled_from=booked)
    assert moved.start_time > booked.start_time
    screenshot(page, "booking-moved-phone")

    # And cancel it, from the dashboard, confirming in the dialog.
    page.goto(f"{live_server.url}/dashboard/")
    page.locator(f"#reservation-{moved.pk}").get_by_role("button", name="Cancelar").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Sí, cancelarlo").click()
    page.wait_for_selector("#flash .flash--success")
    moved.refresh_from_db()
    assert moved.status == "CANCELLED"
    assert page.console.csp_violations() == []


def test_the_booking_pages_pass_axe(browser, live_server, patient, professional, hours):
    from django.utils import timezone

    from scheduling.slots import free_slots

    today = timezone.localdate()
    slot = free_slots(professional, today, today + timedelta(days=14), now=timezone.now())[0]
    session = Reservation.objects.create(
        client=patient,
        professional=professional,
        start_time=slot.start + timedelta(days=7),
        end_time=slot.end + timedelta(days=7),
        status="CONFIRMED",
    )
    start = slot.start.strftime("%Y-%m-%dT%H:%MZ")
    # bypass_csp only so that axe (tests/assets) can be injected, as in test_a11y.py.
    for viewport in (PHONE, {"width": 1280, "height": 900}):
        context = browser.new_context(viewport=viewport, locale="es-AR", bypass_csp=True)
        page = context.new_page()
        enter(page, live_server, path=None)
        for path in (
            "/book/",
            f"/book/{professional.pk}/",
            f"/book/{professional.pk}/confirm/?start={start}",
            f"/reservations/{session.pk}/reschedule/",
            f"/reservations/{session.pk}/reschedule/confirm/?start={start}",
        ):
            page.goto(f"{live_server.url}{path}")
            serious = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
            assert serious == [], (path, viewport, serious)
        context.close()
