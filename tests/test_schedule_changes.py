"""Nothing vanishes without a trace: a range of working hours or a time off added, changed or
removed, in the admin or in the professional's agenda, is recorded (who, when, through which door,
what it was and what it became), and the record can be read but never edited or deleted."""

from datetime import time

import pytest

from scheduling.models import ScheduleChange, TimeOff, WorkingHours

from .conftest import CSRF_TOKEN, csrf_client

pytestmark = pytest.mark.django_db

HOURS = "/admin/scheduling/workinghours/"


def post(client, path, data):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data})


def hours_form(professional, **changes):
    return {
        "professional": str(professional.pk),
        "weekday": "0",
        "start_time": "09:00",
        "end_time": "13:00",
        "modality": "both",
        "session_minutes": "50",
        "buffer_minutes": "10",
        "min_lead_hours": "24",
        "horizon_weeks": "8",
        **changes,
    }


def test_reception_adding_changing_and_removing_hours_is_recorded(staff, professional):
    desk = csrf_client(staff)
    assert post(desk, f"{HOURS}add/", hours_form(professional)).status_code == 302
    hours = WorkingHours.objects.get()
    added = ScheduleChange.objects.get()
    assert (added.what, added.model, added.row_id) == ("added", "workinghours", hours.pk)
    assert (added.actor, added.channel, added.professional) == (staff, "admin", professional)
    assert added.changes["end_time"] == [None, "13:00:00"]

    response = post(desk, f"{HOURS}{hours.pk}/change/", hours_form(professional, end_time="12:00"))
    assert response.status_code == 302
    changed = ScheduleChange.objects.filter(what="changed").get()
    assert changed.changes == {"end_time": ["13:00:00", "12:00:00"]}

    response = post(desk, f"{HOURS}{hours.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not WorkingHours.objects.exists()
    removed = ScheduleChange.objects.filter(what="removed").get()
    assert removed.changes["start_time"] == ["09:00:00", None]
    assert removed.row_id == hours.pk


def test_saving_without_a_change_records_nothing(staff, professional):
    desk = csrf_client(staff)
    post(desk, f"{HOURS}add/", hours_form(professional))
    hours = WorkingHours.objects.get()
    post(desk, f"{HOURS}{hours.pk}/change/", hours_form(professional))
    assert ScheduleChange.objects.count() == 1


def test_removing_several_time_off_at_once_records_each(staff, professional, frozen_now):
    from .conftest import NOW

    made = [
        TimeOff.objects.create(professional=professional, start=NOW, end=NOW.replace(hour=20)),
        TimeOff.objects.create(
            professional=professional,
            start=NOW.replace(day=20),
            end=NOW.replace(day=21),
            reason="Congreso",
        ),
    ]
    response = post(
        csrf_client(staff),
        "/admin/scheduling/timeoff/",
        {"action": "delete_selected", "_selected_action": [t.pk for t in made], "post": "yes"},
    )
    assert response.status_code == 302
    assert not TimeOff.objects.exists()
    removed = ScheduleChange.objects.filter(what="removed", model="timeoff")
    assert sorted(removed.values_list("row_id", flat=True)) == sorted(t.pk for t in made)
    assert {c.changes["reason"][0] for c in removed} == {"", "Congreso"}


def test_the_record_is_read_only(staff, professional):
    desk = csrf_client(staff)
    post(desk, f"{HOURS}add/", hours_form(professional))
    change = ScheduleChange.objects.get()
    url = f"/admin/scheduling/schedulechange/{change.pk}/"
    assert desk.get(url + "change/").status_code == 200  # to read
    assert post(desk, url + "delete/", {"post": "yes"}).status_code == 403
    assert desk.get("/admin/scheduling/schedulechange/add/").status_code == 403
    assert ScheduleChange.objects.count() == 1


def test_the_agenda_records_what_the_professional_adds_and_removes(professional, frozen_now):
    pro = csrf_client(professional)
    response = post(
        pro,
        "/agenda/hours/",
        {
            "weekday": "2",
            "start_time": "14:00",
            "end_time": "18:00",
            "modality": "Virtual",
            "session_minutes": "45",
            "buffer_minutes": "15",
            "min_lead_hours": "24",
            "horizon_weeks": "8",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    hours = WorkingHours.objects.get(professional=professional)
    assert post(pro, f"/agenda/hours/{hours.pk}/delete/", {}).status_code == 302
    response = post(
        pro,
        "/agenda/hours/time-off/",
        {"start": "2026-03-20T09:00", "end": "2026-03-20T18:00", "reason": "Congreso"},
    )
    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert post(pro, f"/agenda/hours/time-off/{time_off.pk}/delete/", {}).status_code == 302
    record = list(
        ScheduleChange.objects.order_by("at", "id").values_list("model", "what", "channel")
    )
    assert record == [
        ("workinghours", "added", "agenda"),
        ("workinghours", "removed", "agenda"),
        ("timeoff", "added", "agenda"),
        ("timeoff", "removed", "agenda"),
    ]
    assert set(ScheduleChange.objects.values_list("actor", flat=True)) == {professional.pk}
    assert time(14) == time.fromisoformat(
        ScheduleChange.objects.get(model="workinghours", what="removed").changes["start_time"][0]
    )
