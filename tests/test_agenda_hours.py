"""The professional's weekly hours and time off, edited from the agenda (/agenda/hours/):
through HTTP with CSRF checked, and the database read after each request. Only their own rows;
another professional's id is a 404 like a missing one, anyone without a profile gets the 403."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from accounts.models import ProfessionalProfile
from scheduling.models import TimeOff, WorkingHours
from scheduling.slots import free_slots

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
MONDAY = date(2026, 3, 16)  # the Monday after NOW (Tuesday 10 March 2026)
RANGE = {
    "weekday": "0",
    "start_time": "09:00",
    "end_time": "13:00",
    "modality": "both",
    "session_minutes": "50",
    "buffer_minutes": "10",
    "min_lead_hours": "24",
    "horizon_weeks": "8",
}


def post(client, path, data):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data})


@pytest.fixture
def other(db):
    user = make_user("ruiz@example.com", first_name="Ruiz")
    ProfessionalProfile.objects.create(user=user, display_name="Dr. Ruiz")
    return user


def rows():
    hours = WorkingHours.objects.order_by("pk").values_list(
        "pk", "professional", "weekday", "start_time", "end_time", "modality"
    )
    off = TimeOff.objects.order_by("pk").values_list("pk", "professional", "start", "end")
    return list(hours), list(off)


def test_the_page_lists_hours_and_time_off_ahead(professional, frozen_now):
    WorkingHours.objects.create(
        professional=professional, weekday=2, start_time=time(14), end_time=time(18)
    )
    TimeOff.objects.create(
        professional=professional,
        start=datetime(2026, 3, 20, 9, tzinfo=BA),
        end=datetime(2026, 3, 20, 13, tzinfo=BA),
        reason="Congreso",
    )
    TimeOff.objects.create(  # over: not listed
        professional=professional,
        start=datetime(2026, 3, 1, 9, tzinfo=BA),
        end=datetime(2026, 3, 2, 9, tzinfo=BA),
        reason="Pasado",
    )
    html = csrf_client(professional).get("/agenda/hours/").content.decode()
    assert "Horarios y ausencias" in html
    assert "14:00 – 18:00" in html
    assert "Congreso" in html and "viernes 20 de marzo, 09:00" in html
    assert "Pasado" not in html


def test_the_agenda_and_the_settings_link_to_it(professional, frozen_now):
    client = csrf_client(professional)
    assert 'href="/agenda/hours/"' in client.get("/agenda/").content.decode()
    assert 'href="/agenda/hours/"' in client.get("/agenda/settings/").content.decode()


def test_a_range_added_is_offered_to_patients(professional, frozen_now):
    assert free_slots(professional, MONDAY, MONDAY, now=NOW) == []
    response = post(csrf_client(professional), "/agenda/hours/", RANGE)
    assert response.status_code == 302 and response["Location"] == "/agenda/hours/"
    h = WorkingHours.objects.get()
    assert (h.professional, h.weekday, h.start_time, h.end_time, h.modality) == (
        professional,
        0,
        time(9),
        time(13),
        "both",
    )
    starts = [
        s.start.astimezone(BA).strftime("%H:%M")
        for s in free_slots(professional, MONDAY, MONDAY, now=NOW)
    ]
    assert starts == ["09:00", "10:00", "11:00", "12:00"]


@pytest.mark.parametrize(
    "change",
    [
        {"end_time": "09:00"},  # ends when it starts
        {"start_time": "14:00", "end_time": "10:00"},  # ends before it starts
        {"start_time": "12:00", "end_time": "15:00"},  # overlaps 10–13
        {"start_time": "08:00", "end_time": "14:00"},  # contains 10–13
        {"modality": "telepathy"},
        {"weekday": "7"},
        {"session_minutes": "0"},
        {"start_time": "nueve"},
    ],
)
def test_an_invalid_or_overlapping_range_is_refused(professional, frozen_now, change):
    WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(10), end_time=time(13)
    )
    before = rows()
    response = post(csrf_client(professional), "/agenda/hours/", {**RANGE, **change})
    assert response.status_code == 400
    assert rows() == before


def test_ranges_of_another_day_or_touching_do_not_overlap(professional, other, frozen_now):
    WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(10), end_time=time(13)
    )
    WorkingHours.objects.create(  # another professional's range does not count
        professional=other, weekday=0, start_time=time(13), end_time=time(18)
    )
    client = csrf_client(professional)
    assert post(client, "/agenda/hours/", {**RANGE, "weekday": "1"}).status_code == 302
    touching = {**RANGE, "start_time": "13:00", "end_time": "18:00"}
    assert post(client, "/agenda/hours/", touching).status_code == 302
    assert WorkingHours.objects.filter(professional=professional).count() == 3


def test_delete_own_range_and_time_off(professional, frozen_now):
    h = WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(13)
    )
    t = TimeOff.objects.create(
        professional=professional,
        start=datetime(2026, 3, 20, 9, tzinfo=BA),
        end=datetime(2026, 3, 20, 13, tzinfo=BA),
    )
    client = csrf_client(professional)
    assert post(client, f"/agenda/hours/{h.pk}/delete/", {}).status_code == 302
    assert post(client, f"/agenda/hours/time-off/{t.pk}/delete/", {}).status_code == 302
    assert rows() == ([], [])


def test_add_time_off_in_the_professionals_zone(professional, frozen_now):
    data = {"start": "2026-03-20T09:00", "end": "2026-03-20T13:30", "reason": "Congreso"}
    response = post(csrf_client(professional), "/agenda/hours/time-off/", data)
    assert response.status_code == 302 and response["Location"] == "/agenda/hours/"
    t = TimeOff.objects.get()
    assert t.professional == professional and t.reason == "Congreso"
    assert t.start == datetime(2026, 3, 20, 12, tzinfo=ZoneInfo("UTC"))
    assert t.end == datetime(2026, 3, 20, 13, 30, tzinfo=BA)


@pytest.mark.parametrize(
    "data",
    [
        {"start": "2026-03-20T13:00", "end": "2026-03-20T09:00"},
        {"start": "2026-03-20T09:00", "end": "2026-03-20T09:00"},
        {"start": "", "end": "2026-03-20T09:00"},
        {"start": "mañana", "end": "2026-03-20T09:00"},
    ],
)
def test_invalid_time_off_is_refused(professional, frozen_now, data):
    response = post(csrf_client(professional), "/agenda/hours/time-off/", data)
    assert response.status_code == 400
    assert rows() == ([], [])


def test_another_professionals_rows_are_a_404_and_stay(professional, other, frozen_now):
    h = WorkingHours.objects.create(
        professional=other, weekday=0, start_time=time(9), end_time=time(13)
    )
    t = TimeOff.objects.create(
        professional=other,
        start=datetime(2026, 3, 20, 9, tzinfo=BA),
        end=datetime(2026, 3, 20, 13, tzinfo=BA),
        reason="Ruiz se va",
    )
    client = csrf_client(professional)
    before = rows()
    for path, missing in [
        (f"/agenda/hours/{h.pk}/delete/", "/agenda/hours/999999/delete/"),
        (f"/agenda/hours/time-off/{t.pk}/delete/", "/agenda/hours/time-off/999999/delete/"),
    ]:
        theirs, gone = post(client, path, {}), post(client, missing, {})
        assert theirs.status_code == gone.status_code == 404
        assert theirs.content == gone.content
    assert rows() == before
    html = client.get("/agenda/hours/").content.decode()
    assert "Ruiz se va" not in html


@pytest.mark.parametrize("role", ["patient", "staff"])
def test_someone_without_a_profile_gets_403(professional, patient, staff, frozen_now, role):
    h = WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(13)
    )
    client = csrf_client({"patient": patient, "staff": staff}[role])
    before = rows()
    assert client.get("/agenda/hours/").status_code == 403
    assert post(client, "/agenda/hours/", RANGE).status_code == 403
    assert post(client, f"/agenda/hours/{h.pk}/delete/", {}).status_code == 403
    data = {"start": "2026-03-20T09:00", "end": "2026-03-20T13:00"}
    assert post(client, "/agenda/hours/time-off/", data).status_code == 403
    assert rows() == before


def test_anonymous_goes_to_login_and_csrf_is_checked(professional, frozen_now):
    response = csrf_client().get("/agenda/hours/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = csrf_client(professional).post("/agenda/hours/", RANGE)  # no token
    assert response.status_code == 403
    assert rows() == ([], [])


def test_english(professional, frozen_now):
    html = (
        csrf_client(professional)
        .get("/agenda/hours/", headers={"Accept-Language": "en"})
        .content.decode()
    )
    assert "Hours and time off" in html and "Add a range" in html
