"""Error pages: the site's layout, the visitor's language and a way back (the dashboard for a
logged-in user, the login page for anyone else), and nothing that needs the database."""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from reservations_site import views

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db


def get(client, path, language, follow=False):
    return client.get(path, headers={"Accept-Language": language}, follow=follow)


def assert_branded(response, status, language, title, way_back):
    html = response.content.decode()
    assert response.status_code == status
    assert f'<html lang="{language}">' in html
    assert 'class="site-header"' in html and "Turnos" in html
    assert f"<h1>{title}</h1>" in html
    assert way_back in html
    # The strict CSP: nothing inline.
    assert "<script" not in html and "<style" not in html and " style=" not in html
    assert "Content-Security-Policy" in response.headers


DASHBOARD = 'href="/dashboard/">'
LOGIN = 'href="/accounts/login/">'


@pytest.mark.parametrize(
    "language, code, title, back",
    [
        ("es-AR", "es-ar", "Esta página no es para tu cuenta", "Volver a mis turnos"),
        ("en", "en", "This page is not for your account", "Back to my sessions"),
    ],
)
def test_a_patient_at_the_admin_gets_the_sites_403(patient, language, code, title, back):
    # The admin sends them to its login page, which allauth's secure_admin_login guards.
    response = get(csrf_client(patient), "/admin/", language, follow=True)
    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]
    assert_branded(response, 403, code, title, f"{DASHBOARD}{back}</a>")


def test_a_professional_at_the_admin_gets_the_sites_403_too(professional):
    response = get(csrf_client(professional), "/admin/reservations/", "es-AR", follow=True)
    assert_branded(response, 403, "es-ar", "Esta página no es para tu cuenta", DASHBOARD)


def test_staff_still_reach_the_admin(staff):
    assert csrf_client(staff).get("/admin/").status_code == 200


def test_anonymous_visitors_at_the_admin_are_sent_to_log_in(db):
    response = csrf_client().get("/admin/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "language, code, title, back",
    [
        ("es-AR", "es-ar", "No encontramos esta página", "Volver a mis turnos"),
        ("en", "en", "We could not find this page", "Back to my sessions"),
    ],
)
def test_a_missing_session_someone_elses_and_an_unknown_address_are_one_404(
    patient, other_patient, make_reservation, frozen_now, language, code, title, back
):
    theirs = make_reservation(other_patient, NOW + timedelta(days=7))
    client = csrf_client(patient)
    pages = [
        get(client, f"/reservations/{uuid.uuid4()}/", language),
        get(client, f"/reservations/{theirs.pk}/", language),
        get(client, "/no-such-page/", language),
    ]
    for response in pages:
        assert_branded(response, 404, code, title, f"{DASHBOARD}{back}</a>")
    # Byte for byte: nothing tells a session that exists from one that does not.
    assert len({response.content for response in pages}) == 1


@pytest.mark.parametrize(
    "language, code, title, back",
    [
        ("es-AR", "es-ar", "No encontramos esta página", "Ingresar"),
        ("en", "en", "We could not find this page", "Log in"),
    ],
)
def test_an_anonymous_404_leads_to_the_login_page(db, language, code, title, back):
    response = get(csrf_client(), "/no-such-page/", language)
    assert_branded(response, 404, code, title, f"{LOGIN}{back}</a>")


def test_a_request_with_a_foreign_host_gets_the_sites_400(db):
    response = csrf_client().get(
        "/dashboard/", headers={"Host": "evil.example", "Accept-Language": "es-AR"}
    )
    assert_branded(response, 400, "es-ar", "No pudimos entender este pedido", LOGIN)


def test_a_login_rate_limit_gets_the_sites_429(patient, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    client = csrf_client()
    data = {"login": "lucia@example.com", "password": "wrong", "csrfmiddlewaretoken": CSRF_TOKEN}
    statuses = [
        client.post("/accounts/login/", data, headers={"Accept-Language": "es-AR"})
        for _ in range(2)
    ]
    assert_branded(statuses[-1], 429, "es-ar", "Demasiados intentos", LOGIN)


def test_unknown_addresses_for_apps_are_still_json(db):
    response = csrf_client().get("/_allauth/app/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


# Without the database. A 500 or 503 renders while it is down (test_hardening.py runs a server
# against a database that does not answer). Before a 403 or 404 handler runs, the middleware has
# read request.user; these show the handlers themselves add no query and survive a user that
# cannot be read.


def request_for(path, user):
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_the_404_handler_runs_no_query(patient, django_assert_num_queries):
    request = request_for("/no-such-page/", patient)
    with translation.override("es-ar"), django_assert_num_queries(0):
        response = views.page_not_found(request, None)
    assert DASHBOARD in response.content.decode()


def test_the_403_and_404_pages_render_when_the_user_cannot_be_read(db):
    def unreadable():
        raise OperationalError("connection refused")

    for handler, status in [(views.page_not_found, 404), (views.permission_denied, 403)]:
        request = request_for("/no-such-page/", SimpleLazyObject(unreadable))
        with translation.override("es-ar"):
            response = handler(request, None)
        assert response.status_code == status
        html = response.content.decode()
        assert '<html lang="es-ar">' in html and LOGIN in html


def test_the_csrf_failure_page_keeps_the_layout(patient):
    response = csrf_client(patient).post("/accounts/logout/", headers={"Accept-Language": "en"})
    html = response.content.decode()
    assert response.status_code == 403
    assert 'class="site-header"' in html and "<title>Please try again · Turnos</title>" in html
    assert re.search(r"<h1>Please try again</h1>", html)
