"""The calendar link on /preferences/ in a real Chromium, on a desktop and a phone: "Copiar" puts
the feed's URL on the clipboard (read back from it), the URL serves the calendar, and "Generar un
enlace nuevo" makes the old one answer 404. A session's page downloads its .ics.

Screenshots go to test-artifacts/screenshots, or docs/screenshots with
SCREENSHOT_DIR=docs/screenshots (preferences-calendar-desktop.png, ...-phone.png)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reservations.actions import Actor
from reservations.models import Channel, Reservation

from .browser import ConsoleErrors, enter, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def session(patient, professional):
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=3)
    return Reservation.book(
        by=Actor.patient(patient, Channel.PAGE),
        client=patient,
        professional=professional,
        start_time=start,
        end_time=start + timedelta(minutes=45),
        status="CONFIRMED",
    )


def new_page(browser, live_server, viewport):
    context = browser.new_context(viewport=viewport, locale="es-AR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleErrors(page)
    return page


@pytest.mark.parametrize("device", VIEWPORTS)
def test_copy_the_link_then_replace_it(browser, live_server, session, device):
    viewport = VIEWPORTS[device]
    page = new_page(browser, live_server, viewport)
    enter(page, live_server, path="/preferences/")

    field = page.get_by_label("Tu enlace de calendario")
    url = field.input_value()
    assert url.startswith(f"{live_server.url}/calendar/") and url.endswith(".ics")
    assert field.get_attribute("readonly") is not None
    webcal = page.get_by_role("link", name="Abrir en mi app de calendario")
    assert webcal.get_attribute("href") == "webcal://" + url.split("://", 1)[1]

    page.get_by_role("button", name="Copiar").click()
    # The clipboard's promise settles after the click returns: wait for the announcement.
    expect(page.locator("#calendar-url-status")).to_have_text("Enlace copiado.")
    assert page.evaluate("navigator.clipboard.readText()") == url

    feed = page.request.get(url)
    assert feed.status == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert f"UID:{session.pk}@turnos" in feed.text()

    # Laid out for the screen: no sideways scrolling, every control a comfortable target.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    for control in (field, page.get_by_role("button", name="Copiar"), webcal):
        box = control.bounding_box()
        assert box["height"] >= 24 and box["x"] + box["width"] <= viewport["width"]
    page.locator("#calendar").scroll_into_view_if_needed()
    screenshot(page, f"preferences-calendar-{device}")

    page.get_by_role("button", name="Generar un enlace nuevo").click()
    page.wait_for_url(f"{live_server.url}/preferences/#calendar")
    assert "Tu calendario tiene un enlace nuevo" in page.locator("#flash").inner_text()
    new_url = page.get_by_label("Tu enlace de calendario").input_value()
    assert new_url != url
    assert page.request.get(url).status == 404
    assert page.request.get(new_url).status == 200

    assert page.console.unexpected() == [] and page.console.csp_violations() == []
    page.context.close()


def test_add_a_session_to_the_calendar_from_its_page(browser, live_server, session):
    page = new_page(browser, live_server, VIEWPORTS["phone"])
    enter(page, live_server, path=f"/reservations/{session.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Agregar al calendario").click()
    start = timezone.localtime(session.start_time)
    assert download.value.suggested_filename == f"turno-{start:%Y-%m-%d-%H%M}.ics"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"UID:{session.pk}@turnos" in text
    assert page.console.unexpected() == [] and page.console.csp_violations() == []
    page.context.close()
