"""One table over every URL of the site × every kind of visitor: who gets what.

A reservation that is not yours answers exactly like one that does not exist.
"""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from reservations.models import Reservation

from .conftest import CSRF_TOKEN

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "patient", "other_patient", "professional", "staff"]
MISSING = uuid.UUID("00000000-0000-4000-8000-000000000000")

# (method, url template, {role: expected status}); "*" is every role not named.
# {own} is an upcoming reservation of `patient`, {patient} the patient's id; {missing} an id
# that does not exist. The JSON API has its own, fuller matrix (Bearer tokens too) in test_api.py.
MATRIX = [
    ("GET", "/", {"*": 302}),
    ("GET", "/dashboard/", {"anonymous": 302, "*": 200}),
    ("GET", "/dashboard", {"*": 301}),
    ("POST", "/reservations/{own}/cancel/", {"anonymous": 302, "patient": 302, "*": 404}),
    ("POST", "/reservations/{missing}/cancel/", {"anonymous": 302, "*": 404}),
    ("GET", "/reservations/{own}/cancel/", {"*": 405}),
    ("GET", "/reservations/{own}/", {"anonymous": 302, "patient": 200, "*": 404}),
    ("GET", "/reservations/{missing}/", {"anonymous": 302, "*": 404}),
    ("GET", "/preferences/", {"anonymous": 302, "*": 200}),
    ("GET", "/admin/", {"staff": 200, "*": 302}),
    ("GET", "/admin/reservations/reservation/", {"staff": 200, "*": 302}),
    ("GET", "/admin/reservations/reservation/{own}/change/", {"staff": 200, "*": 302}),
    ("GET", "/admin/reservations/reservationevent/", {"staff": 200, "*": 302}),
    ("GET", "/admin/accounts/user/", {"staff": 200, "*": 302}),
    ("GET", "/accounts/login/", {"anonymous": 200, "*": 302}),
    ("GET", "/accounts/password/change/", {"anonymous": 302, "*": 200}),
    ("GET", "/accounts/password/reset/", {"*": 200}),
    # An invitation's link that opens nothing is one page for everyone (tests/test_invitations.py).
    ("GET", "/accounts/invitation/1:made-up/", {"*": 410}),
    ("GET", "/accounts/welcome/", {"anonymous": 302, "*": 200}),
    ("GET", "/healthz", {"*": 200}),
    ("GET", "/livez", {"*": 200}),
    (
        "GET",
        "/api/reservations/user/{patient}",
        {"anonymous": 401, "patient": 200, "staff": 200, "*": 404},
    ),
    ("GET", "/api/reservations/user/{missing}", {"anonymous": 401, "*": 404}),
    ("GET", "/api/reservations/{own}", {"anonymous": 401, "patient": 200, "staff": 200, "*": 404}),
    ("GET", "/api/reservations/{missing}", {"anonymous": 401, "*": 404}),
    # With a reason: staff must give one (tests/test_api.py), a patient may.
    (
        "DELETE",
        "/api/reservations/{own}?reason=Viaje",
        {"anonymous": 401, "patient": 200, "staff": 200, "*": 404},
    ),
    ("DELETE", "/api/reservations/{missing}", {"anonymous": 401, "*": 404}),
    ("PUT", "/api/reservations/{own}", {"*": 405}),
    ("GET", "/api/openapi.json", {"*": 200}),
    ("GET", "/api/docs", {"*": 200}),
]

# Requests that cancel the patient's reservation, by role (staff cancel through the API as in
# the admin). Every other row must leave it untouched.
CANCELS = {
    ("POST", "/reservations/{own}/cancel/"): {"patient"},
    ("DELETE", "/api/reservations/{own}?reason=Viaje"): {"patient", "staff"},
}

CASES = [
    pytest.param(
        method, url, role, expected.get(role, expected.get("*")), id=f"{method} {url} as {role}"
    )
    for method, url, expected in MATRIX
    for role in ROLES
]


@pytest.fixture
def people(patient, other_patient, professional, staff):
    return {
        "anonymous": None,
        "patient": patient,
        "other_patient": other_patient,
        "professional": professional,
        "staff": staff,
    }


@pytest.mark.parametrize(("method", "url", "role", "expected"), CASES)
def test_access(people, make_reservation, method, url, role, expected):
    own = make_reservation(people["patient"], timezone.now() + timedelta(days=5))
    client = Client(enforce_csrf_checks=True)
    if people[role] is not None:
        client.force_login(people[role])
    client.cookies["csrftoken"] = CSRF_TOKEN
    path = url.format(own=own.pk, missing=MISSING, patient=people["patient"].pk)
    if method == "GET":
        r = client.get(path)
    else:
        r = client.generic(
            method,
            path,
            f"csrfmiddlewaretoken={CSRF_TOKEN}",
            content_type="application/x-www-form-urlencoded",
            headers={"X-CSRFToken": CSRF_TOKEN},
        )
    assert r.status_code == expected
    own.refresh_from_db()
    assert (own.status == "CANCELLED") == (role in CANCELS.get((method, url), set()))


@pytest.mark.parametrize("role", ["other_patient", "professional", "staff"])
@pytest.mark.parametrize("htmx", [False, True])
def test_not_yours_is_indistinguishable_from_missing(people, make_reservation, role, htmx):
    own = make_reservation(people["patient"], timezone.now() + timedelta(days=5))
    client = Client(enforce_csrf_checks=True)
    client.force_login(people[role])
    client.cookies["csrftoken"] = CSRF_TOKEN
    headers = {"HX-Request": "true"} if htmx else {}
    answers = [
        client.post(
            f"/reservations/{pk}/cancel/", {"csrfmiddlewaretoken": CSRF_TOKEN}, headers=headers
        )
        for pk in (own.pk, MISSING)
    ]
    assert answers[0].status_code == answers[1].status_code == 404
    assert answers[0].content == answers[1].content
    assert sorted(answers[0].headers) == sorted(answers[1].headers)
    assert Reservation.objects.get(pk=own.pk).status == "CONFIRMED"
