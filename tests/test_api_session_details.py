"""What the API adds to the original's reservation: who, how to join, where, whom to call, until
when to cancel, and whether the patient came (api/schemas.py, docs/api.md)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile
from reservations.actions import Actor
from reservations.models import Reservation

from .conftest import NOW, make_user
from .test_api import bearer_client, seed_fields, session_client

pytestmark = pytest.mark.django_db

ROOM = "https://meet.example.com/gomez"


def logged_in(user):
    # A session, not a token: an access token would expire while these tests travel in time.
    client = Client()
    client.force_login(user)
    return client


def get_one(user, reservation):
    r = logged_in(user).get(f"/api/reservations/{reservation.pk}")
    assert r.status_code == 200, r.content
    return r.json()["data"]


def listed(user):
    r = logged_in(user).get(f"/api/reservations/user/{user.pk}")
    assert r.status_code == 200, r.content
    return {item["id"]: item for item in r.json()["data"]}


@pytest.fixture
def room(professional):
    ProfessionalProfile.objects.filter(user=professional).update(video_url=ROOM)
    return ROOM


# ---------------------------------------------------------------------------------------------
# The video link: only from 15 minutes before the start until the end, and not when cancelled.


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (timedelta(minutes=-16), None),
        (timedelta(minutes=-15, seconds=-1), None),
        (timedelta(minutes=-15), ROOM),  # the window opens
        (timedelta(0), ROOM),
        (timedelta(minutes=44, seconds=59), ROOM),
        (timedelta(minutes=45), None),  # the end: closed
        (timedelta(days=1), None),
    ],
    ids=["T-16min", "T-15min-1s", "T-15min", "start", "end-1s", "end", "next-day"],
)
def test_the_join_link_is_only_sent_inside_its_window(
    at, expected, patient, make_reservation, room
):
    reservation = make_reservation(patient, NOW, minutes=45)
    with time_machine.travel(NOW + at, tick=False):
        for data in (get_one(patient, reservation), listed(patient)[str(reservation.pk)]):
            assert data["join_url"] == expected
            # When it opens is said all along, so a client can show it before then.
            assert data["join_opens_at"] == "2026-03-10T14:45:00Z"


def test_one_session_across_its_window(patient, make_reservation, room):
    reservation = make_reservation(patient, NOW, minutes=45)
    client = logged_in(patient)
    url = f"/api/reservations/{reservation.pk}"
    seen = []
    for minutes in (-16, -15, 0, 30, 45, 60):
        with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
            seen.append(client.get(url).json()["data"]["join_url"])
    assert seen == [None, ROOM, ROOM, ROOM, None, None]


def test_a_cancelled_session_has_no_link_even_inside_the_window(
    patient, staff, make_reservation, room, frozen_now
):
    cancelled = make_reservation(patient, NOW + timedelta(minutes=5), status="CANCELLED")
    assert get_one(patient, cancelled)["join_url"] is None
    # Cancelled by staff while in progress: the cancel's own answer no longer carries it.
    running = make_reservation(patient, NOW - timedelta(minutes=10), minutes=60)
    assert get_one(patient, running)["join_url"] == ROOM
    r = session_client(staff).delete(f"/api/reservations/{running.pk}?reason=Corte%20de%20luz")
    assert r.status_code == 200, r.content
    (data,) = r.json()["data"]
    assert (data["status"], data["join_url"]) == ("CANCELLED", None)
    assert get_one(patient, running)["join_url"] is None


def test_the_sessions_own_link_wins_and_no_link_is_null(
    patient, make_reservation, room, frozen_now
):
    own = make_reservation(patient, NOW + timedelta(minutes=10))
    Reservation.objects.filter(pk=own.pk).update(video_url="https://meet.example.com/special")
    assert get_one(patient, own)["join_url"] == "https://meet.example.com/special"

    ProfessionalProfile.objects.update(video_url="")
    nowhere = make_reservation(patient, NOW + timedelta(days=1, minutes=10))
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        data = get_one(patient, nowhere)
    assert (data["join_url"], data["join_opens_at"]) == (None, "2026-03-11T14:55:00Z")


def test_an_in_person_session_has_an_address_and_no_link(
    patient, professional, make_reservation, room, frozen_now
):
    ProfessionalProfile.objects.update(address="Av. Corrientes 1234, CABA")
    in_person = make_reservation(patient, NOW + timedelta(minutes=5), modality="Presencial")
    virtual = make_reservation(patient, NOW + timedelta(days=1))
    data = get_one(patient, in_person)
    assert (data["join_url"], data["join_opens_at"]) == (None, None)
    assert data["address"] == "Av. Corrientes 1234, CABA"
    assert data["map_url"] == (
        "https://www.openstreetmap.org/search?query=Av.%20Corrientes%201234%2C%20CABA"
    )
    data = get_one(patient, virtual)
    assert (data["address"], data["map_url"]) == (None, None)


def test_the_practices_address_and_contact_stand_in_for_the_professionals(
    settings, patient, make_reservation, frozen_now
):
    settings.PRACTICE_ADDRESS = "Consultorios Palermo, Thames 2000"
    settings.PRACTICE_PHONE = "+54 11 4444-0000"
    settings.PRACTICE_WHATSAPP = ""
    settings.PRACTICE_EMAIL = "turnos@practice.example"
    data = get_one(
        patient, make_reservation(patient, NOW + timedelta(days=2), modality="Presencial")
    )
    assert data["address"] == "Consultorios Palermo, Thames 2000"
    assert data["contact"] == {
        "by": "practice",
        "phone": "+541144440000",
        "whatsapp": None,
        "email": "turnos@practice.example",
        "links": [
            {"kind": "phone", "text": "011 4444-0000", "href": "tel:+541144440000"},
            {
                "kind": "email",
                "text": "turnos@practice.example",
                "href": "mailto:turnos@practice.example",
            },
        ],
    }


def test_nothing_set_anywhere_is_null_not_an_empty_string(
    settings, patient, make_reservation, frozen_now
):
    for name in ("ADDRESS", "PHONE", "WHATSAPP", "EMAIL"):
        setattr(settings, f"PRACTICE_{name}", "")
    data = get_one(
        patient, make_reservation(patient, NOW + timedelta(days=2), modality="Presencial")
    )
    assert (data["address"], data["map_url"]) == (None, None)
    assert data["contact"] == {
        "by": "practice",
        "phone": None,
        "whatsapp": None,
        "email": None,
        "links": [],
    }


def test_the_professionals_name_specialty_and_contact(
    settings, patient, professional, make_reservation, frozen_now
):
    settings.PRACTICE_PHONE = "+54 11 4444-0000"
    ProfessionalProfile.objects.update(
        phone="+54 11 5555-1234", whatsapp="+54 9 11 5555-1234", contact_email=""
    )
    data = get_one(patient, make_reservation(patient, NOW + timedelta(days=2)))
    assert data["professional_name"] == "Lic. Carolina Gómez"
    assert data["professional_specialty"] == "Psicología"
    # The professional's own details, and only theirs: the practice's phone is not mixed in.
    assert data["contact"] == {
        "by": "professional",
        "phone": "+541155551234",
        "whatsapp": "+5491155551234",
        "email": None,
        "links": [
            {"kind": "phone", "text": "011 5555-1234", "href": "tel:+541155551234"},
            {
                "kind": "whatsapp",
                "text": "011 15-5555-1234",
                "href": "https://wa.me/5491155551234",
            },
        ],
    }


def test_a_professional_without_a_profile_is_named_by_their_full_name(
    patient, make_reservation, frozen_now
):
    bare = make_user("perez@example.com", first_name="Jorge", last_name="Pérez")
    data = get_one(patient, make_reservation(patient, NOW + timedelta(days=2), pro=bare))
    assert data["professional_name"] == "Jorge Pérez"
    assert data["professional_specialty"] is None
    assert data["contact"]["by"] == "practice"


# ---------------------------------------------------------------------------------------------
# Cancel deadline and attendance


def test_the_cancel_deadline_is_the_start_minus_the_notice_period(
    patient, professional, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=3))
    assert get_one(patient, reservation)["cancel_deadline"] == "2026-03-11T15:00:00Z"  # 48 h
    ProfessionalProfile.objects.update(cancellation_notice_hours=24)
    assert get_one(patient, reservation)["cancel_deadline"] == "2026-03-12T15:00:00Z"


def test_the_cancel_deadline_is_the_rules_last_moment(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=3))
    deadline = get_one(patient, reservation)["cancel_deadline"]
    with time_machine.travel(deadline, tick=False):
        r = bearer_client(patient).delete(f"/api/reservations/{reservation.pk}")
    assert r.status_code == 200, r.content


@pytest.mark.parametrize("attended", [None, True, False])
def test_attendance_is_null_until_recorded(attended, patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW - timedelta(days=1))
    Reservation.objects.filter(pk=reservation.pk).update(attended=attended)
    assert get_one(patient, reservation)["attended"] is attended


def test_a_late_cancel_says_whose_side_it_was(patient, staff, make_reservation, frozen_now):
    on_time = make_reservation(patient, NOW + timedelta(days=3))
    for_patient = make_reservation(patient, NOW + timedelta(hours=5))
    by_practice = make_reservation(patient, NOW + timedelta(hours=8))
    on_time.cancel(by=Actor.staff(staff), reason="Llamó", for_patient=True)
    for_patient.cancel(by=Actor.staff(staff), reason="Llamó", for_patient=True)
    by_practice.cancel(by=Actor.staff(staff), reason="Feriado")
    seen = {r.pk: get_one(patient, r) for r in (on_time, for_patient, by_practice)}
    assert [seen[r.pk]["late_cancellation"] for r in (on_time, for_patient, by_practice)] == [
        None,
        "patient",
        "practice",
    ]
    assert {seen[r.pk]["status"] for r in (on_time, for_patient, by_practice)} == {"CANCELLED"}


# ---------------------------------------------------------------------------------------------
# What stays as it was


def test_the_original_fields_are_unchanged_by_the_additions(
    patient, make_reservation, room, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(minutes=5))
    data = get_one(patient, reservation)
    assert seed_fields(data) == {
        "id": str(reservation.pk),
        "client_id": str(patient.pk),
        "professional_id": str(reservation.professional_id),
        "start_time": "2026-03-10T15:05:00Z",
        "end_time": "2026-03-10T15:50:00Z",
        "status": "CONFIRMED",
        "session_modality": "Virtual",
        "created_at": "2026-03-10T15:00:00Z",
    }


def test_someone_elses_link_is_never_shown(
    patient, other_patient, make_reservation, room, frozen_now
):
    theirs = make_reservation(other_patient, NOW + timedelta(minutes=5))
    client = logged_in(patient)
    r = client.get(f"/api/reservations/{theirs.pk}")
    assert (r.status_code, set(r.json())) == (404, {"status", "message"})
    r = client.get(f"/api/reservations/user/{patient.pk}")
    assert r.json()["data"] == []
    assert ROOM not in r.content.decode()


def list_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        r = client.get(url)
    assert r.status_code == 200, r.content
    return len(r.json()["data"]), len(queries)


def test_the_list_costs_the_same_queries_for_1_and_20_reservations(
    patient, professional, make_reservation
):
    # Professionals with and without a profile: the name, contact and links of each row come
    # from one query for all the professionals, not one query per row or per professional.
    others = [make_user(f"pro{i}@example.com", first_name=f"Pro {i}") for i in range(3)]
    ProfessionalProfile.objects.create(user=others[0], specialty="Fonoaudiología", phone="+5411")
    client = session_client(patient)
    url = f"/api/reservations/user/{patient.pk}"

    make_reservation(patient, NOW, modality="Presencial")
    one = list_queries(client, url)
    for day in range(1, 20):
        make_reservation(
            patient,
            NOW + timedelta(days=day),
            pro=[professional, *others][day % 4],
            modality=("Virtual", "Presencial")[day % 2],
        )
    twenty = list_queries(client, url)
    # 1. the session  2. its user  3. the reservations  4. their professionals, profiles and
    # prices  5. their payments (tests/test_api_payments.py)
    assert (one, twenty) == ((1, 5), (20, 5))


def test_one_reservation_is_read_in_one_query(patient, make_reservation, django_assert_num_queries):
    reservation = make_reservation(patient, NOW)
    client = session_client(patient)
    # 1. the session  2. its user  3. the reservation, with its professional, profile and price
    # 4. its payments
    with django_assert_num_queries(4):
        assert client.get(f"/api/reservations/{reservation.pk}").status_code == 200
