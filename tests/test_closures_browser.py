"""Closed days and absences as people see them, in Chromium at 1366 and 390 px: the patient's
booking week with a holiday, a closure and an absence shaded and named; the professional's hours
page listing the sessions inside a new absence. No script needed: links and forms only. Checked
with axe; screenshots closures-*.png (SCREENSHOT_DIR)."""

from datetime import date, datetime, time

import pytest
import time_machine

from scheduling.models import Closure, TimeOff, WorkingHours

from .browser import ConsoleErrors, enter, screenshot
from .test_a11y import axe_violations
from .test_browser import PHONE, SMALL_TARGETS_JS
from .test_closures import BA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": PHONE}


def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=BA)


@pytest.fixture
def december(settings, professional, patient):
    settings.PRACTICE_HOLIDAYS = "AR"
    for weekday in range(5):
        WorkingHours.objects.create(
            professional=professional, weekday=weekday, start_time=time(9), end_time=time(13)
        )
    Closure.objects.create(
        name="Mudanza", first_day=date(2026, 12, 10), last_day=date(2026, 12, 10)
    )
    TimeOff.objects.create(
        professional=professional,
        start=at(date(2026, 12, 11), 0),
        end=at(date(2026, 12, 12), 0),
        reason="Congreso",
    )
    with time_machine.travel(at(date(2026, 12, 1), 10), tick=True):
        yield


@pytest.mark.parametrize("name", VIEWPORTS)
def test_the_booking_week_shades_closed_days(browser, live_server, december, professional, name):
    context = browser.new_context(viewport=VIEWPORTS[name], locale="es-AR", bypass_csp=True)
    page = context.new_page()
    console = ConsoleErrors(page)
    enter(page, live_server, path=f"/book/{professional.pk}/?week=2026-12-07")
    closed = page.locator(".day--closed")
    # Monday's bridge holiday, Tuesday's holiday, Thursday's closure, Friday's absence.
    assert closed.count() == 4
    text = " ".join(closed.all_inner_texts())
    assert "Feriado: Inmaculada Concepción de María" in text
    assert "Mudanza" in text and "No atiende ese día" in text
    assert "Feriado: Feriado con fines turísticos" in text
    assert page.locator(".slot").count() == 4  # Wednesday's
    if name == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate(SMALL_TARGETS_JS) == []
    serious = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    assert serious == []
    screenshot(page, f"closures-booking-week-{name}")
    assert console.unexpected() == []
    context.close()


@pytest.mark.parametrize("name", VIEWPORTS)
def test_an_absence_lists_the_sessions_inside_first(
    browser, live_server, december, professional, patient, make_reservation, name
):
    make_reservation(patient, at(date(2026, 12, 14), 10))
    context = browser.new_context(viewport=VIEWPORTS[name], locale="es-AR", bypass_csp=True)
    page = context.new_page()
    enter(page, live_server, email=professional.email, path="/agenda/hours/")
    page.fill("#id_start", "2026-12-14T00:00")
    page.fill("#id_end", "2026-12-15T00:00")
    page.fill("#id_reason", "Licencia")
    page.get_by_role("button", name="Agregar ausencia").click()
    page.wait_for_selector(".absence-decision")
    assert "1 turno cae dentro de esta ausencia" in page.content()
    assert "Lucía" in page.locator(".form-errors").first.inner_text()
    serious = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    assert serious == []
    if name == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator(".absence-decision").scroll_into_view_if_needed()
    screenshot(page, f"closures-absence-{name}", full_page=False)
    page.get_by_label("Mantenerlos: los turnos se hacen igual").check()
    page.get_by_role("button", name="Agregar ausencia").click()
    page.wait_for_selector("text=Ausencia agregada.")
    context.close()
