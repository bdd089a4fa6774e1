"""Issue 25: one label for each thing that happened to a session, the same in the patient's list
(the history) and on the session's page: a moved session reads "Rescheduled" (not "Cancelled
by you"), a turned-down request "Declined" (not "Cancelled by the practice"). A cancelled
session is in the history whatever its date, always."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from reservations.actions import Actor
from reservations.models import Channel, Phase, Reservation

from .conftest import NOW

pytestmark = pytest.mark.django_db


def english(user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def history_row(client, session):
    html = client.get("/dashboard/").content.decode()
    history = html[html.index('id="history"') :]
    start = history.index(f'<li id="reservation-{session.pk}"')
    return history[start : history.index("</li>", start)]


def status_on_page(client, session):
    html = client.get(f"/reservations/{session.pk}/").content.decode()
    return re.search(r"<dt>Status</dt><dd>(.*?)</dd>", html)[1]


def book(patient, professional, start, status="CONFIRMED"):
    return Reservation.book(
        by=Actor.patient(patient, Channel.PAGE),
        client=patient,
        professional=professional,
        start_time=start,
        end_time=start + timedelta(minutes=45),
        status=status,
    )


def test_a_moved_session_reads_rescheduled_in_the_list_and_on_its_page(
    patient, professional, frozen_now
):
    old = book(patient, professional, NOW + timedelta(days=5))
    new = book(patient, professional, NOW + timedelta(days=6))
    Reservation.objects.filter(pk=old.pk).update(
        status="CANCELLED",
        cancelled_at=NOW,
        cancelled_by=patient,
        cancellation_reason="rescheduled",
    )
    Reservation.objects.filter(pk=new.pk).update(rescheduled_from=old)
    client = english(patient)
    row = history_row(client, old)
    assert "Rescheduled" in row
    assert "Cancelled" not in row and "by you" not in row
    assert "Rescheduled" in status_on_page(client, old)


def test_a_declined_request_reads_declined_in_the_list_and_on_its_page(
    patient, professional, frozen_now
):
    request = book(patient, professional, NOW + timedelta(days=5), status="PENDING")
    assert request.decline(by=Actor.professional(professional), reason="No tengo lugar") is None
    client = english(patient)
    row = history_row(client, request)
    assert "Declined" in row
    assert "Cancelled" not in row and "by the practice" not in row
    assert "Declined" in status_on_page(client, request)


def test_a_cancel_by_the_practice_still_says_so(patient, professional, frozen_now):
    session = book(patient, professional, NOW + timedelta(days=5))
    assert session.cancel(by=Actor.professional(professional), reason="Congreso") is None
    client = english(patient)
    row = history_row(client, session)
    assert "Cancelled" in row and "by the practice" in row
    assert "Cancelled" in status_on_page(client, session)


def test_a_request_nobody_confirmed_reads_not_confirmed(patient, professional, frozen_now):
    session = book(patient, professional, NOW + timedelta(days=5), status="PENDING")
    Reservation.objects.filter(pk=session.pk).update(
        status="CANCELLED", cancelled_at=NOW, cancellation_reason="expired"
    )
    session.refresh_from_db()
    assert session.phase(NOW) == Phase.NOT_CONFIRMED
    assert "Not confirmed" in history_row(english(patient), session)


def test_a_cancelled_session_tomorrow_is_in_the_history_not_the_upcoming(
    patient, professional, frozen_now
):
    session = book(patient, professional, NOW + timedelta(days=1))
    assert session.cancel(by=Actor.professional(professional), reason="Congreso") is None
    html = english(patient).get("/dashboard/").content.decode()
    upcoming = html[html.index('id="upcoming"') : html.index('id="history"')]
    assert f"reservation-{session.pk}" not in upcoming
    assert "Cancelled" in history_row(english(patient), session)


def test_the_list_reads_declined_without_a_query_per_row(
    patient, professional, frozen_now, django_assert_max_num_queries
):
    for day in range(1, 6):
        request = book(patient, professional, NOW + timedelta(days=day), status="PENDING")
        request.decline(by=Actor.professional(professional), reason="No")
    client = english(patient)
    client.get("/dashboard/")
    with django_assert_max_num_queries(12):
        html = client.get("/dashboard/").content.decode()
    assert html.count("Declined") == 5
