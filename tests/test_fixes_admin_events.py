"""Issue 25: the admin shows a session's event log in words ("Estado: Pendiente → Confirmado"),
not as stored JSON, and its dates as people write them in Spanish ("5 de enero de 2026")."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reservations.actions import Actor
from reservations.models import Channel, Reservation, ReservationEvent

from .conftest import csrf_client

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=BA)
START = datetime(2026, 1, 5, 10, 0, tzinfo=BA)


@pytest.fixture
def moved(patient, professional, staff):
    with time_machine.travel(NOW, tick=False):
        session = Reservation.book(
            by=Actor.patient(patient, Channel.PAGE),
            client=patient,
            professional=professional,
            start_time=START,
            end_time=START + timedelta(minutes=45),
            status="PENDING",
        )
        assert session.confirm(by=Actor.professional(professional)) is True
        session.start_time += timedelta(days=1)
        session.end_time += timedelta(days=1)
        session.change(["start_time", "end_time"], by=Actor.staff(staff))
        yield session


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_event_log_reads_in_words(staff, moved):
    assert ReservationEvent.objects.filter(reservation=moved).count() == 3
    html = csrf_client(staff).get(f"/admin/reservations/reservation/{moved.pk}/change/")
    html = html.content.decode()
    text = text_of(html)
    assert "Estado: Pendiente → Confirmado" in text
    assert "5 de enero de 2026, 10:00 → 6 de enero de 2026, 10:00" in text
    assert '{"' not in html and "&quot;start_time&quot;" not in html
    assert "Enero" not in text


def test_the_events_own_page_reads_in_words(staff, moved):
    event = ReservationEvent.objects.get(reservation=moved, action="confirmed")
    html = csrf_client(staff).get(f"/admin/reservations/reservationevent/{event.pk}/change/")
    assert html.status_code == 200
    assert "Estado: Pendiente → Confirmado" in text_of(html.content.decode())


def test_the_admins_dates_are_lowercase_spanish(staff, moved):
    html = csrf_client(staff).get("/admin/reservations/reservation/?when=all").content.decode()
    text = text_of(html)
    assert "6 de enero de 2026, 10:00" in text
    assert "Enero" not in text
