"""A move that needs the professional's approval is a request: the session it would replace stands
until they accept the new time. Accepting cancels the old one as rescheduled and confirms the new
one in one transaction; declining it, or letting it lapse, leaves the old one as it was, and the
patient is told so in one message."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from icalendar import Calendar

from reservations.actions import Actor
from reservations.models import Reservation, ReservationEvent
from scheduling.booking import reschedule
from scheduling.models import WorkingHours

from .conftest import CSRF_TOKEN, NOW, csrf_client
from .test_notifications import run_due_tasks

pytestmark = pytest.mark.django_db


def committed():
    """Messages are written once an action commits: in these tests, as this block ends."""
    return TestCase.captureOnCommitCallbacks(execute=True)


BA = ZoneInfo("America/Argentina/Buenos_Aires")
MONDAY = date(2026, 3, 16)  # NOW is Tuesday 10 March 2026, 12:00 in Buenos Aires
WEDNESDAY = date(2026, 3, 18)


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=BA)


def param(start):
    return start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ")


@pytest.fixture
def hours(professional):
    for weekday in (0, 2):  # Mondays and Wednesdays, 9 to 13
        WorkingHours.objects.create(
            professional=professional, weekday=weekday, start_time=time(9), end_time=time(13)
        )


@pytest.fixture
def session(patient, professional, hours):
    """Lucía's confirmed Monday session with Lic. Gómez, who approves every booking."""
    return Reservation.objects.create(
        client=patient,
        professional=professional,
        start_time=at(MONDAY, 10),
        end_time=at(MONDAY, 10, 50),
        status="CONFIRMED",
        session_modality="Presencial",
    )


def ask_to_move(client, r, start):
    data = {"start": param(start), "csrfmiddlewaretoken": CSRF_TOKEN}
    with committed():
        return client.post(f"/reservations/{r.pk}/reschedule/", data)


def answer(pro, request, what, **data):
    with committed():
        return pro.post(
            f"/agenda/{request.pk}/{what}/",
            {"csrfmiddlewaretoken": CSRF_TOKEN, "from": "pending", **data},
        )


def read_all():
    """What was sent so far, sent and put aside."""
    run_due_tasks()
    mail.outbox.clear()


def sent_to(address):
    run_due_tasks()
    return [m for m in mail.outbox if m.to == [address]]


def calendars_of(message):
    return [
        (mimetype.split("method=")[1].split(";")[0], Calendar.from_ical(content))
        for _name, content, mimetype in message.attachments
    ]


def uids(calendar):
    return {str(e["UID"]) for e in calendar.events}


def test_a_move_needing_approval_keeps_the_session_and_asks(
    patient, professional, session, frozen_now
):
    client = csrf_client(patient)
    response = ask_to_move(client, session, at(WEDNESDAY, 11))
    request = Reservation.objects.get(rescheduled_from=session)
    assert response.status_code == 302 and response["Location"] == f"/reservations/{request.pk}/"
    session.refresh_from_db()
    assert session.status == "CONFIRMED" and session.cancellation_reason == ""
    assert request.status == "PENDING"
    assert request.expires_at == NOW + timedelta(hours=48)
    assert request.events.get().changes == {"rescheduled_from": str(session.pk), "request": True}
    assert not session.events.exists()
    # Each page says what waits for what.
    page = client.get(f"/reservations/{request.pk}/").content.decode()
    assert "Pediste pasar acá tu turno del lunes 16 de marzo, 10:00." in page
    old_page = client.get(f"/reservations/{session.pk}/").content.decode()
    assert "Pediste pasarlo al miércoles 18 de marzo, 11:00." in old_page
    assert f'href="/reservations/{session.pk}/reschedule/"' not in old_page
    dashboard = client.get("/dashboard/").content.decode()
    assert "Pediste pasarlo al miércoles 18 de marzo, 11:00." in dashboard
    # One request at a time: the session offers no other move while it waits.
    assert f'href="/reservations/{session.pk}/reschedule/"' not in dashboard
    # One message each: the patient's says her session stands; the professional's asks.
    (hers,) = sent_to(patient.email)
    assert hers.subject == "Pediste cambiar el horario de tu turno con Lic. Carolina Gómez"
    assert "Tu turno del lunes 16 de marzo, 10:00 – 10:50 (50 min) sigue en pie" in hers.body
    [(method, calendar)] = calendars_of(hers)  # nothing leaves her calendar yet
    assert method == "REQUEST" and uids(calendar) == {f"{request.pk}@turnos"}
    (theirs,) = sent_to(professional.email)
    assert theirs.subject == "Lucía pide cambiar el horario de un turno"
    assert "quiere pasar su turno del lunes 16 de marzo" in theirs.body


def test_the_agenda_shows_the_request_as_a_move(patient, professional, session, frozen_now):
    ask_to_move(csrf_client(patient), session, at(WEDNESDAY, 11))
    html = csrf_client(professional).get("/agenda/?date=2026-03-16").content.decode()
    assert "Quiere pasar el lunes 16 de marzo, 10:00 al miércoles 18 de marzo, 11:00" in html
    assert (
        "Si lo aceptás, se cancela el horario anterior; si lo rechazás, queda como estaba." in html
    )


def test_declining_keeps_the_session_and_says_so_once(patient, professional, session, frozen_now):
    ask_to_move(csrf_client(patient), session, at(WEDNESDAY, 11))
    request = Reservation.objects.get(rescheduled_from=session)
    read_all()
    pro = csrf_client(professional)
    response = answer(pro, request, "decline", reason="Ese día no atiendo.")
    assert response.status_code == 302
    request.refresh_from_db()
    session.refresh_from_db()
    assert request.status == "CANCELLED" and request.declined
    assert session.status == "CONFIRMED" and session.cancelled_at is None
    (message,) = sent_to(patient.email)
    assert message.subject == "Tu turno del lunes 16 de marzo sigue en pie"
    assert "Lic. Carolina Gómez no pudo pasar tu turno al miércoles 18 de marzo" in message.body
    assert "Motivo: Ese día no atiendo." in message.body
    assert "Tu turno del lunes 16 de marzo, 10:00 – 10:50 (50 min) sigue en pie, como estaba." in (
        message.body
    )
    assert "Podés pedir otro horario" not in message.body
    # She may ask again.
    response = ask_to_move(csrf_client(patient), session, at(WEDNESDAY, 12))
    assert response.status_code == 302
    assert session.moves.filter(status="PENDING").count() == 1


def test_a_lapsed_request_keeps_the_session_and_says_so(patient, session, frozen_now):
    ask_to_move(csrf_client(patient), session, at(WEDNESDAY, 11))
    request = Reservation.objects.get(rescheduled_from=session)
    read_all()
    with time_machine.travel(request.expires_at, tick=False):
        with committed():
            assert request.expire()
        (message,) = sent_to(patient.email)
    session.refresh_from_db()
    assert session.status == "CONFIRMED"
    assert message.subject == "Tu turno del lunes 16 de marzo sigue en pie"
    assert "no respondió a tiempo tu pedido de pasar el turno al miércoles 18" in message.body


def test_a_request_lapses_by_the_sessions_start_at_the_latest(
    patient, session, settings, frozen_now
):
    settings.PENDING_EXPIRY_HOURS = 24 * 30
    ask_to_move(csrf_client(patient), session, at(WEDNESDAY, 11))
    request = Reservation.objects.get(rescheduled_from=session)
    assert request.expires_at == session.start_time


def test_accepting_cancels_the_old_time_and_confirms_the_new_in_one_action(
    patient, professional, session, settings, frozen_now
):
    settings.PENDING_EXPIRY_HOURS = 24 * 30  # the request waits until the session's start
    ask_to_move(csrf_client(patient), session, at(WEDNESDAY, 11))
    request = Reservation.objects.get(rescheduled_from=session)
    read_all()
    # Inside the old session's notice: still the patient's move, asked in time, never "late".
    with time_machine.travel(session.start_time - timedelta(hours=2), tick=False):
        response = answer(csrf_client(professional), request, "confirm")
        (message,) = sent_to(patient.email)
    assert response.status_code == 302
    request.refresh_from_db()
    session.refresh_from_db()
    assert request.status == "CONFIRMED" and request.expires_at is None
    assert session.status == "CANCELLED" and session.cancellation_reason == "rescheduled"
    assert session.late_cancellation == "" and session.cancelled_by == professional
    confirmed = request.events.get(action="confirmed")
    cancelled = session.events.get(action="cancelled")
    assert confirmed.action_id == cancelled.action_id
    assert session.moved_to == request
    # One message: the move, the new time in, the old time out of her calendar.
    assert message.subject == "Tu turno con Lic. Carolina Gómez cambió de horario"
    assert "Lic. Carolina Gómez aceptó el cambio: tu turno del lunes 16 de marzo" in message.body
    methods = dict(calendars_of(message))
    assert uids(methods["REQUEST"]) == {f"{request.pk}@turnos"}
    assert uids(methods["CANCEL"]) == {f"{session.pk}@turnos"}
    old_page = csrf_client(patient).get(f"/reservations/{session.pk}/").content.decode()
    assert "Reprogramado" in old_page
    assert "Pasado a otro horario: tu profesional aceptó tu pedido" in old_page


def test_a_move_is_not_counted_against_the_pending_limit(
    patient, professional, session, frozen_now
):
    client = csrf_client(patient)
    # A request for a new session waits: the limit (one) is reached for new sessions...
    data = {
        "start": param(at(MONDAY, 12)),
        "modality": "Virtual",
        "csrfmiddlewaretoken": CSRF_TOKEN,
    }
    assert client.post(f"/book/{professional.pk}/", data).status_code == 302
    # ...yet her confirmed session may still be moved,
    assert ask_to_move(client, session, at(WEDNESDAY, 11)).status_code == 302
    assert Reservation.objects.filter(status="PENDING").count() == 2


def test_a_waiting_move_does_not_block_a_new_booking(patient, professional, session, frozen_now):
    client = csrf_client(patient)
    ask_to_move(client, session, at(WEDNESDAY, 11))
    data = {
        "start": param(at(MONDAY, 12)),
        "modality": "Virtual",
        "csrfmiddlewaretoken": CSRF_TOKEN,
    }
    assert client.post(f"/book/{professional.pk}/", data).status_code == 302


def test_a_second_move_while_one_waits_is_refused_and_nothing_changes(patient, session, frozen_now):
    client = csrf_client(patient)
    ask_to_move(client, session, at(WEDNESDAY, 11))
    before = sorted(Reservation.objects.values_list("id", "status", "start_time"))
    page = client.get(f"/reservations/{session.pk}/reschedule/")
    assert page.status_code == 200
    assert "Ya pediste cambiar el horario de este turno" in page.content.decode()
    assert 'class="slot"' not in page.content.decode()
    response = ask_to_move(client, session, at(WEDNESDAY, 12))
    assert response.status_code == 409
    assert sorted(Reservation.objects.values_list("id", "status", "start_time")) == before


def test_the_session_may_be_moved_only_to_times_clear_of_itself(
    patient, professional, session, frozen_now
):
    # 30-minute sessions with no break: 10:30 overlaps 10:00-10:50, which stands meanwhile.
    WorkingHours.objects.filter(professional=professional).update(
        session_minutes=30, buffer_minutes=0
    )
    html = csrf_client(patient).get(f"/reservations/{session.pk}/reschedule/").content.decode()
    assert param(at(MONDAY, 11)) in html
    assert param(at(MONDAY, 10, 30)) not in html
    refused = reschedule(session, at(MONDAY, 10, 30), by=Actor.patient(patient, "page"), now=NOW)
    assert refused.code == "unavailable"
    assert not session.moves.exists()


def test_cancelling_the_session_withdraws_its_move_request(patient, session, frozen_now):
    client = csrf_client(patient)
    ask_to_move(client, session, at(WEDNESDAY, 11))
    request = Reservation.objects.get(rescheduled_from=session)
    read_all()
    with committed():
        response = client.post(
            f"/reservations/{session.pk}/cancel/", {"csrfmiddlewaretoken": CSRF_TOKEN}
        )
    assert response.status_code in (200, 302)
    session.refresh_from_db()
    request.refresh_from_db()
    assert session.status == "CANCELLED"
    assert request.status == "CANCELLED" and request.cancellation_reason == "move_withdrawn"
    assert session.events.get().action_id == request.events.get(action="cancelled").action_id
    assert len(sent_to(patient.email)) == 1


def test_withdrawing_the_request_keeps_the_session(patient, session, frozen_now):
    client = csrf_client(patient)
    ask_to_move(client, session, at(WEDNESDAY, 11))
    request = Reservation.objects.get(rescheduled_from=session)
    client.post(f"/reservations/{request.pk}/cancel/", {"csrfmiddlewaretoken": CSRF_TOKEN})
    request.refresh_from_db()
    session.refresh_from_db()
    assert request.status == "CANCELLED" and session.status == "CONFIRMED"
    # The next move is possible again.
    assert ask_to_move(client, session, at(WEDNESDAY, 12)).status_code == 302


def test_a_pending_session_is_moved_at_once(patient, session, frozen_now):
    # A request is only a request: moving it replaces it, nothing confirmed is at stake.
    Reservation.objects.filter(pk=session.pk).update(status="PENDING")
    ask_to_move(csrf_client(patient), session, at(WEDNESDAY, 11))
    session.refresh_from_db()
    assert session.status == "CANCELLED" and session.cancellation_reason == "rescheduled"
    assert Reservation.objects.get(rescheduled_from=session).status == "PENDING"


def test_two_requests_cannot_both_wait_for_one_session(patient, session, frozen_now):
    # What the database holds whatever the doors check: one live move per session.
    from django.db import IntegrityError, transaction

    ask_to_move(csrf_client(patient), session, at(WEDNESDAY, 11))
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(
            client=session.client,
            professional=session.professional,
            start_time=at(WEDNESDAY, 12),
            end_time=at(WEDNESDAY, 12, 50),
            status="PENDING",
            rescheduled_from=session,
        )
    assert ReservationEvent.objects.filter(reservation__rescheduled_from=session).count() == 1


def test_moving_the_request_asks_for_another_time_for_the_same_session(
    patient, professional, session, frozen_now
):
    client = csrf_client(patient)
    ask_to_move(client, session, at(WEDNESDAY, 11))
    first = Reservation.objects.get(rescheduled_from=session)
    response = ask_to_move(client, first, at(WEDNESDAY, 12))
    assert response.status_code == 302
    first.refresh_from_db()
    second = Reservation.objects.get(rescheduled_from=session, status="PENDING")
    assert first.status == "CANCELLED" and second.start_time == at(WEDNESDAY, 12)
    assert second.events.get().changes == {"rescheduled_from": str(session.pk), "request": True}
    # Accepting the second still replaces the session: she never ends up with two.
    with committed():
        answer(csrf_client(professional), second, "confirm")
    session.refresh_from_db()
    assert session.status == "CANCELLED" and session.cancellation_reason == "rescheduled"
    assert Reservation.objects.filter(client=patient).exclude(status="CANCELLED").count() == 1


def test_the_patient_is_told_her_request_was_sent_not_that_her_session_moved(
    patient, session, frozen_now
):
    client = csrf_client(patient)
    response = ask_to_move(client, session, at(WEDNESDAY, 11))
    page = client.get(response["Location"]).content.decode()
    assert "Enviamos tu pedido. Tu turno sigue en pie hasta que tu profesional lo acepte." in page
    assert "Tu turno cambió de horario" not in page


def test_a_replaced_request_leaves_her_calendar_and_the_session_stays(patient, session, frozen_now):
    client = csrf_client(patient)
    ask_to_move(client, session, at(WEDNESDAY, 11))
    first = Reservation.objects.get(rescheduled_from=session)
    read_all()
    ask_to_move(client, first, at(WEDNESDAY, 12))
    second = Reservation.objects.get(rescheduled_from=session, status="PENDING")
    (message,) = sent_to(patient.email)
    methods = dict(calendars_of(message))
    assert uids(methods["REQUEST"]) == {f"{second.pk}@turnos"}
    assert uids(methods["CANCEL"]) == {f"{first.pk}@turnos"}  # never the session itself
