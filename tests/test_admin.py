from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reservations.actions import Actor
from reservations.models import Reservation, ReservationEvent

from .conftest import NOW, PASSWORD

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reservations/reservation/"


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    # Bulk cancels ask for the password again (tests/test_reauth.py).
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    return client


@pytest.fixture
def booked(patient, other_patient, make_reservation, frozen_now):
    return [
        make_reservation(patient, NOW + timedelta(days=1), status="PENDING"),
        make_reservation(patient, NOW + timedelta(days=3), modality="Presencial"),
        make_reservation(other_patient, NOW + timedelta(days=5), status="CANCELLED"),
    ]


def test_the_list_shows_patient_professional_start_modality_status(admin_client, booked):
    r = admin_client.get(CHANGELIST)
    assert r.status_code == 200
    html = r.content.decode()
    for header in ("Paciente", "Profesional", "Inicio", "Modalidad", "Estado"):
        assert header in html
    assert html.count('name="_selected_action"') == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status__exact=PENDING", 1),
        ("session_modality__exact=Presencial", 1),
        ("q=martin@example.com", 1),
        ("q=Lucía", 2),
        ("q=Gómez", 3),
    ],
)
def test_it_filters_and_searches(admin_client, booked, query, expected):
    r = admin_client.get(f"{CHANGELIST}?{query}")
    assert r.status_code == 200
    assert r.context["cl"].result_count == expected


def test_the_professional_filter_lists_professionals_only(admin_client, booked, professional):
    r = admin_client.get(f"{CHANGELIST}?professional={professional.pk}")
    assert r.context["cl"].result_count == 3
    filter_html = r.content.decode()
    assert "Lic. Carolina Gómez" in filter_html
    spec = next(
        s
        for s in r.context["cl"].filter_specs
        if getattr(s, "parameter_name", "") == "professional"
    )
    assert [label for _, label in spec.lookup_choices] == ["Lic. Carolina Gómez"]


def test_the_list_query_count_does_not_grow(admin_client, patient, make_reservation):
    make_reservation(patient, NOW + timedelta(days=1))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            admin_client.get(CHANGELIST)
        return len(ctx.captured_queries)

    few = count()
    for i in range(30):
        make_reservation(patient, NOW + timedelta(days=i + 2))
    assert count() == few


def test_the_confirm_action_confirms_pending_and_records_it(admin_client, booked, staff):
    pending = booked[0]
    r = admin_client.post(
        CHANGELIST,
        {"action": "confirm_selected", "_selected_action": [str(b.pk) for b in booked]},
    )
    assert r.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "CONFIRMED"
    event = ReservationEvent.objects.get()
    assert (event.reservation, event.actor, event.channel) == (pending, staff, "admin")


def test_the_cancel_action_records_the_staff_member_even_inside_the_notice(
    admin_client, staff, patient, make_reservation
):
    from django.utils import timezone

    soon = make_reservation(patient, timezone.now() + timedelta(hours=2))
    asked = admin_client.post(
        CHANGELIST, {"action": "cancel_selected", "_selected_action": [soon.pk]}
    )
    assert asked.status_code == 200  # the confirmation page: nothing cancelled yet
    soon.refresh_from_db()
    assert soon.status == "CONFIRMED"
    admin_client.post(
        CHANGELIST,
        {
            "action": "cancel_selected",
            "_selected_action": [soon.pk],
            "confirm": "yes",
            "reason": "El consultorio cierra",
        },
    )
    soon.refresh_from_db()
    assert soon.status == "CANCELLED"
    assert soon.cancelled_by == staff
    assert soon.events.get().channel == "admin"


def test_reservations_cannot_be_deleted(admin_client, booked):
    r = admin_client.get(CHANGELIST)
    assert "delete_selected" not in r.content.decode()
    delete_url = f"{CHANGELIST}{booked[0].pk}/delete/"
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Reservation.objects.count() == 3


def test_the_change_page_shows_the_event_log(admin_client, booked, staff):
    booked[0].confirm(by=Actor.staff(staff))
    r = admin_client.get(f"{CHANGELIST}{booked[0].pk}/change/")
    assert r.status_code == 200
    assert "Confirmado" in r.content.decode()


def test_staff_can_book_with_autocomplete_pickers(
    admin_client, patient, professional, staff, frozen_now
):
    r = admin_client.get(f"{CHANGELIST}add/")
    assert r.status_code == 200
    assert "admin-autocomplete" in r.content.decode()
    auto = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "lucia",
            "app_label": "reservations",
            "model_name": "reservation",
            "field_name": "client",
        },
    )
    assert auto.status_code == 200
    assert auto.json()["results"][0]["id"] == str(patient.pk)
    r = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "client": patient.pk,
            "professional": professional.pk,
            "day": "2026-12-01",
            "start": "10:00",
            "minutes": "45",
            "session_modality": "Presencial",
            "status": "PENDING",
            "override": "on",  # this professional has no working hours
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    booked = Reservation.objects.get()
    assert booked.events.get().action == "created"


def test_non_staff_cannot_enter_the_admin(client, patient):
    client.force_login(patient)
    assert client.get(CHANGELIST).status_code == 302


def test_users_are_managed_in_the_admin(admin_client, patient, professional):
    r = admin_client.get("/admin/accounts/user/?q=lucia")
    assert r.status_code == 200
    assert r.context["cl"].result_count == 1
    assert admin_client.get(f"/admin/accounts/user/{professional.pk}/change/").status_code == 200
    assert admin_client.get("/admin/accounts/user/add/").status_code == 200
