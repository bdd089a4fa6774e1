"""The agenda's week grid in a real Chromium: on a desktop the week is a grid of hours whose blocks
open their session (by mouse and by keyboard); on a phone the day's list, no grid. Answering a
request in place lowers the count of pending requests. The strict CSP holds: any console error
fails the test."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from reservations.models import Reservation
from scheduling.models import TimeOff, WorkingHours

from .browser import enter, screenshot
from .conftest import make_user
from .test_agenda_browser import DESKTOP, GOMEZ, PHONE, close, new_page, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def week(professional, patient, other_patient, make_reservation):
    """Lic. Gómez's next week (always ahead, whatever today is): hours Monday to Friday 9–13 and
    14–19, sessions confirmed, in person, two requests (one of 50 minutes at 14:30), a cancelled
    one, and a congress on Thursday morning."""
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    zone = timezone.get_current_timezone()

    def at(day, hour, minute=0):
        return datetime.combine(monday + timedelta(days=day), time(hour, minute), tzinfo=zone)

    for weekday in range(5):
        for start, end in ((9, 13), (14, 19)):
            WorkingHours.objects.create(
                professional=professional,
                weekday=weekday,
                start_time=time(start),
                end_time=time(end),
            )
    TimeOff.objects.create(
        professional=professional, start=at(3, 9), end=at(3, 13), reason="Congreso"
    )
    ana = make_user("ana@example.com", first_name="Ana", last_name="Torres")
    julian = make_user("julian@example.com", first_name="Julián", last_name="Sosa")
    s = {
        "confirmed": make_reservation(patient, at(0, 9)),
        "in_person": make_reservation(other_patient, at(0, 10), modality="Presencial"),
        "request": make_reservation(ana, at(1, 14, 30), minutes=50, status="PENDING"),
        "other_request": make_reservation(julian, at(2, 11), status="PENDING"),
        "cancelled": make_reservation(patient, at(2, 9), status="CANCELLED"),
        "tuesday": make_reservation(julian, at(1, 9)),
        "thursday": make_reservation(ana, at(3, 15)),
        "friday": make_reservation(patient, at(4, 17), minutes=60),
    }
    now = timezone.now()
    for n, key in enumerate(("request", "other_request")):
        Reservation.objects.filter(pk=s[key].pk).update(created_at=now - timedelta(days=2 - n))
    return monday, s


def box(locator):
    return locator.bounding_box()


def test_a_desktop_sees_the_week_as_a_grid_and_a_block_opens_its_session(
    browser, live_server, week
):
    monday, s = week
    page = new_page(browser, DESKTOP)
    enter(page, live_server, GOMEZ, path=f"/agenda/?date={monday.isoformat()}")
    assert page.locator(".agenda-grid").is_visible()
    assert page.locator(".agenda-day:visible").count() == 0  # the days' lists are the phone's

    block = page.locator(f"#grid-{s['confirmed'].pk}")
    text = block.inner_text()
    for part in ("09:00–09:45", "Lucía", "Virtual", "Confirmado"):
        assert part in text
    assert "Pendiente" in page.locator(f"#grid-{s['request'].pk}").inner_text()
    assert "Presencial" in page.locator(f"#grid-{s['in_person'].pk}").inner_text()
    # A cancelled session frees its time: not in the grid, listed below it.
    assert page.locator(f"#grid-{s['cancelled'].pk}").count() == 0
    assert "Lucía" in page.locator(".agenda-grid__cancelled").inner_text()
    assert "Ausencia: Congreso" in page.locator(".agenda-grid__cell--off").first.inner_text()

    # Each block in its day's column, as high as it lasts: an hour apart is an hour lower.
    headers = page.locator(".agenda-grid thead th")
    for key, weekday in (("confirmed", 0), ("request", 1), ("friday", 4)):
        column, b = box(headers.nth(weekday + 1)), box(page.locator(f"#grid-{s[key].pk}"))
        assert column["x"] <= b["x"] and b["x"] + b["width"] <= column["x"] + column["width"] + 1
    nine, ten = box(block), box(page.locator(f"#grid-{s['in_person'].pk}"))
    hour = ten["y"] - nine["y"]
    assert 60 <= hour <= 80  # 4.5rem
    friday = box(page.locator(f"#grid-{s['friday'].pk}"))  # 60 minutes
    assert abs(friday["height"] - hour) <= 4
    request = box(page.locator(f"#grid-{s['request'].pk}"))  # 50 minutes
    assert abs(request["height"] - hour * 50 / 60) <= 4
    no_horizontal_scroll(page, DESKTOP)
    screenshot(page, "agenda-grid-desktop")

    # A block is a link: a click opens the session; so does the keyboard.
    block.click()
    page.wait_for_url(f"**/agenda/{s['confirmed'].pk}/")
    page.go_back()
    target = page.locator(f"#grid-{s['thursday'].pk}")
    target.focus()
    assert page.evaluate("document.activeElement.id") == f"grid-{s['thursday'].pk}"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/agenda/{s['thursday'].pk}/")
    close(page)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_answering_requests_in_place_lowers_the_count(browser, live_server, week, viewport):
    monday, s = week
    request, other = s["request"], s["other_request"]
    day = (monday + timedelta(days=1)).isoformat()  # the request's day: the phone shows it
    page = new_page(browser, viewport)
    enter(page, live_server, GOMEZ, path=f"/agenda/?date={day}")
    count = page.locator("#pending-count")
    assert count.inner_text() == "(2)"
    if viewport is PHONE:
        assert not page.locator(".agenda-grid").is_visible()
        assert page.locator(".agenda-day:visible").count() == 1
        assert page.locator(f"#session-{request.pk}").is_visible()
    page.evaluate("window.__marker = 'same page'")

    page.locator(f"#pending-{request.pk}").get_by_role("button", name="Confirmar").click()
    page.wait_for_selector(f"#pending-{request.pk} .badge--confirmed")
    assert count.inner_text() == "(1)"
    # The week shows it confirmed too: the grid's block and the day's row.
    assert "Confirmado" in page.locator(f"#grid-{request.pk}").text_content()
    assert "Confirmado" in page.locator(f"#session-{request.pk}").text_content()

    item = page.locator(f"#pending-{other.pk}")
    item.locator("summary").click()
    item.get_by_label("¿Por qué? Lo va a leer el paciente.").fill("Ese día no atiendo")
    item.get_by_role("button", name="Rechazar el pedido").click()
    page.wait_for_selector(f"#pending-{other.pk}.request--cancelled")
    assert count.inner_text() == ""  # none left waiting
    assert page.evaluate("window.__marker") == "same page"
    no_horizontal_scroll(page, viewport)
    if viewport is PHONE:
        screenshot(page, "agenda-grid-phone")
    close(page)

    request.refresh_from_db()
    other.refresh_from_db()
    assert (request.status, other.status) == ("CONFIRMED", "CANCELLED")


def test_the_grid_passes_axe(browser, live_server, week):
    from .test_a11y import Audit

    monday, s = week
    context = browser.new_context(viewport=DESKTOP, locale="es-AR", bypass_csp=True)
    page = context.new_page()
    audit = Audit(page)
    enter(page, live_server, GOMEZ, path=f"/agenda/?date={monday.isoformat()}")
    assert page.locator(".agenda-grid").is_visible()
    audit.check("agenda grid")
    page.locator(f"#grid-{s['request'].pk}").focus()
    audit.check("agenda grid, a block focused")
    context.close()
    assert audit.serious == []
