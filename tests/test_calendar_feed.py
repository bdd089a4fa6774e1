"""The calendar feed (/calendar/<token>.ics) and each session's download: what a calendar app
reads, parsed back with icalendar; who may read it; caching, rate limit and query count."""

import secrets
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from calendars.models import FeedToken
from portal.views import FEED_RATE
from reservations.actions import Actor
from reservations.models import Channel, Reservation

from .conftest import NOW, make_user

pytestmark = pytest.mark.django_db

BUENOS_AIRES = "America/Argentina/Buenos_Aires"


def book(patient, professional, start, minutes=45, **fields):
    """Through the model, as the pages book: the reservation and its "created" event."""
    return Reservation.book(
        by=Actor.patient(patient, Channel.PAGE),
        client=patient,
        professional=professional,
        start_time=start,
        end_time=start + timedelta(minutes=minutes),
        status=fields.pop("status", "CONFIRMED"),
        **fields,
    )


def feed_url(user):
    return reverse("calendar_feed", args=[FeedToken.for_user(user).token])


def read(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar):
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_a_new_booking_shows_then_its_cancel_then_it_drops_out(patient, professional, frozen_now):
    client, url = Client(), feed_url(patient)
    assert events(read(client.get(url))) == {}

    session = book(patient, professional, NOW + timedelta(days=3))
    event = events(read(client.get(url)))[f"{session.pk}@turnos"]
    assert event["STATUS"] == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    start = event.decoded("DTSTART")
    assert start == session.start_time
    assert event["DTSTART"].params["TZID"] == BUENOS_AIRES
    assert str(start.tzinfo) == BUENOS_AIRES
    assert start.hour == 12  # 15:00 UTC is noon in Buenos Aires
    assert event.decoded("DTEND") == session.end_time

    assert session.cancel(by=Actor.patient(patient, Channel.PAGE)) is None
    cancelled = events(read(client.get(url)))[f"{session.pk}@turnos"]
    assert cancelled["STATUS"] == "CANCELLED"
    assert cancelled["SEQUENCE"] == 1  # one change a calendar must show: the same UID, newer

    # Still there 30 days after the cancel (the calendar strikes it out), gone a moment later.
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        assert f"{session.pk}@turnos" in events(read(client.get(url)))
    with time_machine.travel(NOW + timedelta(days=30, minutes=1), tick=False):
        assert events(read(client.get(url))) == {}


def test_a_moved_session_keeps_its_uid_with_a_higher_sequence(patient, professional, frozen_now):
    session = book(patient, professional, NOW + timedelta(days=3))
    session.start_time += timedelta(hours=2)
    session.end_time += timedelta(hours=2)
    session.change(["start_time", "end_time"], by=Actor.professional(professional))
    [event] = events(read(Client().get(feed_url(patient)))).values()
    assert event["UID"] == f"{session.pk}@turnos"
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == NOW + timedelta(days=3, hours=2)


def test_the_last_30_days_and_everything_ahead(patient, professional, frozen_now):
    old = book(patient, professional, NOW - timedelta(days=31))
    recent = book(patient, professional, NOW - timedelta(days=29))
    far = book(patient, professional, NOW + timedelta(days=300))
    uids = set(events(read(Client().get(feed_url(patient)))))
    assert uids == {f"{recent.pk}@turnos", f"{far.pk}@turnos"}
    assert f"{old.pk}@turnos" not in uids


def test_times_are_in_the_viewers_zone(patient, professional, frozen_now):
    patient.time_zone = "Europe/Madrid"
    patient.save()
    book(patient, professional, NOW + timedelta(days=3))
    calendar = read(Client().get(feed_url(patient)))
    [event] = calendar.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Madrid"
    assert event.decoded("DTSTART").hour == 16  # 15:00 UTC, winter in Madrid
    # The zone's rules travel with the calendar (VTIMEZONE), for apps that do not know it.
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Madrid"]


def test_a_repeated_request_gets_304_until_something_changes(patient, professional, frozen_now):
    client, url = Client(), feed_url(patient)
    session = book(patient, professional, NOW + timedelta(days=3), status="PENDING")
    first = client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""

    session.confirm(by=Actor.professional(professional))
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    [event] = read(changed).walk("VEVENT")
    assert (event["STATUS"], event["SEQUENCE"]) == ("CONFIRMED", 1)


def test_a_revoked_or_unknown_link_is_a_404(patient, professional, frozen_now):
    book(patient, professional, NOW + timedelta(days=3))
    old_url = feed_url(patient)
    assert Client().get(old_url).status_code == 200
    FeedToken.issue(patient)
    new_url = feed_url(patient)
    assert new_url != old_url
    assert Client().get(old_url).status_code == 404
    assert Client().get(new_url).status_code == 200
    unknown = reverse("calendar_feed", args=[secrets.token_urlsafe(32)])
    assert Client().get(unknown).status_code == 404
    assert Client().get("/calendar/short.ics").status_code == 404


def test_an_inactive_users_link_is_a_404(patient):
    url = feed_url(patient)
    patient.is_active = False
    patient.save()
    assert Client().get(url).status_code == 404


def test_the_database_holds_no_working_link(patient):
    link = FeedToken.for_user(patient)
    token = link.token
    row = FeedToken.objects.filter(pk=link.pk).values().get()
    assert token not in str(row.values())
    assert len(token) == 43


def test_each_link_is_rate_limited_on_its_own(patient, other_patient, frozen_now):
    limit = int(FEED_RATE.split("/")[0])
    client, url, other = Client(), feed_url(patient), feed_url(other_patient)
    for _ in range(limit):
        assert client.get(url).status_code == 200
    refused = client.get(url)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert client.get(other).status_code == 200
    with time_machine.travel(NOW + timedelta(minutes=11), tick=False):
        assert client.get(url).status_code == 200


def test_a_professionals_feed_shows_initials_not_names(patient, professional, frozen_now):
    patient.last_name = "Pérez"
    patient.save()
    professional.language = "en"
    professional.save()
    book(patient, professional, NOW + timedelta(days=3), session_modality="Presencial")
    response = Client().get(feed_url(professional))
    [event] = read(response).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Session with L. P."
    body = response.content.decode()
    for private in ("Lucía", "Pérez", patient.email):
        assert private not in body


def test_a_patients_feed_says_little(patient, professional, frozen_now):
    profile = professional.professional_profile
    profile.video_url = "https://meet.example/secret-room"
    profile.address = "Av. Corrientes 1234, CABA"
    profile.save()
    virtual = book(patient, professional, NOW + timedelta(days=3))
    in_person = book(patient, professional, NOW + timedelta(days=4), session_modality="Presencial")
    patient.language = "en"
    patient.save()
    response = Client().get(feed_url(patient))
    found = events(read(response))
    body = response.content.decode()
    # The join link is the key to the room, and emails name people: neither is in the feed.
    assert "secret-room" not in body
    assert patient.email not in body and "ATTENDEE" not in body and "ORGANIZER" not in body
    first = found[f"{virtual.pk}@turnos"]
    assert str(first["SUMMARY"]) == "Session with Lic. Carolina Gómez"
    assert "Modality: Virtual" in first["DESCRIPTION"]
    assert str(first["URL"]).endswith(f"/reservations/{virtual.pk}/")
    assert "LOCATION" not in first
    second = found[f"{in_person.pk}@turnos"]
    assert str(second["LOCATION"]) == "Av. Corrientes 1234, CABA"
    assert "Modality: In person" in second["DESCRIPTION"]


def test_the_feed_speaks_the_users_language_not_the_apps(patient, professional, frozen_now):
    book(patient, professional, NOW + timedelta(days=3))
    url = feed_url(patient)
    spanish = Client().get(url, headers={"Accept-Language": "en"})
    assert "Modalidad: Virtual" in spanish.content.decode()
    assert spanish["Content-Language"] == "es-ar"
    patient.language = "en"
    patient.save()
    english = Client().get(url, headers={"Accept-Language": "es"})
    assert "Modality: Virtual" in english.content.decode()
    assert english["Content-Language"] == "en"


@pytest.mark.parametrize("as_professional", [False, True])
def test_the_same_queries_for_5_and_50_sessions(professional, as_professional, frozen_now):
    def count(sessions):
        patient = make_user(f"p{sessions}@example.com", first_name="Ana", last_name="Sosa")
        for i in range(sessions):
            session = book(patient, professional, NOW + timedelta(days=sessions, hours=i))
            if i % 3 == 0:
                session.cancel(by=Actor.patient(patient, Channel.PAGE))
        url = feed_url(professional if as_professional else patient)
        with CaptureQueriesContext(connection) as queries:
            calendar = read(Client().get(url))
        earlier = 5 if as_professional and sessions == 50 else 0  # the first patient's
        assert len(calendar.walk("VEVENT")) == sessions + earlier
        return len(queries)

    # The link with its user; the sessions with their people, SEQUENCE and last change.
    assert count(5) == 2
    assert count(50) == 2


# One session's .ics (the "Add to calendar" button of its page)


def test_a_patient_downloads_their_session(patient, professional, frozen_now):
    profile = professional.professional_profile
    profile.video_url = "https://meet.example/room"
    profile.save()
    session = book(patient, professional, NOW + timedelta(days=3))
    client = Client()
    client.force_login(patient)
    response = client.get(f"/reservations/{session.pk}/calendar.ics")
    assert response["Content-Disposition"] == 'attachment; filename="turno-2026-03-13-1200.ics"'
    calendar = read(response)
    assert "METHOD" not in calendar
    [event] = calendar.walk("VEVENT")
    assert event["UID"] == f"{session.pk}@turnos"
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].params["TZID"] == BUENOS_AIRES
    # What the emails attach: how to join is in it; no invitation to answer.
    assert "https://meet.example/room" in event["DESCRIPTION"]
    assert "ORGANIZER" not in event and "ATTENDEE" not in event


def test_someone_elses_session_is_a_404_like_a_missing_one(
    patient, other_patient, professional, frozen_now
):
    session = book(patient, professional, NOW + timedelta(days=3))
    client = Client()
    client.force_login(other_patient)
    assert client.get(f"/reservations/{session.pk}/calendar.ics").status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/reservations/{missing}/calendar.ics").status_code == 404


def test_the_professional_downloads_their_session(patient, professional, frozen_now):
    session = book(patient, professional, NOW + timedelta(days=3))
    client = Client()
    client.force_login(professional)
    [event] = read(client.get(f"/reservations/{session.pk}/calendar.ics")).walk("VEVENT")
    assert event["UID"] == f"{session.pk}@turnos"


def test_a_download_needs_a_login(patient, professional, frozen_now):
    session = book(patient, professional, NOW + timedelta(days=3))
    response = Client().get(f"/reservations/{session.pk}/calendar.ics")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_sessions_page_offers_it_while_it_is_ahead(patient, professional, frozen_now):
    ahead = book(patient, professional, NOW + timedelta(days=3))
    past = book(patient, professional, NOW - timedelta(days=3))
    client = Client()
    client.force_login(patient)
    link = f'href="/reservations/{ahead.pk}/calendar.ics" download'
    assert link in client.get(f"/reservations/{ahead.pk}/").content.decode()
    assert "calendar.ics" not in client.get(f"/reservations/{past.pk}/").content.decode()
    ahead.cancel(by=Actor.patient(patient, Channel.PAGE))
    assert "calendar.ics" not in client.get(f"/reservations/{ahead.pk}/").content.decode()


def test_a_payment_leaves_the_calendar_entry_as_it_was(patient, make_reservation, frozen_now):
    from calendars import ics
    from reservations.actions import ActionKind, recording
    from reservations.models import ReservationEvent

    session = make_reservation(patient, NOW + timedelta(days=3))
    with recording(ActionKind.PAYMENT, by=Actor.system(), at=NOW) as action:
        for what in ("paid", "refunded"):
            action.log(ReservationEvent(reservation=session, action=what, changes={"amount": "1"}))
    assert ics.sequence_for(session) == 0
