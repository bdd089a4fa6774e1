"""Issue 25: a new series takes its session length from the professional's working hours (45
minutes here), not the model's 50, in the agenda and in the admin."""

import re
from datetime import time

import pytest

from scheduling.models import WorkingHours
from series.models import Series

from .conftest import CSRF_TOKEN, csrf_client

pytestmark = pytest.mark.django_db


def minutes_value(html):
    tag = re.search(r'<input[^>]*name="minutes"[^>]*>', html)[0]
    value = re.search(r'value="(\d*)"', tag)
    return value[1] if value else ""


@pytest.fixture
def hours_of_45(professional):
    for weekday in (1, 3):
        WorkingHours.objects.create(
            professional=professional,
            weekday=weekday,
            start_time=time(9),
            end_time=time(20),
            session_minutes=45,
        )


def test_the_agendas_new_series_is_as_long_as_the_hours_sessions(
    professional, hours_of_45, frozen_now
):
    html = csrf_client(professional).get("/agenda/series/new/").content.decode()
    assert minutes_value(html) == "45"


def test_without_hours_the_agenda_offers_the_usual_50(professional, frozen_now):
    html = csrf_client(professional).get("/agenda/series/new/").content.decode()
    assert minutes_value(html) == "50"


@pytest.fixture
def admin_form(patient, professional):
    return {
        "client": str(patient.pk),
        "professional": str(professional.pk),
        "weekday": "1",
        "local_time": "18:00",
        "minutes": "",
        "session_modality": "Virtual",
        "interval_weeks": "1",
        "starts_on": "2026-03-10",
        "ends_on": "",
        "count": "",
        "csrfmiddlewaretoken": CSRF_TOKEN,
    }


def create_in_admin(client, form):
    add = "/admin/series/series/add/"
    preview = client.post(add, {**form, "_preview": "1"})
    assert preview.status_code == 200
    digest = preview.context["step"].digest
    assert client.post(add, {**form, "_confirm": "1", "digest": digest}).status_code == 302
    return Series.objects.get()


def test_the_admins_new_series_takes_the_professionals_length(
    staff, admin_form, hours_of_45, frozen_now
):
    client = csrf_client(staff)
    assert minutes_value(client.get("/admin/series/series/add/").content.decode()) == ""
    series = create_in_admin(client, admin_form)
    assert series.minutes == 45
    first = series.occurrences.order_by("index").first().reservation
    assert (first.end_time - first.start_time).total_seconds() == 45 * 60


def test_a_length_typed_in_the_admin_wins(staff, admin_form, hours_of_45, frozen_now):
    series = create_in_admin(csrf_client(staff), {**admin_form, "minutes": "60"})
    assert series.minutes == 60
