"""Issue 25's calendar fixes: the feed's refresh interval is a duration, a professional's feed
is named after them, and an in-person session says where it is (not how to join)."""

from datetime import timedelta

import pytest
from django.test import Client
from icalendar import Calendar

from .conftest import NOW
from .test_calendar_feed import book, events, feed_url, read

pytestmark = pytest.mark.django_db


def test_the_feed_asks_to_be_polled_hourly_as_a_duration(patient, professional, frozen_now):
    body = Client().get(feed_url(patient)).content.decode()
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in body


def test_a_professionals_feed_is_named_after_them(patient, professional, frozen_now):
    for user in (patient, professional):
        user.language = "en"
        user.save()
    theirs = read(Client().get(feed_url(professional)))
    assert str(theirs["X-WR-CALNAME"]) == "Turnos: Lic. Carolina Gómez's agenda"
    assert str(theirs["NAME"]) == "Turnos: Lic. Carolina Gómez's agenda"
    mine = read(Client().get(feed_url(patient)))
    assert str(mine["X-WR-CALNAME"]) == "Turnos: my sessions"


def test_an_in_person_session_in_the_feed_says_where_not_how_to_join(
    patient, professional, frozen_now, settings
):
    settings.PRACTICE_ADDRESS = "Gurruchaga 500, CABA"
    patient.language = "en"
    patient.save()
    in_person = book(patient, professional, NOW + timedelta(days=3), session_modality="Presencial")
    virtual = book(patient, professional, NOW + timedelta(days=4))
    found = events(read(Client().get(feed_url(patient))))
    there = found[f"{in_person.pk}@turnos"]
    assert str(there["LOCATION"]) == "Gurruchaga 500, CABA"
    assert "Address: Gurruchaga 500, CABA" in there["DESCRIPTION"]
    assert "join" not in there["DESCRIPTION"]
    assert "Details: http" in there["DESCRIPTION"]
    online = found[f"{virtual.pk}@turnos"]
    assert "LOCATION" not in online
    assert "Gurruchaga" not in online["DESCRIPTION"]
    assert "Details and how to join: http" in online["DESCRIPTION"]


def test_an_in_person_sessions_download_says_where(patient, professional, frozen_now, settings):
    settings.PRACTICE_ADDRESS = "Gurruchaga 500, CABA"
    session = book(patient, professional, NOW + timedelta(days=3), session_modality="Presencial")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(patient)
    response = client.get(f"/reservations/{session.pk}/calendar.ics")
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["LOCATION"]) == "Gurruchaga 500, CABA"
    assert "Gurruchaga 500, CABA" in event["DESCRIPTION"]
