"""The dashboard in a real Chromium: what only a browser can check (htmx swaps, the confirmation
dialog, focus, keyboard use, layout). The site serves a strict CSP (no inline script or style):
a console error (a CSP violation among them) fails the test unless the test expects it.

The page: #upcoming lists the sessions ahead, nearest first (the first says "Tu próximo turno"),
with their cancel buttons; #history lists what is behind, newest first, without actions. A cancel
shows the same item again, cancelled, where it was (and announces it in #flash, a live region);
after a reload the cancelled session is in the history. tests/test_patient_page_browser.py has
what each session says (join link, address, contact) at a desktop's and a phone's width."""

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from reservations.models import ReservationEvent

from .browser import ConsoleErrors, enter, screenshot
from .conftest import NOW, PASSWORD
from .test_notifications import run_due_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def new_page(browser, viewport=DESKTOP, locale="es-AR"):
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleErrors(page)
    return page


@pytest.fixture
def page(browser):
    pg = new_page(browser)
    yield pg
    errors = pg.console.unexpected()
    pg.context.close()
    assert not errors, f"console errors: {errors}"


# Interactive elements smaller than WCAG 2.5.8's 24 px. Links inside running text are exempt
# (the "inline" exception), so elements displayed inline are skipped.
SMALL_TARGETS_JS = """() => {
  const sel = 'header a, header button, main a, main button, main select, main input, '
    + 'footer button, footer select';
  return [...document.querySelectorAll(sel)]
    .filter(el => el.offsetParent !== null && getComputedStyle(el).display !== 'inline')
    .map(el => [el.textContent.trim() || el.name, el.getBoundingClientRect()])
    .filter(([, r]) => r.height < 24 || r.width < 24)
    .map(([name, r]) => `${name}: ${r.width}x${r.height}`);
}"""


def log_in(page, live_server, email="lucia@example.com", password=PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
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


def item(page, reservation):
    """A session ahead, in #upcoming (where its cancel button is)."""
    return page.locator(f"#upcoming #reservation-{reservation.pk}")


def row(page, reservation):
    """A session behind, in #history."""
    return page.locator(f"#history #reservation-{reservation.pk}")


def first_upcoming(page):
    return page.locator("#upcoming .upcoming__list > li").first


def eyebrow(locator):
    """The first session's "Tu próximo turno" (upper-case on screen, hence not inner_text)."""
    return locator.locator(".turn-card__eyebrow").text_content()


def cancelled_in_place(page, reservation):
    page.wait_for_selector(f"#upcoming #reservation-{reservation.pk}.turn-card--cancelled")


def focused_id(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def dialog(page):
    return page.locator("#confirm-dialog")


def confirm_in_dialog(page):
    dialog(page).get_by_role("button", name="Sí, cancelarlo").click()


def html_of(page, selector):
    return page.locator(selector).evaluate("el => el.outerHTML")


def test_cancel_in_place_after_confirming(page, live_server, turns):
    log_in(page, live_server)
    policy = page.goto(f"{live_server.url}/dashboard/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    target = turns["next"]  # the second session ahead; `soon` is the first
    untouched = {r: html_of(page, f"#reservation-{turns[r].pk}") for r in ("soon", "later", "past")}
    head = html_of(page, ".page-head")
    page.evaluate("window.__marker = 'same page'")

    button = item(page, target).get_by_role("button")
    assert button.get_attribute("aria-label").startswith("Cancelar turno del ")
    button.click()
    assert dialog(page).is_visible()
    assert "¿Cancelar tu turno del" in dialog(page).inner_text()
    assert "Podés cancelar en línea hasta el " in dialog(page).inner_text()
    confirm_in_dialog(page)
    cancelled_in_place(page, target)

    assert page.evaluate("window.__marker") == "same page"  # swapped in place, no reload
    assert "Tu turno fue cancelado." in page.locator("#flash").inner_text()
    assert page.locator("#flash").get_attribute("aria-live") == "polite"
    shown = item(page, target)
    assert shown.locator(".turn__result").inner_text() == "Tu turno fue cancelado."
    assert "Cancelado" in shown.locator(".badge").inner_text()  # in words, not colour only
    assert shown.get_by_role("button").count() == 0
    # Focus is on the session itself (announced by #flash, which is not focused): the page
    # stays where it was.
    assert focused_id(page) == f"reservation-{target.pk}"
    assert not dialog(page).is_visible()
    for name, before in untouched.items():
        assert html_of(page, f"#reservation-{turns[name].pk}") == before, name
    assert html_of(page, ".page-head") == head
    target.refresh_from_db()
    assert target.status == "CANCELLED"
    assert page.console.csp_violations() == []


def test_reloading_after_a_cancel_never_brings_back_the_page_from_before(page, live_server, turns):
    # Neither the server nor the browser may keep the page from before the cancel: after a
    # reload the session is in the history, cancelled by the patient, and no longer ahead.
    log_in(page, live_server)
    page.goto(f"{live_server.url}/dashboard/")
    target = turns["later"]
    item(page, target).get_by_role("button").click()
    confirm_in_dialog(page)
    cancelled_in_place(page, target)
    for _ in range(2):
        page.reload()
        assert item(page, target).count() == 0
        assert "turn-row--cancelled" in row(page, target).get_attribute("class")
        assert "por vos" in row(page, target).inner_text()
        assert row(page, target).get_by_role("button").count() == 0
    assert "Tu turno fue cancelado." not in page.locator("#flash").inner_text()
    target.refresh_from_db()
    assert target.status == "CANCELLED"


def test_a_turn_inside_the_notice_period_says_why_and_has_no_button(page, live_server, turns):
    enter(page, live_server)
    soon = item(page, turns["soon"])
    # It is the first session ahead: the card says so, why it cannot be cancelled, and offers
    # nothing but its details.
    assert first_upcoming(page).get_attribute("id") == f"reservation-{turns['soon'].pk}"
    assert eyebrow(soon) == "Tu próximo turno"
    assert soon.get_by_role("button").count() == 0
    assert "Solo podés cancelar con 48 h de anticipación" in soon.inner_text()
    # Sessions beyond the notice keep their button.
    assert item(page, turns["next"]).get_by_role("button").count() == 1


def test_dismissing_the_dialog_changes_nothing(page, live_server, turns):
    enter(page, live_server)
    target = turns["next"]
    before = html_of(page, "#upcoming")
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    button = item(page, target).get_by_role("button")
    button.click()
    dialog(page).get_by_role("button", name="No, mantenerlo").click()
    assert not dialog(page).is_visible()
    page.wait_for_timeout(200)
    assert posts == []
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        button.get_attribute("aria-label")
    )
    assert page.locator("#flash").inner_text() == ""
    assert html_of(page, "#upcoming") == before
    target.refresh_from_db()
    assert target.status == "PENDING"


def test_keyboard_only_cancel(page, live_server, turns):
    """Tab to the button, Enter opens the dialog on the safe answer, Escape closes it and
    returns focus; Enter again, Tab to "yes", Enter cancels and focus lands on the session,
    shown cancelled where it was."""
    enter(page, live_server)
    target = turns["next"]
    label = item(page, target).get_by_role("button").get_attribute("aria-label")

    def focused_label():
        return page.evaluate("document.activeElement && document.activeElement.ariaLabel")

    page.locator("body").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if focused_label() == label:
            break
    else:
        pytest.fail("Tab never reached the cancel button")

    page.keyboard.press("Enter")
    assert dialog(page).is_visible()
    assert page.evaluate("document.activeElement.value") == "keep"
    # The modal dialog keeps Tab inside it (past its last button focus goes to the browser's
    # own UI, shown as <body>, never to the page behind).
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.activeElement === document.body"
            " || !!document.activeElement.closest('#confirm-dialog')"
        )
    page.keyboard.press("Escape")
    assert not dialog(page).is_visible()
    assert focused_label() == label
    target.refresh_from_db()
    assert target.status == "PENDING"

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "confirm"
    page.keyboard.press("Enter")
    cancelled_in_place(page, target)
    assert focused_id(page) == f"reservation-{target.pk}"
    # From the session, Tab goes on inside it (its date's link), not back to the top.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('li').id") == f"reservation-{target.pk}"
    target.refresh_from_db()
    assert target.status == "CANCELLED"


def test_a_question_closed_and_asked_again_at_once_gets_its_own_answer(page, live_server, turns):
    # The dialog's close event comes in a task of its own: Escape and a quick Enter can ask the
    # next question before it arrives. It is not that question's answer. (In one JS task here,
    # so that the order is certain.)
    enter(page, live_server)
    target = turns["next"]
    item(page, target).get_by_role("button").click()
    assert dialog(page).is_visible()
    page.evaluate(
        """(id) => {
          document.getElementById("confirm-dialog").close();
          document.querySelector(`#reservation-${id} .cancel-form button`).click();
        }""",
        str(target.pk),
    )
    assert dialog(page).is_visible()
    confirm_in_dialog(page)
    cancelled_in_place(page, target)
    target.refresh_from_db()
    assert target.status == "CANCELLED"


def test_cancelling_the_next_session_shows_it_cancelled_and_a_reload_brings_the_following(
    page, live_server, patient, make_reservation
):
    # Before the redesign a separate "current turn" card was sent again with every cancel. Now
    # the cancelled session stays where it was, shown cancelled (nothing else moves under the
    # patient's eyes); the next page load puts the following session first.
    now = timezone.now()
    first = make_reservation(patient, now + timedelta(days=3))
    second = make_reservation(patient, now + timedelta(days=6))
    enter(page, live_server)
    assert first_upcoming(page).get_attribute("id") == f"reservation-{first.pk}"
    assert eyebrow(item(page, first)) == "Tu próximo turno"
    item(page, first).get_by_role("button").click()
    confirm_in_dialog(page)
    cancelled_in_place(page, first)
    assert first_upcoming(page).get_attribute("id") == f"reservation-{first.pk}"
    assert item(page, second).get_by_role("button").count() == 1

    page.reload()
    assert first_upcoming(page).get_attribute("id") == f"reservation-{second.pk}"
    assert eyebrow(item(page, second)) == "Tu próximo turno"
    assert "Cancelado" in row(page, first).inner_text()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("CANCELLED", "CONFIRMED")


def test_a_session_booked_while_the_page_was_open_shows_on_the_next_load(
    page, live_server, turns, make_reservation
):
    # Before the redesign any cancel brought it into the "current turn" card. Now a cancel
    # answers only its own session; the newly booked one is first after a reload.
    log_in(page, live_server)
    assert first_upcoming(page).get_attribute("id") == f"reservation-{turns['soon'].pk}"
    # The practice books a session before `soon` while the page stays open.
    booked = make_reservation(turns["soon"].client, timezone.now() + timedelta(hours=10))
    item(page, turns["later"]).get_by_role("button").click()
    confirm_in_dialog(page)
    cancelled_in_place(page, turns["later"])
    assert page.locator(f"#reservation-{booked.pk}").count() == 0
    assert first_upcoming(page).get_attribute("id") == f"reservation-{turns['soon'].pk}"

    page.reload()
    assert first_upcoming(page).get_attribute("id") == f"reservation-{booked.pk}"
    assert eyebrow(first_upcoming(page)) == "Tu próximo turno"
    assert item(page, turns["later"]).count() == 0
    assert row(page, turns["later"]).count() == 1


def test_empty_state(page, live_server, other_patient):
    enter(page, live_server, email="martin@example.com")
    assert "No tenés turnos próximos." in page.locator("#upcoming").inner_text()
    assert "Todavía no tenés sesiones pasadas." in page.locator("#history").inner_text()
    assert page.locator("main button").count() == 0


def test_cancel_from_the_reservation_page(page, live_server, turns):
    enter(page, live_server)
    target = turns["later"]
    item(page, target).locator("a.turn-card__link").click()
    page.wait_for_url(f"{live_server.url}/reservations/{target.pk}/")
    card = page.locator("#reservation-detail")
    assert "Lic. Carolina Gómez" in card.inner_text()
    assert "45 minutos" in card.inner_text()
    assert "Podés cancelar en línea hasta el " in card.inner_text()
    card.get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector("#reservation-detail.turn-card--cancelled")
    assert "Tu turno fue cancelado." in page.locator("#flash").inner_text()
    assert "por vos" in page.locator("#reservation-detail").inner_text()
    assert card.get_by_role("button").count() == 0
    assert focused_id(page) == "reservation-detail"  # the card, in place; #flash announces
    target.refresh_from_db()
    assert target.status == "CANCELLED"


def test_back_to_a_paged_history_brings_the_whole_page(
    page, live_server, patient, make_reservation
):
    # "Older" fetches ?page=2 as a block and pushes the URL; leaving for a session and coming
    # back loads that URL again: the browser must get the whole page, not the cached block.
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=400)
    made = [make_reservation(patient, start + timedelta(days=7 * i)) for i in range(15)]
    enter(page, live_server)
    page.locator(".pager").get_by_role("link", name="Anteriores").click()
    page.wait_for_selector(f"#history #reservation-{made[0].pk}")
    row(page, made[0]).locator("a").click()
    page.wait_for_url(f"{live_server.url}/reservations/{made[0].pk}/")
    page.go_back()
    page.wait_for_selector(f"#history #reservation-{made[0].pk}")
    assert page.url.endswith("?page=2")
    assert page.locator(".site-header").is_visible()
    assert page.locator("#upcoming").count() == 1
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # the CSS is there


def test_paging_through_history(page, live_server, patient, make_reservation):
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=400)
    made = [make_reservation(patient, start + timedelta(days=7 * i)) for i in range(15)]
    enter(page, live_server)
    newest, oldest = made[-1], made[0]
    assert row(page, newest).count() == 1
    assert (
        page.locator("#history .turn-row").first.get_attribute("id") == f"reservation-{newest.pk}"
    )
    page.evaluate("window.__marker = 'same page'")

    page.locator(".pager").get_by_role("link", name="Anteriores").click()
    page.wait_for_selector(f"#history #reservation-{oldest.pk}")
    assert page.evaluate("window.__marker") == "same page"
    assert page.url.endswith("?page=2")
    assert focused_id(page) == "history-title"
    assert row(page, newest).count() == 0
    assert page.locator("#history .turn-row").count() == 5
    assert "Página 2" in page.locator(".pager").inner_text()
    assert page.locator(".pager").get_by_role("link", name="Anteriores").count() == 0

    page.go_back()
    page.wait_for_selector(f"#history #reservation-{newest.pk}")
    assert page.url == f"{live_server.url}/dashboard/"
    assert row(page, oldest).count() == 0


def test_logout(page, live_server, turns):
    enter(page, live_server)
    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert "Cerraste sesión" in page.locator("#flash").inner_text()
    page.goto(f"{live_server.url}/dashboard/")
    assert "/accounts/login/" in page.url


def test_password_reset_through_the_emailed_link(page, live_server, patient):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name=re.compile("Olvidaste tu contraseña")).click()
    page.fill("input[name=email]", "lucia@example.com")
    page.get_by_role("button", name="Enviame el enlace").click()
    page.wait_for_url(re.compile(r"/accounts/password/reset/done/"))
    run_due_tasks()
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[0].body)
    page.goto(link.group(0))
    page.fill("input[name=password1]", "a-new-long-secret-9")
    page.fill("input[name=password2]", "a-new-long-secret-9")
    page.get_by_role("button", name="Guardar la contraseña nueva").click()
    page.wait_for_url(re.compile(r"/accounts/password/reset/key/done/"))
    log_in(page, live_server, password="a-new-long-secret-9")
    patient.refresh_from_db()
    assert patient.check_password("a-new-long-secret-9")


def test_an_expired_session_goes_to_the_login_page(page, live_server, turns):
    enter(page, live_server)
    from django.conf import settings

    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    target = turns["next"]
    item(page, target).get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_url(re.compile(r"/accounts/login/\?next=/dashboard/"))
    # A whole login page, not a fragment in a session's card.
    assert page.locator("#upcoming, #history").count() == 0
    assert page.locator("input[name=password]").count() == 1
    target.refresh_from_db()
    assert target.status == "PENDING"


def test_a_dropped_connection_says_so_and_changes_nothing(page, live_server, turns):
    enter(page, live_server)
    page.console.allow("net::ERR_FAILED", "htmx:sendError", "htmx:afterRequest")
    target = turns["next"]
    before = html_of(page, "#upcoming")
    page.route("**/cancel/", lambda route: route.abort())
    item(page, target).get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector("#flash .flash--error")
    assert "No pudimos conectarnos con el servidor" in page.locator("#flash").inner_text()
    # An error is still announced by focusing #flash (static/js/app.js, flash()).
    assert focused_id(page) == "flash"
    assert html_of(page, "#upcoming") == before
    target.refresh_from_db()
    assert target.status == "PENDING"


def test_a_server_error_says_so_and_nothing_is_half_done(page, live_server, turns, monkeypatch):
    # The event log write fails after the status UPDATE: the transaction must undo both.
    def broken(*args, **kwargs):
        raise RuntimeError("the event log is down")

    monkeypatch.setattr(ReservationEvent, "save", broken)
    enter(page, live_server)
    page.console.allow("500", "htmx:responseError")
    target = turns["next"]
    before = html_of(page, "#upcoming")
    history_before = html_of(page, "#history")
    item(page, target).get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector("#flash .flash--error")
    assert "Algo salió mal. No se cambió nada" in page.locator("#flash").inner_text()
    assert html_of(page, "#upcoming") == before
    assert html_of(page, "#history") == history_before
    target.refresh_from_db()
    assert target.status == "PENDING"
    assert not ReservationEvent.objects.filter(reservation=target).exists()


def test_language_switch_is_remembered(page, live_server, turns):
    enter(page, live_server)
    page.select_option("#language", "en")
    page.get_by_role("button", name="Cambiar").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert eyebrow(first_upcoming(page)) == "Your next session"
    assert "Done" in row(page, turns["past"]).inner_text()
    page.goto(f"{live_server.url}/preferences/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Preferences" in page.locator("h1").inner_text()
    page.goto(f"{live_server.url}/accounts/password/change/")
    assert "Change your password" in page.locator("h1").inner_text()


@pytest.mark.parametrize(
    "viewport",
    [PHONE, {"width": 640, "height": 800}, {"width": 320, "height": 640}],
    ids=["phone-390", "zoom-200", "zoom-400"],
)
def test_small_screens_and_zoom_need_no_horizontal_scrolling(browser, live_server, turns, viewport):
    """390 px is a phone; 640 px is a 1280 px window at 200 % zoom; 320 px is WCAG's reflow
    width (1280 px at 400 %)."""
    page = new_page(browser, viewport=viewport)
    try:
        enter(page, live_server)
        for name, path in [
            ("dashboard", "/dashboard/"),
            ("detail", f"/reservations/{turns['next'].pk}/"),
            ("preferences", "/preferences/"),
        ]:
            page.goto(f"{live_server.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (path, width)
            small = page.evaluate(SMALL_TARGETS_JS)
            assert small == [], (path, small)
            screenshot(page, f"reflow-{viewport['width']}-{name}")
        page.goto(f"{live_server.url}/dashboard/")
        button = item(page, turns["next"]).get_by_role("button")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        assert page.console.unexpected() == []
    finally:
        page.context.close()


SCREENSHOT_DESKTOP = {"width": 1366, "height": 900}


def make_showcase(patient, professional, staff, make_reservation):
    """A patient's sessions as a practice books them, around NOW (Tuesday 10 March 2026, 12:00
    in Buenos Aires): one inside the 48 h notice, a pending one, an in-person one, and a history
    with every ending. Lic. Gómez has a phone, WhatsApp, email, address and video link."""
    profile = professional.professional_profile
    profile.phone = "+54 9 11 5555-1234"
    profile.whatsapp = "+54 9 11 5555-1234"
    profile.contact_email = "gomez@consultorio.example"
    profile.address = "Av. Corrientes 1234, piso 3, CABA"
    profile.video_url = "https://meet.example.com/lic-gomez"
    profile.save()
    midnight = timezone.localtime(NOW).replace(hour=0)

    def at(days, hours, minutes=0):
        return midnight + timedelta(days=days, hours=hours, minutes=minutes)

    turns = {
        "soon": make_reservation(patient, at(1, 15)),  # tomorrow, inside the notice
        "next": make_reservation(patient, at(3, 10), status="PENDING"),
        "in_person": make_reservation(patient, at(7, 16, 30), modality="Presencial"),
        "later": make_reservation(patient, at(14, 16, 30)),
        "done": make_reservation(patient, at(-7, 17), minutes=60, modality="Presencial"),
        "absent": make_reservation(patient, at(-14, 17)),
        "cancelled": make_reservation(patient, at(-21, 10), status="CANCELLED"),
        "cancelled_by_practice": make_reservation(patient, at(-28, 10), status="CANCELLED"),
        "not_confirmed": make_reservation(patient, at(-35, 10), status="PENDING"),
    }
    turns["absent"].attended = False
    turns["absent"].save()
    for name, who, days in [("cancelled", patient, -23), ("cancelled_by_practice", staff, -29)]:
        r = turns[name]
        r.cancelled_by, r.cancelled_at = who, at(days, 9, 12)
        r.save()
    booked = turns["in_person"]
    for action, status, days in [("created", "PENDING", -5), ("confirmed", "CONFIRMED", -4)]:
        ReservationEvent.objects.create(
            reservation=booked,
            action=action,
            to_status=status,
            actor=staff,
            channel="admin",
            action_id=uuid.uuid4(),
            at=at(days, 11, 20),
        )
    return turns


def test_screenshots(
    browser, live_server, patient, other_patient, professional, staff, make_reservation
):
    """The README's pictures, with the clock frozen so that they say the same on every run.
    Written to test-artifacts/screenshots; `make screenshots` writes docs/screenshots."""
    with time_machine.travel(NOW, tick=True) as clock:
        turns = make_showcase(patient, professional, staff, make_reservation)
        for device, viewport in [("desktop", SCREENSHOT_DESKTOP), ("phone", PHONE)]:
            page = new_page(browser, viewport=viewport)
            enter(page, live_server)
            assert eyebrow(first_upcoming(page)) == "Tu próximo turno"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            screenshot(page, f"dashboard-{device}")
            page.goto(f"{live_server.url}/reservations/{turns['in_person'].pk}/")
            assert "Ver en el mapa" in page.locator("#reservation-detail").inner_text()
            assert "Confirmado" in page.locator(".timeline").inner_text()
            screenshot(page, f"detail-{device}")
            if device == "phone":
                page.goto(f"{live_server.url}/dashboard/")
                item(page, turns["next"]).get_by_role("button").click()
                assert "Podés cancelar en línea hasta " in dialog(page).inner_text()
                screenshot(page, "cancel-dialog-phone", full_page=False)
                page.keyboard.press("Escape")
                page.goto(f"{live_server.url}/reservations/{turns['soon'].pk}/")
                assert "48 h" in page.locator("#reservation-detail").inner_text()
                assert page.locator("#reservation-detail .contact a").count() == 3
                screenshot(page, "reservation-refusal-phone")
            assert page.console.unexpected() == []
            page.context.close()

        page = new_page(browser, viewport=SCREENSHOT_DESKTOP, locale="en-US")
        enter(page, live_server)
        assert eyebrow(first_upcoming(page)) == "Your next session"
        screenshot(page, "dashboard-english")
        page.context.close()

        page = new_page(browser, viewport=SCREENSHOT_DESKTOP)
        enter(page, live_server, email="martin@example.com")
        assert "No tenés turnos próximos." in page.locator("#upcoming").inner_text()
        screenshot(page, "dashboard-empty")
        page.context.close()

        # Tomorrow, ten minutes before `soon`: the button to join is there. (A new session:
        # hours without a request end the old one.)
        clock.move_to(turns["soon"].start_time - timedelta(minutes=10))
        page = new_page(browser, viewport=PHONE)
        enter(page, live_server)
        assert first_upcoming(page).get_by_role("link", name="Entrar a la sesión").count() == 1
        screenshot(page, "join-button-phone")
        page.context.close()

        # Saturday: the in-person session is the next one, with its address and map link.
        clock.move_to(timezone.localtime(NOW).replace(hour=10) + timedelta(days=4))
        page = new_page(browser, viewport=SCREENSHOT_DESKTOP)
        enter(page, live_server)
        first = first_upcoming(page)
        assert first.get_attribute("id") == f"reservation-{turns['in_person'].pk}"
        assert first.locator(".where__map").count() == 1
        screenshot(page, "in-person-desktop")
        page.context.close()
