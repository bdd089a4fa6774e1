"""A reschedule racing a cancel of the same session, with real threads and transactions on
PostgreSQL (deselected on SQLite): one of them wins, the other is told so (409), never a 503."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from reservations.models import Reservation, Status
from scheduling.models import WorkingHours
from scheduling.slots import free_slots

from .conftest import CSRF_TOKEN
from .test_booking_races import logged_in
from .test_races import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 15


def test_reschedule_racing_cancel_never_gives_503(patient, professional, make_reservation):
    for weekday in range(7):
        WorkingHours.objects.create(
            professional=professional,
            weekday=weekday,
            start_time=time(9),
            end_time=time(13),
            horizon_weeks=12,
            modality="both",
        )
    today = timezone.localdate()
    slots = free_slots(professional, today + timedelta(days=10), today + timedelta(days=40),
                       now=timezone.now())  # fmt: skip
    assert len(slots) >= 2 * ROUNDS
    mover, canceller = logged_in(patient), logged_in(patient)
    for client in (mover, canceller):
        client.defaults["HTTP_X_CSRFTOKEN"] = CSRF_TOKEN
    codes = []
    for n in range(ROUNDS):
        session = make_reservation(patient, slots[2 * n].start)
        target = slots[2 * n + 1].start

        def move(session=session, target=target):
            return mover.post(
                f"/api/reservations/{session.pk}/reschedule",
                {"start_time": target.isoformat()},
                content_type="application/json",
            )

        def cancel(session=session):
            return canceller.delete(f"/api/reservations/{session.pk}?reason=x")

        moved, cancelled = run_together(move, cancel)
        codes.append((moved.status_code, cancelled.status_code))
        session.refresh_from_db()
        assert session.status == Status.CANCELLED
        new = Reservation.objects.filter(rescheduled_from=session)
        # Exactly one won: the move (a new session, the old one cancelled as rescheduled) or the
        # cancel (no new session). A loser is told why.
        if moved.status_code == 200:
            assert cancelled.status_code in (200, 409) and new.count() == 1
        else:
            assert moved.status_code == 409 and not new.exists()
    assert all(m in (200, 409) and c in (200, 409) for m, c in codes), codes
