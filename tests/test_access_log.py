"""The access log: who opened whose data, written by every door that shows a patient's data to
someone else (the agenda, the admin, the API), by every refusal of someone else's id, and by
every failed login; never by a patient opening their own data.

Entries are read back from the database; each test asserts exactly which were written."""

from datetime import date, time, timedelta

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile
from audit.models import AccessLog
from reservations.actions import Actor
from scheduling.models import WorkingHours
from series.services import create_series

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user
from .test_api import LOGIN_URL, bearer_client, session_client

pytestmark = pytest.mark.django_db

Kind = AccessLog.Kind
MISSING = "00000000-0000-0000-0000-000000000000"
IP = "203.0.113.7"


def entries(**filters):
    return list(AccessLog.objects.filter(**filters).order_by("id"))


@pytest.fixture
def session(patient, make_reservation, frozen_now):
    return make_reservation(patient, NOW + timedelta(days=2))


@pytest.fixture
def other_professional(db):
    user = make_user("perez@example.com", first_name="Juan", last_name="Pérez", factor=True)
    ProfessionalProfile.objects.create(user=user, display_name="Lic. Juan Pérez")
    return user


# Done when: a professional opening a patient's session writes one access log entry.


def test_a_professional_opening_a_patients_session_writes_one_entry(professional, patient, session):
    client = csrf_client(professional)
    response = client.get(
        f"/agenda/{session.pk}/", REMOTE_ADDR=IP, headers={"X-Request-ID": "req-agenda-1"}
    )
    assert response.status_code == 200
    [entry] = entries()
    assert entry.kind == Kind.VIEW
    assert entry.actor_id == professional.pk
    assert entry.subject_id == patient.pk
    assert (entry.object_type, entry.object_id) == ("reservations.reservation", str(session.pk))
    assert entry.request_id == response["X-Request-ID"] == "req-agenda-1"
    assert entry.ip == IP
    assert entry.where == "agenda: session"
    assert entry.path == f"/agenda/{session.pk}/"
    assert abs(entry.at - NOW) < timedelta(seconds=1)


def test_each_opening_is_one_more_entry_and_the_week_list_writes_none(professional, session):
    client = csrf_client(professional)
    client.get(f"/agenda/{session.pk}/")
    client.get(f"/agenda/{session.pk}/")
    client.get("/agenda/")
    assert [e.kind for e in entries()] == [Kind.VIEW, Kind.VIEW]


def test_the_agendas_series_pages_write_one_entry_each(professional, patient, frozen_now):
    series = create_series(
        client=patient,
        professional=professional,
        weekday=1,
        local_time=time(18, 0),
        minutes=45,
        session_modality="Virtual",
        starts_on=date(2026, 3, 10),
        by=Actor.professional(professional),
    )
    first = series.occurrences.order_by("index").first().reservation
    client = csrf_client(professional)
    assert client.get(f"/agenda/{first.pk}/series/cancel/").status_code == 200
    assert client.get(f"/agenda/{first.pk}/series/move/").status_code == 200
    assert [(e.kind, e.subject_id, e.object_type, e.where) for e in entries()] == [
        (Kind.VIEW, patient.pk, "series.series", "agenda: series cancel"),
        (Kind.VIEW, patient.pk, "series.series", "agenda: series move"),
    ]


def test_a_patient_opening_their_own_data_writes_nothing(patient, session):
    client = csrf_client(patient)
    assert client.get("/dashboard/").status_code == 200
    assert client.get(f"/reservations/{session.pk}/").status_code == 200
    assert client.get(f"/reservations/{session.pk}/calendar.ics").status_code == 200
    api = session_client(patient)
    assert api.get(f"/api/reservations/{session.pk}").status_code == 200
    assert api.get(f"/api/reservations/user/{patient.pk}").status_code == 200
    assert entries() == []


# The admin's change pages: one entry per page, not per inline row.


def test_the_admin_reservation_page_writes_one_entry(staff, patient, session):
    client = csrf_client(staff)
    assert client.get(f"/admin/reservations/reservation/{session.pk}/change/").status_code == 200
    [entry] = entries()
    assert (entry.kind, entry.actor_id, entry.subject_id) == (Kind.VIEW, staff.pk, patient.pk)
    assert (entry.object_type, entry.object_id) == ("reservations.reservation", str(session.pk))
    assert entry.where == "admin: reservation"


def test_saving_a_reservation_in_the_admin_is_an_entry_too(staff, patient, session):
    session.cancel(by=Actor.staff(staff), reason="x")
    client = csrf_client(staff)
    url = f"/admin/reservations/reservation/{session.pk}/change/"
    events = session.events.count()
    response = client.post(
        url,
        {
            "csrfmiddlewaretoken": CSRF_TOKEN,
            "internal_notes": "Llamar el lunes",
            "events-TOTAL_FORMS": str(events),
            "events-INITIAL_FORMS": str(events),
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    session.refresh_from_db()
    assert session.internal_notes == "Llamar el lunes"
    [entry] = entries()
    assert (entry.subject_id, entry.object_id, entry.detail) == (
        patient.pk,
        str(session.pk),
        "changed",
    )


def test_the_admin_user_page_writes_one_entry_however_many_sessions_it_lists(
    staff, patient, make_reservation, frozen_now
):
    for day in range(-3, 4):
        make_reservation(patient, NOW + timedelta(days=day, hours=1))
    client = csrf_client(staff)
    page = client.get(f"/admin/accounts/user/{patient.pk}/change/")
    assert page.status_code == 200
    [entry] = entries()
    assert (entry.kind, entry.actor_id, entry.subject_id) == (Kind.VIEW, staff.pk, patient.pk)
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(patient.pk))
    assert entry.where == "admin: user"


def test_staff_opening_their_own_user_page_writes_nothing(staff):
    assert csrf_client(staff).get(f"/admin/accounts/user/{staff.pk}/change/").status_code == 200
    assert entries() == []


def test_the_admin_series_page_writes_one_entry(staff, patient, professional, frozen_now):
    series = create_series(
        client=patient,
        professional=professional,
        weekday=1,
        local_time=time(18, 0),
        minutes=45,
        session_modality="Virtual",
        starts_on=date(2026, 3, 10),
        by=Actor.staff(staff),
    )
    assert series.occurrences.count() > 1
    page = csrf_client(staff).get(f"/admin/series/series/{series.pk}/change/")
    assert page.status_code == 200
    [entry] = entries()
    assert (entry.kind, entry.subject_id, entry.where) == (Kind.VIEW, patient.pk, "admin: series")
    assert (entry.object_type, entry.object_id) == ("series.series", str(series.pk))


# The API read by staff: one entry per request, the patient as its subject.


def test_staff_reading_a_reservation_through_the_api_writes_one_entry(staff, patient, session):
    response = bearer_client(staff).get(f"/api/reservations/{session.pk}", REMOTE_ADDR=IP)
    assert response.status_code == 200
    [entry] = entries()
    assert (entry.kind, entry.actor_id, entry.subject_id) == (Kind.VIEW, staff.pk, patient.pk)
    assert (entry.object_type, entry.object_id) == ("reservations.reservation", str(session.pk))
    assert entry.request_id == response["X-Request-ID"]
    assert entry.ip == IP


def test_staff_listing_a_patients_sessions_writes_one_entry_for_the_list(
    staff, patient, session, make_reservation
):
    for day in range(3, 8):
        make_reservation(patient, NOW + timedelta(days=day))
    response = bearer_client(staff).get(f"/api/reservations/user/{patient.pk}")
    assert len(response.json()["data"]) == 6
    [entry] = entries()
    assert (entry.kind, entry.subject_id) == (Kind.VIEW, patient.pk)
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(patient.pk))


def test_staff_listing_a_missing_user_writes_nothing(staff):
    assert bearer_client(staff).get(f"/api/reservations/user/{MISSING}").status_code == 404
    assert entries() == []


# Refusals: someone else's id is a 404 like a missing one, and goes to the log.


def test_a_patient_opening_another_patients_session_is_refused_and_logged(
    other_patient, patient, session
):
    client = csrf_client(other_patient)
    theirs = client.get(f"/reservations/{session.pk}/", REMOTE_ADDR=IP)
    missing = client.get(f"/reservations/{MISSING}/", REMOTE_ADDR=IP)
    # The same answer for both: nothing tells that the first exists.
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
    [entry] = entries()
    assert entry.kind == Kind.REFUSED
    assert (entry.actor_id, entry.subject_id) == (other_patient.pk, patient.pk)
    assert (entry.object_type, entry.object_id) == ("reservations.reservation", str(session.pk))
    assert (entry.ip, entry.request_id) == (IP, theirs["X-Request-ID"])
    assert entry.where == "portal: session"


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/reservations/{pk}/reschedule/"),
        ("get", "/reservations/{pk}/calendar.ics"),
        ("post", "/reservations/{pk}/cancel/"),
    ],
)
def test_every_portal_door_logs_a_refused_id(other_patient, patient, session, method, path):
    client = csrf_client(other_patient)
    data = {"csrfmiddlewaretoken": CSRF_TOKEN} if method == "post" else None
    response = getattr(client, method)(path.format(pk=session.pk), data)
    assert response.status_code == 404
    assert [(e.kind, e.subject_id) for e in entries()] == [(Kind.REFUSED, patient.pk)]
    session.refresh_from_db()
    assert session.status == "CONFIRMED"


def test_another_professionals_session_is_refused_and_logged(other_professional, patient, session):
    client = csrf_client(other_professional)
    assert client.get(f"/agenda/{session.pk}/").status_code == 404
    assert client.get(f"/agenda/{MISSING}/").status_code == 404
    [entry] = entries()
    assert (entry.kind, entry.actor_id, entry.subject_id) == (
        Kind.REFUSED,
        other_professional.pk,
        patient.pk,
    )
    assert entry.object_id == str(session.pk)


def test_another_professionals_working_hours_are_refused_and_logged(
    other_professional, professional
):
    hours = WorkingHours.objects.create(
        professional=professional, weekday=1, start_time="09:00", end_time="12:00"
    )
    client = csrf_client(other_professional)
    response = client.post(f"/agenda/hours/{hours.pk}/delete/", {"csrfmiddlewaretoken": CSRF_TOKEN})
    assert response.status_code == 404
    assert WorkingHours.objects.filter(pk=hours.pk).exists()
    [entry] = entries()
    assert (entry.kind, entry.subject_id) == (Kind.REFUSED, professional.pk)
    assert (entry.object_type, entry.object_id) == ("scheduling.workinghours", str(hours.pk))


def test_the_api_logs_a_refused_id_and_answers_like_a_missing_one(other_patient, patient, session):
    client = bearer_client(other_patient)
    theirs = client.get(f"/api/reservations/{session.pk}")
    missing = client.get(f"/api/reservations/{MISSING}")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    listed = client.get(f"/api/reservations/user/{patient.pk}")
    assert listed.status_code == 404
    assert client.delete(f"/api/reservations/{session.pk}").status_code == 404
    moved = client.post(
        f"/api/reservations/{session.pk}/reschedule",
        {"start_time": (NOW + timedelta(days=5)).isoformat()},
        content_type="application/json",
    )
    assert moved.status_code == 404
    assert [(e.kind, e.subject_id, e.where) for e in entries()] == [
        (Kind.REFUSED, patient.pk, "api: reservation"),
        (Kind.REFUSED, patient.pk, "api: reservations of a patient"),
        (Kind.REFUSED, patient.pk, "api: reservation"),
        (Kind.REFUSED, patient.pk, "api: reschedule"),
    ]
    session.refresh_from_db()
    assert session.status == "CONFIRMED"


def test_a_refusal_costs_one_query_by_primary_key_and_a_missing_id_no_insert(
    other_patient, session
):
    client = csrf_client(other_patient)

    def statements(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 404
        return [q["sql"] for q in ctx.captured_queries]

    missing = statements(f"/reservations/{MISSING}/")
    theirs = statements(f"/reservations/{session.pk}/")
    # The same statements, and for someone else's id the entry's insert.
    assert len(theirs) == len(missing) + 1
    assert theirs[-1].startswith('INSERT INTO "audit_accesslog"')
    assert len(entries()) == 1


# Failed logins: the address typed, the account when there is one; never the password.


def login(client, email, password):
    return client.post(
        "/accounts/login/",
        {"login": email, "password": password, "csrfmiddlewaretoken": CSRF_TOKEN},
        REMOTE_ADDR=IP,
    )


def test_a_wrong_password_is_logged_with_the_account_and_without_the_password(patient):
    response = login(csrf_client(), "Lucia@Example.com", "not-her-password-123")
    assert response.status_code == 200
    [entry] = entries()
    assert entry.kind == Kind.LOGIN_FAILED
    assert (entry.actor_id, entry.subject_id) == (None, patient.pk)
    assert entry.detail == "lucia@example.com"  # as allauth reads it
    assert (entry.ip, entry.request_id) == (IP, response["X-Request-ID"])
    assert "not-her-password-123" not in str(AccessLog.objects.values().get())


def test_an_unknown_address_is_logged_without_an_account(patient):
    login(csrf_client(), "nadie@example.com", "whatever-123")
    [entry] = entries()
    assert (entry.kind, entry.subject_id, entry.detail) == (
        Kind.LOGIN_FAILED,
        None,
        "nadie@example.com",
    )


def test_a_password_typed_in_the_address_box_is_never_kept(patient, rf):
    # The login form refuses it before authenticating; any other caller of authenticate() gets
    # the entry without it.
    login(csrf_client(), "hunter2-secret", "hunter2-secret")
    request = rf.post("/accounts/login/", REMOTE_ADDR=IP)
    request.user = AnonymousUser()
    assert authenticate(request, email="hunter2-secret", password="hunter2-secret") is None
    [entry] = entries(kind=Kind.LOGIN_FAILED)
    assert (entry.detail, entry.subject_id, entry.ip) == ("", None, IP)
    assert "hunter2" not in str(AccessLog.objects.values().get())


def test_a_right_password_writes_nothing(patient):
    assert login(csrf_client(), patient.email, PASSWORD).status_code == 302
    assert entries() == []


def test_the_apps_login_logs_a_wrong_password(patient):
    response = Client().post(
        LOGIN_URL,
        {"email": patient.email, "password": "wrong-password-456"},
        content_type="application/json",
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 400
    [entry] = entries()
    assert (entry.kind, entry.subject_id, entry.detail, entry.ip) == (
        Kind.LOGIN_FAILED,
        patient.pk,
        patient.email,
        IP,
    )
    assert "wrong-password-456" not in str(AccessLog.objects.values().get())
