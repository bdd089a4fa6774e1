"""The dashboard in a real Chromium: what only a browser can check (htmx swaps, the confirmation
dialog, focus, keyboard use, layout). The site serves a strict CSP (no inline script or style):
a console error (a CSP violation among them) fails the test unless the test expects it."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reservations.models import ReservationEvent

from .browser import ConsoleErrors, enter, launch, screenshot
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


def row(page, reservation):
    return page.locator(f'#history [data-reservation-id="{reservation.pk}"]')


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
    target = turns["next"]
    untouched = {r: html_of(page, f"#reservation-{turns[r].pk}") for r in ("later", "past")}
    head = html_of(page, ".page-head")
    card = html_of(page, "#current-turn")  # shows `soon`: this cancel does not send it again
    page.evaluate("window.__marker = 'same page'")

    button = row(page, target).get_by_role("button")
    assert button.get_attribute("aria-label").startswith("Cancelar turno del ")
    button.click()
    assert dialog(page).is_visible()
    assert "¿Cancelar tu turno del" in dialog(page).inner_text()
    confirm_in_dialog(page)
    page.wait_for_selector(f"#reservation-{target.pk}.turn-row--cancelled")

    assert page.evaluate("window.__marker") == "same page"  # swapped in place, no reload
    assert "Tu turno fue cancelado." in page.locator("#flash").inner_text()
    assert page.locator("#flash").get_attribute("aria-live") == "polite"
    assert "Ya cancelado" in row(page, target).inner_text()
    assert "Cancelado" in row(page, target).inner_text()  # the status in words, not colour only
    assert page.evaluate("document.activeElement.id") == "flash"
    assert not dialog(page).is_visible()
    for name, before in untouched.items():
        assert html_of(page, f"#reservation-{turns[name].pk}") == before, name
    assert html_of(page, ".page-head") == head
    assert html_of(page, "#current-turn") == card
    target.refresh_from_db()
    assert target.status == "CANCELLED"
    assert page.console.csp_violations() == []


def test_reloading_after_a_cancel_never_brings_back_the_page_from_before(page, live_server, turns):
    # Neither the server nor the browser may keep the page from before the cancel.
    log_in(page, live_server)
    page.goto(f"{live_server.url}/dashboard/")
    target = turns["later"]
    row(page, target).get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector(f"#reservation-{target.pk}.turn-row--cancelled")
    for _ in range(2):
        page.reload()
        assert "turn-row--cancelled" in row(page, target).get_attribute("class")
        assert row(page, target).get_by_role("button").count() == 0
    assert "Tu turno fue cancelado." not in page.locator("#flash").inner_text()


def test_a_turn_inside_the_notice_period_says_why_and_has_no_button(page, live_server, turns):
    enter(page, live_server)
    soon = row(page, turns["soon"])
    assert soon.get_by_role("button").count() == 0
    assert "Solo podés cancelar con 48 h de anticipación" in soon.inner_text()
    # It is also the current turn: the card says the same and offers nothing either.
    card = page.locator("#current-turn")
    assert card.get_by_role("button").count() == 0
    assert "48 h" in card.inner_text()


def test_dismissing_the_dialog_changes_nothing(page, live_server, turns):
    enter(page, live_server)
    target = turns["next"]
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    button = row(page, target).get_by_role("button")
    button.click()
    dialog(page).get_by_role("button", name="No, mantenerlo").click()
    assert not dialog(page).is_visible()
    page.wait_for_timeout(200)
    assert posts == []
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        button.get_attribute("aria-label")
    )
    assert page.locator("#flash").inner_text() == ""
    target.refresh_from_db()
    assert target.status == "PENDING"


def test_keyboard_only_cancel(page, live_server, turns):
    """Tab to the button, Enter opens the dialog on the safe answer, Escape closes it and
    returns focus; Enter again, Tab to "yes", Enter cancels and focus lands on the message."""
    enter(page, live_server)
    target = turns["next"]
    label = row(page, target).get_by_role("button").get_attribute("aria-label")

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
    page.wait_for_selector(f"#reservation-{target.pk}.turn-row--cancelled")
    assert page.evaluate("document.activeElement.id") == "flash"
    target.refresh_from_db()
    assert target.status == "CANCELLED"


def test_a_question_closed_and_asked_again_at_once_gets_its_own_answer(page, live_server, turns):
    # The dialog's close event comes in a task of its own: Escape and a quick Enter can ask the
    # next question before it arrives. It is not that question's answer. (In one JS task here,
    # so that the order is certain.)
    enter(page, live_server)
    target = turns["next"]
    row(page, target).get_by_role("button").click()
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
    page.wait_for_selector(f"#reservation-{target.pk}.turn-row--cancelled")
    target.refresh_from_db()
    assert target.status == "CANCELLED"


def test_cancelling_the_current_turn_updates_the_card(page, live_server, patient, make_reservation):
    now = timezone.now()
    first = make_reservation(patient, now + timedelta(days=3))
    second = make_reservation(patient, now + timedelta(days=6))
    enter(page, live_server)
    card = page.locator("#current-turn")
    assert card.get_attribute("aria-labelledby") == "current-turn-title"
    assert card.locator(f'[data-reservation-id="{first.pk}"]').count() == 1
    card.get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector(f'#current-turn [data-reservation-id="{second.pk}"]')
    assert "Ya cancelado" in row(page, first).inner_text()


def test_a_session_booked_while_the_page_was_open_reaches_the_card_with_any_cancel(
    page, live_server, turns, make_reservation
):
    log_in(page, live_server)
    card = page.locator("#current-turn")
    assert card.locator(f'[data-reservation-id="{turns["soon"].pk}"]').count() == 1
    # The practice books a session before `soon` while the page stays open.
    booked = make_reservation(turns["soon"].client, timezone.now() + timedelta(hours=10))
    row(page, turns["later"]).get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector(f'#current-turn [data-reservation-id="{booked.pk}"]')
    assert "Ya cancelado" in row(page, turns["later"]).inner_text()
    screenshot(page, "card-refreshed-by-a-later-cancel")


def test_empty_state(page, live_server, other_patient):
    enter(page, live_server, email="martin@example.com")
    assert "No tenés turnos próximos." in page.locator("#current-turn").inner_text()
    assert "Todavía no tenés turnos." in page.locator("#history").inner_text()
    assert page.locator("main button").count() == 0


def test_cancel_from_the_reservation_page(page, live_server, turns):
    enter(page, live_server)
    target = turns["later"]
    row(page, target).locator("a.turn-row__link").click()
    page.wait_for_url(f"{live_server.url}/reservations/{target.pk}/")
    card = page.locator("#reservation-detail")
    assert "Lic. Carolina Gómez" in card.inner_text()
    assert "45 minutos" in card.inner_text()
    card.get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector("#reservation-detail.turn-card--cancelled")
    assert "Tu turno fue cancelado." in page.locator("#flash").inner_text()
    assert "por vos" in page.locator("#reservation-detail").inner_text()
    assert page.evaluate("document.activeElement.id") == "flash"
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
    page.wait_for_selector(f'#history [data-reservation-id="{made[0].pk}"]')
    row(page, made[0]).locator("a").click()
    page.wait_for_url(f"{live_server.url}/reservations/{made[0].pk}/")
    page.go_back()
    page.wait_for_selector(f'#history [data-reservation-id="{made[0].pk}"]')
    assert page.url.endswith("?page=2")
    assert page.locator(".site-header").is_visible()
    assert page.locator("#current-turn").count() == 1
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # the CSS is there


def test_paging_through_history(page, live_server, patient, make_reservation):
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=400)
    made = [make_reservation(patient, start + timedelta(days=7 * i)) for i in range(15)]
    enter(page, live_server)
    newest, oldest = made[-1], made[0]
    assert row(page, newest).count() == 1
    page.evaluate("window.__marker = 'same page'")

    page.locator(".pager").get_by_role("link", name="Anteriores").click()
    page.wait_for_selector(f'#history [data-reservation-id="{oldest.pk}"]')
    assert page.evaluate("window.__marker") == "same page"
    assert page.url.endswith("?page=2")
    assert page.evaluate("document.activeElement.id") == "history-title"
    assert row(page, newest).count() == 0
    assert "Página 2" in page.locator(".pager").inner_text()
    assert page.locator(".pager").get_by_role("link", name="Anteriores").count() == 0

    page.go_back()
    page.wait_for_selector(f'#history [data-reservation-id="{newest.pk}"]')
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
    row(page, target).get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_url(re.compile(r"/accounts/login/\?next=/dashboard/"))
    assert page.locator("#history").count() == 0  # a whole login page, not a fragment in a row
    assert page.locator("input[name=password]").count() == 1
    target.refresh_from_db()
    assert target.status == "PENDING"


def test_a_dropped_connection_says_so_and_changes_nothing(page, live_server, turns):
    enter(page, live_server)
    page.console.allow("net::ERR_FAILED", "htmx:sendError", "htmx:afterRequest")
    target = turns["next"]
    before = html_of(page, f"#reservation-{target.pk}")
    page.route("**/cancel/", lambda route: route.abort())
    row(page, target).get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector("#flash .flash--error")
    assert "No pudimos conectarnos con el servidor" in page.locator("#flash").inner_text()
    assert page.evaluate("document.activeElement.id") == "flash"
    assert html_of(page, f"#reservation-{target.pk}") == before
    target.refresh_from_db()
    assert target.status == "PENDING"


def test_a_server_error_says_so_and_nothing_is_half_done(page, live_server, turns, monkeypatch):
    # The event log write fails after the status UPDATE: the transaction must undo both.
    def broken(**kwargs):
        raise RuntimeError("the event log is down")

    monkeypatch.setattr(ReservationEvent.objects, "create", broken)
    enter(page, live_server)
    page.console.allow("500", "htmx:responseError")
    target = turns["next"]
    before = html_of(page, f"#reservation-{target.pk}")
    card_before = html_of(page, "#current-turn")
    row(page, target).get_by_role("button").click()
    confirm_in_dialog(page)
    page.wait_for_selector("#flash .flash--error")
    assert "Algo salió mal. No se cambió nada" in page.locator("#flash").inner_text()
    assert html_of(page, f"#reservation-{target.pk}") == before
    assert html_of(page, "#current-turn") == card_before
    target.refresh_from_db()
    assert target.status == "PENDING"
    assert not ReservationEvent.objects.filter(reservation=target).exists()


def test_language_switch_is_remembered(page, live_server, turns):
    enter(page, live_server)
    page.select_option("#language", "en")
    page.get_by_role("button", name="Cambiar").click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Your next session" in page.locator("#current-turn").inner_text()
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
        for path in ("/dashboard/", f"/reservations/{turns['next'].pk}/", "/preferences/"):
            page.goto(f"{live_server.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (path, width)
        page.goto(f"{live_server.url}/dashboard/")
        button = row(page, turns["next"]).get_by_role("button")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        small = page.evaluate(SMALL_TARGETS_JS)
        assert small == [], small
        assert page.console.unexpected() == []
    finally:
        page.context.close()


@pytest.fixture
def showcase(patient, make_reservation):
    """The same kinds of turns as `turns`, at the whole hours a practice books."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "soon": make_reservation(patient, midnight + timedelta(days=1, hours=15)),  # < 48 h
        "next": make_reservation(patient, midnight + timedelta(days=4, hours=10), status="PENDING"),
        "later": make_reservation(patient, midnight + timedelta(days=11, hours=16, minutes=30)),
        "past": make_reservation(
            patient, midnight - timedelta(days=7, hours=-17), minutes=60, modality="Presencial"
        ),
        "cancelled": make_reservation(
            patient, midnight - timedelta(days=14, hours=-10), status="CANCELLED"
        ),
    }


def test_screenshots(browser, live_server, showcase, other_patient):
    """Written on every run (test-artifacts/screenshots; `make screenshots` writes docs/)."""
    turns = showcase
    for name, viewport in [("dashboard-desktop", DESKTOP), ("dashboard-phone", PHONE)]:
        page = new_page(browser, viewport=viewport)
        enter(page, live_server)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, name)
        if name == "dashboard-phone":
            row(page, turns["next"]).get_by_role("button").click()
            screenshot(page, "cancel-dialog-phone", full_page=False)
            page.keyboard.press("Escape")
            page.goto(f"{live_server.url}/reservations/{turns['soon'].pk}/")
            assert "48 h" in page.locator("#reservation-detail").inner_text()
            screenshot(page, "reservation-refusal-phone")
        page.context.close()

    page = new_page(browser, locale="en-US")
    enter(page, live_server)
    assert "Your next session" in page.inner_text("#current-turn")
    screenshot(page, "dashboard-english")
    page.context.close()

    page = new_page(browser)
    enter(page, live_server, email="martin@example.com")
    assert "No tenés turnos próximos." in page.locator("#current-turn").inner_text()
    screenshot(page, "dashboard-empty")
    page.context.close()
