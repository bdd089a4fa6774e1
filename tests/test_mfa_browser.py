"""Two-step verification in a real Chromium, at 1366 and 390 px: a professional without a factor
logs in, is sent to set up an authenticator app (the test computes the app's code from the key
on the page), sees the recovery codes once, then logs in with a code, then with a recovery code,
which is then spent. axe-core checks the set-up and the code pages."""

import re

import pytest

from accounts.models import ProfessionalProfile

from .browser import ConsoleErrors, screenshot
from .conftest import PASSWORD, make_user, totp_code
from .test_a11y import Audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def new_page(browser, viewport):
    # bypass_csp only so that axe-core can be injected (tests/test_a11y.py); the site's own
    # pages are checked against the CSP by test_a11y and the other browser tests.
    context = browser.new_context(viewport=viewport, locale="es-AR", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleErrors(page)
    return page


def log_in(page, url, email):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()


def log_out(page, url):
    page.locator("header form[action='/accounts/logout/'] button").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def second_step(page, code):
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", code)
    page.locator("main form.auth-form button[type=submit]").click()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_professional_enrols_then_logs_in_with_a_code_and_a_recovery_code(
    browser, live_server, viewport
):
    size = "desktop" if viewport is DESKTOP else "phone"
    user = make_user("ruiz@example.com", first_name="Andrés", factor=False)
    ProfessionalProfile.objects.create(user=user, display_name="Dr. Andrés Ruiz")
    url = live_server.url
    page = new_page(browser, viewport)
    audit = Audit(page)

    # The first login goes to the set-up, past the password asked again before a factor changes.
    log_in(page, url, user.email)
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    screenshot(page, f"mfa-reauthenticate-{size}")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    assert page.locator("img.mfa-qr").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(page, f"mfa-enrol-{size}")
    audit.check(f"enrol {size}")

    # Nothing else opens before it is done.
    page.goto(f"{url}/agenda/")
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/$"))

    secret = page.locator("#authenticator_secret").inner_text().strip()
    page.fill("input[name=code]", totp_code(secret))
    page.locator("main form.auth-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    codes = [c.strip() for c in page.locator(".recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(page, f"mfa-recovery-codes-{size}")
    audit.check(f"recovery codes {size}")
    page.check("#codes_saved")
    page.locator("main .form-actions a.btn-primary").click()
    page.wait_for_url(re.compile(r"/agenda/$"))
    # Where they manage it later: the two-step page, reached from Preferences.
    page.goto(f"{url}/preferences/")
    page.locator("#two-step-title ~ p a").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/$"))
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(page, f"mfa-index-{size}")
    audit.check(f"index {size}")
    log_out(page, url)

    # With the app's code.
    log_in(page, url, user.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(page, f"mfa-authenticate-{size}")
    audit.check(f"authenticate {size}")
    second_step(page, totp_code(secret))
    page.wait_for_url(re.compile(r"/agenda/$"))
    log_out(page, url)

    # With a recovery code, once.
    log_in(page, url, user.email)
    second_step(page, codes[0])
    page.wait_for_url(re.compile(r"/agenda/$"))
    log_out(page, url)

    log_in(page, url, user.email)
    second_step(page, codes[0])
    page.wait_for_load_state()
    assert "/accounts/2fa/authenticate/" in page.url
    assert page.locator("main .errorlist").is_visible()
    screenshot(page, f"mfa-recovery-code-spent-{size}")
    # Still not logged in: the agenda sends them back to finish logging in.
    page.goto(f"{url}/agenda/")
    assert re.search(r"/accounts/(login|2fa/authenticate)/", page.url), page.url

    assert not audit.serious, "\n".join(audit.serious)
    assert not page.console.unexpected(), page.console.unexpected()
