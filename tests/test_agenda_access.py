"""Every agenda URL × every kind of visitor: who gets what, and that only the session's own
professional changes anything. Another professional's session answers exactly like a missing id
(404); anyone without a professional profile — patient, staff, superuser — gets the 403 page."""

import uuid
from datetime import timedelta

import pytest

from accounts.models import ProfessionalProfile, ProfileChange
from reservations.models import Reservation, ReservationEvent

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "patient",
    "professional",
    "other_professional",
    "staff_without_profile",
    "superuser_without_profile",
]
MISSING = uuid.UUID("00000000-0000-4000-8000-000000000000")
NOT_A_PROFESSIONAL = {
    "patient": 403,
    "staff_without_profile": 403,
    "superuser_without_profile": 403,
}

# (method, url, {role: status}); "*" is every role not named. {own} is a session of
# `professional` (a pending request a week ahead), {past} one of theirs that ended yesterday.
PAGES = [
    ("GET", "/agenda/", {"anonymous": 302, **NOT_A_PROFESSIONAL, "*": 200}),
    ("GET", "/agenda/?date=2026-03-17", {"anonymous": 302, **NOT_A_PROFESSIONAL, "*": 200}),
    ("GET", "/agenda/settings/", {"anonymous": 302, **NOT_A_PROFESSIONAL, "*": 200}),
    (
        "GET",
        "/agenda/{own}/",
        {"anonymous": 302, **NOT_A_PROFESSIONAL, "professional": 200, "*": 404},
    ),
    ("GET", "/agenda/{missing}/", {"anonymous": 302, **NOT_A_PROFESSIONAL, "*": 404}),
    ("GET", "/agenda/series/new/", {"anonymous": 302, **NOT_A_PROFESSIONAL, "*": 200}),
    (
        "GET",
        "/agenda/series/new/?session={own}",
        {"anonymous": 302, **NOT_A_PROFESSIONAL, "professional": 200, "*": 404},
    ),
    # Series pages of a session in no series answer as for a missing one (tests/test_agenda_series
    # has them for sessions in a series).
    ("GET", "/agenda/{own}/series/cancel/", {"anonymous": 302, **NOT_A_PROFESSIONAL, "*": 404}),
    ("GET", "/agenda/{missing}/series/move/", {"anonymous": 302, **NOT_A_PROFESSIONAL, "*": 404}),
]
ACTIONS = [
    ("/agenda/{own}/confirm/", {}),
    ("/agenda/{own}/decline/", {"reason": "No puedo"}),
    ("/agenda/{own}/cancel/", {"reason": "No puedo"}),
    ("/agenda/{past}/attendance/", {"attended": "no"}),
    ("/agenda/{own}/notes/", {"notes": "Nota"}),
]
MATRIX = (
    PAGES
    + [
        ("POST", url, {"anonymous": 302, **NOT_A_PROFESSIONAL, "professional": 302, "*": 404})
        for url, _data in ACTIONS
    ]
    + [
        (
            "POST",
            url.replace("{own}", "{missing}").replace("{past}", "{missing}"),
            {"anonymous": 302, **NOT_A_PROFESSIONAL, "*": 404},
        )
        for url, _data in ACTIONS
    ]
    + [("GET", url, {"*": 405}) for url, _data in ACTIONS]
)
DATA = {url: data for url, data in ACTIONS}
DATA.update({u.replace("{own}", "{missing}").replace("{past}", "{missing}"): d for u, d in ACTIONS})

CASES = [
    pytest.param(
        method, url, role, expected.get(role, expected.get("*")), id=f"{method} {url} as {role}"
    )
    for method, url, expected in MATRIX
    for role in ROLES
]


@pytest.fixture
def people(patient, professional):
    other = make_user("ruiz@example.com", first_name="Ruiz", factor=True)
    ProfessionalProfile.objects.create(user=other, display_name="Dr. Ruiz")
    return {
        "anonymous": None,
        "patient": patient,
        "professional": professional,
        "other_professional": other,
        "staff_without_profile": make_user("mesa@example.com", is_staff=True),
        "superuser_without_profile": make_user(
            "admin@example.com", is_staff=True, is_superuser=True
        ),
    }


@pytest.fixture
def sessions(patient, make_reservation, frozen_now):
    return {
        "own": make_reservation(patient, NOW + timedelta(days=7), status="PENDING"),
        "past": make_reservation(patient, NOW - timedelta(days=1)),
    }


def snapshot():
    rows = Reservation.objects.order_by("pk").values_list(
        "pk", "status", "attended", "internal_notes", "cancellation_reason"
    )
    return list(rows), ReservationEvent.objects.count(), ProfileChange.objects.count()


@pytest.mark.parametrize("method, url, role, expected", CASES)
def test_access(people, sessions, method, url, role, expected):
    client = csrf_client(people[role])
    path = url.format(own=sessions["own"].pk, past=sessions["past"].pk, missing=MISSING)
    before = snapshot()
    if method == "POST":
        data = {"csrfmiddlewaretoken": CSRF_TOKEN, **DATA[url]}
        response = client.post(path, data)
    else:
        response = client.get(path)
    assert response.status_code == expected
    if role == "anonymous" and expected == 302:
        assert response["Location"].startswith("/accounts/login/?next=")
    if expected == 403:
        assert "no puede abrir esta página" in response.content.decode()  # the site's 403 page
    # Only the session's own professional changes it; every other answer leaves all as it was.
    acts = role == "professional" and method == "POST" and "{missing}" not in url
    assert (snapshot() != before) == acts


def test_another_professionals_session_is_exactly_a_missing_one(people, sessions):
    client = csrf_client(people["other_professional"])
    theirs = client.get(f"/agenda/{sessions['own'].pk}/")
    missing = client.get(f"/agenda/{MISSING}/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_a_professional_never_sees_another_professionals_patients(
    people, sessions, other_patient, make_reservation
):
    other = people["other_professional"]
    theirs = make_reservation(other_patient, NOW + timedelta(days=1), status="PENDING", pro=other)
    # The patient of `professional` also sees `other`: that session is not `professional`'s.
    shared = make_reservation(people["patient"], NOW + timedelta(days=2), pro=other)
    client = csrf_client(people["professional"])
    for path in ("/agenda/", "/agenda/?date=2026-03-11", f"/agenda/{sessions['own'].pk}/"):
        html = client.get(path).content.decode()
        assert str(theirs.pk) not in html and str(shared.pk) not in html
        assert "martin@example.com" not in html and "Martín" not in html


def test_an_anonymous_htmx_action_is_sent_to_the_login_page(sessions):
    response = csrf_client().post(
        f"/agenda/{sessions['own'].pk}/confirm/",
        {"csrfmiddlewaretoken": CSRF_TOKEN},
        headers={"HX-Request": "true"},
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=/agenda/"
