"""A practice's first week in a real Chromium, at 1366 and 390 px: a patient moves a confirmed
session to a time her professional must approve; the professional declines and the session
stands; she asks again, the professional accepts, and the old time is cancelled as rescheduled.
axe-core finds nothing serious on the pages the move adds."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from reservations.models import Reservation
from scheduling.models import WorkingHours

from .browser import ConsoleErrors, enter, screenshot
from .test_a11y import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


@pytest.fixture
def week(patient, professional):
    """Lic. Gómez approves every booking and works every day 9 to 13; Lucía's session in four
    days at 10:00 is confirmed."""
    profile = professional.professional_profile
    profile.cancellation_notice_hours = 12
    profile.save()
    for weekday in range(7):
        WorkingHours.objects.create(
            professional=professional, weekday=weekday, start_time=time(9), end_time=time(13)
        )
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + timedelta(days=4, hours=10)
    return Reservation.objects.create(
        client=patient,
        professional=professional,
        start_time=start,
        end_time=start + timedelta(minutes=50),
        status="CONFIRMED",
    )


def open_as(browser, live_server, viewport, email, path):
    # bypass_csp: axe is injected as an inline script (tests/test_a11y.py).
    context = browser.new_context(viewport=viewport, locale="es-AR", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleErrors(page)
    enter(page, live_server, email=email, path=path)
    return page


def close(page):
    errors = page.console.unexpected()
    page.context.close()
    assert not errors, f"console errors: {errors}"


def serious(page):
    return [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]


def fits(page, viewport):
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def ask_to_move(browser, live_server, viewport, session, nth, shot=None):
    page = open_as(
        browser, live_server, viewport, "lucia@example.com", f"/reservations/{session.pk}/"
    )
    page.get_by_role("link", name="Cambiar horario").click()
    page.wait_for_selector(".slot")
    assert "Tu profesional primero confirma el horario nuevo" in page.inner_text("main")
    page.locator("a.slot").nth(nth).click()
    page.wait_for_url("**/reschedule/confirm/?start=*")
    assert "hasta entonces, tu turno sigue como está" in page.inner_text("main")
    assert serious(page) == []
    fits(page, viewport)
    page.get_by_role("button", name="Pedir el cambio de horario").click()
    page.wait_for_url("**/reservations/*/")
    request = Reservation.objects.get(rescheduled_from=session, status="PENDING")
    assert page.url.endswith(f"/reservations/{request.pk}/")
    assert "Pediste pasar acá tu turno del" in page.inner_text("#reservation-detail")
    assert serious(page) == []
    fits(page, viewport)
    if shot:
        screenshot(page, shot)
    close(page)
    return request


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_move_declined_keeps_the_session_and_a_move_accepted_replaces_it(
    browser, live_server, week, viewport
):
    name = "desktop" if viewport is DESKTOP else "phone"
    session = week

    # She asks to move it; it stands meanwhile.
    request = ask_to_move(browser, live_server, viewport, session, 0, f"move-request-{name}")
    session.refresh_from_db()
    assert session.status == "CONFIRMED"

    # The agenda shows the request as a move; Lic. Gómez declines it.
    page = open_as(browser, live_server, viewport, "gomez@example.com", "/agenda/")
    card = page.locator(f"#pending-{request.pk}")
    assert "Quiere pasar el" in card.inner_text()
    assert serious(page) == []
    fits(page, viewport)
    screenshot(page, f"move-request-agenda-{name}")
    card.locator("summary").click()
    card.get_by_label("¿Por qué? Lo va a leer el paciente.").fill("Ese horario ya no lo tengo")
    card.get_by_role("button", name="Rechazar el pedido").click()
    page.wait_for_selector(f"#pending-{request.pk}.request--cancelled")
    close(page)
    session.refresh_from_db()
    request.refresh_from_db()
    assert request.status == "CANCELLED" and request.declined
    assert session.status == "CONFIRMED" and session.cancelled_at is None

    # Her session is still there, as it was, and she may ask again.
    page = open_as(browser, live_server, viewport, "lucia@example.com", "/dashboard/")
    assert "Confirmado" in page.locator(f"#reservation-{session.pk}").inner_text()
    close(page)
    again = ask_to_move(browser, live_server, viewport, session, 1)

    # Accepted: the new time is confirmed and the old one cancelled as rescheduled, at once.
    page = open_as(browser, live_server, viewport, "gomez@example.com", "/agenda/")
    page.locator(f"#pending-{again.pk}").get_by_role("button", name="Confirmar").click()
    page.wait_for_selector(f"#pending-{again.pk} .badge--confirmed")
    close(page)
    again.refresh_from_db()
    session.refresh_from_db()
    assert again.status == "CONFIRMED"
    assert (session.status, session.cancellation_reason) == ("CANCELLED", "rescheduled")

    page = open_as(
        browser, live_server, viewport, "lucia@example.com", f"/reservations/{session.pk}/"
    )
    card = page.inner_text("#reservation-detail")
    assert "Reprogramado" in card
    assert "Pasado a otro horario: tu profesional aceptó tu pedido" in page.inner_text("main")
    assert serious(page) == []
    close(page)
