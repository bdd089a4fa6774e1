"""One action, one set of messages: whatever an action does to how many sessions, each person it
concerns gets one email about it. Done as people do it (through HTTP, CSRF checked), sent by the
real worker (`db_worker --batch`) to a real SMTP server (aiosmtpd), read as a mail client reads
it."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from icalendar import Calendar

from accounts.models import ProfessionalProfile
from reservations.models import Reservation, ReservationEvent
from scheduling.models import WorkingHours

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user
from .test_smtp import SMTPServer, free_port

# The worker runs in its own transactions, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

BA = ZoneInfo("America/Argentina/Buenos_Aires")
LUCIA, GOMEZ, RUIZ = "lucia@example.com", "gomez@example.com", "ruiz@example.com"


def at(day, hour, minute=0):
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=BA)


@pytest.fixture
def inbox(settings, frozen_now):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 5
    with SMTPServer(settings.EMAIL_PORT) as inbox:
        yield inbox


def work():
    """The worker's pass over what is due now."""
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def received(inbox, to):
    return [message for recipients, message in inbox.messages if recipients == [to]]


def text_of(message):
    return message.get_body(("plain",)).get_content()


def calendars_of(message):
    return [
        (part.get_param("method"), Calendar.from_ical(part.get_content()))
        for part in message.iter_attachments()
        if part.get_content_type() == "text/calendar"
    ]


def post(client, path, data):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data})


def digest_of(response):
    return re.search(r'name="digest" value="([0-9a-f]+)"', response.content.decode()).group(1)


SERIES = {
    "weekday": "1",  # Tuesdays
    "local_time": "18:00",
    "minutes": "45",
    "session_modality": "Virtual",
    "interval_weeks": "1",
    "starts_on": "2026-03-10",
    "ends_on": "",
    "count": "9",
}


def test_a_weekly_series_from_the_agenda_is_one_email_listing_every_date_with_one_ics(
    patient, professional, make_reservation, inbox
):
    make_reservation(patient, at("2026-03-03", 18))  # one of Lic. Gómez's patients
    pro = csrf_client(professional)
    fields = {**SERIES, "client": str(patient.pk)}
    preview = post(pro, "/agenda/series/new/", fields)
    response = post(
        pro, "/agenda/series/new/", {**fields, "digest": digest_of(preview), "_confirm": "1"}
    )
    assert response.status_code == 302
    created = Reservation.objects.filter(client=patient, start_time__gt=NOW)
    assert created.count() == 9
    # One action: every session's "created" event carries its id.
    events = ReservationEvent.objects.filter(reservation__in=created)
    assert events.count() == 9 and events.values("action_id").distinct().count() == 1
    work()

    (message,) = received(inbox, LUCIA)
    assert received(inbox, GOMEZ) == []  # she made it herself
    assert (
        message["Subject"].strip()
        == "Tus turnos semanales con Lic. Carolina Gómez están reservados"
    )
    text = text_of(message)
    assert "Semanal · martes 18:00" in text
    dates = re.findall(r"martes \d+ de (?:marzo|abril|mayo), 18:00 – 18:45 \(45 min\)", text)
    assert len(dates) == 9
    assert dates[0].startswith("martes 10 de marzo") and dates[-1].startswith("martes 5 de mayo")
    [(method, calendar)] = calendars_of(message)
    assert method == "REQUEST" and calendar["METHOD"] == "REQUEST"
    uids = {str(event["UID"]) for event in calendar.events}
    assert uids == {f"{r.pk}@turnos" for r in created}


def test_a_series_made_by_reception_also_tells_the_professional_once(
    patient, professional, staff, inbox
):
    admin = csrf_client(staff)
    fields = {**SERIES, "client": str(patient.pk), "professional": str(professional.pk)}
    preview = post(admin, "/admin/series/series/add/", fields)
    response = post(
        admin,
        "/admin/series/series/add/",
        {**fields, "digest": digest_of(preview), "_confirm": "1"},
    )
    assert response.status_code == 302
    work()
    assert len(received(inbox, LUCIA)) == 1
    (told,) = received(inbox, GOMEZ)
    assert told["Subject"].strip() == "Serie semanal nueva: Lucía, Semanal · martes 18:00"
    assert len(re.findall(r"18:00 – 18:45", text_of(told))) == 9


def test_a_patients_own_cancel_confirms_it_to_her_with_a_calendar_cancel(
    patient, professional, make_reservation, inbox
):
    session = make_reservation(patient, NOW + timedelta(days=7))
    response = post(csrf_client(patient), f"/reservations/{session.pk}/cancel/", {})
    assert response.status_code == 302
    work()
    (mine,) = received(inbox, LUCIA)
    assert mine["Subject"].strip() == "Cancelaste tu turno con Lic. Carolina Gómez"
    assert "martes 17 de marzo, 12:00 – 12:45 (45 min)" in text_of(mine)
    [(method, calendar)] = calendars_of(mine)
    assert (method, calendar["METHOD"]) == ("CANCEL", "CANCEL")
    (event,) = calendar.events
    assert (event["UID"], event["STATUS"]) == (f"{session.pk}@turnos", "CANCELLED")
    (theirs,) = received(inbox, GOMEZ)
    assert "Lucía canceló" in theirs["Subject"]


@pytest.fixture
def ruiz(db):
    """Bookings with Dr. Ruiz are confirmed at once: Wednesdays 18 to 20, virtual."""
    user = make_user(RUIZ, first_name="Andrés", last_name="Ruiz")
    ProfessionalProfile.objects.create(
        user=user, display_name="Dr. Andrés Ruiz", requires_approval=False
    )
    WorkingHours.objects.create(
        professional=user, weekday=2, start_time=time(18), end_time=time(20), modality="Virtual"
    )
    return user


def book_from_the_page(client, professional, start):
    return post(
        client,
        f"/book/{professional.pk}/",
        {
            "start": start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ"),
            "modality": "Virtual",
        },
    )


def test_an_instant_booking_reaches_the_professional(patient, ruiz, inbox):
    start = at("2026-03-18", 18)
    assert book_from_the_page(csrf_client(patient), ruiz, start).status_code == 302
    booked = Reservation.objects.get(client=patient, professional=ruiz)
    assert booked.status == "CONFIRMED"
    work()
    assert len(received(inbox, LUCIA)) == 1
    (told,) = received(inbox, RUIZ)
    assert (
        told["Subject"].strip()
        == "Turno nuevo: Lucía, miércoles 18 de marzo, 18:00 – 18:50 (50 min)"
    )
    assert f"/agenda/{booked.pk}/" in text_of(told)


def test_an_instant_booking_tells_nobody_else_when_the_professional_said_no(patient, ruiz, inbox):
    ProfessionalProfile.objects.filter(user=ruiz).update(booking_emails=False)
    assert book_from_the_page(csrf_client(patient), ruiz, at("2026-03-18", 18)).status_code == 302
    work()
    assert len(received(inbox, LUCIA)) == 1
    assert received(inbox, RUIZ) == []


def test_a_move_is_one_email_with_the_new_time_and_the_old_ones_cancel(patient, ruiz, inbox):
    old = Reservation.objects.create(
        client=patient,
        professional=ruiz,
        start_time=at("2026-03-18", 18),
        end_time=at("2026-03-18", 18, 50),
        status="CONFIRMED",
    )
    client = csrf_client(patient)
    new_start = at("2026-03-25", 18)
    response = post(
        client,
        f"/reservations/{old.pk}/reschedule/",
        {"start": new_start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ")},
    )
    assert response.status_code == 302
    new = Reservation.objects.get(rescheduled_from=old)
    work()
    (message,) = received(inbox, LUCIA)
    text = text_of(message)
    assert "miércoles 18 de marzo" in text and "miércoles 25 de marzo" in text
    methods = dict(calendars_of(message))
    assert {str(e["UID"]) for e in methods["REQUEST"].events} == {f"{new.pk}@turnos"}
    assert {str(e["UID"]) for e in methods["CANCEL"].events} == {f"{old.pk}@turnos"}
    (told,) = received(inbox, RUIZ)
    assert told["Subject"].strip() == "Lucía cambió el horario de un turno"


def test_reception_cancelling_a_professionals_days_writes_each_patient_once(
    patient, other_patient, professional, staff, make_reservation, inbox
):
    hers = [make_reservation(patient, NOW + timedelta(days=d)) for d in (2, 3, 4)]
    his = make_reservation(other_patient, NOW + timedelta(days=3, hours=2))
    admin = csrf_client(staff)
    # A bulk cancel asks for the password again (tests/test_reauth.py).
    post(admin, "/accounts/reauthenticate/", {"password": PASSWORD})
    fields = {
        "professional": str(professional.pk),
        "start": "2026-03-11",
        "end": "2026-03-15",
        "reason": "La profesional está enferma",
    }
    post(admin, "/admin/reservations/reservation/cancel-range/", fields)
    response = post(
        admin,
        "/admin/reservations/reservation/cancel-range/",
        {**fields, "confirm": "1", "session": [str(r.pk) for r in [*hers, his]]},
    )
    assert response.status_code == 302
    assert Reservation.objects.filter(status="CANCELLED").count() == 4
    work()
    (message,) = received(inbox, LUCIA)
    text = text_of(message)
    assert "Motivo: La profesional está enferma" in text
    assert len(re.findall(r"12:00 – 12:45 \(45 min\)", text)) == 3
    [(method, calendar)] = calendars_of(message)
    assert method == "CANCEL" and len(calendar.events) == 3
    assert len(received(inbox, "martin@example.com")) == 1
    assert received(inbox, GOMEZ) == []


def test_nothing_is_sent_twice_when_the_worker_runs_again(patient, ruiz, inbox):
    book_from_the_page(csrf_client(patient), ruiz, at("2026-03-18", 18))
    work()
    work()
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        call_command("outbox_sweep", verbosity=0)
        work()
    assert len(inbox.messages) == 2
