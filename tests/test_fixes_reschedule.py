"""Issue 25: the reschedule page opens on the session's own week, and does not offer the
session's own time as a place to move it to."""

from datetime import date, timedelta

import pytest

from reservations.models import Reservation

from .conftest import csrf_client
from .test_reschedule import at, hours, param  # noqa: F401 (hours: a fixture)

pytestmark = pytest.mark.django_db

IN_THREE_WEEKS = date(2026, 3, 30)  # a Monday; NOW is Tuesday 10 March 2026


@pytest.fixture
def later(patient, professional, hours):  # noqa: F811
    return Reservation.objects.create(
        client=patient,
        professional=professional,
        start_time=at(IN_THREE_WEEKS, 10),
        end_time=at(IN_THREE_WEEKS, 10, 50),
        status="CONFIRMED",
        session_modality="Presencial",
    )


def confirm_links(html, session):
    prefix = f"/reservations/{session.pk}/reschedule/confirm/?start="
    return {part.split('"', 1)[0] for part in html.split(prefix)[1:]}


def test_the_reschedule_page_opens_on_the_sessions_own_week(patient, later, frozen_now):
    html = csrf_client(patient).get(f"/reservations/{later.pk}/reschedule/").content.decode()
    offered = confirm_links(html, later)
    # The week of 30 March, though the weeks before it have free times too.
    assert param(at(IN_THREE_WEEKS, 9)) in offered
    assert param(at(IN_THREE_WEEKS + timedelta(days=2), 9)) in offered  # its Wednesday
    assert param(at(date(2026, 3, 11), 9)) not in offered  # this week's Wednesday
    # Its neighbours lead to the weeks around it.
    assert f"?week={IN_THREE_WEEKS - timedelta(days=7)}" in html
    assert f"?week={IN_THREE_WEEKS + timedelta(days=7)}" in html


def test_the_sessions_own_time_is_not_offered(patient, later, frozen_now):
    html = csrf_client(patient).get(f"/reservations/{later.pk}/reschedule/").content.decode()
    offered = confirm_links(html, later)
    assert param(at(IN_THREE_WEEKS, 10)) not in offered
    assert {param(at(IN_THREE_WEEKS, hour)) for hour in (9, 11, 12)} <= offered


def test_a_week_asked_for_still_opens(patient, later, frozen_now):
    url = f"/reservations/{later.pk}/reschedule/?week=2026-03-16"
    offered = confirm_links(csrf_client(patient).get(url).content.decode(), later)
    assert param(at(date(2026, 3, 16), 10)) in offered
    assert param(at(IN_THREE_WEEKS, 9)) not in offered
