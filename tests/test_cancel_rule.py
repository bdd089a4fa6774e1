"""The cancellation rule, once, on the model: the page, the admin and the API all call it."""

from datetime import timedelta

import pytest

from accounts.models import ProfessionalProfile
from reservations.actions import Actor
from reservations.models import Channel, Reservation, ReservationEvent

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_it_allows_cancelling_exactly_at_the_notice_boundary(patient, make_reservation):
    r = make_reservation(patient, NOW + timedelta(hours=48))
    assert r.cancel_refusal(NOW) is None
    assert r.cancel(by=Actor.patient(patient, Channel.PAGE), now=NOW) is None
    r.refresh_from_db()
    assert r.status == "CANCELLED"
    assert r.cancelled_at == NOW
    assert r.cancelled_by == patient


def test_it_refuses_one_second_inside_the_notice_period(patient, make_reservation):
    r = make_reservation(patient, NOW + timedelta(hours=48) - timedelta(seconds=1))
    refusal = r.cancel(by=Actor.patient(patient, Channel.PAGE), now=NOW)
    assert refusal.code == "notice"
    assert "48 h" in str(refusal)
    r.refresh_from_db()
    assert r.status == "CONFIRMED"
    assert r.cancelled_at is None
    assert not ReservationEvent.objects.exists()


def test_it_uses_the_professionals_own_notice_period(patient, professional, make_reservation):
    ProfessionalProfile.objects.filter(user=professional).update(cancellation_notice_hours=24)
    ok = make_reservation(patient, NOW + timedelta(hours=30))
    late = make_reservation(patient, NOW + timedelta(hours=23, minutes=59))
    ok, late = (Reservation.objects.with_people().get(pk=r.pk) for r in (ok, late))
    assert ok.cancel_refusal(NOW) is None
    assert late.cancel_refusal(NOW).code == "notice"
    assert "24 h" in str(late.cancel_refusal(NOW))


def test_it_defaults_to_48_hours_for_professionals_without_profile(patient, make_reservation):
    from .conftest import make_user

    bare = make_user("sin.perfil@example.com")
    r = make_reservation(patient, NOW + timedelta(hours=47), pro=bare)
    assert r.notice_period == timedelta(hours=48)
    assert r.cancel_refusal(NOW).code == "notice"


def test_it_refuses_past_and_in_progress_sessions(patient, make_reservation):
    past = make_reservation(patient, NOW - timedelta(days=1))
    live = make_reservation(patient, NOW - timedelta(minutes=10))
    assert past.cancel_refusal(NOW).code == "past"
    assert live.cancel_refusal(NOW).code == "in_progress"


def test_it_refuses_an_already_cancelled_reservation(patient, make_reservation):
    r = make_reservation(patient, NOW + timedelta(days=5), status="CANCELLED")
    assert r.cancel(by=Actor.patient(patient, Channel.PAGE), now=NOW).code == "already_cancelled"


def test_pending_reservations_can_be_cancelled(patient, make_reservation):
    r = make_reservation(patient, NOW + timedelta(days=5), status="PENDING")
    assert r.cancel(by=Actor.patient(patient, Channel.PAGE), now=NOW) is None


def test_staff_may_cancel_inside_the_notice_period_and_the_record_says_so(
    patient, staff, make_reservation
):
    r = make_reservation(patient, NOW + timedelta(hours=2))
    assert r.cancel(by=Actor.staff(staff), reason="Feriado", now=NOW) is None
    r.refresh_from_db()
    assert r.status == "CANCELLED"
    assert r.cancelled_by == staff
    event = r.events.get()
    assert (event.actor, event.channel, event.from_status, event.to_status) == (
        staff,
        "admin",
        "CONFIRMED",
        "CANCELLED",
    )


def test_a_stale_second_cancel_leaves_one_cancellation(patient, make_reservation):
    r = make_reservation(patient, NOW + timedelta(days=5))
    # Two requests loaded the same row before either wrote.
    first = Reservation.objects.get(pk=r.pk)
    second = Reservation.objects.get(pk=r.pk)
    assert first.cancel(by=Actor.patient(patient, Channel.PAGE), reason="uno", now=NOW) is None
    refusal = second.cancel(by=Actor.patient(patient, Channel.PAGE), reason="dos", now=NOW)
    assert refusal.code == "already_cancelled"
    r.refresh_from_db()
    assert r.cancellation_reason == "uno"
    assert ReservationEvent.objects.filter(reservation=r).count() == 1


def test_the_update_rechecks_the_notice_period(patient, make_reservation):
    # The check in Python passed, but by the time of the write the row says otherwise.
    r = make_reservation(patient, NOW + timedelta(days=5))
    Reservation.objects.filter(pk=r.pk).update(
        start_time=NOW + timedelta(hours=1), end_time=NOW + timedelta(hours=2)
    )
    assert r.cancel(by=Actor.patient(patient, Channel.PAGE), now=NOW) is not None
    r.refresh_from_db()
    assert r.status == "CONFIRMED"


def test_confirm_moves_pending_to_confirmed_once(patient, staff, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(days=5), status="PENDING")
    assert r.confirm(by=Actor.staff(staff)) is True
    assert r.confirm(by=Actor.staff(staff)) is False
    r.refresh_from_db()
    assert r.status == "CONFIRMED"
    assert r.events.count() == 1


def test_the_database_refuses_an_end_before_the_start(patient, make_reservation):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_reservation(patient, NOW, minutes=-5)


def test_the_reason_is_stored_without_nul_and_at_most_2000_characters(patient, make_reservation):
    # Every door (page, admin, API) passes raw text; PostgreSQL text cannot hold a NUL.
    r = make_reservation(patient, NOW + timedelta(days=5))
    assert (
        r.cancel(by=Actor.patient(patient, Channel.API), reason=" a\x00b" + "x" * 3000, now=NOW)
        is None
    )
    r.refresh_from_db()
    assert r.cancellation_reason == ("ab" + "x" * 3000)[:2000]
    assert r.events.get().reason == r.cancellation_reason
