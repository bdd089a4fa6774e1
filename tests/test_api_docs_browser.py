"""/api/docs in a real Chromium: Swagger UI renders from the site's own files under the strict
CSP, and the logged-in browser can call the API with its session (CSRF header on DELETE)."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from .browser import launch
from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(locale="es-AR")
        yield context.new_page()
        browser.close()


def test_the_docs_render_from_this_site_only_under_the_csp(page, live_server):
    problems, hosts = [], set()
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))

    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".opblock", timeout=15000)

    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert sorted(s.replace("\u200b", "") for s in summaries) == [
        "/api/professionals",
        "/api/professionals/{id}/slots",
        "/api/reservations",
        "/api/reservations/user/{client_id}",
        "/api/reservations/{id}",
        "/api/reservations/{id}",
        "/api/reservations/{id}/pay",
        "/api/reservations/{id}/reschedule",
    ]
    assert page.locator(".auth-wrapper .authorize").count() == 1  # both schemes, one button
    assert hosts == {urlsplit(live_server.url).netloc}
    assert problems == []


def test_the_logged_in_browser_calls_the_api_with_its_session(
    page, live_server, patient, make_reservation
):
    reservation = make_reservation(patient, timezone.now() + timedelta(days=7))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", patient.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")

    call = """async ([method, url, withToken]) => {
        const headers = {};
        if (withToken) {
            const cookie = document.cookie.split("; ").find(c => c.includes("csrftoken="));
            headers["X-CSRFToken"] = cookie.split("=")[1];
        }
        const r = await fetch(url, {method, headers, credentials: "same-origin"});
        return [r.status, await r.json()];
    }"""
    status, body = page.evaluate(call, ["GET", f"/api/reservations/user/{patient.pk}", False])
    assert status == 200
    assert [r["id"] for r in body["data"]] == [str(reservation.pk)]

    status, body = page.evaluate(call, ["DELETE", f"/api/reservations/{reservation.pk}", False])
    assert (status, body["status"]) == (403, 403)
    reservation.refresh_from_db()
    assert reservation.status == "CONFIRMED"

    status, body = page.evaluate(call, ["DELETE", f"/api/reservations/{reservation.pk}", True])
    assert status == 200
    reservation.refresh_from_db()
    assert reservation.status == "CANCELLED"
