"""Ending sessions: a person's own list (allauth.usersessions, Preferences → "Your sessions"),
staff logging someone out everywhere (a lost phone), and a password change or reset ending the
other sessions, browsers' and apps' alike."""

import re
from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from audit.models import AccessLog

from .conftest import CSRF_TOKEN, PASSWORD, csrf_client, make_user, totp_code
from .test_notifications import run_due_tasks

pytestmark = pytest.mark.django_db

SESSIONS = "/accounts/sessions/"
EN = {"Accept-Language": "en"}
PHONE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36"
LAPTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


def logged_in(user, user_agent=LAPTOP_UA, address="198.51.100.7"):
    """A browser that logged in through the form (allauth lists the session it starts)."""
    client = Client(enforce_csrf_checks=True, headers={"User-Agent": user_agent})
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_TOKEN
    r = client.post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD, "csrfmiddlewaretoken": CSRF_TOKEN},
        REMOTE_ADDR=address,
    )
    assert r.status_code == 302, r.content
    if r["Location"] == "/accounts/2fa/authenticate/":  # staff: the second step
        r = client.post(
            r["Location"],
            {"code": totp_code(), "csrfmiddlewaretoken": CSRF_TOKEN},
            REMOTE_ADDR=address,
        )
        assert r.status_code == 302, r.content
    return client


def post(client, path, data=None, **kwargs):
    token = client.cookies[settings.CSRF_COOKIE_NAME].value  # rotated by the login
    return client.post(path, {"csrfmiddlewaretoken": token, **(data or {})}, **kwargs)


def is_in(client):
    return client.get("/dashboard/").status_code == 200


def app_token(user):
    r = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    return r.json()["meta"]["access_token"]


def api_status(token, user):
    client = Client(headers={"Authorization": f"Bearer {token}"})
    return client.get(f"/api/reservations/user/{user.pk}").status_code


# --- A person's own sessions ---------------------------------------------------------------------


def test_preferences_link_to_the_list_of_ones_sessions(patient):
    page = csrf_client(patient).get("/preferences/", headers=EN).content.decode()
    assert f'href="{SESSIONS}"' in page


def test_the_list_shows_each_device_its_address_and_when_it_was_last_seen(patient):
    laptop = logged_in(patient, LAPTOP_UA, "198.51.100.7")
    logged_in(patient, PHONE_UA, "203.0.113.9")
    r = laptop.get(SESSIONS, headers=EN)
    assert r.status_code == 200
    page = r.content.decode()
    assert "Firefox/133.0" in page and "Pixel 8" in page
    assert "198.51.100.7" in page and "203.0.113.9" in page
    assert "Last seen" in page and "This browser" in page
    assert page.count('action="/accounts/sessions/') == 2  # one other to end, and "all others"
    assert 'class="site-header' in page and 'class="auth-card"' in page  # the site's layout


def test_ending_all_other_sessions_keeps_only_this_one(patient, other_patient):
    laptop, phone, tablet = logged_in(patient), logged_in(patient, PHONE_UA), logged_in(patient)
    hers = logged_in(other_patient)
    token = app_token(patient)
    assert api_status(token, patient) == 200
    r = post(laptop, SESSIONS)
    assert r.status_code == 302
    assert is_in(laptop)
    assert not is_in(phone) and not is_in(tablet)
    assert api_status(token, patient) == 401  # an app's session is one of them
    assert is_in(hers)
    assert UserSession.objects.filter(user=patient).count() == 1
    assert UserSession.objects.filter(user=other_patient).count() == 1


def test_ending_one_session_leaves_the_others(patient):
    laptop, phone, tablet = logged_in(patient), logged_in(patient, PHONE_UA), logged_in(patient)
    target = UserSession.objects.get(user=patient, user_agent=PHONE_UA)
    r = post(laptop, f"{SESSIONS}{target.pk}/end/")
    assert r.status_code == 302 and r["Location"] == SESSIONS
    assert not is_in(phone)
    assert is_in(laptop) and is_in(tablet)
    assert not UserSession.objects.filter(pk=target.pk).exists()
    assert not Session.objects.filter(session_key=target.session_key).exists()


def test_someone_elses_session_is_a_404_and_stays(patient, other_patient):
    laptop, hers = logged_in(patient), logged_in(other_patient)
    theirs = UserSession.objects.get(user=other_patient)
    assert post(laptop, f"{SESSIONS}{theirs.pk}/end/").status_code == 404
    assert post(laptop, f"{SESSIONS}999999/end/").status_code == 404
    assert is_in(hers)
    assert UserSession.objects.filter(pk=theirs.pk).exists()


def test_ending_a_session_needs_a_post_with_its_csrf_token(patient):
    laptop, phone = logged_in(patient), logged_in(patient, PHONE_UA)
    target = UserSession.objects.get(user=patient, user_agent=PHONE_UA)
    assert laptop.get(f"{SESSIONS}{target.pk}/end/").status_code == 405
    assert laptop.post(f"{SESSIONS}{target.pk}/end/").status_code == 403
    assert laptop.post(SESSIONS).status_code == 403
    assert is_in(phone)


def test_ending_ones_own_current_session_logs_out(patient):
    laptop = logged_in(patient)
    mine = UserSession.objects.get(user=patient)
    r = post(laptop, f"{SESSIONS}{mine.pk}/end/")
    assert r.status_code == 302 and r["Location"] == "/accounts/login/"
    assert not is_in(laptop)


# --- Staff: log someone out everywhere -----------------------------------------------------------


@pytest.fixture
def reception(db):
    """Staff who may change users, not a superuser."""
    user = make_user("mostrador@example.com", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "change_user"]
        )
    )
    return user


def end_everywhere(client, user):
    return client.post(
        f"/admin/accounts/user/{user.pk}/end-sessions/", {"csrfmiddlewaretoken": CSRF_TOKEN}
    )


def test_reception_logs_a_patient_out_everywhere_and_it_is_logged(reception, patient):
    phone, laptop = logged_in(patient, PHONE_UA), logged_in(patient)
    token = app_token(patient)
    desk = csrf_client(reception)
    page = desk.get(f"/admin/accounts/user/{patient.pk}/change/").content.decode()
    assert f"/admin/accounts/user/{patient.pk}/end-sessions/" in page
    r = end_everywhere(desk, patient)
    assert r.status_code == 302
    assert not is_in(phone) and not is_in(laptop)
    assert api_status(token, patient) == 401
    assert not UserSession.objects.filter(user=patient).exists()
    entry = AccessLog.objects.get(kind=AccessLog.Kind.SESSIONS_ENDED)
    assert (entry.actor, entry.subject) == (reception, patient)
    assert entry.object_id == str(patient.pk) and entry.where == "admin: user"
    assert desk.get("/admin/").status_code == 200  # the desk stays logged in


def test_sessions_from_before_the_list_existed_end_too(reception, patient):
    old = csrf_client(patient)  # force_login: a session allauth never listed
    assert is_in(old)
    end_everywhere(csrf_client(reception), patient)
    assert not is_in(old)


def test_reception_cannot_log_a_staff_account_out(reception):
    colleague = make_user("colega@example.com", is_staff=True)
    theirs = logged_in(colleague)
    desk = csrf_client(reception)
    page = desk.get(f"/admin/accounts/user/{colleague.pk}/change/").content.decode()
    assert "end-sessions" not in page
    assert end_everywhere(desk, colleague).status_code == 403
    assert is_in(theirs)
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.SESSIONS_ENDED).exists()


def test_a_superuser_logs_a_staff_account_out(reception):
    theirs = logged_in(reception)
    root = csrf_client(make_user("root@example.com", is_staff=True, is_superuser=True))
    assert end_everywhere(root, reception).status_code == 302
    assert not is_in(theirs)


def test_ending_someones_sessions_needs_a_post_and_the_permission(reception, patient):
    theirs = logged_in(patient)
    desk = csrf_client(reception)
    assert desk.get(f"/admin/accounts/user/{patient.pk}/end-sessions/").status_code == 405
    missing = "00000000-0000-0000-0000-000000000000"
    assert (
        desk.post(
            f"/admin/accounts/user/{missing}/end-sessions/", {"csrfmiddlewaretoken": CSRF_TOKEN}
        ).status_code
        == 404
    )
    reception.user_permissions.remove(Permission.objects.get(codename="change_user"))
    assert end_everywhere(desk, patient).status_code == 403
    assert is_in(theirs)
    # A patient is not let into the admin at all.
    other = csrf_client(make_user("x@example.com"))
    assert end_everywhere(other, patient).status_code == 302
    assert is_in(theirs)


# --- Passwords -----------------------------------------------------------------------------------


def test_a_password_reset_ends_every_session(patient):
    phone, laptop = logged_in(patient, PHONE_UA), logged_in(patient)
    token = app_token(patient)
    browser = csrf_client()
    browser.post(
        "/accounts/password/reset/", {"email": patient.email, "csrfmiddlewaretoken": CSRF_TOKEN}
    )
    run_due_tasks()  # the worker sends account emails, never the request
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body)
    form_url = browser.get(link.group(1))["Location"]
    new = "a-new-long-secret-9"
    r = browser.post(
        form_url, {"password1": new, "password2": new, "csrfmiddlewaretoken": CSRF_TOKEN}
    )
    assert r.status_code == 302
    patient.refresh_from_db()
    assert patient.check_password(new)
    assert not is_in(phone) and not is_in(laptop)
    assert api_status(token, patient) == 401
    assert not UserSession.objects.filter(user=patient).exists()


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(patient):
    phone, laptop = logged_in(patient, PHONE_UA), logged_in(patient)
    token = app_token(patient)
    new = "another-long-secret-7"
    r = post(
        laptop,
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert r.status_code == 302
    assert is_in(laptop)
    assert not is_in(phone)
    assert api_status(token, patient) == 401
    # Only this browser is left on the list.
    assert UserSession.objects.filter(user=patient).count() == 1
    assert laptop.get(SESSIONS).context["session_count"] == 1


def test_a_wrong_current_password_changes_nothing(patient):
    phone, laptop = logged_in(patient, PHONE_UA), logged_in(patient)
    r = post(
        laptop,
        "/accounts/password/change/",
        {"oldpassword": "wrong", "password1": "x-long-secret-77", "password2": "x-long-secret-77"},
    )
    assert r.status_code == 200
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)
    assert is_in(phone)


def test_djangos_session_hash_alone_refuses_the_other_sessions_but_leaves_them_listed(patient):
    """What Django does by itself with allauth (our receivers disconnected): the session hash
    refuses the other browsers at their next request, and allauth's stateful JWT validation the
    app's tokens; but their rows stay in the person's list until the list purges them. Our
    receivers (accounts/signals.py) end them at once."""
    from allauth.account.signals import password_changed

    from accounts.signals import end_the_other_sessions

    phone, laptop = logged_in(patient, PHONE_UA), logged_in(patient)
    token = app_token(patient)
    password_changed.disconnect(end_the_other_sessions)
    try:
        new = "another-long-secret-7"
        post(
            laptop,
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": new, "password2": new},
        )
    finally:
        password_changed.connect(end_the_other_sessions)
    assert is_in(laptop) and not is_in(phone)
    assert api_status(token, patient) == 401
    assert UserSession.objects.filter(user=patient).count() > 1  # not ended, only refused


def test_the_sweep_deletes_ended_sessions_and_keeps_live_ones(patient, other_patient):
    from django.utils import timezone

    from notifications.tasks import sweep_once

    logged_in(patient)
    logged_in(other_patient)
    ended, live = Session.objects.order_by("expire_date")[:2]
    Session.objects.filter(pk=ended.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    sweep_once(timezone.now())
    assert list(Session.objects.values_list("pk", flat=True)) == [live.pk]
