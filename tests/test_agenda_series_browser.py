"""A weekly series made from the agenda in a real Chromium, on a desktop and on a phone: the dates
listed with their clash, refused until the clash is ticked, then created; a session of it then
says so. The site's strict CSP holds: any console error fails the test."""

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from reservations.actions import Actor
from series.models import Series, SkippedOccurrence

from .browser import enter, screenshot
from .test_agenda_browser import (
    DESKTOP,
    GOMEZ,
    VIEWPORTS,
    close,
    new_page,
    no_horizontal_scroll,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_professional_creates_a_series_skipping_a_clash(
    browser,
    live_server,
    patient,
    other_patient,
    professional,
    make_reservation,
    viewport,
):
    zone = zoneinfo.ZoneInfo(professional.time_zone)
    first = timezone.localdate(timezone.now(), zone) + timedelta(days=1)

    def at_six(day):
        return datetime.combine(day, time(18), tzinfo=zone)

    make_reservation(patient, at_six(first - timedelta(days=7)))  # Lucía is one of hers
    make_reservation(other_patient, at_six(first + timedelta(weeks=2)))  # the third date

    page = new_page(browser, viewport)
    enter(page, live_server, email=GOMEZ, path="/agenda/")
    page.get_by_role("link", name="Nueva serie semanal").click()
    page.wait_for_url("**/agenda/series/new/")
    page.get_by_label("Paciente").select_option(label="Lucía · lucia@example.com")
    page.get_by_label("Día de la semana").select_option(str(first.weekday()))
    page.get_by_label("Hora").fill("18:00")
    page.get_by_label("Duración de la sesión (minutos)").fill("45")
    page.get_by_label("Empieza el").fill(first.isoformat())
    page.get_by_role("button", name="Ver las fechas").click()

    plan = page.locator("#plan")
    plan.wait_for()
    assert plan.locator(".plan-list__item").count() == 12
    clash = plan.locator(".plan-list__item--clash")
    assert clash.count() == 1 and "Martín" in clash.inner_text()
    no_horizontal_scroll(page, viewport)
    name = "agenda-series-new-desktop" if viewport is DESKTOP else "agenda-series-new-phone"
    screenshot(page, name)

    page.get_by_role("button", name="Crear la serie").click()
    page.locator("#plan [role=alert]").wait_for()
    assert "marcá cada una" in page.locator("#plan").inner_text()
    assert Series.objects.count() == 0

    page.locator("#plan").get_by_label("Saltear esta fecha").check()
    page.get_by_role("button", name="Crear la serie").click()
    page.wait_for_url(f"**/agenda/?date={first.isoformat()}")
    assert "Serie creada con 11 sesiones." in page.locator("#flash").inner_text()
    series = Series.objects.get()
    assert series.occurrences.count() == 11
    assert SkippedOccurrence.objects.get().consented_by == professional

    # Its first session says which series it is part of, with "this and later".
    first_session = series.occurrences.get(index=0).reservation
    page.goto(f"{live_server.url}/agenda/{first_session.pk}/")
    box = page.locator(".series-box")
    assert "Semanal ·" in box.inner_text() and "18:00" in box.inner_text()
    assert box.get_by_role("link", name="Cancelar esta y las siguientes").is_visible()
    # The date skipped with her consent is listed, and who agreed.
    assert ": la salteaste vos" in box.locator(".series-box__skipped").inner_text()
    no_horizontal_scroll(page, viewport)
    name = "agenda-series-session-desktop" if viewport is DESKTOP else "agenda-series-session-phone"
    screenshot(page, name)

    # "Change the time of this and later": each session at its new time, before anything moves.
    box.get_by_role("link", name="Cambiar el horario de esta y las siguientes").click()
    page.get_by_label("Hora").fill("10:00")
    page.get_by_role("button", name="Vista previa").click()
    page.locator("#plan").wait_for()
    assert page.locator("#plan .plan-list__item").count() == 11
    assert "10:00 – 10:45" in page.locator("#plan").inner_text()
    no_horizontal_scroll(page, viewport)
    if viewport is not DESKTOP:
        screenshot(page, "agenda-series-move-phone")
    close(page)
    assert {o.reservation.start_time.astimezone(zone).hour for o in series.occurrences.all()} == {
        18
    }


def test_the_series_pages_pass_axe(browser, live_server, patient, other_patient, professional):
    """axe-core (tests/test_a11y.py's audit) on the new series page with its dates and a clash,
    and on a series session's "this and later" pages."""
    from series.services import create_series

    from .test_a11y import Audit

    zone = zoneinfo.ZoneInfo(professional.time_zone)
    first = timezone.localdate(timezone.now(), zone) + timedelta(days=1)
    series = create_series(
        client=patient,
        professional=professional,
        weekday=first.weekday(),
        local_time=time(18),
        minutes=45,
        session_modality="Virtual",
        starts_on=first,
        by=Actor.professional(professional),
    )
    session = series.occurrences.get(index=1).reservation
    context = browser.new_context(viewport=DESKTOP, locale="es-AR", bypass_csp=True)
    page = context.new_page()
    audit = Audit(page)
    enter(page, live_server, GOMEZ, path="/agenda/series/new/")
    page.get_by_label("Paciente").select_option(label="Lucía · lucia@example.com")
    page.get_by_label("Día de la semana").select_option(str(first.weekday()))
    page.get_by_label("Hora").fill("18:00")
    page.get_by_role("button", name="Ver las fechas").click()
    page.locator("#plan .plan-list__item--clash").first.wait_for()  # its own series is in the way
    audit.check("new series, previewed")
    page.goto(f"{live_server.url}/agenda/{session.pk}/")
    audit.check("series session page")
    page.goto(f"{live_server.url}/agenda/{session.pk}/series/move/")
    page.get_by_role("button", name="Vista previa").click()
    page.locator("#plan").wait_for()
    audit.check("move this and later, previewed")
    page.goto(f"{live_server.url}/agenda/{session.pk}/series/cancel/")
    audit.check("cancel this and later")
    context.close()
    assert audit.serious == []
