"""A patient moves a session to another free time: one transaction, the new session created and
the old one cancelled ("rescheduled"), each pointing at the other; or nothing at all."""

from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError

from accounts.models import ProfessionalProfile
from reservations.actions import Actor
from reservations.models import Reservation, ReservationEvent
from scheduling.booking import reschedule
from scheduling.models import WorkingHours

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
MONDAY = date(2026, 3, 16)  # NOW is Tuesday 10 March 2026, 12:00 in Buenos Aires


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
    return Reservation.objects.create(
        client=patient,
        professional=professional,
        start_time=at(MONDAY, 10),
        end_time=at(MONDAY, 10, 50),
        status="CONFIRMED",
        session_modality="Presencial",
    )


def snapshot():
    """Everything a reschedule may touch."""
    return (
        sorted(
            Reservation.objects.values_list(
                "id", "status", "start_time", "cancellation_reason", "rescheduled_from"
            )
        ),
        sorted(ReservationEvent.objects.values_list("id", "action")),
    )


def post_move(client, r, start, modality=None):
    data = {"start": param(start), "csrfmiddlewaretoken": CSRF_TOKEN}
    if modality:
        data["modality"] = modality
    return client.post(f"/reservations/{r.pk}/reschedule/", data)


def test_a_session_that_may_be_cancelled_offers_to_change_its_time(
    patient, session, make_reservation, frozen_now
):
    soon = make_reservation(patient, NOW + timedelta(hours=20))  # inside the 48 h notice
    client = csrf_client(patient)
    html = client.get("/dashboard/").content.decode()
    assert html.count("Cambiar horario") == 1
    assert f'href="/reservations/{session.pk}/reschedule/"' in html
    assert f'href="/reservations/{soon.pk}/reschedule/"' not in html
    detail = client.get(f"/reservations/{session.pk}/").content.decode()
    assert f'href="/reservations/{session.pk}/reschedule/"' in detail


@pytest.fixture
def instant(professional):
    """The professional confirms nothing by hand: a move replaces the session at once."""
    profile = professional.professional_profile
    profile.requires_approval = False
    profile.save(update_fields=["requires_approval"])


def test_the_week_frees_the_sessions_time_for_others_around_it(
    patient, session, instant, frozen_now
):
    url = f"/reservations/{session.pk}/reschedule/?week=2026-03-16"
    html = csrf_client(patient).get(url).content.decode()
    assert "Estás cambiando este turno: lunes 16 de marzo, 10:00 – 10:50 (50 min)." in html
    confirm = f"/reservations/{session.pk}/reschedule/confirm/?start="
    for hour in (9, 11, 12):  # its own 10:00 is no move (tests/test_fixes_reschedule.py)
        assert confirm + param(at(MONDAY, hour)) in html
    page = csrf_client(patient).get(confirm + param(at(MONDAY, 12))).content.decode()
    assert "En lugar de: lunes 16 de marzo, 10:00 – 10:50 (50 min) (se cancela)." in page
    # The session's modality is chosen already.
    assert 'value="Presencial" checked' in page


def test_moving_creates_the_new_session_and_cancels_the_old_one(
    patient, session, instant, frozen_now
):
    client = csrf_client(patient)
    r = post_move(client, session, at(date(2026, 3, 18), 11))
    new = Reservation.objects.exclude(pk=session.pk).get()
    assert r.status_code == 302 and r["Location"] == f"/reservations/{new.pk}/"
    session.refresh_from_db()
    assert session.status == "CANCELLED"
    assert session.cancellation_reason == "rescheduled"
    assert session.cancelled_by == patient and session.late_cancellation == ""
    assert new.rescheduled_from == session and session.moved_to == new
    assert (new.start_time, new.end_time) == (
        at(date(2026, 3, 18), 11),
        at(date(2026, 3, 18), 11, 50),
    )
    assert new.status == "CONFIRMED" and new.expires_at is None
    assert new.session_modality == "Presencial"  # kept
    cancel = session.events.get()
    assert (cancel.action, cancel.reason, cancel.actor, cancel.channel) == (
        "cancelled",
        "rescheduled",
        patient,
        "page",
    )
    created = new.events.get()
    assert created.action == "created"
    assert created.changes == {"rescheduled_from": str(session.pk)}
    # Each page says where the other is.
    new_page = client.get(r["Location"]).content.decode()
    assert "Tu turno cambió de horario." in new_page
    assert "Pedido al cambiar el horario de un turno" in new_page
    old_page = client.get(f"/reservations/{session.pk}/").content.decode()
    assert "Lo cambiaste a otro horario" in old_page
    assert f'href="/reservations/{new.pk}/"' in old_page


def test_without_approval_the_new_time_is_confirmed(patient, professional, session, frozen_now):
    ProfessionalProfile.objects.filter(user=professional).update(requires_approval=False)
    post_move(csrf_client(patient), session, at(MONDAY, 12), "Virtual")
    new = Reservation.objects.get(rescheduled_from=session)
    assert new.status == "CONFIRMED" and new.expires_at is None
    assert new.session_modality == "Virtual"


def test_moving_by_less_than_a_session_overlapping_the_old_time(
    patient, professional, session, instant, frozen_now
):
    # 10:00-10:50 to 10:30 is not on this grid; with 30-minute sessions it is, and it overlaps
    # the old one: the old one is cancelled first, in the same transaction.
    WorkingHours.objects.filter(professional=professional).update(
        session_minutes=50, buffer_minutes=0, start_time=time(8, 30)
    )
    r = reschedule(session, at(MONDAY, 10, 10), by=Actor.patient(patient, "page"), now=NOW)
    assert isinstance(r, Reservation), r
    assert r.start_time == at(MONDAY, 10, 10)


def test_a_pending_request_may_be_moved_despite_the_limit(patient, session, frozen_now):
    Reservation.objects.filter(pk=session.pk).update(status="PENDING")
    session.refresh_from_db()
    r = post_move(csrf_client(patient), session, at(MONDAY, 12))
    assert r.status_code == 302
    assert Reservation.objects.get(rescheduled_from=session).status == "PENDING"


def test_if_creating_the_new_session_fails_nothing_changes(patient, session, instant, frozen_now):
    before = snapshot()
    with (
        mock.patch.object(Reservation, "insert", side_effect=DatabaseError("boom")),
        pytest.raises(DatabaseError),
    ):
        reschedule(session, at(MONDAY, 12), by=Actor.patient(patient, "page"), now=NOW)
    assert snapshot() == before
    session.refresh_from_db()
    assert session.status == "CONFIRMED" and session.cancellation_reason == ""


def test_if_its_event_fails_nothing_changes_either(patient, session, instant, frozen_now):
    # The new session's "created" event is the last write: failing it undoes the new session
    # and the cancel of the old one.
    before = snapshot()
    real_save = ReservationEvent.save

    def save(event, *args, **kwargs):
        if event.action == "created":
            raise DatabaseError("boom")
        return real_save(event, *args, **kwargs)

    with (
        mock.patch.object(ReservationEvent, "save", autospec=True, side_effect=save),
        pytest.raises(DatabaseError),
    ):
        reschedule(session, at(MONDAY, 12), by=Actor.patient(patient, "page"), now=NOW)
    assert snapshot() == before


def test_if_cancelling_the_old_session_fails_nothing_changes(patient, session, instant, frozen_now):
    before = snapshot()
    with (
        mock.patch.object(Reservation, "cancel", side_effect=DatabaseError("boom")),
        pytest.raises(DatabaseError),
    ):
        reschedule(session, at(MONDAY, 12), by=Actor.patient(patient, "page"), now=NOW)
    assert snapshot() == before


def test_inside_the_notice_the_patient_is_refused_with_contact_links(
    patient, professional, session, frozen_now
):
    ProfessionalProfile.objects.filter(user=professional).update(
        cancellation_notice_hours=24 * 7, phone="+54 11 4555-0101"
    )
    client = csrf_client(patient)
    before = snapshot()
    page = client.get(f"/reservations/{session.pk}/reschedule/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Este turno ya no se puede cambiar online." in html
    assert 'href="tel:+541145550101"' in html
    assert 'class="slot"' not in html
    r = post_move(client, session, at(MONDAY, 12))
    assert r.status_code == 409
    assert 'href="tel:+541145550101"' in r.content.decode()
    assert snapshot() == before
    fresh = Reservation.objects.get(pk=session.pk)
    refusal = reschedule(fresh, at(MONDAY, 12), by=Actor.patient(patient, "api"), now=NOW)
    assert refusal.code == "notice"


def test_a_time_not_offered_is_refused_and_nothing_changes(patient, session, frozen_now):
    before = snapshot()
    r = post_move(csrf_client(patient), session, at(MONDAY, 10, 30))
    assert r.status_code == 409
    assert "Ese horario ya no está disponible." in r.content.decode()
    assert snapshot() == before
    session.refresh_from_db()
    assert session.status == "CONFIRMED"


def test_a_cancelled_session_cannot_be_moved(patient, session, frozen_now):
    session.cancel(by=Actor.patient(patient, "page"), now=NOW)
    before = snapshot()
    r = post_move(csrf_client(patient), session, at(MONDAY, 12))
    assert r.status_code == 409
    assert "Ya cancelado" in r.content.decode()
    assert snapshot() == before


def test_it_checks_owner(other_patient, session, frozen_now):
    client = csrf_client(other_patient)
    assert client.get(f"/reservations/{session.pk}/reschedule/").status_code == 404
    assert post_move(client, session, at(MONDAY, 12)).status_code == 404
    session.refresh_from_db()
    assert session.status == "CONFIRMED"


def test_it_checks_csrf(patient, session, frozen_now):
    client = csrf_client(patient)
    r = client.post(f"/reservations/{session.pk}/reschedule/", {"start": param(at(MONDAY, 12))})
    assert r.status_code == 403
    session.refresh_from_db()
    assert session.status == "CONFIRMED"
