"""The practice's side of a session, as rules on the model that every door calls: declining a
request, cancelling late (whose side it was), recording attendance, and profile changes."""

from datetime import timedelta

import pytest

from reservations.actions import Actor
from reservations.models import ATTENDANCE_WINDOW, Lateness, Phase, Reservation

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_a_professional_declines_a_pending_request_with_the_reason_the_patient_reads(
    patient, professional, make_reservation, frozen_now
):
    request = make_reservation(patient, NOW + timedelta(hours=5), status="PENDING")
    assert request.decline(by=Actor.professional(professional), reason="No atiendo ese día") is None
    request.refresh_from_db()
    assert request.status == "CANCELLED" and request.cancelled_by == professional
    assert request.cancellation_reason == "No atiendo ese día"
    # Turning down a request is never a late cancellation, however near the session.
    assert request.late_cancellation == ""
    event = request.events.get()
    assert (event.action, event.actor, event.reason) == (
        "declined",
        professional,
        request.cancellation_reason,
    )
    assert [e.action for e in request.patient_events()] == ["declined"]


def test_only_a_pending_request_can_be_declined(
    patient, professional, make_reservation, frozen_now
):
    confirmed = make_reservation(patient, NOW + timedelta(days=5))
    refusal = confirmed.decline(by=Actor.professional(professional), reason="No")
    assert refusal.code == "not_pending"
    confirmed.refresh_from_db()
    assert confirmed.status == "CONFIRMED" and not confirmed.events.exists()


def test_a_professional_cancels_inside_the_notice_and_it_is_late_by_the_practice(
    patient, professional, make_reservation, frozen_now
):
    soon = make_reservation(patient, NOW + timedelta(hours=3))
    later = make_reservation(patient, NOW + timedelta(days=5))
    for r in (soon, later):
        assert r.cancel(by=Actor.professional(professional), reason="Enfermedad") is None
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.late_cancellation == Lateness.PRACTICE
    assert later.late_cancellation == ""
    assert soon.events.get().changes == {"late_cancellation": "practice"}
    assert soon.phase(NOW) == Phase.CANCELLED


def test_a_professional_cannot_cancel_a_session_that_has_started(
    patient, professional, make_reservation, frozen_now
):
    started = make_reservation(patient, NOW - timedelta(minutes=5))
    refusal = started.cancel(by=Actor.professional(professional), reason="x")
    assert refusal.code == "in_progress"
    assert Reservation.objects.get(pk=started.pk).status == "CONFIRMED"


def test_staff_cancelling_for_the_patient_inside_the_notice_is_late_by_the_patient(
    patient, staff, make_reservation, frozen_now
):
    soon = make_reservation(patient, NOW + timedelta(hours=30))
    assert soon.cancel(by=Actor.staff(staff), reason="Llamó", for_patient=True) is None
    soon.refresh_from_db()
    assert soon.late_cancellation == Lateness.PATIENT
    assert soon.phase(NOW) == Phase.LATE_CANCELLED
    # Outside the notice, the same cancel is on time.
    later = make_reservation(patient, NOW + timedelta(hours=48))
    later.cancel(by=Actor.staff(staff), for_patient=True)
    later.refresh_from_db()
    assert later.late_cancellation == ""


def test_the_patients_own_cancel_is_never_late(patient, make_reservation, frozen_now):
    edge = make_reservation(patient, NOW + timedelta(hours=48))
    assert edge.cancel(by=Actor.patient(patient, "page")) is None
    edge.refresh_from_db()
    assert edge.late_cancellation == ""


def test_attendance_is_recorded_from_the_start_until_seven_days_after_the_end(
    patient, professional, make_reservation, frozen_now
):
    ahead = make_reservation(patient, NOW + timedelta(hours=1))
    assert ahead.record_attendance(True, by=Actor.professional(professional)).code == "not_started"
    started = make_reservation(patient, NOW - timedelta(minutes=10))
    assert started.record_attendance(True, by=Actor.professional(professional)) is None
    # The last moment: exactly seven days after the end; a second later it is refused.
    past = make_reservation(patient, NOW - timedelta(days=3))
    last = past.end_time + ATTENDANCE_WINDOW
    too_late = last + timedelta(seconds=1)
    assert past.record_attendance(
        False, by=Actor.professional(professional), now=too_late
    ).code == ("too_late")
    assert Reservation.objects.get(pk=past.pk).attended is None and not past.events.exists()
    assert past.record_attendance(False, by=Actor.professional(professional), now=last) is None
    assert Reservation.objects.get(pk=past.pk).attended is False
    ahead.refresh_from_db()
    assert ahead.attended is None and not ahead.events.exists()


def test_attendance_can_be_changed_and_each_change_is_an_event(
    patient, professional, make_reservation, frozen_now
):
    past = make_reservation(patient, NOW - timedelta(days=2))
    past.record_attendance(True, by=Actor.professional(professional))
    past.record_attendance(False, by=Actor.professional(professional))
    past.refresh_from_db()
    assert past.attended is False and past.phase(NOW) == Phase.ABSENT
    changes = [e.changes for e in past.events.order_by("id")]
    assert changes == [{"attended": [None, True]}, {"attended": [True, False]}]
    # Attendance is the practice's record, not part of the patient's story.
    assert past.patient_events() == []


def test_a_cancelled_session_has_no_attendance(patient, staff, make_reservation, frozen_now):
    r = make_reservation(patient, NOW - timedelta(days=1), status="CANCELLED")
    assert r.record_attendance(True, by=Actor.staff(staff)).code == "cancelled"


def test_a_profile_change_is_recorded_with_who_and_what(professional, frozen_now):
    profile = professional.professional_profile
    assert profile.update(
        {"cancellation_notice_hours": 24, "specialty": "Psicología"}, by=professional
    ) == ["cancellation_notice_hours"]
    profile.refresh_from_db()
    assert profile.cancellation_notice_hours == 24
    change = profile.changes.get()
    assert change.actor == professional and change.at == NOW
    assert change.changes == {"cancellation_notice_hours": [48, 24]}
    assert profile.update({"specialty": "Psicología"}, by=professional) == []
    assert profile.changes.count() == 1


def test_a_request_for_a_session_that_is_over_cannot_be_confirmed(
    patient, professional, make_reservation, frozen_now
):
    over = make_reservation(patient, NOW - timedelta(hours=2), status="PENDING")
    assert not over.confirm(by=Actor.professional(professional))
    assert Reservation.objects.get(pk=over.pk).status == "PENDING" and not over.events.exists()
