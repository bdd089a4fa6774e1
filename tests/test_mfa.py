"""Two-step verification (allauth.mfa): required of staff and professionals before anything opens
(accounts/enrolment.py), at every door: the site, the admin, the API and an app's token login;
optional for patients; a superuser resets a lost factor."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.test import Client

from accounts import enrolment
from accounts.models import ProfessionalProfile
from audit.models import AccessLog
from notifications.models import Outbox

from .conftest import (
    CSRF_TOKEN,
    PASSWORD,
    csrf_client,
    give_factor,
    make_user,
    totp_code,
)
from .test_api import LOGIN_URL, MFA_URL, assert_envelope, mfa_pending

pytestmark = pytest.mark.django_db

ENROL = "/accounts/2fa/totp/activate/"


def unenrolled_professional():
    user = make_user("ruiz@example.com", first_name="Andrés", factor=False)
    ProfessionalProfile.objects.create(user=user, display_name="Dr. Andrés Ruiz")
    return user


def unenrolled_receptionist():
    user = make_user("mesa@example.com", first_name="Mesa", is_staff=True, factor=False)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_reservation", "change_reservation", "view_user"]
        )
    )
    return user


def app_login(email, password=PASSWORD):
    return Client().post(
        LOGIN_URL, {"email": email, "password": password}, content_type="application/json"
    )


def form_login(client, email, password=PASSWORD):
    r = client.post(
        "/accounts/login/",
        {"login": email, "password": password, "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    # Logging in rotates the CSRF token: the next page's forms carry the new one, as here.
    client.cookies["csrftoken"] = CSRF_TOKEN
    return r


def post(client, url, data=None):
    return client.post(url, {"csrfmiddlewaretoken": CSRF_TOKEN, **(data or {})})


def confirm_password(client, next_url):
    """allauth's re-authentication: the password again before a change to factors."""
    r = post(client, f"/accounts/reauthenticate/?next={next_url}", {"password": PASSWORD})
    assert r.status_code == 302, r.content
    return r


# --- Who must enrol, and what stays closed until they do --------------------------------------


@pytest.mark.parametrize("path", ["/agenda/", "/dashboard/", "/preferences/", "/admin/"])
def test_a_professional_without_a_factor_is_sent_to_set_one_up_first(path):
    client = csrf_client(unenrolled_professional())
    r = client.get(path)
    assert r.status_code == 302
    assert r["Location"] == ENROL


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/reservations/reservation/", "/admin/accounts/user/", "/agenda/"]
)
def test_a_receptionist_without_a_factor_is_sent_to_set_one_up_first(path):
    client = csrf_client(unenrolled_receptionist())
    r = client.get(path)
    assert r.status_code == 302
    assert r["Location"] == ENROL


def test_an_htmx_request_gets_a_clean_redirect_rather_than_the_page_in_a_fragment():
    client = csrf_client(unenrolled_professional())
    r = client.get("/agenda/", headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert r["HX-Redirect"] == ENROL
    assert r.content == b""


def test_a_post_without_a_factor_changes_nothing(patient, make_reservation, frozen_now):
    from datetime import timedelta

    pro = unenrolled_professional()
    reservation = make_reservation(patient, frozen_now + timedelta(days=7), pro=pro)
    client = csrf_client(pro)
    r = post(client, f"/agenda/{reservation.pk}/cancel/", {"reason": "Enfermedad"})
    assert r.status_code == 302 and r["Location"] == ENROL
    reservation.refresh_from_db()
    assert reservation.status == "CONFIRMED"


def test_only_the_pages_that_set_up_a_factor_stay_open():
    client = csrf_client(unenrolled_professional())
    # Setting up asks for the password again first (allauth's re-authentication).
    r = client.get(ENROL)
    assert r.status_code == 302 and r["Location"].startswith("/accounts/reauthenticate/")
    assert client.get(r["Location"]).status_code == 200
    assert client.get("/accounts/2fa/").status_code == 200
    assert client.get("/accounts/2fa/webauthn/add/").status_code in (200, 302)
    lang = post(client, "/i18n/setlang/", {"language": "en", "next": ENROL})
    assert lang.status_code == 302 and lang["Location"] == ENROL
    assert post(client, "/accounts/logout/").status_code == 302
    assert client.get("/agenda/")["Location"].startswith("/accounts/login/")


def test_with_a_factor_the_agenda_the_admin_and_the_api_open(professional, staff):
    assert csrf_client(professional).get("/agenda/").status_code == 200
    assert csrf_client(staff).get("/admin/").status_code == 200
    r = csrf_client(professional).get(f"/api/reservations/user/{professional.pk}")
    assert r.status_code == 200


def test_patients_are_not_asked_to_enrol(patient):
    client = csrf_client(patient)
    assert client.get("/dashboard/").status_code == 200
    assert client.get(f"/api/reservations/user/{patient.pk}").status_code == 200
    assert app_login(patient.email).status_code == 200


def test_preferences_offer_two_step_verification_to_a_patient(patient):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(patient)
    page = client.get("/preferences/").content.decode()
    assert 'href="/accounts/2fa/"' in page
    assert "Set up two-step verification" in page
    give_factor(patient)
    assert "Manage two-step verification" in client.get("/preferences/").content.decode()


def test_a_patient_made_a_professional_since_login_must_enrol_before_the_agenda(patient):
    client = csrf_client(patient)
    assert client.get("/dashboard/").status_code == 200
    ProfessionalProfile.objects.create(user=patient, display_name="Lic. Lucía")
    assert client.get("/agenda/")["Location"] == ENROL
    # From then on, every page: the agenda found out who they are.
    assert client.get("/dashboard/")["Location"] == ENROL


def test_the_setting_turns_the_requirement_off(settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    assert csrf_client(unenrolled_professional()).get("/agenda/").status_code == 200


# --- Enrolling through the pages, then logging in with the code ------------------------------


def test_a_professional_enrols_at_first_login_and_sees_the_recovery_codes_once():
    pro = unenrolled_professional()
    client = csrf_client()
    r = form_login(client, pro.email)
    assert r["Location"] == "/agenda/"
    r = client.get("/agenda/")
    assert r["Location"] == ENROL
    r = client.get(ENROL)
    confirm_password(client, ENROL)
    page = client.get(ENROL).content.decode()
    secret = re.search(r'<code id="authenticator_secret">([A-Z2-7]+)</code>', page).group(1)
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code

    wrong = post(client, ENROL, {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=pro).exists()

    r = post(client, ENROL, {"code": totp_code(secret)})
    assert r.status_code == 302 and r["Location"] == "/accounts/2fa/recovery-codes/"
    assert set(Authenticator.objects.filter(user=pro).values_list("type", flat=True)) == {
        "totp",
        "recovery_codes",
    }
    codes_page = client.get(r["Location"]).content.decode()
    codes = re.findall(r"<li><code>(\w+)</code></li>", codes_page)
    assert len(codes) == 10
    # Continue leads where they were going.
    assert 'href="/agenda/"' in codes_page
    # Shown once: a second look shows none of them.
    again = client.get(r["Location"]).content.decode()
    assert not any(code in again for code in codes)
    assert client.get("/agenda/").status_code == 200


def test_a_professional_with_a_factor_logs_in_with_the_code(professional):
    client = csrf_client()
    r = form_login(client, professional.email)
    assert r["Location"] == "/accounts/2fa/authenticate/"
    # Not logged in yet: the agenda asks for the login.
    assert client.get("/agenda/")["Location"].startswith("/accounts/login/")
    assert post(client, "/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200
    r = post(client, "/accounts/2fa/authenticate/", {"code": totp_code()})
    assert r.status_code == 302 and r["Location"] == "/agenda/"
    assert client.get("/agenda/").status_code == 200


def test_a_professional_cannot_turn_off_their_only_factor_but_a_patient_can(professional, patient):
    client = csrf_client(professional)
    confirm_password(client, "/accounts/2fa/totp/deactivate/")
    post(client, "/accounts/2fa/totp/deactivate/")
    assert Authenticator.objects.filter(user=professional, type="totp").exists()

    client = csrf_client(patient)
    give_factor(patient)
    confirm_password(client, "/accounts/2fa/totp/deactivate/")
    r = post(client, "/accounts/2fa/totp/deactivate/")
    assert r.status_code == 302
    assert not Authenticator.objects.filter(user=patient).exists()


# --- The API and an app's login --------------------------------------------------------------


@pytest.mark.parametrize("who", ["professional", "receptionist"])
def test_an_app_gets_no_token_for_someone_who_must_enrol(who):
    user = unenrolled_professional() if who == "professional" else unenrolled_receptionist()
    r = app_login(user.email)
    assert r.status_code == 403, r.content
    body = r.json()
    assert body["errors"][0]["code"] == "mfa_enrolment_required"
    assert "access_token" not in body.get("meta", {})


def test_a_wrong_password_is_still_just_a_wrong_password():
    user = unenrolled_professional()
    r = app_login(user.email, "wrong-password")
    assert r.status_code == 400


def test_an_app_login_with_a_factor_takes_the_second_step(professional):
    client = Client()
    r = client.post(
        LOGIN_URL,
        {"email": professional.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert r.status_code == 401
    assert mfa_pending(r)
    assert "access_token" not in r.json()["meta"]
    session = {"X-Session-Token": r.json()["meta"]["session_token"]}
    wrong = client.post(
        MFA_URL, {"code": "000000"}, content_type="application/json", headers=session
    )
    assert wrong.status_code == 400
    r = client.post(
        MFA_URL, {"code": totp_code()}, content_type="application/json", headers=session
    )
    assert r.status_code == 200
    token = r.json()["meta"]["access_token"]
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get(f"/api/reservations/user/{professional.pk}").status_code == 200


def test_a_token_stops_working_when_the_factor_is_reset(professional):
    from .test_api import get_token

    api = Client(headers={"Authorization": f"Bearer {get_token(professional.email)}"})
    assert api.get(f"/api/reservations/user/{professional.pk}").status_code == 200
    enrolment.reset_factors(professional)
    body = assert_envelope(api.get(f"/api/reservations/user/{professional.pk}"), 403)
    assert "two-step verification" in body["message"] or "dos pasos" in body["message"]


def test_the_api_in_the_browser_refuses_someone_who_must_enrol():
    pro = unenrolled_professional()
    client = csrf_client(pro)
    assert_envelope(client.get(f"/api/reservations/user/{pro.pk}"), 403)


# --- A superuser resets a lost factor --------------------------------------------------------


def reset_url(user):
    return f"/admin/accounts/user/{user.pk}/reset-factors/"


def test_a_superuser_resets_a_lost_factor_logs_it_and_tells_the_person(staff, professional):
    professional.language = "en"
    professional.save()
    client = csrf_client(staff)
    # First their own password again (allauth's re-authentication), then the reset goes on.
    r = post(client, reset_url(professional))
    assert r.status_code == 302 and r["Location"].startswith("/accounts/reauthenticate/")
    assert Authenticator.objects.filter(user=professional).exists()
    r = post(client, r["Location"], {"password": PASSWORD})
    assert r.status_code == 302
    assert r["Location"] == f"/admin/accounts/user/{professional.pk}/change/"
    assert not Authenticator.objects.filter(user=professional).exists()

    entry = AccessLog.objects.get(kind=AccessLog.Kind.FACTOR_RESET)
    assert entry.actor == staff and entry.subject == professional
    assert entry.object_id == str(professional.pk)
    message = Outbox.objects.get(to=professional.email)
    assert message.recipient == professional
    assert message.subject.endswith("Your two-step verification was reset")

    # Their next login: the password alone, then set up a factor again.
    client = csrf_client()
    assert form_login(client, professional.email)["Location"] == "/agenda/"
    assert client.get("/agenda/")["Location"] == ENROL


@pytest.mark.parametrize(("language", "greeting"), [("es-ar", "Hola Lucía"), ("en", "Hello Lucía")])
def test_the_reset_email_speaks_the_persons_language(staff, patient, language, greeting):
    give_factor(patient)
    patient.language = language
    patient.save()
    client = csrf_client(staff)  # the admin in the site's language
    post(client, f"/accounts/reauthenticate/?next={reset_url(patient)}", {"password": PASSWORD})
    post(client, reset_url(patient))
    assert not Authenticator.objects.filter(user=patient).exists()
    assert Outbox.objects.get(to=patient.email).body.startswith(greeting)


def test_a_receptionist_cannot_reset_anyones_factor(professional):
    clerk = make_user("mesa@example.com", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = csrf_client(clerk)
    assert post(client, reset_url(professional)).status_code == 403
    assert Authenticator.objects.filter(user=professional).exists()
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.FACTOR_RESET).exists()
    assert not Outbox.objects.exists()


def test_only_a_superuser_is_offered_the_reset_on_the_users_page(staff, professional):
    change = f"/admin/accounts/user/{professional.pk}/change/"
    assert f'action="{reset_url(professional)}"' in csrf_client(staff).get(change).content.decode()
    clerk = make_user("mesa@example.com", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))
    page = csrf_client(clerk).get(change)
    assert page.status_code == 200
    assert reset_url(professional) not in page.content.decode()


def test_the_reset_is_post_only_and_an_unknown_user_is_404(staff, professional):
    client = csrf_client(staff)
    assert client.get(reset_url(professional)).status_code == 405
    assert Authenticator.objects.filter(user=professional).exists()
    r = post(client, "/admin/accounts/user/00000000-0000-0000-0000-000000000000/reset-factors/")
    assert r.status_code in (302, 404)  # the admin's "no such object" or a 404
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.FACTOR_RESET).exists()


def test_the_admin_never_shows_the_factors_secrets(staff, professional):
    client = csrf_client(staff)
    factor = Authenticator.objects.get(user=professional)
    page = client.get(f"/admin/mfa/authenticator/{factor.pk}/change/").content.decode()
    assert "JBSWY3DP" not in page
    assert (
        client.post(
            f"/admin/mfa/authenticator/{factor.pk}/delete/",
            {"post": "yes", "csrfmiddlewaretoken": CSRF_TOKEN},
        ).status_code
        == 403
    )
    assert Authenticator.objects.filter(pk=factor.pk).exists()
