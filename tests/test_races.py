"""Races, with real threads and real transactions on PostgreSQL (deselected on SQLite)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from reservations.actions import Actor
from reservations.models import Channel, Reservation, ReservationEvent

from .conftest import CSRF_TOKEN

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Run the calls in threads released at the same instant; return their results in order."""
    barrier = threading.Barrier(len(calls))

    def wrapped(call):
        try:
            barrier.wait(timeout=10)
            return call()
        finally:
            connection.close()  # each thread has its own connection

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(wrapped, c) for c in calls]
        return [f.result(timeout=60) for f in futures]


def test_ten_simultaneous_cancels_leave_one_cancellation(patient, make_reservation):
    r = make_reservation(patient, timezone.now() + timedelta(days=5))
    clients = []
    for _ in range(10):
        c = Client(enforce_csrf_checks=True)
        c.force_login(patient)
        c.cookies["csrftoken"] = CSRF_TOKEN
        clients.append(c)

    def cancel(c):
        return lambda: c.post(
            f"/reservations/{r.pk}/cancel/",
            {"csrfmiddlewaretoken": CSRF_TOKEN},
            headers={"HX-Request": "true"},
        )

    responses = run_together(*[cancel(c) for c in clients])
    assert [x.status_code for x in responses] == [200] * 10
    bodies = [x.content.decode() for x in responses]
    assert sum("Tu turno fue cancelado." in b for b in bodies) == 1
    assert sum("Ya cancelado" in b and "flash--error" in b for b in bodies) == 9
    r.refresh_from_db()
    assert r.status == "CANCELLED"
    assert ReservationEvent.objects.filter(reservation=r, action="cancelled").count() == 1


def test_a_patient_cancel_racing_a_staff_confirm_ends_in_a_serial_outcome(
    patient, staff, make_reservation
):
    for _ in range(5):
        r = make_reservation(patient, timezone.now() + timedelta(days=5), status="PENDING")
        as_patient = Reservation.objects.get(pk=r.pk)
        as_staff = Reservation.objects.get(pk=r.pk)
        run_together(
            lambda a=as_patient: a.cancel(by=Actor.patient(patient, Channel.PAGE)),
            lambda s=as_staff: s.confirm(by=Actor.staff(staff)),
        )
        r.refresh_from_db()
        actions = list(r.events.order_by("at", "id").values_list("action", flat=True))
        # Either confirm then cancel, or cancel first and the confirm finds nothing to confirm.
        assert r.status == "CANCELLED"
        assert actions in (["confirmed", "cancelled"], ["cancelled"])
        Reservation.objects.filter(pk=r.pk).update(
            start_time=r.start_time + timedelta(days=30), end_time=r.end_time + timedelta(days=30)
        )


def test_a_patient_cancel_racing_a_staff_reschedule_keeps_both(patient, make_reservation):
    start = timezone.now() + timedelta(days=5)
    r = make_reservation(patient, start)
    stale = Reservation.objects.get(pk=r.pk)

    def reschedule():
        stale.start_time = start + timedelta(hours=2)
        stale.end_time = start + timedelta(hours=2, minutes=45)
        stale.save(update_fields=["start_time", "end_time"])

    run_together(
        lambda: Reservation.objects.get(pk=r.pk).cancel(by=Actor.patient(patient, Channel.PAGE)),
        reschedule,
    )
    r.refresh_from_db()
    assert r.status == "CANCELLED"
    assert r.start_time == start + timedelta(hours=2)


def test_two_simultaneous_overlapping_bookings_one_wins(
    patient, other_patient, professional, monkeypatch
):
    start = timezone.now() + timedelta(days=3)
    barrier = threading.Barrier(2)
    original_full_clean = Reservation.full_clean

    def full_clean_then_wait(self, *args, **kwargs):
        # Both bookings pass the friendly check before either writes: only the database decides.
        original_full_clean(self, *args, **kwargs)
        barrier.wait(timeout=10)

    monkeypatch.setattr(Reservation, "full_clean", full_clean_then_wait)

    def book(client):
        def call():
            try:
                Reservation.book(
                    by=Actor.system(),
                    client=client,
                    professional=professional,
                    start_time=start,
                    end_time=start + timedelta(minutes=45),
                )
                return "booked"
            except ValidationError as exc:
                return exc.messages[0]

        return call

    results = run_together(book(patient), book(other_patient))
    assert results.count("booked") == 1
    assert any("se superpone" in x or "overlaps" in x for x in results)
    assert Reservation.objects.count() == 1
    assert ReservationEvent.objects.count() == 1
