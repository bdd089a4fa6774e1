"""Reception books a session in one step, through HTTP as a receptionist (staff in the group
"Recepción", not a superuser): the add page lists the professional's free times for a day, one
POST books a CONFIRMED session (one action, one event, one "Te reservamos un turno" to the
patient); an overlap is refused with the session in the way named; a time outside the hours or
on time off only with "Book anyway"; no lead time for the practice."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Kind, Outbox
from reservations.models import Reservation, ReservationEvent, Status
from reservations_site import roles
from scheduling.models import TimeOff, WorkingHours

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user
from .test_notifications import run_due_tasks

pytestmark = pytest.mark.django_db

ADD = "/admin/reservations/reservation/add/"
BA = ZoneInfo("America/Argentina/Buenos_Aires")
# NOW is Tuesday 10 March 2026, 12:00 in Buenos Aires.
TODAY = "2026-03-10"


def at(hour, minute=0, day=10):
    """That wall-clock time in Buenos Aires, March 2026, as an aware instant."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BA)


@pytest.fixture
def receptionist(frozen_now):
    user = make_user("mostrador@example.com", first_name="Mostrador", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.RECEPTION))
    return user


@pytest.fixture
def desk(receptionist):
    return csrf_client(receptionist)


@pytest.fixture
def hours(professional):
    """Tuesdays 9 to 19, sessions of 45 minutes every hour; patients book a day ahead."""
    return WorkingHours.objects.create(
        professional=professional,
        weekday=1,
        start_time="09:00",
        end_time="19:00",
        modality="both",
        session_minutes=45,
        buffer_minutes=15,
        min_lead_hours=24,
    )


def form(patient, professional, **fields):
    return {
        "csrfmiddlewaretoken": CSRF_TOKEN,
        "client": patient.pk,
        "professional": professional.pk,
        "day": TODAY,
        "status": "CONFIRMED",
        **fields,
    }


def slot_value(start):
    return start.astimezone(NOW.tzinfo).isoformat()


def offered(response):
    return [value for value, _label in response.context["form"].fields["slot"].choices]


def test_the_add_page_lists_the_days_free_times(desk, patient, professional, hours):
    r = desk.get(ADD, {"client": patient.pk, "professional": professional.pk, "day": TODAY})
    assert r.status_code == 200
    # From now on (12:00) to the last that ends by 19:00, an hour apart: none already gone.
    assert offered(r) == [slot_value(at(h)) for h in range(12, 19)]
    assert "13:00–13:45" in r.content.decode()


def test_show_free_times_sends_the_form_back_without_javascript_and_books_nothing(
    desk, patient, professional, hours, make_reservation
):
    make_reservation(patient, at(15))  # the patient's own session blocks that time
    r = desk.post(ADD, form(patient, professional, _slots="1"))
    assert r.status_code == 200
    assert slot_value(at(15)) not in offered(r)
    assert slot_value(at(16)) in offered(r)
    assert "errornote" not in r.content.decode()
    assert Reservation.objects.count() == 1


def test_one_post_books_a_confirmed_session_and_the_patient_reads_we_booked(
    desk, receptionist, patient, professional, hours, django_capture_on_commit_callbacks
):
    # In one hour: the patients' 24 hours of lead time do not bind the practice.
    with django_capture_on_commit_callbacks(execute=True):
        r = desk.post(ADD, form(patient, professional, slot=slot_value(at(13))))
    assert r.status_code == 302
    session = Reservation.objects.get()
    assert (session.client, session.professional) == (patient, professional)
    assert session.status == Status.CONFIRMED
    assert (session.start_time, session.end_time) == (at(13), at(13, 45))
    assert session.session_modality == "Virtual"  # the first the hours offer
    assert session.expires_at is None
    event = ReservationEvent.objects.get()
    assert (event.action, event.actor, event.channel) == ("created", receptionist, "admin")
    assert r["Location"] == f"{ADD.removesuffix('add/')}{session.pk}/change/"

    run_due_tasks()
    to_patient = [m for m in mail.outbox if m.to == [patient.email]]
    assert len(to_patient) == 1
    assert "Te reservamos un turno" in to_patient[0].subject
    assert "Te reservamos un turno" in to_patient[0].body
    assert "Pediste" not in to_patient[0].body
    assert Outbox.objects.filter(recipient=patient).get().kind == Kind.BOOKED_FOR_YOU


def test_a_typed_time_and_length_is_booked_inside_the_hours(desk, patient, professional, hours):
    r = desk.post(
        ADD,
        form(patient, professional, start="14:30", minutes="60", session_modality="Presencial"),
    )
    assert r.status_code == 302
    session = Reservation.objects.get()
    assert (session.start_time, session.end_time) == (at(14, 30), at(15, 30))
    assert session.session_modality == "Presencial"


def test_an_empty_length_is_the_professionals_session_length(desk, patient, professional, hours):
    assert desk.post(ADD, form(patient, professional, start="14:30")).status_code == 302
    assert Reservation.objects.get().duration == timedelta(minutes=45)


def test_an_overlap_is_refused_naming_the_session_in_the_way(
    desk, patient, other_patient, professional, hours, make_reservation
):
    there = make_reservation(other_patient, at(14))
    for override in ("", "on"):  # "Book anyway" is about the hours, never about an overlap
        r = desk.post(
            ADD, form(patient, professional, start="14:15", minutes="45", override=override)
        )
        assert r.status_code == 200
        page = r.content.decode()
        assert "se superpone" in page
        assert f"/admin/reservations/reservation/{there.pk}/change/" in page
    assert list(Reservation.objects.all()) == [there]
    assert ReservationEvent.objects.count() == 0


def test_a_free_time_taken_meanwhile_is_refused(
    desk, patient, other_patient, professional, hours, make_reservation
):
    make_reservation(other_patient, at(13))
    r = desk.post(ADD, form(patient, professional, slot=slot_value(at(13))))
    assert r.status_code == 200
    assert "ya no está disponible" in r.content.decode()
    assert Reservation.objects.count() == 1


def test_outside_the_hours_only_when_reception_books_anyway(desk, patient, professional, hours):
    r = desk.post(ADD, form(patient, professional, start="20:00"))
    assert r.status_code == 200
    assert "fuera del horario" in r.content.decode()
    assert not Reservation.objects.exists()

    r = desk.post(ADD, form(patient, professional, start="20:00", override="on"))
    assert r.status_code == 302
    assert Reservation.objects.get().start_time == at(20)


def test_on_time_off_only_when_reception_books_anyway(desk, patient, professional, hours):
    TimeOff.objects.create(professional=professional, start=at(15), end=at(17), reason="Médico")
    r = desk.get(ADD, {"professional": professional.pk, "day": TODAY})
    assert slot_value(at(15)) not in offered(r) and slot_value(at(17)) in offered(r)

    r = desk.post(ADD, form(patient, professional, start="15:00"))
    assert r.status_code == 200
    assert not Reservation.objects.exists()
    r = desk.post(ADD, form(patient, professional, start="15:00", override="on"))
    assert r.status_code == 302
    assert Reservation.objects.get().start_time == at(15)


def test_a_time_already_gone_is_refused_even_when_booking_anyway(
    desk, patient, professional, hours
):
    r = desk.post(ADD, form(patient, professional, start="11:00", override="on"))
    assert r.status_code == 200
    assert not Reservation.objects.exists()


def test_pending_by_the_practice_is_told_as_to_be_confirmed(
    desk, patient, professional, hours, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = desk.post(ADD, form(patient, professional, slot=slot_value(at(13)), status="PENDING"))
    assert r.status_code == 302
    session = Reservation.objects.get()
    assert session.status == Status.PENDING
    run_due_tasks()
    (message,) = [m for m in mail.outbox if m.to == [patient.email]]
    assert "Te reservamos un turno" in message.subject
    assert "a confirmar" in message.subject


def test_the_patient_reads_it_in_english_when_that_is_their_language(
    desk, patient, professional, hours, django_capture_on_commit_callbacks
):
    patient.language = "en"
    patient.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(ADD, form(patient, professional, slot=slot_value(at(13))))
    run_due_tasks()
    (message,) = [m for m in mail.outbox if m.to == [patient.email]]
    assert message.subject == "We booked a session for you with Lic. Carolina Gómez"
    assert "We booked a session for you with Lic. Carolina Gómez on" in message.body


def test_a_patient_booking_still_reads_as_their_own(
    patient, professional, hours, frozen_now, django_capture_on_commit_callbacks
):
    """The patients' own bookings keep their message (Kind.BOOKED)."""
    from reservations.actions import Channel
    from scheduling.booking import request_booking

    with django_capture_on_commit_callbacks(execute=True):
        request_booking(
            patient, professional, at(13, day=17), "Virtual", now=NOW, channel=Channel.PAGE
        )
    assert Outbox.objects.filter(recipient=patient).get().kind == Kind.BOOKED


def test_the_page_asks_for_a_choice_when_nothing_is_chosen(desk, patient, professional, hours):
    r = desk.post(ADD, form(patient, professional))
    assert r.status_code == 200
    assert not Reservation.objects.exists()


def test_the_add_pages_queries_do_not_grow_with_the_reservations(
    desk, patient, other_patient, professional, hours, make_reservation
):
    query = {"client": patient.pk, "professional": professional.pk, "day": TODAY}

    def count():
        desk.get(ADD, query)  # warm: sessions, caches
        with CaptureQueriesContext(connection) as queries:
            assert desk.get(ADD, query).status_code == 200
        return len(queries)

    make_reservation(other_patient, at(9, day=3))
    few = count()
    for day in range(11, 31):
        make_reservation(other_patient, at(10, day=day))
        make_reservation(patient, at(12, day=day))
    make_reservation(other_patient, at(16))
    assert count() == few


def test_on_a_closed_day_only_when_reception_books_anyway(desk, patient, professional, hours):
    from datetime import date

    from scheduling.models import Closure

    Closure.objects.create(name="Mudanza", first_day=date(2026, 3, 10), last_day=date(2026, 3, 10))
    r = desk.get(ADD, {"professional": professional.pk, "day": TODAY})
    assert offered(r) == []
    r = desk.post(ADD, form(patient, professional, start="15:00"))
    assert r.status_code == 200
    assert not Reservation.objects.exists()
    r = desk.post(ADD, form(patient, professional, start="15:00", override="on"))
    assert r.status_code == 302
    assert Reservation.objects.get().start_time == at(15)
