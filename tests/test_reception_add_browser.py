"""Reception books a session in a real Chromium, at 1366 and 390 px: the patient picked by typing,
the professional's free times shown, one picked, booked confirmed."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from reservations.models import Reservation
from reservations_site.roles import RECEPTION
from scheduling.models import WorkingHours

from .browser import ConsoleErrors, enter, screenshot
from .conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_reception_books_one_of_the_free_times(
    browser, live_server, patient, professional, viewport
):
    desk = make_user("recepcion@example.com", first_name="Recepción", is_staff=True)
    desk.groups.add(Group.objects.get(name=RECEPTION))
    day = timezone.localdate() + timedelta(days=1)
    WorkingHours.objects.create(
        professional=professional,
        weekday=day.weekday(),
        start_time="09:00",
        end_time="13:00",
        modality="both",
        session_minutes=45,
        buffer_minutes=15,
    )
    name = "desktop" if viewport is DESKTOP else "phone"
    context = browser.new_context(viewport=viewport, locale="es-AR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = ConsoleErrors(page)

    enter(page, live_server, "recepcion@example.com", "/admin/reservations/reservation/add/")
    # The patient: typed into the picker, as on a session's page.
    page.locator(".field-client .select2-selection").click()
    page.locator(".select2-search__field").fill("lucia")
    page.locator(".select2-results__option", has_text="lucia@example.com").click()
    page.select_option("select[name=professional]", label="Lic. Carolina Gómez")
    page.fill("input[name=day]", day.isoformat())
    page.get_by_role("button", name="Ver horarios libres").click()

    times = page.locator("#free-times input[name=slot]")
    times.first.wait_for()  # the page sent back
    assert times.count() == 4  # 9, 10, 11 and 12 o'clock
    assert "Lucía" in page.locator(".field-client").inner_text()  # still chosen
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(page, f"admin-book-free-times-{name}")

    page.get_by_label("10:00–10:45").check()
    page.get_by_role("button", name="Reservar", exact=True).click()
    page.wait_for_url("**/change/")
    assert "Turno reservado" in page.locator(".messagelist").inner_text()
    session = Reservation.objects.get()
    assert (session.client, session.status) == (patient, "CONFIRMED")
    assert timezone.localtime(session.start_time).hour == 10
    assert errors.unexpected() == []
