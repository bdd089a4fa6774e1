"""Whatever a person types as a date or a number (a page, a week, a start, a series' first and last
dates), an out-of-range value is a 400, a form error or a page that ignores it: never a 500."""

from datetime import time, timedelta

import pytest

from scheduling.models import WorkingHours
from series.models import Series

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user
from .test_api import bearer_client

pytestmark = pytest.mark.django_db

FAR_PAST = "0001-01-01"
FAR_FUTURE = "9999-12-31"


@pytest.fixture
def hours(professional):
    return WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(13)
    )


@pytest.fixture
def client(patient, frozen_now):
    return csrf_client(patient)


@pytest.mark.parametrize(
    "page", ["9999999999999999999", "99999999999999999999999999", "-5", "0", "x", "1e9"]
)
def test_a_huge_history_page_is_an_empty_page(client, page):
    assert client.get(f"/dashboard/?page={page}").status_code == 200


@pytest.mark.parametrize("week", [FAR_FUTURE, "9999-12-27", FAR_PAST, "2026-13-01", "x"])
def test_an_absurd_week_shows_a_week_within_reach(client, professional, hours, week):
    assert client.get(f"/book/{professional.pk}/?week={week}").status_code == 200


@pytest.mark.parametrize(
    "start",
    [
        "0001-01-01T00:00Z",
        "0001-01-01T00:00+05:00",
        "9999-12-31T23:59Z",
        "9999-12-31T23:59-05:00",
    ],
)
def test_an_absurd_start_is_not_offered(
    client, patient, professional, hours, make_reservation, start
):
    assert client.get(f"/book/{professional.pk}/confirm/?start={start}").status_code == 200
    r = client.post(
        f"/book/{professional.pk}/",
        {"start": start, "modality": "Virtual", "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert r.status_code == 409
    session = make_reservation(patient, NOW + timedelta(days=7))
    moving = f"/reservations/{session.pk}/reschedule/"
    assert client.get(f"{moving}?week={FAR_FUTURE}").status_code == 200
    assert (
        client.get(f"/reservations/{session.pk}/reschedule/confirm/?start={start}").status_code
        == 200
    )


@pytest.mark.parametrize(
    "start", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:00-05:00"]
)
def test_the_api_refuses_an_absurd_start(patient, professional, hours, make_reservation, start):
    api = bearer_client(patient)
    r = api.post(
        "/api/reservations",
        {
            "professional_id": str(professional.pk),
            "start_time": start,
            "session_modality": "Virtual",
        },
        content_type="application/json",
    )
    assert r.status_code in (409, 422), r.content
    session = make_reservation(patient, NOW + timedelta(days=7))
    r = api.post(
        f"/api/reservations/{session.pk}/reschedule",
        {"start_time": start},
        content_type="application/json",
    )
    assert r.status_code in (409, 422), r.content


@pytest.mark.parametrize(
    "query",
    [
        f"from={FAR_PAST}&to={FAR_PAST}",
        f"from={FAR_FUTURE}&to={FAR_FUTURE}",
        "from=9999-12-01&to=9999-12-31",
        "from=0001-01-01&to=0001-01-31",
    ],
)
def test_the_api_slots_of_absurd_days_are_empty(patient, professional, hours, frozen_now, query):
    r = bearer_client(patient).get(f"/api/professionals/{professional.pk}/slots?{query}")
    assert r.status_code == 200, r.content
    assert r.json()["data"] == []


# Series: the agenda and the admin


@pytest.fixture
def series_form(patient, professional, make_reservation, frozen_now):
    make_reservation(patient, NOW - timedelta(days=7))  # one of her patients
    return {
        "client": str(patient.pk),
        "weekday": "1",
        "local_time": "18:00",
        "minutes": "45",
        "session_modality": "Virtual",
        "interval_weeks": "1",
        "starts_on": "2026-03-10",
        "ends_on": "",
        "count": "",
        "_preview": "1",
        "csrfmiddlewaretoken": CSRF_TOKEN,
    }


@pytest.mark.parametrize(
    "dates",
    [
        {"starts_on": FAR_PAST},
        {"starts_on": "2024-01-01"},
        {"starts_on": FAR_FUTURE},
        {"starts_on": "2028-01-01"},
        {"ends_on": FAR_FUTURE},
        {"starts_on": "9999-12-30", "ends_on": FAR_FUTURE},
    ],
)
def test_a_series_out_of_reach_is_a_form_error(professional, series_form, dates):
    r = csrf_client(professional).post("/agenda/series/new/", {**series_form, **dates})
    assert r.status_code in (200, 400)
    if "ends_on" not in dates or "starts_on" in dates:
        assert r.context["form"].errors
    assert not Series.objects.exists()
    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    r = csrf_client(root).post(
        "/admin/series/series/add/",
        {**series_form, "professional": str(professional.pk), **dates},
    )
    assert r.status_code == 200
    if "ends_on" not in dates or "starts_on" in dates:
        assert r.context["form"].errors
    assert not Series.objects.exists()


@pytest.mark.parametrize("date", [FAR_PAST, FAR_FUTURE, "99999-01-01"])
def test_the_agenda_ignores_an_absurd_day(professional, frozen_now, date):
    assert csrf_client(professional).get(f"/agenda/?date={date}").status_code == 200


# Working hours: the agenda and the admin


HOURS = {
    "weekday": "0",
    "start_time": "09:00",
    "end_time": "13:00",
    "modality": "both",
    "session_minutes": "50",
    "buffer_minutes": "10",
    "min_lead_hours": "24",
    "horizon_weeks": "8",
}


@pytest.mark.parametrize(
    "bad",
    [
        {"session_minutes": "1"},
        {"session_minutes": "14"},
        {"session_minutes": "481"},
        {"horizon_weeks": "53"},
        {"horizon_weeks": "32767"},
        {"horizon_weeks": "0"},
        {"start_time": "13:00", "end_time": "09:00"},
        {"buffer_minutes": "32767"},
        {"min_lead_hours": "32767"},
    ],
)
def test_working_hours_out_of_range_are_refused_by_agenda_and_admin(professional, bad):
    from scheduling.models import WorkingHours

    r = csrf_client(professional).post(
        "/agenda/hours/", {**HOURS, **bad, "csrfmiddlewaretoken": CSRF_TOKEN}
    )
    assert r.status_code in (200, 400)
    assert not WorkingHours.objects.exists()
    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    r = csrf_client(root).post(
        "/admin/scheduling/workinghours/add/",
        {**HOURS, **bad, "professional": str(professional.pk), "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert r.status_code == 200 and r.context["adminform"].form.errors
    assert not WorkingHours.objects.exists()


def test_sane_working_hours_are_saved(professional):
    from scheduling.models import WorkingHours

    csrf_client(professional).post(
        "/agenda/hours/",
        {**HOURS, "session_minutes": "15", "horizon_weeks": "52"}
        | {"csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert WorkingHours.objects.get().horizon_weeks == 52


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_absurd_hours_too(professional):
    from django.db import IntegrityError

    from scheduling.models import WorkingHours

    for bad in ({"session_minutes": 1}, {"horizon_weeks": 32767}):
        with pytest.raises(IntegrityError):
            WorkingHours.objects.create(
                professional=professional,
                weekday=0,
                start_time=time(9),
                end_time=time(13),
                **bad,
            )


# The reception desk's range cancel, the admin's date filters, and time off


@pytest.mark.parametrize(
    ("start", "end"),
    [(FAR_PAST, "0001-01-02"), ("9999-12-30", FAR_FUTURE), ("2030-01-01", "2030-01-02")],
)
def test_the_range_cancel_refuses_absurd_days(professional, make_reservation, patient, start, end):
    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    r = csrf_client(root).post(
        "/admin/reservations/reservation/cancel-range/",
        {
            "professional": professional.pk,
            "start": start,
            "end": end,
            "reason": "Congreso",
            "csrfmiddlewaretoken": CSRF_TOKEN,
        },
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "query",
    ["start_time__gte=0001-01-01", "start_time__date=9999-12-31", "p=99999999999999999999"],
)
def test_the_admin_list_ignores_absurd_filters(frozen_now, query):
    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    assert csrf_client(root).get(f"/admin/reservations/reservation/?{query}").status_code < 500


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01T00:00", "0001-01-02T00:00"), ("9999-12-31T22:00", "9999-12-31T23:59")],
)
def test_time_off_out_of_reach_is_a_form_error(professional, frozen_now, start, end):
    from scheduling.models import TimeOff

    client = csrf_client(professional)
    r = client.post(
        "/agenda/hours/time-off/",
        {"start": start, "end": end, "reason": "x", "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert r.status_code == 400
    assert not TimeOff.objects.exists()
    assert client.get("/agenda/hours/").status_code == 200
