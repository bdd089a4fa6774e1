"""Booking races, with real threads and real transactions on PostgreSQL (deselected on SQLite):
the database decides who gets a slot, and the others are told so, never a 500."""

from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ProfessionalProfile
from reservations.models import Reservation
from scheduling.models import WorkingHours
from scheduling.slots import free_slots

from .conftest import CSRF_TOKEN, make_user
from .test_races import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def logged_in(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF_TOKEN
    return client


@pytest.fixture
def slots(professional):
    """The professional works every day 9 to 13; the next free slots, from tomorrow on."""
    for weekday in range(7):
        WorkingHours.objects.create(
            professional=professional, weekday=weekday, start_time=time(9), end_time=time(13)
        )
    today = timezone.localdate()
    found = free_slots(professional, today, today + timedelta(days=7), now=timezone.now())
    assert len(found) >= 2
    return found


def param(start):
    return start.strftime("%Y-%m-%dT%H:%MZ")


def test_ten_patients_booking_one_slot_give_one_reservation(professional, slots):
    slot = slots[0]
    patients = [make_user(f"p{n}@example.com", first_name=f"P{n}") for n in range(10)]
    clients = [logged_in(p) for p in patients]

    def book(client):
        return lambda: client.post(
            f"/book/{professional.pk}/",
            {"start": param(slot.start), "modality": "Virtual", "csrfmiddlewaretoken": CSRF_TOKEN},
        )

    responses = run_together(*[book(c) for c in clients])
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] + [409] * 9
    refused = [r.content.decode() for r in responses if r.status_code == 409]
    assert all("Ese horario ya no está disponible." in html for html in refused)
    # The refreshed week no longer offers the slot.
    assert all(param(slot.start) not in html for html in refused)
    booked = Reservation.objects.get()
    assert booked.start_time == slot.start and booked.status == "PENDING"
    assert booked.events.count() == 1


def test_ten_api_bookings_of_one_slot_give_one_201(professional, slots):
    slot = slots[1]
    patients = [make_user(f"a{n}@example.com") for n in range(10)]
    clients = []
    for p in patients:
        c = logged_in(p)
        c.defaults["HTTP_X_CSRFTOKEN"] = CSRF_TOKEN
        clients.append(c)
    body = {
        "professional_id": str(professional.pk),
        "start_time": slot.start.isoformat(),
        "session_modality": "Presencial",
    }

    def book(client):
        return lambda: client.post("/api/reservations", body, content_type="application/json")

    responses = run_together(*[book(c) for c in clients])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"unavailable"}
    assert Reservation.objects.count() == 1


@pytest.mark.parametrize("approval", [False, True], ids=["instant", "request"])
@pytest.mark.parametrize("same_target", [True, False], ids=["same-slot", "two-slots"])
def test_two_reschedules_of_one_session_give_one_new_session(
    patient, professional, slots, same_target, approval
):
    # Without approval the move replaces the session at once; with it, the move is a request
    # and the session stands (tests/test_move_requests.py): either way, one new session.
    ProfessionalProfile.objects.filter(user=professional).update(requires_approval=approval)
    old = Reservation.objects.create(
        client=patient,
        professional=professional,
        start_time=slots[-1].start,
        end_time=slots[-1].end,
        status="CONFIRMED",
    )
    targets = [slots[0], slots[0] if same_target else slots[1]]

    def move(client, slot):
        return lambda: client.post(
            f"/reservations/{old.pk}/reschedule/",
            {"start": param(slot.start), "csrfmiddlewaretoken": CSRF_TOKEN},
        )

    responses = run_together(*[move(logged_in(patient), slot) for slot in targets])
    assert sorted(r.status_code for r in responses) == [302, 409]
    old.refresh_from_db()
    assert Reservation.objects.exclude(pk=old.pk).count() == 1
    new = Reservation.objects.get(rescheduled_from=old)
    assert new.start_time in {s.start for s in targets}
    if approval:
        assert old.status == "CONFIRMED" and new.status == "PENDING"
        assert not old.events.exists()
    else:
        assert old.status == "CANCELLED" and old.cancellation_reason == "rescheduled"
        assert old.events.filter(action="cancelled").count() == 1


def test_one_patient_asking_for_two_times_at_once_keeps_to_the_limit(patient, professional, slots):
    # One pending request per professional: two at once are serialized on the patient's row.
    def book(slot):
        return lambda: logged_in(patient).post(
            f"/book/{professional.pk}/",
            {"start": param(slot.start), "modality": "Virtual", "csrfmiddlewaretoken": CSRF_TOKEN},
        )

    responses = run_together(book(slots[0]), book(slots[1]))
    assert sorted(r.status_code for r in responses) == [302, 409]
    refused = next(r for r in responses if r.status_code == 409).content.decode()
    assert "Ya tenés un pedido esperando" in refused
    assert Reservation.objects.count() == 1
