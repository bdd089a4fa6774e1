"""No double booking: a professional or a patient never has two live sessions at once."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from reservations.actions import Actor
from reservations.models import Channel, Reservation

from .conftest import NOW, make_user

pytestmark = pytest.mark.django_db


def book(client, pro, start, minutes=45, **extra):
    return Reservation.book(
        by=Actor.system(),
        client=client,
        professional=pro,
        start_time=start,
        end_time=start + timedelta(minutes=minutes),
        **extra,
    )


def test_a_professional_cannot_be_booked_twice_at_once(patient, other_patient, professional):
    book(patient, professional, NOW)
    with pytest.raises(ValidationError, match="se superpone|overlaps"):
        book(other_patient, professional, NOW + timedelta(minutes=30))
    assert Reservation.objects.count() == 1


def test_a_patient_cannot_be_in_two_sessions_at_once(patient, professional):
    other_pro = make_user("ruiz@example.com")
    book(patient, professional, NOW)
    with pytest.raises(ValidationError):
        book(patient, other_pro, NOW - timedelta(minutes=30))
    assert Reservation.objects.count() == 1


def test_back_to_back_sessions_are_fine(patient, other_patient, professional):
    book(patient, professional, NOW)
    book(other_patient, professional, NOW + timedelta(minutes=45))
    assert Reservation.objects.count() == 2


def test_a_cancelled_slot_can_be_booked_again(patient, other_patient, professional):
    first = book(patient, professional, NOW + timedelta(days=5))
    first.cancel(by=Actor.patient(patient, Channel.PAGE), now=NOW)
    book(other_patient, professional, NOW + timedelta(days=5))
    assert Reservation.objects.filter(status="CANCELLED").count() == 1
    assert Reservation.objects.count() == 2


def test_the_database_refuses_an_overlap_that_skips_the_checks(
    patient, other_patient, make_reservation
):
    make_reservation(patient, NOW)
    with pytest.raises(IntegrityError, match="reservation_no_overlap"), transaction.atomic():
        make_reservation(other_patient, NOW + timedelta(minutes=10))
    assert Reservation.objects.count() == 1


def test_the_database_refuses_reviving_a_cancelled_overlap(
    patient, other_patient, make_reservation
):
    make_reservation(patient, NOW)
    ghost = make_reservation(other_patient, NOW, status="CANCELLED")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.filter(pk=ghost.pk).update(status="CONFIRMED")
    ghost.refresh_from_db()
    assert ghost.status == "CANCELLED"


def test_the_admin_form_says_why_and_stores_nothing(
    client, staff, patient, other_patient, professional, make_reservation, frozen_now
):
    from django.utils import timezone

    start = timezone.localtime(NOW)
    make_reservation(patient, NOW)
    client.force_login(staff)
    # The add page books in one step (tests/test_reception_add.py); "book anyway" reaches past
    # the hours (this professional has none), never past an overlap.
    r = client.post(
        "/admin/reservations/reservation/add/",
        {
            "client": other_patient.pk,
            "professional": professional.pk,
            "day": start.strftime("%Y-%m-%d"),
            "start": (start + timedelta(minutes=15)).strftime("%H:%M"),
            "minutes": "45",
            "session_modality": "Virtual",
            "status": "PENDING",
            "override": "on",
        },
    )
    assert r.status_code == 200
    assert "se superpone" in r.content.decode() or "overlaps" in r.content.decode()
    assert Reservation.objects.count() == 1
