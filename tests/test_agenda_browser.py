"""The professional's agenda in a real Chromium, on a desktop and on a phone: confirming and
declining requests in place (htmx), marking a no-show, and what the patient then reads on their
own dashboard. The site's strict CSP holds: any console error fails the test."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reservations.models import Reservation

from .browser import ConsoleErrors, enter, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]
GOMEZ = "gomez@example.com"


def new_page(browser, viewport, locale="es-AR"):
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleErrors(page)
    return page


def as_user(browser, live_server, viewport, email, path):
    page = new_page(browser, viewport)
    enter(page, live_server, email=email, path=path)
    return page


def close(page):
    errors = page.console.unexpected()
    page.context.close()
    assert not errors, f"console errors: {errors}"


WIDEST_JS = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))
  .slice(0, 8)"""


def no_horizontal_scroll(page, viewport):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], page.evaluate(WIDEST_JS)


@pytest.fixture
def agenda(patient, other_patient, make_reservation):
    """Lic. Gómez's days, at the whole hours a practice books: two requests waiting (Lucía's the
    older), yesterday's sessions to mark, today's and a cancelled one."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    def at(days, hour, client, **kw):
        return make_reservation(client, midnight + timedelta(days=days, hours=hour), **kw)

    s = {
        "no_show": at(-1, 10, patient),
        "came": at(-1, 11, other_patient),
        "today": at(0, 17, other_patient),
        "today_in_person": at(0, 18, patient, modality="Presencial"),
        "cancelled": at(1, 9, patient, status="CANCELLED"),
        "request_lucia": at(2, 10, patient, status="PENDING"),
        "request_martin": at(3, 15, other_patient, status="PENDING"),
    }
    Reservation.objects.filter(pk=s["came"].pk).update(attended=True)
    now = timezone.now()
    Reservation.objects.filter(pk=s["request_lucia"].pk).update(created_at=now - timedelta(days=2))
    Reservation.objects.filter(pk=s["request_martin"].pk).update(created_at=now - timedelta(days=1))
    return s


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_confirm_and_decline_requests_in_place(browser, live_server, agenda, viewport):
    page = as_user(browser, live_server, viewport, GOMEZ, "/agenda/")
    lucia, martin = agenda["request_lucia"], agenda["request_martin"]
    items = page.locator("#pending .request")
    assert items.nth(0).get_attribute("id") == f"pending-{lucia.pk}"  # the older request first
    assert items.nth(1).get_attribute("id") == f"pending-{martin.pk}"
    no_horizontal_scroll(page, viewport)
    page.evaluate("window.__marker = 'same page'")

    page.locator(f"#pending-{lucia.pk}").get_by_role("button", name="Confirmar").click()
    page.wait_for_selector(f"#pending-{lucia.pk} .badge--confirmed")
    assert "Confirmado." in page.locator("#flash").inner_text()

    request = page.locator(f"#pending-{martin.pk}")
    request.locator("summary").click()
    request.get_by_label("¿Por qué? Lo va a leer el paciente.").fill("Esa semana no atiendo")
    request.get_by_role("button", name="Rechazar el pedido").click()
    page.wait_for_selector(f"#pending-{martin.pk}.request--cancelled")
    assert "Rechazado." in page.locator("#flash").inner_text()
    assert "Esa semana no atiendo" in page.locator(f"#pending-{martin.pk}").inner_text()
    assert page.evaluate("window.__marker") == "same page"  # swapped in place, no reload
    no_horizontal_scroll(page, viewport)
    if viewport is DESKTOP:
        screenshot(page, "agenda-desktop")
    else:
        screenshot(page, "agenda-phone")
    close(page)

    lucia.refresh_from_db()
    martin.refresh_from_db()
    assert lucia.status == "CONFIRMED"
    assert (martin.status, martin.cancellation_reason) == ("CANCELLED", "Esa semana no atiendo")

    # What each patient reads afterwards.
    page = as_user(browser, live_server, viewport, "lucia@example.com", "/dashboard/")
    assert "Confirmado" in page.locator(f"#reservation-{lucia.pk}").inner_text()
    close(page)
    page = as_user(browser, live_server, viewport, "martin@example.com", "/dashboard/")
    row = page.locator(f"#history #reservation-{martin.pk}").inner_text()
    # A declined request reads as declined, in the list as on its page (issue 25).
    assert "Rechazado" in row and "Cancelado" not in row
    page.goto(f"{live_server.url}/reservations/{martin.pk}/")
    assert "Esa semana no atiendo" in page.locator("#reservation-detail").inner_text()
    close(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_marking_a_no_show(browser, live_server, agenda, viewport):
    no_show = agenda["no_show"]
    day = timezone.localdate(no_show.start_time).isoformat()
    page = as_user(browser, live_server, viewport, GOMEZ, f"/agenda/?date={day}")
    if viewport is DESKTOP:
        # A desktop's week is a grid of hours: its block opens the session, which asks.
        block = page.locator(f"#grid-{no_show.pk}")
        assert "Asistencia sin registrar" in block.inner_text()
        block.click()
        page.wait_for_url(f"**/agenda/{no_show.pk}/")
        shown = "#session"
    else:
        shown = f"#session-{no_show.pk}"
        assert "Asistencia sin registrar" in page.locator(shown).inner_text()
    row = page.locator(shown)
    assert row.is_visible()  # on a phone too: the chosen day is the one shown
    row.get_by_role("button", name="Ausente").click()
    page.wait_for_selector(f"{shown} .badge--absent")
    assert "Marcado: ausente." in page.locator("#flash").inner_text()
    assert row.get_by_role("button", name="Ausente").get_attribute("aria-pressed") == "true"
    no_horizontal_scroll(page, viewport)

    # The session's page tells it, with the log; changing it there is one more event.
    page.goto(f"{live_server.url}/agenda/{no_show.pk}/")
    assert "Marcado: ausente" in page.locator(".timeline").inner_text()
    no_horizontal_scroll(page, viewport)
    if viewport is PHONE:
        screenshot(page, "agenda-session-phone")
    close(page)
    no_show.refresh_from_db()
    assert no_show.attended is False
    assert no_show.events.filter(action="attendance").count() == 1

    page = as_user(browser, live_server, viewport, "lucia@example.com", "/dashboard/")
    assert "Ausente" in page.locator(f"#history #reservation-{no_show.pk}").inner_text()
    close(page)


def test_a_phone_shows_one_day_and_walks_day_by_day(browser, live_server, agenda):
    page = as_user(browser, live_server, PHONE, GOMEZ, "/agenda/")
    today = timezone.localdate()
    assert page.locator(f"#day-{today.isoformat()}").is_visible()
    assert page.locator(".agenda-day:visible").count() == 1
    page.get_by_role("link", name="Día siguiente →").click()
    tomorrow = (today + timedelta(days=1)).isoformat()
    page.wait_for_url(f"**/agenda/?date={tomorrow}")
    assert page.locator(f"#day-{tomorrow}").is_visible()
    assert page.locator(".agenda-day:visible").count() == 1
    close(page)

    # A tablet sees the whole week, day by day; a desktop, the week's grid of hours.
    page = as_user(browser, live_server, {"width": 800, "height": 1000}, GOMEZ, "/agenda/")
    assert page.locator(".agenda-day:visible").count() == 7
    assert not page.locator(".day-strip").is_visible()
    assert not page.locator(".agenda-grid").is_visible()
    close(page)
    page = as_user(browser, live_server, DESKTOP, GOMEZ, "/agenda/")
    assert page.locator(".agenda-grid").is_visible()
    assert page.locator(".agenda-day:visible").count() == 0
    assert not page.locator(".day-strip").is_visible()
    close(page)


def test_the_agenda_pages_pass_axe(browser, live_server, agenda):
    """axe-core (tests/test_a11y.py's audit) on the agenda's pages, with a request's decline
    form and a session's cancel form open."""
    from .test_a11y import Audit

    context = browser.new_context(viewport=DESKTOP, locale="es-AR", bypass_csp=True)
    page = context.new_page()
    audit = Audit(page)
    enter(page, live_server, GOMEZ, path="/agenda/")
    page.locator(f"#pending-{agenda['request_lucia'].pk} summary").click()
    audit.check("/agenda/")
    page.goto(f"{live_server.url}/agenda/{agenda['request_lucia'].pk}/")
    page.locator(".cancel-box summary").click()
    audit.check("session page")
    page.goto(f"{live_server.url}/agenda/{agenda['no_show'].pk}/")
    audit.check("past session page")
    page.goto(f"{live_server.url}/agenda/settings/")
    audit.check("settings")
    context.close()
    assert audit.serious == []


def test_cancelling_from_the_session_page_asks_first(browser, live_server, agenda):
    target = agenda["request_lucia"]
    page = as_user(browser, live_server, DESKTOP, GOMEZ, f"/agenda/{target.pk}/")
    page.locator(".cancel-box summary").click()
    page.locator(".cancel-box textarea").fill("Tengo un congreso")
    page.get_by_role("button", name="Cancelar el turno", exact=True).click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible() and "con Lucía? No se puede deshacer." in dialog.inner_text()
    dialog.get_by_role("button", name="Sí, cancelarlo").click()
    page.wait_for_selector("#session .badge--cancelled")
    assert "Cancelado." in page.locator("#flash").inner_text()
    assert "Tengo un congreso" in page.locator("#session .timeline").inner_text()
    close(page)
    target.refresh_from_db()
    assert (target.status, target.cancellation_reason) == ("CANCELLED", "Tengo un congreso")
