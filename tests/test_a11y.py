"""Accessibility: axe-core (vendored in tests/assets, injected by the test, never served) on
every page a patient can reach, in the states that matter. Serious or critical violations fail;
the rest are printed. Plus the markup rules a strict Content-Security-Policy needs."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from .browser import enter
from .conftest import CSRF_TOKEN, csrf_client, make_user

AXE_VERSION = "4.14.1"
AXE = Path(__file__).parent / "assets" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA, and axe's best practices (landmarks, headings).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page):
    # add_script_tag(path=...) inserts the file as an inline script: the context bypasses CSP
    # for that reason only (see new_context below).
    page.add_script_tag(path=str(AXE))
    assert page.evaluate("axe.version") == AXE_VERSION
    return page.evaluate(
        # target-size (WCAG 2.5.8, 24 px) is off by default in axe: switched on here.
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " rules: {'target-size': {enabled: true}}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))",
        AXE_TAGS,
    )


class Audit:
    def __init__(self, page):
        self.page = page
        self.serious = []

    def check(self, label):
        found = axe_violations(self.page)
        for v in found:
            line = f"[{label}] {v['impact']}: {v['id']} — {v['help']} {v['nodes']}"
            print(line)
            if v["impact"] in ("serious", "critical"):
                self.serious.append(line)


def new_page(browser, locale="es-AR"):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale=locale, bypass_csp=True
    )
    return context.new_page()


@pytest.fixture
def sessions_of_every_kind(patient, professional, make_reservation, settings):
    """Upcoming sessions showing everything a session can say: the button to join, a refusal
    with the professional's contact links and one with the practice's, a pending one, an
    in-person one with its address; and a history with every ending."""
    from accounts.models import ProfessionalProfile

    settings.PRACTICE_PHONE = "011 4555-0101"
    settings.PRACTICE_EMAIL = "consultorio@turnos.example"
    profile = professional.professional_profile
    profile.phone = "+54 9 11 5555-1234"
    profile.whatsapp = "+54 9 11 5555-1234"
    profile.contact_email = "gomez@consultorio.example"
    profile.address = "Av. Corrientes 1234, piso 3, CABA"
    profile.video_url = "https://meet.example.com/lic-gomez"
    profile.save()
    ruiz = make_user("ruiz@example.com", first_name="Pablo", last_name="Ruiz")
    ProfessionalProfile.objects.create(user=ruiz, display_name="Dr. Pablo Ruiz")  # no contact

    now = timezone.now().replace(second=0, microsecond=0)
    made = {
        "join": make_reservation(patient, now + timedelta(minutes=10)),
        "practice_contact": make_reservation(patient, now + timedelta(hours=20), pro=ruiz),
        "pending": make_reservation(patient, now + timedelta(days=4), status="PENDING"),
        "in_person": make_reservation(patient, now + timedelta(days=9), modality="Presencial"),
        "done": make_reservation(patient, now - timedelta(days=7), modality="Presencial"),
        "absent": make_reservation(patient, now - timedelta(days=14)),
        "cancelled": make_reservation(patient, now - timedelta(days=21), status="CANCELLED"),
    }
    made["absent"].attended = False
    made["absent"].save()
    # Another patient whose next session is in person: the dashboard shows its address.
    ana = make_user("ana@example.com", first_name="Ana")
    make_reservation(ana, now + timedelta(days=2), modality="Presencial")
    make_reservation(ana, now + timedelta(days=5))
    return made


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_passes_axe(browser, live_server, other_patient, sessions_of_every_kind):
    made = sessions_of_every_kind
    url = live_server.url

    # Logged out: the entrance pages.
    page = new_page(browser)
    audit = Audit(page)
    for path in (
        "/accounts/login/",
        "/accounts/password/reset/",
        "/accounts/signup/",
        "/accounts/password/reset/key/1-bad-key/",
        "/accounts/invitation/1:bad-key/",
    ):
        page.goto(url + path)
        audit.check(path)
    page.goto(url + "/accounts/login/")
    page.click("main form button[type=submit]")  # empty form: the error state
    audit.check("login with errors")
    page.goto(url + "/accounts/password/reset/")
    page.fill("input[name=email]", "lucia@example.com")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/password/reset/done/")
    audit.check("password reset done")
    page.context.close()

    # The patient with sessions of every kind.
    page = new_page(browser)
    audit.page = page
    enter(page, live_server, "lucia@example.com", path=None)
    page.goto(url + "/dashboard/")
    first = page.locator("#upcoming .turn-card--next")
    assert first.get_by_role("link", name="Entrar a la sesión").count() == 1
    assert first.locator(".contact a").count() == 3
    assert "Contactá al consultorio:" in page.locator("#upcoming").inner_text()
    assert page.locator("#upcoming .turn-card--pending").count() == 1
    audit.check("dashboard")
    for name in ("join", "practice_contact", "pending", "in_person", "done", "cancelled"):
        page.goto(f"{url}/reservations/{made[name].pk}/")
        audit.check(f"reservation: {name}")
    for path in ("/preferences/", "/accounts/password/change/", "/accounts/logout/"):
        page.goto(url + path)
        audit.check(path)
    upcoming = made["pending"]
    page.goto(url + "/dashboard/")
    page.locator(f"#reservation-{upcoming.pk} button").click()
    page.wait_for_selector("#confirm-dialog[open]")
    audit.check("confirmation dialog")
    page.locator("#confirm-dialog button[value=confirm]").click()
    page.wait_for_selector(f"#reservation-{upcoming.pk}.turn-card--cancelled")
    audit.check("dashboard after cancel")
    page.goto(f"{url}/reservations/{upcoming.pk}/")
    audit.check("cancelled reservation")
    page.context.close()

    # The next session in person: its address and map link on the dashboard.
    page = new_page(browser)
    audit.page = page
    enter(page, live_server, "ana@example.com", path=None)
    page.goto(url + "/dashboard/")
    assert page.locator("#upcoming .turn-card--next .where__map").count() == 1
    audit.check("dashboard, in person next")
    page.context.close()

    # The empty dashboard, and the dashboard in English.
    page = new_page(browser)
    audit.page = page
    enter(page, live_server, "martin@example.com", path=None)
    page.goto(url + "/dashboard/")
    audit.check("empty dashboard")
    page.context.close()
    page = new_page(browser, locale="en-US")
    audit.page = page
    enter(page, live_server, "lucia@example.com", path=None)
    page.goto(url + "/dashboard/")
    assert page.locator("html").get_attribute("lang") == "en"
    audit.check("dashboard in English")
    # The checker itself can fail: a button without a name is a critical violation.
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<button>')")
    assert {"id": "button-name", "impact": "critical"}.items() <= axe_violations(page)[0].items()
    page.context.close()

    assert audit.serious == []


INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)


@pytest.mark.django_db
def test_pages_need_no_inline_script_or_style(patient, make_reservation):
    """What a strict CSP (script-src 'self'; style-src 'self') would block must not be there."""
    reservation = make_reservation(patient, timezone.now() + timedelta(days=4))
    anonymous = csrf_client()
    pages = {
        path: anonymous.get(path)
        for path in ("/accounts/login/", "/accounts/password/reset/", "/accounts/signup/")
    }
    client = csrf_client(patient)
    for path in (
        "/dashboard/",
        f"/reservations/{reservation.pk}/",
        "/preferences/",
        "/accounts/password/change/",
        "/accounts/logout/",
    ):
        pages[path] = client.get(path)
    pages["cancel fragment"] = client.post(
        f"/reservations/{reservation.pk}/cancel/",
        {"csrfmiddlewaretoken": CSRF_TOKEN},
        headers={"HX-Request": "true"},
    )
    for path, response in pages.items():
        assert response.status_code == 200, path
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), path
        assert not INLINE_HANDLER.search(html), path
        assert not STYLE_ATTRIBUTE.search(html), path
        if "<head>" in html:
            assert '"includeIndicatorStyles": false' in html, path
