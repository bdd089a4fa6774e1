"""The JSON API at /api: the access matrix, tokens, CSRF, malformed input and the envelope."""

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import Client
from django.utils import translation
from django.utils.http import parse_http_date

from accounts.models import User
from reservations.models import Reservation

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user, totp_code
from .test_accounts import _manage

pytestmark = pytest.mark.django_db

LOGIN_URL = "/_allauth/app/v1/auth/login"
MFA_URL = "/_allauth/app/v1/auth/2fa/authenticate"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Login rate limits and API throttles live in the cache: each test starts from zero.
    cache.clear()
    yield
    cache.clear()


def get_token(email, password=PASSWORD):
    """Logs in like the app client does and returns meta.access_token. Staff and professionals
    answer the second step with their authenticator app's code (conftest.give_factor)."""
    client = Client()
    r = client.post(
        LOGIN_URL, {"email": email, "password": password}, content_type="application/json"
    )
    if r.status_code == 401 and mfa_pending(r):
        session = {"X-Session-Token": r.json()["meta"]["session_token"]}
        r = client.post(
            MFA_URL, {"code": totp_code()}, content_type="application/json", headers=session
        )
    assert r.status_code == 200, r.content
    return r.json()["meta"]["access_token"]


def mfa_pending(response):
    """Whether an app login answered "now the second step" (allauth headless's pending flow)."""
    flows = response.json()["data"]["flows"]
    return any(flow["id"] == "mfa_authenticate" and flow.get("is_pending") for flow in flows)


def bearer_client(user):
    """A client that sends only `Authorization: Bearer …` (no cookies), with CSRF enforced."""
    token = get_token(user.email)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def session_client(user):
    """A logged-in browser: session cookie, CSRF cookie, and the X-CSRFToken header."""
    client = csrf_client(user)
    client.defaults["HTTP_X_CSRFTOKEN"] = CSRF_TOKEN
    return client


def client_for(user, auth):
    if user is None:
        return Client(enforce_csrf_checks=True)
    return bearer_client(user) if auth == "bearer" else session_client(user)


def in_site_language(message):
    # Error messages follow the request's language; without Accept-Language that is the site's.
    with translation.override(django_settings.LANGUAGE_CODE):
        return translation.gettext(message)


def snapshot(reservation):
    """Everything a refused request must leave as it was."""
    reservation = Reservation.objects.get(pk=reservation.pk)
    fields = ("status", "cancelled_at", "cancelled_by_id", "cancellation_reason")
    return {f: getattr(reservation, f) for f in fields}, reservation.events.count()


# The original platform's reservation, field for field (the seed's contract), and what this site
# adds after them (api/schemas.py; tests/test_api_session_details.py checks their values).
SEED_FIELDS = (
    "id",
    "client_id",
    "professional_id",
    "start_time",
    "end_time",
    "status",
    "session_modality",
    "created_at",
)
ADDED_FIELDS = (
    "professional_name",
    "professional_specialty",
    "join_url",
    "join_opens_at",
    "address",
    "map_url",
    "contact",
    "cancel_deadline",
    "attended",
    "late_cancellation",
    # Payments (tests/test_api_payments.py checks their values).
    "price",
    "payment_status",
    "amount_due",
    "pay_by",
    "amount_paid",
    "refunded",
    "refund_pending",
    "payment_url",
)


def seed_fields(item):
    """The original's fields of an answered reservation, in the original's order."""
    assert tuple(item)[: len(SEED_FIELDS)] == SEED_FIELDS, list(item)
    assert set(item) == {*SEED_FIELDS, *ADDED_FIELDS}, list(item)
    return {field: item[field] for field in SEED_FIELDS}


def assert_envelope(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    # Patients' appointments: never kept by a browser cache or a proxy.
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert parse_http_date(response["Expires"]) <= time.time()
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    return body


# ---------------------------------------------------------------------------------------------
# The access matrix: {anonymous, patient, other patient, professional, staff}
#                  × {list own, list other, get, delete} × {session, Bearer}.
# The reservation is the patient's, a week ahead (well outside the 48 h notice).

ACTORS = ["anonymous", "patient", "other_patient", "professional", "staff"]
EXPECTED = {
    #               list own  list other  get  delete
    "anonymous": (401, 401, 401, 401),
    "patient": (200, 404, 200, 200),
    "other_patient": (200, 404, 404, 404),
    "professional": (200, 404, 404, 404),
    "staff": (200, 200, 200, 200),
}
ACTIONS = ["list own", "list other", "get", "delete"]
MATRIX = [
    pytest.param(actor, action, auth, EXPECTED[actor][i], id=f"{actor}-{action}-{auth}")
    for actor in ACTORS
    for i, action in enumerate(ACTIONS)
    for auth in ("session", "bearer")
]


@pytest.mark.parametrize(("actor", "action", "auth", "expected"), MATRIX)
def test_access_matrix(
    request, actor, action, auth, expected, patient, other_patient, make_reservation, frozen_now
):
    people = {
        "anonymous": None,
        "patient": patient,
        "other_patient": other_patient,
        "professional": request.getfixturevalue("professional"),
        "staff": request.getfixturevalue("staff"),
    }
    user = people[actor]
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    make_reservation(other_patient, NOW + timedelta(days=8))
    before = snapshot(reservation)
    client = client_for(user, auth)

    if action == "list own":
        owner = user or patient  # anonymous has no list of their own: try the patient's
        r = client.get(f"/api/reservations/user/{owner.pk}")
    elif action == "list other":
        owner = other_patient if user == patient else patient
        r = client.get(f"/api/reservations/user/{owner.pk}")
    elif action == "get":
        r = client.get(f"/api/reservations/{reservation.pk}")
    else:
        r = client.delete(f"/api/reservations/{reservation.pk}?reason=Viaje")

    body = assert_envelope(r, expected)
    if expected != 200:
        assert "data" not in body
    elif action.startswith("list"):
        assert [item["client_id"] for item in body["data"]] == [
            str(owner.pk) for _ in Reservation.objects.filter(client=owner)
        ]
    else:
        data = body["data"][0] if action == "delete" else body["data"]
        assert data["id"] == str(reservation.pk)

    if action == "delete" and expected == 200:
        reservation.refresh_from_db()
        assert reservation.status == "CANCELLED"
        assert reservation.cancelled_by == user
        assert body["data"][0]["status"] == "CANCELLED"
        event = reservation.events.get()
        assert (event.channel, event.actor, event.to_status) == ("api", user, "CANCELLED")
    else:
        assert snapshot(reservation) == before


# ---------------------------------------------------------------------------------------------
# The contract's shapes


def test_the_list_is_the_contracts_envelope_newest_first(patient, make_reservation, frozen_now):
    old = make_reservation(patient, NOW - timedelta(days=30), status="CONFIRMED")
    new = make_reservation(
        patient, NOW + timedelta(days=3), status="PENDING", modality="Presencial"
    )
    mid = make_reservation(patient, NOW - timedelta(days=1), status="CANCELLED")
    r = bearer_client(patient).get(f"/api/reservations/user/{patient.pk}")
    body = assert_envelope(r, 200)
    assert set(body) == {"status", "data", "message"}
    assert body["message"] == (
        f"SOLICITASTE TODAS LAS RESERVAS DEL USUARIO CON EL ID: {patient.pk} EXITOSAMENTE"
    )
    assert [item["id"] for item in body["data"]] == [str(new.pk), str(mid.pk), str(old.pk)]
    # The original's fields keep their names, values and formats; ours come after them.
    assert seed_fields(body["data"][0]) == {
        "id": str(new.pk),
        "client_id": str(patient.pk),
        "professional_id": str(new.professional_id),
        "start_time": "2026-03-13T15:00:00Z",
        "end_time": "2026-03-13T15:45:00Z",
        "status": "PENDING",
        "session_modality": "Presencial",
        "created_at": "2026-03-10T15:00:00Z",
    }


def test_an_empty_list_is_200_with_no_data(patient):
    body = assert_envelope(bearer_client(patient).get(f"/api/reservations/user/{patient.pk}"), 200)
    assert body["data"] == []


def test_get_answers_the_reservation_in_the_envelope(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=2))
    body = assert_envelope(bearer_client(patient).get(f"/api/reservations/{reservation.pk}"), 200)
    assert set(body) == {"status", "data", "message"}
    assert body["data"]["id"] == str(reservation.pk)
    assert body["data"]["status"] == "CONFIRMED"


def test_the_list_query_count_does_not_grow_with_reservations(
    patient, make_reservation, django_assert_num_queries
):
    client = bearer_client(patient)
    url = f"/api/reservations/user/{patient.pk}"
    make_reservation(patient, NOW)
    # 1. the token's session  2. its user  3. whether they are a professional (who must have two-
    # step verification: accounts/enrolment.py)  4. the reservations  5. their professionals
    # (and their prices)  6. their payments
    with django_assert_num_queries(6):
        assert len(client.get(url).json()["data"]) == 1
    for day in range(1, 25):
        make_reservation(patient, NOW + timedelta(days=day))
    with django_assert_num_queries(6):
        assert len(client.get(url).json()["data"]) == 25


def test_the_list_with_the_session_cookie_costs_the_same(
    patient, make_reservation, django_assert_num_queries
):
    for day in range(10):
        make_reservation(patient, NOW + timedelta(days=day))
    client = session_client(patient)
    # 1. the session  2. its user  3. the reservations  4. their professionals  5. their payments
    with django_assert_num_queries(5):
        assert client.get(f"/api/reservations/user/{patient.pk}").status_code == 200


def test_staff_listing_a_user_who_does_not_exist_gets_404(staff):
    r = bearer_client(staff).get("/api/reservations/user/00000000-0000-0000-0000-000000000000")
    assert_envelope(r, 404)


def test_staff_without_the_view_permission_is_treated_like_anyone(
    patient, make_reservation, frozen_now
):
    clerk = make_user("clerk@example.com", is_staff=True)  # staff, but no permissions
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    before = snapshot(reservation)
    client = bearer_client(clerk)
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 404)
    assert_envelope(client.get(f"/api/reservations/{reservation.pk}"), 404)
    assert_envelope(client.delete(f"/api/reservations/{reservation.pk}"), 404)
    assert snapshot(reservation) == before


# ---------------------------------------------------------------------------------------------
# Cancelling goes through the rule on the model


@pytest.mark.parametrize("auth", ["session", "bearer"])
def test_it_refuses_inside_the_notice_period_with_409_in_spanish(
    auth, patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(hours=47, minutes=59))
    before = snapshot(reservation)
    r = client_for(patient, auth).delete(f"/api/reservations/{reservation.pk}")
    body = assert_envelope(r, 409)
    assert body["message"] == (
        "Solo podés cancelar con 48 h de anticipación — contactá a tu profesional"
    )
    assert "data" not in body
    assert snapshot(reservation) == before


def test_exactly_the_notice_period_ahead_is_still_allowed(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(hours=48))
    assert_envelope(bearer_client(patient).delete(f"/api/reservations/{reservation.pk}"), 200)
    reservation.refresh_from_db()
    assert reservation.status == "CANCELLED"
    assert reservation.cancelled_at == NOW


def test_it_uses_the_professionals_own_notice_period(
    patient, professional, make_reservation, frozen_now
):
    professional.professional_profile.cancellation_notice_hours = 24
    professional.professional_profile.save()
    reservation = make_reservation(patient, NOW + timedelta(hours=30))
    assert_envelope(bearer_client(patient).delete(f"/api/reservations/{reservation.pk}"), 200)
    reservation.refresh_from_db()
    assert reservation.status == "CANCELLED"


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (NOW - timedelta(days=1), "Esta sesión ya pasó"),
        (NOW - timedelta(minutes=10), "Esta sesión está en curso"),
    ],
    ids=["past", "in_progress"],
)
def test_it_refuses_past_and_running_sessions_with_409(
    start, message, patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, start)
    before = snapshot(reservation)
    body = assert_envelope(
        bearer_client(patient).delete(f"/api/reservations/{reservation.pk}"), 409
    )
    assert body["message"] == message
    assert snapshot(reservation) == before


def test_the_message_follows_the_requests_language(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(hours=1))
    client = bearer_client(patient)
    r = client.delete(f"/api/reservations/{reservation.pk}", headers={"Accept-Language": "en"})
    assert assert_envelope(r, 409)["message"] == (
        "You can only cancel 48 h in advance — contact your professional"
    )


def test_cancelling_a_cancelled_reservation_is_idempotent(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    client = bearer_client(patient)
    assert_envelope(client.delete(f"/api/reservations/{reservation.pk}"), 200)
    before = snapshot(reservation)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        body = assert_envelope(client.delete(f"/api/reservations/{reservation.pk}"), 200)
    assert body["data"][0]["status"] == "CANCELLED"
    assert body["message"] == "Ya cancelado"
    assert snapshot(reservation) == before  # same cancelled_at, still one event


def test_a_reason_is_recorded_and_a_too_long_one_is_400(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    client = bearer_client(patient)
    before = snapshot(reservation)
    r = client.delete(f"/api/reservations/{reservation.pk}?reason={'x' * 2001}")
    assert "data" not in assert_envelope(r, 400)
    assert snapshot(reservation) == before

    r = client.delete(f"/api/reservations/{reservation.pk}?reason=Viaje")
    assert_envelope(r, 200)
    reservation.refresh_from_db()
    assert reservation.cancellation_reason == "Viaje"
    assert reservation.events.get().reason == "Viaje"


def test_staff_cancel_anyones_within_the_notice_and_it_is_recorded_as_staff(
    patient, staff, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(hours=2))
    url = f"/api/reservations/{reservation.pk}?reason=Enfermedad"
    body = assert_envelope(bearer_client(staff).delete(url), 200)
    assert body["data"][0]["status"] == "CANCELLED"
    reservation.refresh_from_db()
    assert (reservation.cancelled_by, reservation.cancellation_reason) == (staff, "Enfermedad")
    event = reservation.events.get()
    assert (event.actor, event.channel) == (staff, "api")


@pytest.mark.parametrize("reason", ["", "%20%20"])
def test_staff_cancel_without_a_reason_is_refused_and_changes_nothing(
    patient, staff, make_reservation, frozen_now, reason
):
    # The practice says why it cancels, through every door: the patient reads it.
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    before = snapshot(reservation)
    r = bearer_client(staff).delete(f"/api/reservations/{reservation.pk}?reason={reason}")
    body = assert_envelope(r, 422)
    assert body["message"] == "Escribí el motivo: lo va a leer el paciente."
    assert snapshot(reservation) == before


def test_the_professional_cannot_cancel_their_patients_reservation(
    patient, professional, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=7), pro=professional)
    before = snapshot(reservation)
    r = bearer_client(professional).delete(f"/api/reservations/{reservation.pk}")
    assert_envelope(r, 404)
    assert snapshot(reservation) == before


# ---------------------------------------------------------------------------------------------
# Credentials


def test_an_expired_token_is_401_and_changes_nothing(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    client = bearer_client(patient)
    before = snapshot(reservation)
    with time_machine.travel(NOW + timedelta(minutes=15, seconds=1), tick=False):
        body = assert_envelope(client.delete(f"/api/reservations/{reservation.pk}"), 401)
        assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 401)
    assert body["message"] == in_site_language("The access token is invalid or has expired.")
    assert snapshot(reservation) == before
    # Just before it expires it still works.
    with time_machine.travel(NOW + timedelta(minutes=14, seconds=59), tick=False):
        assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 200)


def _tamper(token):
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"


def _forged(token, **changes):
    # A token with the same claims, signed with a key that is not ours (or none at all).
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, "not-our-secret-" * 4, algorithm="HS256")


def _unsigned(token):
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, None, algorithm="none")


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(_tamper, id="tampered-signature"),
        pytest.param(_forged, id="signed-with-another-key"),
        pytest.param(_unsigned, id="alg-none"),
        pytest.param(lambda t: t[: len(t) // 2], id="truncated"),
        pytest.param(lambda t: "not-a-jwt", id="garbage"),
    ],
)
def test_a_bad_token_is_401_and_changes_nothing(spoil, patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    before = snapshot(reservation)
    client = Client(headers={"Authorization": f"Bearer {spoil(get_token(patient.email))}"})
    r = client.delete(f"/api/reservations/{reservation.pk}")
    assert_envelope(r, 401)
    assert r["WWW-Authenticate"] == "Bearer"
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 401)
    assert snapshot(reservation) == before


def test_a_token_for_another_user_id_is_rejected(patient, other_patient, make_reservation):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    token = get_token(other_patient.email)
    # Claims rewritten to name the patient: the signature no longer matches.
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = str(patient.pk)
    payload = jwt.api_jws.base64url_encode(json.dumps(claims).encode()).decode()
    client = Client(headers={"Authorization": f"Bearer {header}.{payload}.{signature}"})
    assert_envelope(client.get(f"/api/reservations/{reservation.pk}"), 401)


def test_a_bad_token_is_401_even_with_a_valid_session_cookie(patient):
    client = session_client(patient)
    r = client.get(f"/api/reservations/user/{patient.pk}", headers={"Authorization": "Bearer x"})
    assert_envelope(r, 401)


def test_the_refresh_token_is_not_an_access_token(patient):
    r = Client().post(
        LOGIN_URL, {"email": patient.email, "password": PASSWORD}, content_type="application/json"
    )
    refresh = r.json()["meta"]["refresh_token"]
    client = Client(headers={"Authorization": f"Bearer {refresh}"})
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 401)


def test_the_refresh_token_renews_the_access_token(patient, frozen_now):
    r = Client().post(
        LOGIN_URL, {"email": patient.email, "password": PASSWORD}, content_type="application/json"
    )
    refresh = r.json()["meta"]["refresh_token"]
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        r = Client().post(
            "/_allauth/app/v1/tokens/refresh",
            {"refresh_token": refresh},
            content_type="application/json",
        )
        assert r.status_code == 200, r.content
        client = Client(headers={"Authorization": f"Bearer {r.json()['data']['access_token']}"})
        assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 200)


def test_signup_stays_closed_through_the_app_endpoints(db):
    r = Client().post(
        "/_allauth/app/v1/auth/signup",
        {"email": "new@example.com", "password": "a-long-secret-4242"},
        content_type="application/json",
    )
    assert r.status_code == 403
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_wrong_password_gets_no_token(patient):
    r = Client().post(
        LOGIN_URL, {"email": patient.email, "password": "wrong"}, content_type="application/json"
    )
    assert r.status_code == 400
    assert "access_token" not in r.content.decode()


def test_logging_out_revokes_the_access_token(patient):
    token = get_token(patient.email)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 200)
    assert client.delete("/_allauth/app/v1/auth/session").status_code == 401  # logged out
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 401)


def test_after_logging_out_the_refresh_token_is_refused_not_an_error(patient):
    r = Client().post(
        LOGIN_URL, {"email": patient.email, "password": PASSWORD}, content_type="application/json"
    )
    access, refresh = r.json()["meta"]["access_token"], r.json()["meta"]["refresh_token"]
    client = Client(headers={"Authorization": f"Bearer {access}"})
    assert client.delete("/_allauth/app/v1/auth/session").status_code == 401  # logged out
    # The session is gone from the database, the only place sessions live: nothing brings it
    # back, and its refresh token gets a clean refusal.
    r = Client().post(
        "/_allauth/app/v1/tokens/refresh",
        {"refresh_token": refresh},
        content_type="application/json",
    )
    assert r.status_code in (400, 401), r.content
    assert r["Content-Type"].startswith("application/json")
    assert "access_token" not in r.content.decode()
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 401)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_token_works_once_even_sent_ten_times_at_once(patient):
    r = Client().post(
        LOGIN_URL, {"email": patient.email, "password": PASSWORD}, content_type="application/json"
    )
    refresh = r.json()["meta"]["refresh_token"]

    def renew(token):
        response = Client().post(
            "/_allauth/app/v1/tokens/refresh",
            {"refresh_token": token},
            content_type="application/json",
        )
        connection.close()
        return response.status_code, response.json()

    barrier = threading.Barrier(10)

    def racer(_):
        barrier.wait()
        return renew(refresh)

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(racer, range(10)))
    won = [body for status, body in answers if status == 200]
    assert len(won) == 1, [status for status, _ in answers]
    assert all(status in (400, 401) for status, _ in answers if status != 200)
    # The winner's new refresh token works, once; the old one never again.
    (fresh,) = [won[0]["data"]["refresh_token"]]
    assert renew(fresh)[0] == 200
    assert renew(fresh)[0] in (400, 401)
    assert renew(refresh)[0] in (400, 401)


def test_a_deactivated_users_token_stops_working(patient):
    client = bearer_client(patient)
    patient.is_active = False
    patient.save()
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 401)


def test_a_password_change_revokes_the_access_token(patient):
    client = bearer_client(patient)
    patient.set_password("a-brand-new-secret-42")
    patient.save()
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 401)


def test_rs256_tokens_when_a_private_key_is_configured(settings, patient):
    settings.HEADLESS_JWT_ALGORITHM = "RS256"
    settings.HEADLESS_JWT_PRIVATE_KEY = _rsa_private_key_pem()
    token = get_token(patient.email)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 200)
    # An HS256 token signed with SECRET_KEY is not accepted once RS256 is configured.
    forged = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}), settings.SECRET_KEY, "HS256"
    )
    client = Client(headers={"Authorization": f"Bearer {forged}"})
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 401)


def _rsa_private_key_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


SIGN_AND_CHECK = """
from django.conf import settings
from allauth.headless.tokens.strategies.jwt import internal
token, _ = internal.create_token("access", sub="someone", sid="x", expires_in=60)
print(settings.HEADLESS_JWT_ALGORITHM, internal.decode_token(token, "access")["sub"])
"""


def test_production_with_a_private_key_signs_rs256_in_a_fresh_process():
    # A fresh process is where allauth's lazy cryptography import used to trip (see api/apps.py).
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "prod-" + "s3cr3t-" * 10,
        "ALLOWED_HOSTS": "turnos.example",
        # As an environment variable may carry it: one line, newlines escaped.
        "JWT_PRIVATE_KEY": _rsa_private_key_pem().replace("\n", "\\n"),
    }
    r = _manage("shell", "-c", SIGN_AND_CHECK, **production)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-2:] == ["RS256", "someone"]
    r = _manage("check", "--deploy", "--fail-level", "WARNING", **production)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "api.I001" not in r.stdout + r.stderr


def test_production_without_a_private_key_says_tokens_use_hs256():
    r = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="prod-" + "s3cr3t-" * 10,
        ALLOWED_HOSTS="turnos.example",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "api.I001" in r.stdout + r.stderr


# ---------------------------------------------------------------------------------------------
# CSRF: the session needs it on DELETE; a Bearer token does not


def test_a_session_delete_without_the_csrf_header_is_403_and_changes_nothing(
    patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    before = snapshot(reservation)
    client = csrf_client(patient)  # cookie present, X-CSRFToken header missing
    body = assert_envelope(client.delete(f"/api/reservations/{reservation.pk}"), 403)
    assert body["message"] == in_site_language(
        "CSRF check failed: send the X-CSRFToken header with the CSRF cookie's value."
    )
    r = client.delete(f"/api/reservations/{reservation.pk}", headers={"X-CSRFToken": "wrong" * 7})
    assert_envelope(r, 403)
    assert snapshot(reservation) == before


def test_a_session_get_needs_no_csrf_header(patient):
    r = csrf_client(patient).get(f"/api/reservations/user/{patient.pk}")
    assert_envelope(r, 200)


def test_a_bearer_delete_needs_no_csrf_token(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    client = bearer_client(patient)
    assert "csrftoken" not in client.cookies
    assert_envelope(client.delete(f"/api/reservations/{reservation.pk}"), 200)


def test_an_anonymous_delete_is_401_not_a_csrf_error(patient, make_reservation):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    r = Client(enforce_csrf_checks=True).delete(f"/api/reservations/{reservation.pk}")
    assert_envelope(r, 401)


# ---------------------------------------------------------------------------------------------
# Malformed ids, wrong methods, unknown paths, trailing slashes

MALFORMED_IDS = ["abc", "-1", "x" * 40, "%00", "0", "00000000-0000-0000-0000-00000000000g"]


@pytest.mark.parametrize("auth", ["session", "bearer"])
@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_a_malformed_id_is_the_same_404_as_a_missing_one_or_someone_elses(
    bad_id, auth, patient, other_patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    before = snapshot(reservation)
    client = client_for(patient, auth)
    missing = client.get("/api/reservations/00000000-0000-0000-0000-000000000000")
    someone_elses = make_reservation(other_patient, NOW + timedelta(days=8))
    not_yours = client.get(f"/api/reservations/{someone_elses.pk}")
    assert not_yours.content == missing.content
    assert sorted(not_yours.headers) == sorted(missing.headers)
    for r in (
        client.get(f"/api/reservations/{bad_id}"),
        client.delete(f"/api/reservations/{bad_id}"),
        client.get(f"/api/reservations/user/{bad_id}"),
    ):
        assert_envelope(r, 404)
        assert r.content == missing.content
    assert snapshot(reservation) == before


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("post", "/api/reservations/{id}", {"GET", "DELETE"}),
        ("put", "/api/reservations/{id}", {"GET", "DELETE"}),
        ("patch", "/api/reservations/{id}", {"GET", "DELETE"}),
        ("head", "/api/reservations/{id}", {"GET", "DELETE"}),
        ("options", "/api/reservations/{id}", {"GET", "DELETE"}),
        ("post", "/api/reservations/{id}/", {"GET", "DELETE"}),
        ("post", "/api/reservations/user/{client}", {"GET"}),
        ("delete", "/api/reservations/user/{client}", {"GET"}),
        ("put", "/api/reservations/user/{client}", {"GET"}),
    ],
)
@pytest.mark.parametrize("auth", ["session", "bearer"])
def test_other_methods_get_405_in_the_envelope(
    method, path, allowed, auth, patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    before = snapshot(reservation)
    url = path.format(id=reservation.pk, client=patient.pk)
    r = getattr(client_for(patient, auth), method)(url)
    assert r.status_code == 405
    assert set(r["Allow"].split(", ")) == allowed
    if method != "head":  # HEAD answers have no body
        assert_envelope(r, 405)
    assert snapshot(reservation) == before


@pytest.mark.parametrize(
    "path", ["/api/", "/api/nope", "/api/reservation", "/api/reservations/user/a/b", "/api/x/y/z"]
)
def test_unknown_api_paths_are_404_in_the_envelope(path, patient):
    assert_envelope(bearer_client(patient).get(path), 404)
    assert_envelope(Client().post(path), 404)


def test_a_trailing_slash_works_too(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    client = bearer_client(patient)
    assert_envelope(client.get(f"/api/reservations/user/{patient.pk}/"), 200)
    assert_envelope(client.get(f"/api/reservations/{reservation.pk}/"), 200)
    assert_envelope(client.delete(f"/api/reservations/{reservation.pk}/"), 200)
    reservation.refresh_from_db()
    assert reservation.status == "CANCELLED"


# ---------------------------------------------------------------------------------------------
# Throttling and unexpected errors


def test_too_many_requests_get_429_with_retry_after(settings, patient, make_reservation):
    settings.API_RATE_LIMIT = "3/min"
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    before = snapshot(reservation)
    client = bearer_client(patient)
    for _ in range(3):
        assert_envelope(client.get(f"/api/reservations/user/{patient.pk}"), 200)
    r = client.delete(f"/api/reservations/{reservation.pk}")
    assert_envelope(r, 429)
    assert int(r["Retry-After"]) > 0
    assert snapshot(reservation) == before
    # Another user has their own allowance.
    assert bearer_client(make_user("ana@example.com")).get("/api/reservations/x").status_code == 404


def test_the_allowance_renews_when_retry_after_says(settings, patient):
    settings.API_RATE_LIMIT = "2/min"
    client = session_client(patient)
    url = f"/api/reservations/user/{patient.pk}"
    start = datetime(2026, 3, 10, 15, 0, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert client.get(url).status_code == 200
        assert client.get(url).status_code == 200
        refused = client.get(url)
        assert_envelope(refused, 429)
        wait = int(refused["Retry-After"])
        assert 1 <= wait <= 60
        # Refused requests do not push the renewal further away.
        clock.shift(wait - 1)
        assert client.get(url)["Retry-After"] == "1"
        clock.shift(1)
        assert client.get(url).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_are_each_counted(settings, patient, frozen_now):
    # The count is one atomic add-or-increment: forty requests at once with an allowance of 25 get
    # exactly 25 answers and 15 refusals.
    # (The clock is frozen for every thread, so they all fall in one window.)
    settings.API_RATE_LIMIT = "25/min"
    url = f"/api/reservations/user/{patient.pk}"
    token = get_token(patient.email)

    def call(_):
        response = Client(headers={"Authorization": f"Bearer {token}"}).get(url)
        connection.close()
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(call, range(40)))
    assert codes == [200] * 25 + [429] * 15


def test_an_unexpected_error_is_a_500_envelope_without_details(
    monkeypatch, patient, make_reservation, frozen_now
):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(Reservation, "cancel", broken)
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    r = bearer_client(patient).delete(f"/api/reservations/{reservation.pk}")
    body = assert_envelope(r, 500)
    assert "secret internals" not in r.content.decode()
    assert "Traceback" not in r.content.decode()
    assert set(body) == {"status", "message"}


def test_a_database_outage_is_a_503_envelope_with_retry_after(
    monkeypatch, patient, make_reservation, frozen_now
):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(Reservation, "cancel", unreachable)
    reservation = make_reservation(patient, NOW + timedelta(days=7))
    r = bearer_client(patient).delete(f"/api/reservations/{reservation.pk}")
    assert set(assert_envelope(r, 503)) == {"status", "message"}
    assert r["Retry-After"] == "30"
    assert "connection refused" not in r.content.decode()


# ---------------------------------------------------------------------------------------------
# Documentation


def test_the_openapi_document_describes_everything():
    r = Client().get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/api/reservations/user/{client_id}",
        "/api/reservations/{id}",
        # Booking (tests/test_booking_api.py).
        "/api/professionals",
        "/api/professionals/{id}/slots",
        "/api/reservations",
        "/api/reservations/{id}/reschedule",
        # Paying (tests/test_api_payments.py).
        "/api/reservations/{id}/pay",
    }
    schemes = doc["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["BearerAuth"]["description"],
    }
    assert schemes["BrowserSessionAuth"]["in"] == "cookie"
    schemas = doc["components"]["schemas"]
    reservation = schemas["ReservationOut"]
    # Every field is always sent (null when it does not apply), so all are required.
    assert reservation["required"] == [*SEED_FIELDS, *ADDED_FIELDS]
    for field in ADDED_FIELDS:
        assert reservation["properties"][field].get("description"), field
    # The original's fields are described as they were.
    assert reservation["properties"]["id"] == {"format": "uuid", "title": "Id", "type": "string"}
    assert reservation["properties"]["start_time"]["format"] == "date-time"
    assert schemas["Status"]["enum"] == ["PENDING", "CONFIRMED", "CANCELLED"]
    assert schemas["Modality"]["enum"] == ["Virtual", "Presencial"]
    assert schemas["ErrorEnvelope"]["required"] == ["status", "message"]
    codes = {
        code
        for path in doc["paths"].values()
        for operation in path.values()
        for code in operation["responses"]
    }
    assert codes == {
        *("200", "201", "400", "401", "403", "404", "405", "409", "422", "429", "500", "503")
    }
    delete = doc["paths"]["/api/reservations/{id}"]["delete"]
    assert delete["security"] == [{"BearerAuth": []}, {"BrowserSessionAuth": []}]


def test_the_docs_page_loads_nothing_from_other_sites():
    client = Client()
    r = client.get("/api/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "swagger-ui" in html
    # Every script and stylesheet is the site's own static file.
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 4, html  # css, two icons, the bundle, the init script
    for url in assets:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), url
    assert "https://" not in html and "http://" not in html
    # Swagger UI's validator badge would fetch from swagger.io: it is switched off.
    assert '"validatorUrl": null' in html


def test_a_nul_in_the_cancel_reason_is_dropped_not_a_500(patient, make_reservation):
    from django.test import Client
    from django.utils import timezone

    from .conftest import CSRF_TOKEN

    r = make_reservation(patient, timezone.now() + timedelta(days=5))
    client = Client(raise_request_exception=False)
    client.force_login(patient)
    client.cookies["csrftoken"] = CSRF_TOKEN
    resp = client.delete(
        f"/api/reservations/{r.pk}?reason=a%00b", headers={"X-CSRFToken": CSRF_TOKEN}
    )
    assert resp.status_code == 200
    r.refresh_from_db()
    assert (r.status, r.cancellation_reason) == ("CANCELLED", "ab")
