"""The list of where a person is logged in, and the "confirm it is you" page, in a real browser:
at a desktop's and a phone's width, axe-core finds nothing serious, and logging out elsewhere
from the list works without JavaScript tricks (plain forms)."""

import pytest
from allauth.usersessions.models import UserSession

from .browser import ConsoleErrors, screenshot
from .conftest import PASSWORD
from .test_a11y import Audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, url, email):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{url}/dashboard/")


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_where_you_are_logged_in_at_both_widths(browser, live_server, patient, width, height):
    url = live_server.url
    phone = browser.new_context(user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile")
    log_in(phone.new_page(), url, patient.email)
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="en", bypass_csp=True
    )
    page = context.new_page()
    errors = ConsoleErrors(page)
    log_in(page, url, patient.email)
    page.goto(f"{url}/preferences/")
    page.click("text=See where you are logged in")
    page.wait_for_url(f"{url}/accounts/sessions/")
    assert page.locator(".user-sessions__item").count() == 2
    audit = Audit(page)
    audit.check(f"sessions {width}")
    screenshot(page, f"sessions-{width}")
    page.click("text=Log out there")
    page.wait_for_url(f"{url}/accounts/sessions/")
    assert page.locator(".user-sessions__item").count() == 1
    assert UserSession.objects.filter(user=patient).count() == 1
    page.goto(f"{url}/accounts/reauthenticate/")
    audit.check(f"reauthenticate {width}")
    assert audit.serious == []
    assert errors.unexpected() == []
    phone.close()
    context.close()
