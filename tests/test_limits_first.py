"""A refusal that holds whatever time the patient picks (a request of hers already waiting for the
professional) is said on the booking page before she picks, and no time is offered as a link."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from reservations.models import Reservation
from scheduling.models import WorkingHours

from .conftest import CSRF_TOKEN, csrf_client

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
MONDAY = date(2026, 3, 16)  # NOW is Tuesday 10 March 2026, 12:00 in Buenos Aires
WAITING = "Ya tenés un pedido esperando la confirmación"


def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=BA)


def param(start):
    return start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ")


@pytest.fixture
def hours(professional):
    WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(13)
    )


@pytest.fixture
def waiting(patient, professional, hours):
    return Reservation.objects.create(
        client=patient,
        professional=professional,
        start_time=at(MONDAY, 9),
        end_time=at(MONDAY, 9).replace(minute=50),
        status="PENDING",
    )


def test_the_week_offers_times_as_links_when_nothing_stands_in_the_way(
    patient, professional, hours, frozen_now
):
    html = csrf_client(patient).get(f"/book/{professional.pk}/?week=2026-03-16").content.decode()
    assert WAITING not in html
    assert f'href="/book/{professional.pk}/confirm/?start={param(at(MONDAY, 11))}"' in html


def test_a_waiting_request_is_said_before_choosing_and_no_time_is_a_link(
    patient, professional, waiting, frozen_now
):
    client = csrf_client(patient)
    html = client.get(f"/book/{professional.pk}/?week=2026-03-16").content.decode()
    assert WAITING in html
    assert "/confirm/?start=" not in html
    assert 'class="slot slot--off"' in html and "11:00" in html  # shown, not offered
    # Reached anyway (an old link), the confirm page shows the same and no form.
    page = client.get(f"/book/{professional.pk}/confirm/?start={param(at(MONDAY, 11))}")
    assert WAITING in page.content.decode() and "Reservar este horario" not in page.content.decode()
    # And a POST is refused, nothing written.
    data = {
        "start": param(at(MONDAY, 11)),
        "modality": "Virtual",
        "csrfmiddlewaretoken": CSRF_TOKEN,
    }
    assert client.post(f"/book/{professional.pk}/", data).status_code == 409
    assert Reservation.objects.count() == 1


def test_without_approval_there_is_no_limit_to_say(patient, professional, waiting, frozen_now):
    profile = professional.professional_profile
    profile.requires_approval = False
    profile.save()
    html = csrf_client(patient).get(f"/book/{professional.pk}/?week=2026-03-16").content.decode()
    assert WAITING not in html and "/confirm/?start=" in html


def test_another_professionals_request_does_not_close_this_one(
    patient, professional, waiting, frozen_now
):
    from .conftest import make_user

    other = make_user("ruiz@example.com", first_name="Ruiz")
    WorkingHours.objects.create(
        professional=other, weekday=0, start_time=time(14), end_time=time(18)
    )
    html = csrf_client(patient).get(f"/book/{other.pk}/?week=2026-03-16").content.decode()
    assert WAITING not in html and "/confirm/?start=" in html
