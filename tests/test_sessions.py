"""Sessions that end (accounts/sessions.py, accounts/middleware.py): idle and absolute lifetimes
per role on a frozen clock, what a person sees after a timeout (the login, then back to the
page; htmx a clean HX-Redirect), the once-a-minute write, and the session behind an app's tokens.
"""

import time
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.sessions import LOGIN_AT, STRICT

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, give_factor, make_user, totp_code
from .test_api import MFA_URL, mfa_pending

pytestmark = pytest.mark.django_db

PAGE = "/preferences/"  # a page every role has
LOGIN = "/accounts/login/"
HTMX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def reception(db):
    return make_user("mostrador@example.com", is_staff=True)


def person(role, patient, professional, reception):
    return {"patient": patient, "professional": professional, "staff": reception}[role]


def limits(role):
    if role == "patient":
        return settings.SESSION_IDLE_TIMEOUT, settings.SESSION_MAX_AGE
    return settings.SESSION_IDLE_TIMEOUT_STAFF, settings.SESSION_MAX_AGE_STAFF


def login(client, email, password=PASSWORD, next_url=None, **headers):
    # The form's token, as the page gives it: logging in earlier rotated it.
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    data = {"login": email, "password": password, "csrfmiddlewaretoken": token}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data, headers=headers)


def test_the_limits_are_the_issues():
    assert settings.SESSION_IDLE_TIMEOUT_STAFF == 30 * 60
    assert settings.SESSION_IDLE_TIMEOUT == 2 * 60 * 60
    assert settings.SESSION_MAX_AGE_STAFF == 12 * 60 * 60
    assert settings.SESSION_MAX_AGE == 14 * 24 * 60 * 60


# --- Idle ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["patient", "professional", "staff"])
def test_an_idle_session_lasts_exactly_its_roles_idle_timeout(
    role, patient, professional, reception
):
    user = person(role, patient, professional, reception)
    idle, _ = limits(role)
    with time_machine.travel(NOW, tick=False) as clock:
        just_in, just_out = csrf_client(user), csrf_client(user)
        clock.shift(timedelta(seconds=idle))
        assert just_in.get(PAGE).status_code == 200
        clock.shift(timedelta(seconds=1))
        r = just_out.get(PAGE)
        assert r.status_code == 302
        assert r["Location"] == f"{LOGIN}?next={quote(PAGE, safe='/')}"
        # Ended for good, not only this once: the session is gone from the database.
        assert just_out.get(PAGE).status_code == 302
        assert just_in.get(PAGE).status_code == 200  # its last request renewed it


def test_a_patients_session_outlives_the_staff_idle_timeout(patient):
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(patient)
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT_STAFF + 60))
        assert client.get(PAGE).status_code == 200


def test_becoming_staff_brings_the_shorter_timeout_within_a_minute(patient):
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(patient)
        patient.is_staff = True
        patient.save()
        give_factor(patient)  # staff have two-step verification (accounts/enrolment.py)
        clock.shift(timedelta(seconds=61))
        assert client.get(PAGE).status_code == 200  # rewrites the role with the last-seen time
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT_STAFF + 1))
        assert client.get(PAGE).status_code == 302


# --- Absolute lifetime ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["patient", "professional", "staff"])
def test_an_active_session_ends_at_its_roles_absolute_lifetime(
    role, patient, professional, reception
):
    user = person(role, patient, professional, reception)
    idle, max_age = limits(role)
    step = idle - 60
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(user)
        elapsed = 0
        while elapsed + step < max_age:
            clock.shift(timedelta(seconds=step))
            elapsed += step
            client.get("/livez")  # a request: the session is seen (the cheapest page)
        assert client.get(PAGE).status_code == 200
        clock.shift(timedelta(seconds=max_age - elapsed))
        assert client.get(PAGE).status_code == 200  # exactly its lifetime: still on
        clock.shift(timedelta(seconds=1))
        r = client.get(PAGE, headers=EN)
        assert r.status_code == 302 and r["Location"].startswith(LOGIN)
        page = client.get(r["Location"], headers=EN).content.decode()
        assert "Your session reached its time limit" in page


def test_a_session_from_before_login_times_counts_its_lifetime_from_when_it_is_seen(reception):
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(reception)
        session = client.session
        del session[LOGIN_AT]
        session.save()
        clock.shift(timedelta(seconds=settings.SESSION_MAX_AGE_STAFF))
        # Idle for longer than the timeout: it ends for that reason, whatever its age.
        assert client.get(PAGE).status_code == 302

        client = csrf_client(reception)
        session = client.session
        del session[LOGIN_AT]
        session.save()
        clock.shift(timedelta(seconds=30))
        assert client.get(PAGE).status_code == 200  # its lifetime starts now
        assert client.session[LOGIN_AT] == int(time.time())


def test_a_staff_session_from_before_roles_were_recorded_gets_the_staff_timeout(reception):
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(reception)
        session = client.session
        del session[STRICT]
        session.save()
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT_STAFF + 1))
        assert client.get(PAGE).status_code == 302


# --- What a person sees after a timeout ----------------------------------------------------------


def test_after_inactivity_the_login_page_says_why_and_leads_back_to_the_page(
    patient, make_reservation
):
    reservation = make_reservation(patient, NOW + timedelta(days=3))
    detail = f"/reservations/{reservation.pk}/"
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client()
        assert login(client, patient.email).status_code == 302
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
        r = client.get(detail, headers=EN)
        assert r.status_code == 302
        assert r["Location"] == f"{LOGIN}?next={quote(detail, safe='/')}"
        page = client.get(r["Location"], headers=EN).content.decode()
        assert "Your session ended after inactivity" in page
        r = login(client, patient.email, next_url=detail)
        assert r.status_code == 302 and r["Location"] == detail
        assert client.get(detail).status_code == 200


def test_a_form_posted_after_a_timeout_changes_nothing_and_returns_to_its_page(
    patient, make_reservation
):
    reservation = make_reservation(patient, NOW + timedelta(days=3))
    detail = f"/reservations/{reservation.pk}/"
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(patient)
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
        r = client.post(
            f"{detail}cancel/",
            {"csrfmiddlewaretoken": CSRF_TOKEN},
            headers={"Referer": f"http://testserver{detail}"},
        )
        assert r.status_code == 302
        assert r["Location"] == f"{LOGIN}?next={quote(detail, safe='/')}"
    reservation.refresh_from_db()
    assert reservation.status == "CONFIRMED"


def test_a_form_posted_after_a_timeout_from_another_site_goes_to_the_plain_login(patient):
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(patient)
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
        r = client.post(
            PAGE,
            {"csrfmiddlewaretoken": CSRF_TOKEN, "time_zone": "UTC"},
            headers={"Referer": "https://evil.example/preferences/"},
        )
        assert r.status_code == 302 and r["Location"] == LOGIN
    patient.refresh_from_db()
    assert patient.time_zone != "UTC"


def test_htmx_after_a_timeout_gets_a_clean_redirect_to_the_login(patient, make_reservation):
    reservation = make_reservation(patient, NOW + timedelta(days=3))
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(patient)
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
        r = client.post(
            f"/reservations/{reservation.pk}/cancel/",
            {"csrfmiddlewaretoken": CSRF_TOKEN},
            headers={**HTMX, "HX-Current-URL": "http://testserver/dashboard/?page=2"},
        )
        assert r.status_code == 200
        assert r["HX-Redirect"] == f"{LOGIN}?next={quote('/dashboard/?page=2', safe='/')}"
        assert b"<form" not in r.content  # no login form inside a fragment
    reservation.refresh_from_db()
    assert reservation.status == "CONFIRMED"


def test_htmx_from_another_origin_after_a_timeout_is_sent_to_the_plain_login(patient):
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(patient)
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
        r = client.get(
            "/dashboard/", headers={**HTMX, "HX-Current-URL": "https://evil.example/dashboard/"}
        )
        assert r.status_code == 200 and r["HX-Redirect"] == LOGIN


def test_the_api_after_a_timeout_answers_401_not_a_login_page(patient):
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client(patient)
        assert client.get(f"/api/reservations/user/{patient.pk}").status_code == 200
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
        r = client.get(f"/api/reservations/user/{patient.pk}")
        assert r.status_code == 401
        assert r.json()["status"] == 401


# --- What it costs -------------------------------------------------------------------------------


def writes(queries):
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]


def test_an_active_person_costs_the_session_writes_once_a_minute_not_per_request(patient):
    with time_machine.travel(NOW, tick=False) as clock:
        client = csrf_client()
        login(client, patient.email)
        for _ in range(5):
            clock.shift(timedelta(seconds=10))
            with CaptureQueriesContext(connection) as queries:
                assert client.get("/dashboard/").status_code == 200
            assert writes(queries.captured_queries) == []
        clock.shift(timedelta(seconds=11))
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/dashboard/").status_code == 200
        done = writes(queries.captured_queries)
        # The session's last-seen time, and the same in allauth.usersessions' list.
        assert len(done) == 2
        assert any("django_session" in sql for sql in done)
        assert any("usersessions_usersession" in sql for sql in done)
    seen = UserSession.objects.get(user=patient)
    assert seen.last_seen_at == NOW + timedelta(seconds=61)


# --- The session behind an app's tokens ----------------------------------------------------------


def app_login(user):
    client = Client()
    r = client.post(
        "/_allauth/app/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
    )
    if r.status_code == 401 and mfa_pending(r):  # staff and professionals: the second step
        session = {"X-Session-Token": r.json()["meta"]["session_token"]}
        r = client.post(
            MFA_URL, {"code": totp_code()}, content_type="application/json", headers=session
        )
    assert r.status_code == 200, r.content
    return r.json()["meta"]


def api_status(access_token, user):
    client = Client(headers={"Authorization": f"Bearer {access_token}"})
    return client.get(f"/api/reservations/user/{user.pk}").status_code


def refresh(refresh_token):
    return Client().post(
        "/_allauth/app/v1/tokens/refresh",
        {"refresh_token": refresh_token},
        content_type="application/json",
    )


def test_an_apps_session_ends_when_idle_for_its_roles_timeout(professional):
    idle, _ = limits("professional")
    with time_machine.travel(NOW, tick=False) as clock:
        meta = app_login(professional)
        clock.shift(timedelta(seconds=idle - 60))
        r = refresh(meta["refresh_token"])  # activity: the app renews its token
        assert r.status_code == 200
        fresh = r.json()["data"]
        assert api_status(fresh["access_token"], professional) == 200
        clock.shift(timedelta(seconds=idle - 1))  # counted from that renewal
        r = refresh(fresh["refresh_token"])
        assert r.status_code == 200
        fresh = r.json()["data"]
        clock.shift(timedelta(seconds=idle))
        assert refresh(fresh["refresh_token"]).status_code == 400
        assert api_status(fresh["access_token"], professional) == 401


def test_an_apps_session_ends_at_its_absolute_lifetime_however_active(reception):
    idle, max_age = limits("staff")
    with time_machine.travel(NOW, tick=False) as clock:
        meta = app_login(reception)
        token, elapsed = meta["refresh_token"], 0
        while elapsed + idle - 60 < max_age:
            clock.shift(timedelta(seconds=idle - 60))
            elapsed += idle - 60
            r = refresh(token)
            assert r.status_code == 200
            token, access = r.json()["data"]["refresh_token"], r.json()["data"]["access_token"]
        clock.shift(timedelta(seconds=max_age - elapsed - 1))
        assert api_status(access, reception) == 401  # the access token itself has expired
        r = refresh(token)
        assert r.status_code == 200
        access = r.json()["data"]["access_token"]
        assert api_status(access, reception) == 200
        clock.shift(timedelta(seconds=2))
        # A fresh access token, yet the session behind it has reached its end.
        assert api_status(access, reception) == 401
        assert refresh(token).status_code == 400
    assert not Session.objects.filter(expire_date__gt=NOW + timedelta(seconds=max_age)).exists()
