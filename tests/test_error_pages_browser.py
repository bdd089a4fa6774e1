"""The 403 and 404 pages of a logged-in patient in a real Chromium, on a desktop and a phone:
the site's layout under its strict CSP, in Spanish, with the way back to the dashboard.

Screenshots go to test-artifacts/screenshots, or docs/screenshots with
SCREENSHOT_DIR=docs/screenshots (error-403-desktop.png, error-404-phone.png...)."""

import uuid

import pytest

from .browser import ConsoleErrors, enter, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("device", VIEWPORTS)
@pytest.mark.parametrize(
    "status, path, title",
    [
        # The admin sends a patient to its login page, which answers 403 (secure_admin_login).
        (403, "/admin/", "Esta página no es para tu cuenta"),
        (404, f"/reservations/{uuid.uuid4()}/", "No encontramos esta página"),
    ],
)
def test_a_patient_sees_the_sites_error_page_and_a_way_back(
    browser, live_server, patient, device, status, path, title
):
    viewport = VIEWPORTS[device]
    page = browser.new_context(viewport=viewport, locale="es-AR").new_page()
    page.set_default_timeout(10_000)
    console = ConsoleErrors(page)
    # The page's own status shows in the console as a failed load; nothing else may.
    console.allow(f"the server responded with a status of {status}")
    enter(page, live_server, path=None)

    response = page.goto(f"{live_server.url}{path}")

    assert response.status == status
    assert page.locator("html").get_attribute("lang") == "es-ar"
    assert page.get_by_role("heading", level=1).inner_text() == title
    # The site's stylesheet applied: the brand's mark is a coloured square, not bare text.
    mark = page.locator(".brand__mark")
    assert mark.evaluate("el => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    way_back = page.get_by_role("link", name="Volver a mis turnos")
    box = way_back.bounding_box()
    assert box["height"] >= 24 and box["x"] + box["width"] <= viewport["width"]
    screenshot(page, f"error-{status}-{device}")
    assert console.unexpected() == [] and console.csp_violations() == []

    way_back.click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.context.close()
