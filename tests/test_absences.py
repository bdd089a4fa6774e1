"""An absence (TimeOff) over booked sessions: from the agenda's hours page, the admin's absence
form and reception's "Cancel a professional's sessions". The sessions inside it are listed first
and nothing is saved; then they are cancelled, each patient told once with the practice's reason,
or kept, only when the person says so. The clock is frozen in December 2026."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail

from reservations.models import Reservation
from reservations_site import roles
from scheduling.models import ScheduleChange, TimeOff, WorkingHours

from .conftest import CSRF_TOKEN, PASSWORD, csrf_client, make_user
from .test_notifications import run_due_tasks

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
NOW = datetime(2026, 12, 1, 10, tzinfo=BA)  # Tuesday 1 December 2026
THURSDAY = date(2026, 12, 10)
HOURS_PAGE = "/agenda/hours/"
ADD = "/agenda/hours/time-off/"
ADMIN_ADD = "/admin/scheduling/timeoff/add/"
RANGE = "/admin/reservations/reservation/cancel-range/"
MESSAGE = "La licenciada viaja a un congreso: escribinos para buscar otro horario."


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=BA)


@pytest.fixture(autouse=True)
def december():
    with time_machine.travel(NOW, tick=False):
        yield


def post(client, path, data):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data})


@pytest.fixture
def booked(patient, other_patient, make_reservation):
    """Thursday 10 December: Lucía at 10:00 and 15:00, Martín at 11:00; and Lucía on Friday."""
    return {
        "lucia_10": make_reservation(patient, at(THURSDAY, 10)),
        "martin_11": make_reservation(other_patient, at(THURSDAY, 11)),
        "lucia_15": make_reservation(patient, at(THURSDAY, 15)),
        "friday": make_reservation(patient, at(THURSDAY + timedelta(days=1), 10)),
    }


DAY_OFF = {"start": "2026-12-10T00:00", "end": "2026-12-11T00:00", "reason": "Congreso"}


def statuses(booked):
    return {name: Reservation.objects.get(pk=r.pk).status for name, r in booked.items()}


def seen_ids(response):
    return re.search(r'name="seen" value="([^"]*)"', response.content.decode())[1]


# The agenda's hours page


def test_an_absence_over_sessions_lists_them_and_saves_nothing(professional, booked):
    client = csrf_client(professional)
    r = post(client, ADD, DAY_OFF)
    assert r.status_code == 400
    html = r.content.decode()
    assert "3 turnos caen dentro de esta ausencia" in html
    assert html.count("Lucía") >= 2 and "Martín" in html
    assert "10/12/2026 10:00–10:45" in html
    assert 'name="decision"' in html and 'name="message"' in html
    assert not TimeOff.objects.exists()
    assert set(statuses(booked).values()) == {"CONFIRMED"}
    # Saving again without deciding is refused too.
    r = post(client, ADD, {**DAY_OFF, "seen": seen_ids(r)})
    assert r.status_code == 400
    assert "Elegí si cancelás estos turnos o los mantenés." in r.content.decode()
    assert not TimeOff.objects.exists()
    # Cancelling needs the message the patients will read.
    r = post(client, ADD, {**DAY_OFF, "seen": seen_ids(r), "decision": "cancel"})
    assert r.status_code == 400
    assert not TimeOff.objects.exists()
    assert set(statuses(booked).values()) == {"CONFIRMED"}


def test_cancelling_them_tells_each_patient_once_with_the_reason(
    professional, patient, other_patient, booked, django_capture_on_commit_callbacks
):
    client = csrf_client(professional)
    seen = seen_ids(post(client, ADD, DAY_OFF))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, ADD, {**DAY_OFF, "seen": seen, "decision": "cancel", "message": MESSAGE})
    assert r.status_code == 302 and r["Location"] == HOURS_PAGE
    assert statuses(booked) == {
        "lucia_10": "CANCELLED",
        "martin_11": "CANCELLED",
        "lucia_15": "CANCELLED",
        "friday": "CONFIRMED",
    }
    absence = TimeOff.objects.get()
    assert (absence.professional, absence.start, absence.end, absence.reason) == (
        professional,
        at(THURSDAY, 0),
        at(THURSDAY + timedelta(days=1), 0),
        "Congreso",
    )
    for r in Reservation.objects.filter(status="CANCELLED"):
        assert (r.cancelled_by, r.cancellation_reason) == (professional, MESSAGE)
        assert r.events.get(action="cancelled").channel == "agenda"
    assert ScheduleChange.objects.filter(model="timeoff", what="added").count() == 1
    run_due_tasks()
    to = sorted(address for m in mail.outbox for address in m.to)
    assert to == [patient.email, other_patient.email]  # Lucía's two sessions: one email
    for message in mail.outbox:
        assert MESSAGE in message.body
    page = client.get(HOURS_PAGE).content.decode()
    assert "Congreso" in page


def test_keeping_them_only_when_ticked(professional, booked, django_capture_on_commit_callbacks):
    client = csrf_client(professional)
    seen = seen_ids(post(client, ADD, DAY_OFF))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, ADD, {**DAY_OFF, "seen": seen, "decision": "keep", "message": MESSAGE})
    assert r.status_code == 302
    assert TimeOff.objects.count() == 1
    assert set(statuses(booked).values()) == {"CONFIRMED"}
    run_due_tasks()
    assert mail.outbox == []


def test_an_absence_with_nothing_inside_is_just_saved(professional, booked):
    r = post(
        csrf_client(professional),
        ADD,
        {"start": "2026-12-14T00:00", "end": "2026-12-15T00:00", "reason": "Trámite"},
    )
    assert r.status_code == 302
    assert TimeOff.objects.get().reason == "Trámite"
    assert set(statuses(booked).values()) == {"CONFIRMED"}


def test_a_session_booked_after_the_list_is_shown_again(
    professional, booked, make_reservation, other_patient
):
    client = csrf_client(professional)
    seen = seen_ids(post(client, ADD, DAY_OFF))
    late = make_reservation(other_patient, at(THURSDAY, 17))
    r = post(client, ADD, {**DAY_OFF, "seen": seen, "decision": "cancel", "message": MESSAGE})
    assert r.status_code == 400
    assert "4 turnos caen dentro de esta ausencia" in r.content.decode()
    assert str(late.pk) in seen_ids(r)
    assert not TimeOff.objects.exists()
    assert set(statuses(booked).values()) == {"CONFIRMED"}


def test_a_session_already_started_or_of_another_professional_is_not_listed(
    professional, patient, make_reservation
):
    ruiz = make_user("ruiz@example.com", first_name="Ruiz", factor=True)
    make_reservation(patient, at(date(2026, 12, 1), 9, 30))  # started half an hour ago
    make_reservation(patient, at(THURSDAY, 10), pro=ruiz)
    r = post(
        csrf_client(professional),
        ADD,
        {"start": "2026-12-01T00:00", "end": "2026-12-11T00:00", "reason": ""},
    )
    assert r.status_code == 302
    assert Reservation.objects.filter(status="CONFIRMED").count() == 2


# The admin's absence form (reception)


@pytest.fixture
def desk():
    user = make_user("mostrador@example.com", first_name="Mostrador", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.RECEPTION))
    return csrf_client(user)


def admin_form(professional, **extra):
    return {
        "professional": str(professional.pk),
        "start_0": "10/12/2026",
        "start_1": "00:00",
        "end_0": "11/12/2026",
        "end_1": "00:00",
        "reason": "Congreso",
        **extra,
    }


def test_reception_adds_an_absence_and_cancels_the_sessions_inside(
    desk, professional, patient, other_patient, booked, django_capture_on_commit_callbacks
):
    r = post(desk, ADMIN_ADD, admin_form(professional))
    assert r.status_code == 200
    html = r.content.decode()
    assert "3 turnos caen dentro de esta ausencia" in html and "Martín" in html
    assert not TimeOff.objects.exists()
    seen = seen_ids(r)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = post(
            desk,
            ADMIN_ADD,
            admin_form(professional, seen=seen, decision="cancel", message=MESSAGE),
        )
    assert r.status_code == 302
    assert TimeOff.objects.count() == 1
    assert statuses(booked)["lucia_10"] == "CANCELLED"
    assert statuses(booked)["friday"] == "CONFIRMED"
    event = Reservation.objects.get(pk=booked["martin_11"].pk).events.get(action="cancelled")
    assert (event.channel, event.reason) == ("admin", MESSAGE)
    run_due_tasks()
    assert sorted(a for m in mail.outbox for a in m.to) == [patient.email, other_patient.email]


def test_reception_keeps_them_when_ticked(desk, professional, booked):
    seen = seen_ids(post(desk, ADMIN_ADD, admin_form(professional)))
    r = post(desk, ADMIN_ADD, admin_form(professional, seen=seen, decision="keep"))
    assert r.status_code == 302
    assert TimeOff.objects.count() == 1
    assert set(statuses(booked).values()) == {"CONFIRMED"}


def test_stretching_an_absence_over_sessions_asks_too(desk, professional, booked):
    absence = TimeOff.objects.create(
        professional=professional, start=at(THURSDAY, 0), end=at(THURSDAY, 8)
    )
    url = f"/admin/scheduling/timeoff/{absence.pk}/change/"
    r = post(desk, url, admin_form(professional))
    assert r.status_code == 200
    absence.refresh_from_db()
    assert absence.end == at(THURSDAY, 8)
    r = post(desk, url, admin_form(professional, seen=seen_ids(r), decision="keep"))
    assert r.status_code == 302
    absence.refresh_from_db()
    assert absence.end == at(THURSDAY + timedelta(days=1), 0)


# Reception's bulk cancel records the days as an absence


@pytest.fixture
def hours(professional):
    WorkingHours.objects.create(
        professional=professional, weekday=3, start_time=time(9), end_time=time(13)
    )


def test_bulk_cancel_records_the_absence_and_the_days_cannot_be_booked_again(
    desk, professional, patient, other_patient, booked, hours, django_capture_on_commit_callbacks
):
    post(desk, "/accounts/reauthenticate/", {"password": PASSWORD})
    form = {
        "professional": str(professional.pk),
        "start": "2026-12-10",
        "end": "2026-12-10",
        "reason": MESSAGE,
    }
    preview = post(desk, RANGE, form)
    listed = [r.pk for r, _when in preview.context["sessions"]]
    assert len(listed) == 3
    # The freed 9:00 slot on Thursday is offered before.
    book_page = csrf_client(other_patient).get(f"/book/{professional.pk}/?week=2026-12-07")
    assert "2026-12-10T12:00Z" in book_page.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = post(desk, RANGE, {**form, "confirm": "1", "session": listed})
    assert done.status_code == 302
    assert Reservation.objects.filter(pk__in=listed, status="CANCELLED").count() == 3
    absence = TimeOff.objects.get()
    assert (absence.start, absence.end) == (at(THURSDAY, 0), at(THURSDAY + timedelta(days=1), 0))
    run_due_tasks()
    assert sorted(a for m in mail.outbox for a in m.to) == [patient.email, other_patient.email]
    # The day is not offered again, and a booking posted by hand is refused.
    martin = csrf_client(other_patient)
    page = martin.get(f"/book/{professional.pk}/?week=2026-12-07").content.decode()
    assert "2026-12-10T" not in page
    r = martin.post(
        f"/book/{professional.pk}/",
        {"start": "2026-12-10T13:00Z", "modality": "Virtual", "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert r.status_code == 409
    assert Reservation.objects.filter(status="CONFIRMED").count() == 1  # Friday's


def test_bulk_cancel_of_days_with_nothing_booked_records_the_absence(desk, professional):
    post(desk, "/accounts/reauthenticate/", {"password": PASSWORD})
    form = {
        "professional": str(professional.pk),
        "start": "2026-12-14",
        "end": "2026-12-18",
        "reason": "Licencia",
    }
    preview = post(desk, RANGE, form)
    assert preview.context["sessions"] == []
    assert "Registrar la ausencia" in preview.content.decode()
    done = post(desk, RANGE, {**form, "confirm": "1"})
    assert done.status_code == 302
    absence = TimeOff.objects.get()
    assert (absence.start, absence.end, absence.reason) == (
        at(date(2026, 12, 14), 0),
        at(date(2026, 12, 19), 0),
        "Licencia",
    )
