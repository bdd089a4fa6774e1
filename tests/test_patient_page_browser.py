"""The patient's page in a real Chromium, at a desktop's width (1366 px) and a phone's (390 px):
what each session says (how to join, where to go, whom to call), in which order, and that a
cancel keeps the page where it was. The clock is frozen with time-machine: the live server runs
in a thread of this process, so the instant a test travels to is the server's too.

Screenshots go to test-artifacts/screenshots (patient-*.png); the README's come from
test_browser.py::test_screenshots."""

from datetime import timedelta

import pytest
import time_machine

from .browser import ConsoleErrors, enter, screenshot
from .conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
VIDEO_URL = "https://meet.example.com/lic-gomez"
ADDRESS = "Av. Corrientes 1234, piso 3, CABA"


@pytest.fixture(params=VIEWPORTS)
def device(request):
    return request.param


@pytest.fixture
def page(browser, device):
    context = browser.new_context(viewport=VIEWPORTS[device], locale="es-AR")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.console = ConsoleErrors(pg)
    yield pg
    errors = pg.console.unexpected()
    context.close()
    assert not errors, f"console errors: {errors}"


@pytest.fixture
def clock():
    """Tuesday 10 March 2026, 12:00 in Buenos Aires, and running (the page needs time to pass)."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def full_profile(professional):
    """Lic. Gómez with every way to reach her, her address and her video link."""
    profile = professional.professional_profile
    profile.phone = "+54 9 11 5555-1234"
    profile.whatsapp = "+54 9 11 5555-1234"
    profile.contact_email = "gomez@consultorio.example"
    profile.address = ADDRESS
    profile.video_url = VIDEO_URL
    profile.save()
    return profile


def ids(locator):
    return locator.evaluate_all("items => items.map(li => li.id)")


def text_of(page, selector):
    return page.locator(selector).inner_text()


def test_upcoming_come_before_the_history_each_in_its_order(
    page, device, live_server, clock, patient, make_reservation
):
    ahead = [
        make_reservation(patient, NOW + timedelta(days=9)),
        make_reservation(patient, NOW + timedelta(days=2, hours=2), status="PENDING"),
        make_reservation(patient, NOW + timedelta(days=5)),
    ]
    done = make_reservation(patient, NOW - timedelta(days=7), modality="Presencial")
    absent = make_reservation(patient, NOW - timedelta(days=21))
    absent.attended = False
    absent.save()
    unconfirmed = make_reservation(patient, NOW - timedelta(days=28), status="PENDING")
    cancelled = make_reservation(patient, NOW + timedelta(days=3), status="CANCELLED")
    enter(page, live_server)

    # Upcoming first, on the screen as in the document.
    upcoming, history = page.locator("#upcoming"), page.locator("#history")
    assert upcoming.bounding_box()["y"] < history.bounding_box()["y"]
    assert page.evaluate(
        "document.getElementById('upcoming').compareDocumentPosition("
        "document.getElementById('history')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    # Ahead: the nearest first. Behind: the newest first (by start), cancelled ones among them.
    nearest_first = sorted(ahead, key=lambda r: r.start_time)
    assert ids(upcoming.locator(".upcoming__list > li")) == [
        f"reservation-{r.pk}" for r in nearest_first
    ]
    assert ids(history.locator(".turn-row")) == [
        f"reservation-{r.pk}" for r in (cancelled, done, absent, unconfirmed)
    ]
    assert upcoming.locator("li").first.locator(".turn-card__eyebrow").text_content() == (
        "Tu próximo turno"
    )
    assert page.locator(".turn-card--next").count() == 1
    # What happened, in words.
    assert "Realizado" in text_of(page, f"#reservation-{done.pk} .badge")
    assert "Ausente" in text_of(page, f"#reservation-{absent.pk} .badge")
    assert "Sin confirmar" in text_of(page, f"#reservation-{unconfirmed.pk} .badge")
    assert "Cancelado" in text_of(page, f"#reservation-{cancelled.pk} .badge")
    assert history.get_by_role("button").count() == 0  # no actions in the history
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[device]["width"]
    screenshot(page, f"patient-orders-{device}")


def test_the_join_button_appears_15_minutes_before_the_start(
    page, device, live_server, clock, patient, full_profile, make_reservation
):
    session = make_reservation(patient, NOW + timedelta(minutes=16))
    enter(page, live_server)
    first = page.locator(f"#upcoming #reservation-{session.pk}")
    assert "El enlace para entrar se habilita hoy a las 12:01." in first.inner_text()
    assert first.get_by_role("link", name="Entrar a la sesión").count() == 0
    assert VIDEO_URL not in page.content()  # not even hidden: the link is not given early

    clock.move_to(NOW + timedelta(minutes=1))  # T−15 min
    page.reload()
    join = first.get_by_role("link", name="Entrar a la sesión")
    assert join.get_attribute("href") == VIDEO_URL
    assert "se habilita" not in first.inner_text()
    box = join.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= VIEWPORTS[device]["width"]
    screenshot(page, f"patient-join-{device}")

    clock.move_to(NOW + timedelta(minutes=61, seconds=1))  # after its end: in the history
    page.reload()
    assert page.locator("#upcoming").get_by_role("link", name="Entrar a la sesión").count() == 0
    assert "Realizado" in text_of(page, f"#history #reservation-{session.pk}")


def test_an_in_person_session_says_where_with_a_map_link(
    page, device, live_server, clock, patient, full_profile, make_reservation
):
    session = make_reservation(patient, NOW + timedelta(days=3), modality="Presencial")
    make_reservation(patient, NOW + timedelta(days=10))
    enter(page, live_server)
    first = page.locator(f"#upcoming #reservation-{session.pk}")
    assert "Presencial" in first.inner_text()
    assert first.locator(".where__address").inner_text() == ADDRESS
    link = first.get_by_role("link", name="Ver en el mapa (OpenStreetMap)")
    href = link.get_attribute("href")
    assert href.startswith("https://www.openstreetmap.org/search?query=")
    assert href.endswith("Av.%20Corrientes%201234%2C%20piso%203%2C%20CABA")
    assert "Entrar a la sesión" not in first.inner_text()
    # The detail page says the same.
    page.goto(f"{live_server.url}/reservations/{session.pk}/")
    detail = page.locator("#reservation-detail")
    assert detail.locator(".where__address").inner_text() == ADDRESS
    assert detail.locator(".where__map").get_attribute("href") == href
    screenshot(page, f"patient-in-person-detail-{device}")


def test_a_refusal_says_whom_to_contact(
    page, device, live_server, clock, patient, full_profile, make_reservation
):
    session = make_reservation(patient, NOW + timedelta(hours=30))  # inside the 48 h notice
    enter(page, live_server)
    first = page.locator(f"#upcoming #reservation-{session.pk}")
    assert first.get_by_role("button").count() == 0
    text = first.inner_text()
    assert "Solo podés cancelar con 48 h de anticipación — contactá a tu profesional" in text
    assert "Contactá a tu profesional:" in text
    links = first.locator(".contact a").evaluate_all(
        "links => links.map(a => [a.textContent.trim(), a.getAttribute('href')])"
    )
    assert links == [
        ["Llamar al 011 15-5555-1234", "tel:+5491155551234"],
        ["WhatsApp 011 15-5555-1234", "https://wa.me/5491155551234"],
        ["Escribir a gomez@consultorio.example", "mailto:gomez@consultorio.example"],
    ]
    for link in first.locator(".contact a").all():
        box = link.bounding_box()
        assert box["height"] >= 24 and box["x"] + box["width"] <= VIEWPORTS[device]["width"]
    screenshot(page, f"patient-refusal-{device}")


def test_a_cancel_keeps_the_page_where_it_was(
    page, device, live_server, clock, patient, full_profile, make_reservation
):
    # The issue: "After a cancel, focus jumps to the top (scroll 562 → 0), so the changed row is
    # off-screen." Enough sessions ahead that the one cancelled sits mid-page.
    ahead = [make_reservation(patient, NOW + timedelta(days=3 + 2 * i)) for i in range(8)]
    for i in range(6):
        make_reservation(patient, NOW - timedelta(days=7 * (i + 1)))
    target = ahead[4]
    enter(page, live_server)
    item = page.locator(f"#upcoming #reservation-{target.pk}")
    item.evaluate("li => li.scrollIntoView({block: 'center'})")
    scroll_before = page.evaluate("window.scrollY")
    assert scroll_before > 300
    top_before = item.bounding_box()["y"]

    item.get_by_role("button").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Sí, cancelarlo").click()
    page.wait_for_selector(f"#upcoming #reservation-{target.pk}.turn-card--cancelled")
    page.wait_for_timeout(300)  # let htmx settle and focus move

    # The session has not moved on the screen, and the page did not scroll away from it. #flash
    # (above, at the top of the page) now holds the announcement: Chromium's scroll anchoring
    # keeps what the patient was looking at in place by scrolling exactly that much further.
    # Without scroll anchoring (Safari) scrollY would stay and the session would move down by
    # the same amount, still in view.
    assert abs(item.bounding_box()["y"] - top_before) <= 2
    grown = page.locator("#flash").evaluate(
        "el => el.offsetHeight + parseFloat(getComputedStyle(el.firstElementChild).marginBottom)"
    )
    assert abs(page.evaluate("window.scrollY") - scroll_before - grown) <= 2
    box, height = item.bounding_box(), VIEWPORTS[device]["height"]
    assert box["y"] >= 0 and box["y"] + min(box["height"], height) <= height
    assert page.evaluate("document.activeElement.tagName") == "LI"
    assert page.evaluate("document.activeElement.id") == f"reservation-{target.pk}"
    assert "Tu turno fue cancelado." in text_of(page, "#flash")
    assert item.locator(".turn__result").inner_text() == "Tu turno fue cancelado."
    screenshot(page, f"patient-after-cancel-{device}", full_page=False)
    target.refresh_from_db()
    assert target.status == "CANCELLED"
    assert [r.status for r in ahead if r != target] == ["CONFIRMED"] * 7


def test_no_page_scrolls_sideways(
    page, device, live_server, clock, patient, full_profile, make_reservation
):
    first = make_reservation(patient, NOW + timedelta(minutes=10))  # join button, refusal
    in_person = make_reservation(patient, NOW + timedelta(days=3), modality="Presencial")
    make_reservation(patient, NOW + timedelta(days=6), status="PENDING")
    make_reservation(patient, NOW - timedelta(days=7), status="CANCELLED")
    width = VIEWPORTS[device]["width"]
    enter(page, live_server, path=None)
    for name, path in [
        ("dashboard", "/dashboard/"),
        ("detail-virtual", f"/reservations/{first.pk}/"),
        ("detail-in-person", f"/reservations/{in_person.pk}/"),
        ("preferences", "/preferences/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        screenshot(page, f"patient-{name}-{device}")
