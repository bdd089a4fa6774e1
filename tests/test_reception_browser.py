"""Reception in a real Chromium, at 1366 and 390 px: a professional is ill tomorrow; reception
cancels her day with a reason, and her patient reads it on the dashboard."""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from reservations.models import Reservation
from reservations_site.roles import RECEPTION

from .browser import ConsoleErrors, enter, screenshot
from .conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def new_page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="es-AR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleErrors(page)
    return page


@pytest.fixture
def tomorrow(patient, other_patient, make_reservation):
    day = timezone.localdate() + timedelta(days=1)

    def at(hour):
        return timezone.make_aware(datetime.combine(day, time(hour)))

    return day, [
        make_reservation(patient, at(10)),
        make_reservation(other_patient, at(11), status="PENDING"),
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_reception_cancels_a_professionals_day(browser, live_server, tomorrow, viewport):
    # As a practice makes its front desk: staff in the group, not a superuser (README, Reception).
    desk = make_user("recepcion@example.com", first_name="Recepción", is_staff=True)
    desk.groups.add(Group.objects.get(name=RECEPTION))
    day, sessions = tomorrow
    phone = viewport is PHONE
    page = new_page(browser, viewport)

    enter(page, live_server, "recepcion@example.com", "/admin/reservations/reservation/")
    assert "Turnos · Recepción" in page.title()
    assert page.locator("#result_list tbody tr").count() == 2  # today onward
    assert page.locator(".turnos-badge--pending").count() == 1
    if phone:
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        screenshot(page, "admin-list-phone")

    page.get_by_role("link", name="Cancelar turnos de un profesional").click()
    page.select_option("select[name=professional]", label="Lic. Carolina Gómez")
    page.fill("input[name=start]", day.isoformat())
    page.fill("input[name=end]", day.isoformat())
    page.fill(
        "textarea[name=reason]", "La Lic. Gómez está enferma; te escribimos para reprogramar."
    )
    page.get_by_role("button", name="Ver los turnos").click()
    assert "Se van a cancelar 2 turnos" in page.locator("#content").inner_text()
    assert page.locator(".turnos-sessions tbody tr").count() == 2
    assert Reservation.objects.filter(status="CANCELLED").count() == 0  # only shown so far
    if phone:
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
    else:
        screenshot(page, "admin-bulk-cancel-desktop")

    page.get_by_role("button", name="Cancelar 2 turnos").click()
    # A bulk cancel asks for the password again (tests/test_reauth.py), then carries on.
    page.wait_for_url("**/accounts/reauthenticate/**")
    assert Reservation.objects.filter(status="CANCELLED").count() == 0
    if phone:
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "2 reservas canceladas" in page.locator(".messagelist").inner_text()
    assert Reservation.objects.filter(status="CANCELLED").count() == 2

    # The change form of a cancelled session, on the same screen: read-only but its notes.
    page.goto(f"{live_server.url}/admin/reservations/reservation/{sessions[0].pk}/change/")
    assert page.locator("textarea[name=internal_notes]").is_visible()
    assert page.locator("input[name=start_time_0]").count() == 0
    if phone:
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert not page.console.unexpected(), page.console.unexpected()
    page.context.close()

    # The patient sees it cancelled by the practice, and the reason on the session's page.
    patient_page = new_page(browser, viewport)
    enter(patient_page, live_server, "lucia@example.com", "/dashboard/")
    row = patient_page.locator(f"#reservation-{sessions[0].pk}")
    assert "por el consultorio" in row.inner_text()
    patient_page.goto(f"{live_server.url}/reservations/{sessions[0].pk}/")
    assert "La Lic. Gómez está enferma" in patient_page.locator("main").inner_text()
    assert not patient_page.console.unexpected(), patient_page.console.unexpected()
    patient_page.context.close()
