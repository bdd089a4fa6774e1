"""The dashboard in a real Chromium: what only a browser can check (htmx, confirm, focus)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from .browser import launch, screenshot
from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="es-AR")
    pg = context.new_page()
    yield pg
    context.close()


def log_in(page, live_server, email="lucia@example.com"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")


@pytest.fixture
def turns(patient, make_reservation):
    now = timezone.now().replace(second=0, microsecond=0)
    return {
        "soon": make_reservation(patient, now + timedelta(hours=20)),
        "next": make_reservation(patient, now + timedelta(days=4), status="PENDING"),
        "later": make_reservation(patient, now + timedelta(days=11)),
        "past": make_reservation(patient, now - timedelta(days=7), modality="Presencial"),
        "cancelled": make_reservation(patient, now - timedelta(days=14), status="CANCELLED"),
    }


def test_cancel_in_place_after_confirming(page, live_server, turns):
    log_in(page, live_server)
    soon = page.locator(f'#history [data-reservation-id="{turns["soon"].pk}"]')
    assert soon.locator("button").count() == 0
    assert "48 h" in soon.inner_text()

    target = turns["next"]
    row = page.locator(f'#history [data-reservation-id="{target.pk}"]')
    page.evaluate("window.__marker = 'same page'")
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    row.get_by_role("button").click()
    page.wait_for_selector(f'#history [data-reservation-id="{target.pk}"].turn-row--cancelled')

    assert dialogs and "¿Cancelar tu turno" in dialogs[0]
    assert page.evaluate("window.__marker") == "same page"  # no reload
    assert "Tu turno fue cancelado." in page.locator("#flash").inner_text()
    assert "Ya cancelado" in row.inner_text()
    assert page.evaluate("document.activeElement.id") == "flash"
    target.refresh_from_db()
    assert target.status == "CANCELLED"


def test_dismissing_the_confirmation_changes_nothing(page, live_server, turns):
    log_in(page, live_server)
    target = turns["next"]
    page.once("dialog", lambda d: d.dismiss())
    page.locator(f'#history [data-reservation-id="{target.pk}"] button').click()
    page.wait_for_timeout(300)
    target.refresh_from_db()
    assert target.status == "PENDING"
    assert "cancelado" not in page.locator("#flash").inner_text()


def test_cancelling_the_current_turn_updates_the_card(page, live_server, patient, make_reservation):
    now = timezone.now()
    first = make_reservation(patient, now + timedelta(days=3))
    second = make_reservation(patient, now + timedelta(days=6))
    log_in(page, live_server)
    card = page.locator("#current-turn")
    assert card.get_attribute("aria-labelledby") == "current-turn-title"
    assert card.locator(f'[data-reservation-id="{first.pk}"]').count() == 1
    page.once("dialog", lambda d: d.accept())
    card.get_by_role("button").click()
    page.wait_for_selector(f'#current-turn [data-reservation-id="{second.pk}"]')
    assert (
        "Ya cancelado" in page.locator(f'#history [data-reservation-id="{first.pk}"]').inner_text()
    )


def test_screenshots(browser, live_server, turns, other_patient):
    for name, viewport in [("dashboard-desktop", DESKTOP), ("dashboard-phone", PHONE)]:
        context = browser.new_context(viewport=viewport, locale="es-AR")
        page = context.new_page()
        log_in(page, live_server)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, name)
        context.close()
    context = browser.new_context(viewport=DESKTOP, locale="es-AR")
    page = context.new_page()
    log_in(page, live_server, email="martin@example.com")
    assert "No tenés turnos próximos." in page.locator("#current-turn").inner_text()
    screenshot(page, "dashboard-empty")
    context.close()
