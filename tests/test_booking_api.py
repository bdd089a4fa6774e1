"""The booking API: professionals, their free slots, booking and rescheduling, in the envelope,
with a Bearer token or the session (and CSRF)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from accounts.models import ProfessionalProfile
from reservations.models import Reservation
from scheduling.models import WorkingHours

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user
from .test_api import bearer_client, session_client

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
MONDAY = date(2026, 3, 16)  # NOW is Tuesday 10 March 2026, 12:00 in Buenos Aires


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=BA)


@pytest.fixture
def hours(professional):
    WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(11)
    )


@pytest.fixture
def api(patient, frozen_now):
    return bearer_client(patient)


def book(client, pro, start, modality="Virtual"):
    return client.post(
        "/api/reservations",
        {
            "professional_id": str(pro.pk),
            "start_time": start.isoformat(),
            "session_modality": modality,
        },
        content_type="application/json",
    )


def test_professionals_the_caller_may_book(api, professional, hours, settings):
    make_user("nohours@example.com")
    r = api.get("/api/professionals")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == 200 and body["message"]
    assert body["data"] == [
        {
            "id": str(professional.pk),
            "name": "Lic. Carolina Gómez",
            "specialty": "Psicología",
            "requires_approval": True,
            "seen": False,
            "price": None,  # no payment policy (tests/test_api_payments.py)
            "payment": None,
        }
    ]
    settings.BOOKING_OPEN_TO_ALL = False
    assert api.get("/api/professionals").json()["data"] == []


def test_free_slots_with_offsets(api, professional, hours):
    r = api.get(f"/api/professionals/{professional.pk}/slots?from=2026-03-16&to=2026-03-22")
    assert r.status_code == 200
    assert r.json()["data"] == [
        {
            "start_time": "2026-03-16T09:00:00-03:00",
            "end_time": "2026-03-16T09:50:00-03:00",
            "session_modality": "Virtual",
        },
        {
            "start_time": "2026-03-16T09:00:00-03:00",
            "end_time": "2026-03-16T09:50:00-03:00",
            "session_modality": "Presencial",
        },
        {
            "start_time": "2026-03-16T10:00:00-03:00",
            "end_time": "2026-03-16T10:50:00-03:00",
            "session_modality": "Virtual",
        },
        {
            "start_time": "2026-03-16T10:00:00-03:00",
            "end_time": "2026-03-16T10:50:00-03:00",
            "session_modality": "Presencial",
        },
    ]


def test_the_offset_is_the_professionals(api, professional, hours):
    professional.time_zone = "Europe/Madrid"
    professional.save()
    data = api.get(f"/api/professionals/{professional.pk}/slots?from=2026-03-30&to=2026-03-30")
    assert data.json()["data"][0]["start_time"] == "2026-03-30T09:00:00+02:00"


@pytest.mark.parametrize(
    "query, status",
    [
        ("from=2026-03-16&to=2026-04-15", 200),  # 31 days
        ("from=2026-03-16&to=2026-04-16", 422),  # 32
        ("from=2026-03-16&to=2026-03-15", 422),
        ("from=2026-03-16", 400),
        ("from=16/03/2026&to=2026-03-20", 400),
        ("from=9999-12-01&to=9999-12-31", 200),
    ],
)
def test_at_most_31_days_per_call(api, professional, hours, query, status):
    r = api.get(f"/api/professionals/{professional.pk}/slots?{query}")
    assert r.status_code == status, r.content
    assert r.json()["status"] == status


def test_slots_of_someone_not_bookable_are_404(api, patient, other_patient):
    for pk in (other_patient.pk, patient.pk, "not-a-uuid"):
        r = api.get(f"/api/professionals/{pk}/slots?from=2026-03-16&to=2026-03-22")
        assert r.status_code == 404


def test_booking_answers_201_with_the_reservation(api, patient, professional, hours):
    r = book(api, professional, at(MONDAY, 9))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == 201
    booked = Reservation.objects.get()
    assert body["data"]["id"] == str(booked.pk)
    assert body["data"]["status"] == "PENDING"
    assert body["data"]["start_time"] == "2026-03-16T12:00:00Z"
    assert booked.client == patient and booked.events.get().channel == "api"
    assert booked.expires_at == NOW + timedelta(hours=48)


def test_booking_without_approval_is_confirmed(api, professional, hours):
    ProfessionalProfile.objects.filter(user=professional).update(requires_approval=False)
    # Any offset naming the same instant will do.
    r = book(api, professional, datetime.fromisoformat("2026-03-16T12:00:00+00:00"))
    assert r.status_code == 201
    assert r.json()["data"]["status"] == "CONFIRMED"


def test_a_taken_or_unoffered_time_is_409(api, other_patient, professional, hours):
    assert book(bearer_client(other_patient), professional, at(MONDAY, 9)).status_code == 201
    for start in (at(MONDAY, 9), at(MONDAY, 9, 30), at(MONDAY, 14)):
        r = book(api, professional, start)
        assert r.status_code == 409
        assert r.json() == {
            "status": 409,
            "message": "Ese horario ya no está disponible.",
            "code": "unavailable",
        }
    assert Reservation.objects.count() == 1


def test_the_pending_limit_is_409_limit(api, professional, hours):
    assert book(api, professional, at(MONDAY, 9)).status_code == 201
    r = book(api, professional, at(MONDAY, 10))
    assert r.status_code == 409 and r.json()["code"] == "limit"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"start_time": "2026-03-16T12:00:00Z", "session_modality": "Virtual"},
        {
            "professional_id": "x",
            "start_time": "2026-03-16T12:00:00Z",
            "session_modality": "Virtual",
        },
        {
            "professional_id": None,
            "start_time": "2026-03-16T09:00:00",
            "session_modality": "Virtual",
        },
        {"professional_id": None, "start_time": "yesterday", "session_modality": "Virtual"},
        {
            "professional_id": None,
            "start_time": "2026-03-16T12:00:00Z",
            "session_modality": "Phone",
        },
    ],
)
def test_bad_input_is_422(api, professional, hours, body):
    if "professional_id" in body and body["professional_id"] is None:
        body["professional_id"] = str(professional.pk)
    r = api.post("/api/reservations", body, content_type="application/json")
    assert r.status_code == 422, r.content
    assert r.json()["status"] == 422
    assert not Reservation.objects.exists()


def test_booking_someone_not_bookable_is_404(api, other_patient):
    r = book(api, other_patient, at(MONDAY, 9))
    assert r.status_code == 404
    assert not Reservation.objects.exists()


def test_the_session_needs_csrf(patient, professional, hours, frozen_now):
    r = book(csrf_client(patient), professional, at(MONDAY, 9))
    assert r.status_code == 403
    assert not Reservation.objects.exists()
    r = book(session_client(patient), professional, at(MONDAY, 9))
    assert r.status_code == 201
    assert Reservation.objects.count() == 1


def test_anonymous_is_401(professional, hours):
    assert book(Client(), professional, at(MONDAY, 9)).status_code == 401
    assert Client().get("/api/professionals").status_code == 401


@pytest.fixture
def session(patient, professional, hours):
    return Reservation.objects.create(
        client=patient,
        professional=professional,
        start_time=at(MONDAY, 9),
        end_time=at(MONDAY, 9, 50),
        status="CONFIRMED",
        session_modality="Presencial",
    )


def move(client, r, body):
    return client.post(
        f"/api/reservations/{r.pk}/reschedule", body, content_type="application/json"
    )


def test_reschedule_answers_200_with_the_new_reservation(api, professional, session):
    ProfessionalProfile.objects.filter(user=professional).update(requires_approval=False)
    r = move(api, session, {"start_time": "2026-03-16T10:00:00-03:00"})
    assert r.status_code == 200, r.content
    new = Reservation.objects.get(rescheduled_from=session)
    data = r.json()["data"]
    assert data["id"] == str(new.pk)
    assert data["status"] == "CONFIRMED" and data["session_modality"] == "Presencial"
    assert r.json()["message"].startswith("CAMBIASTE EL HORARIO")
    session.refresh_from_db()
    assert session.status == "CANCELLED" and session.cancellation_reason == "rescheduled"


def test_reschedule_needing_approval_is_a_request_and_the_session_stands(api, session):
    r = move(api, session, {"start_time": "2026-03-16T10:00:00-03:00"})
    assert r.status_code == 200, r.content
    new = Reservation.objects.get(rescheduled_from=session)
    data = r.json()["data"]
    assert data["id"] == str(new.pk) and data["status"] == "PENDING"
    assert r.json()["message"].startswith("PEDISTE CAMBIAR EL HORARIO")
    session.refresh_from_db()
    assert session.status == "CONFIRMED" and session.cancellation_reason == ""
    # One request to move it at a time.
    again = move(api, session, {"start_time": "2026-03-16T11:00:00-03:00"})
    assert again.status_code == 409 and again.json()["code"] == "move_waiting"
    assert Reservation.objects.count() == 2


def test_reschedule_may_change_the_modality(api, session):
    r = move(
        api, session, {"start_time": "2026-03-16T10:00:00-03:00", "session_modality": "Virtual"}
    )
    assert r.json()["data"]["session_modality"] == "Virtual"


def test_reschedule_refusals_are_409_with_their_code(api, patient, professional, session):
    r = move(api, session, {"start_time": "2026-03-16T10:30:00-03:00"})
    assert r.status_code == 409 and r.json()["code"] == "unavailable"
    ProfessionalProfile.objects.filter(user=professional).update(cancellation_notice_hours=24 * 7)
    r = move(api, session, {"start_time": "2026-03-16T10:00:00-03:00"})
    assert r.status_code == 409 and r.json()["code"] == "notice"
    assert "contact" in r.json()["message"].lower() or "contact" in r.json()["message"]
    session.refresh_from_db()
    assert session.status == "CONFIRMED"
    assert Reservation.objects.count() == 1


def test_reschedule_of_someone_elses_is_404(other_patient, session, frozen_now):
    r = move(bearer_client(other_patient), session, {"start_time": "2026-03-16T10:00:00-03:00"})
    assert r.status_code == 404
    session.refresh_from_db()
    assert session.status == "CONFIRMED"


def test_reschedule_bad_input_is_422(api, session):
    for body in ({}, {"start_time": "2026-03-16T10:00:00"}, {"start_time": "soon"}):
        assert move(api, session, body).status_code == 422


def test_reschedule_with_the_session_needs_csrf(patient, session, frozen_now):
    body = {"start_time": "2026-03-16T10:00:00-03:00"}
    assert move(csrf_client(patient), session, body).status_code == 403
    client = csrf_client(patient)
    r = client.post(
        f"/api/reservations/{session.pk}/reschedule",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_TOKEN},
    )
    assert r.status_code == 200
