"""POST /reservations/<uuid>/cancel/ as the browser sends it, with CSRF checks on."""

import uuid
from datetime import timedelta

import pytest

from reservations.models import Reservation, ReservationEvent

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(pk):
    return f"/reservations/{pk}/cancel/"


def post(client, pk, htmx=False, **data):
    return client.post(
        url(pk),
        {"csrfmiddlewaretoken": CSRF_TOKEN, **data},
        headers=HTMX if htmx else {},
    )


def assert_unchanged(r):
    fresh = Reservation.objects.get(pk=r.pk)
    assert fresh.status == r.status
    assert fresh.cancelled_at is None
    assert fresh.cancelled_by is None
    assert not ReservationEvent.objects.filter(reservation=r).exists()


@pytest.fixture
def upcoming(patient, make_reservation, frozen_now):
    return make_reservation(patient, NOW + timedelta(days=3))


def test_htmx_cancel_shows_the_session_cancelled_in_place_and_announces_it(
    patient, upcoming, django_assert_max_num_queries
):
    client = csrf_client(patient)
    # Session, user, the reservation, update, event, the savepoint pair of the test's
    # transaction, and the outbox in the same transaction (the reservation with its people for
    # the messages, its reminders set aside, the messages written and their ids for the worker):
    # nothing else is read to answer.
    with django_assert_max_num_queries(11):
        r = post(client, upcoming.pk, htmx=True, reason="Viajo")
    assert r.status_code == 200
    html = r.content.decode()
    # The announcement (a live region), and the session again where it was, in its new state.
    assert 'hx-swap-oob="innerHTML:#flash"' in html and "Tu turno fue cancelado." in html
    assert f'<li id="reservation-{upcoming.pk}"' in html
    assert html.count('hx-swap-oob="true"') == 1
    assert "Cancelado</span>" in html and "cancel-form" not in html
    upcoming.refresh_from_db()
    assert upcoming.status == "CANCELLED"
    assert upcoming.cancelled_by == patient
    assert upcoming.cancelled_at == NOW
    assert upcoming.cancellation_reason == "Viajo"
    event = upcoming.events.get()
    assert (event.actor, event.channel, event.to_status) == (patient, "page", "CANCELLED")


def test_a_session_cancelled_elsewhere_says_so_in_place(patient, upcoming):
    other_tab, this_tab = csrf_client(patient), csrf_client(patient)
    post(other_tab, upcoming.pk, htmx=True)
    html = post(this_tab, upcoming.pk, htmx=True).content.decode()
    assert "Ya cancelado" in html
    assert f'<li id="reservation-{upcoming.pk}"' in html and "Cancelado</span>" in html
    assert upcoming.events.count() == 1


def test_a_refused_cancel_shows_why_with_whom_to_contact_and_no_button(
    patient, professional, make_reservation, frozen_now
):
    profile = professional.professional_profile
    profile.phone, profile.whatsapp = "+54 11 4555-0101", "+54 9 11 5555-0101"
    profile.contact_email = "gomez@consultorio.example"
    profile.save()
    soon = make_reservation(patient, NOW + timedelta(hours=47))  # the deadline passed on the page
    html = post(csrf_client(patient), soon.pk, htmx=True).content.decode()
    assert f'<li id="reservation-{soon.pk}"' in html and "cancel-form" not in html
    assert "Solo podés cancelar con 48 h de anticipación" in html
    assert 'href="tel:+541145550101"' in html
    assert 'href="https://wa.me/5491155550101"' in html
    assert 'href="mailto:gomez@consultorio.example"' in html
    assert_unchanged(soon)


def test_a_plain_form_post_redirects_to_the_dashboard_with_a_message(patient, upcoming):
    client = csrf_client(patient)
    r = post(client, upcoming.pk)
    assert r.status_code == 302
    assert r["Location"] == "/dashboard/"
    page = client.get("/dashboard/").content.decode()
    assert "Tu turno fue cancelado." in page
    upcoming.refresh_from_db()
    assert upcoming.status == "CANCELLED"


def test_it_refuses_inside_the_notice_period_with_a_fragment(patient, make_reservation, frozen_now):
    soon = make_reservation(patient, NOW + timedelta(hours=47, minutes=59))
    r = post(csrf_client(patient), soon.pk, htmx=True)
    assert r.status_code == 200
    assert (
        "Solo podés cancelar con 48 h de anticipación — contactá a tu profesional"
        in r.content.decode()
    )
    assert_unchanged(soon)


def test_it_refuses_inside_the_notice_period_on_a_plain_post(patient, make_reservation, frozen_now):
    soon = make_reservation(patient, NOW + timedelta(hours=1))
    client = csrf_client(patient)
    r = post(client, soon.pk)
    assert r["Location"] == "/dashboard/"
    assert "Solo podés cancelar con 48 h" in client.get("/dashboard/").content.decode()
    assert_unchanged(soon)


def test_it_accepts_exactly_48_hours_ahead(patient, make_reservation, frozen_now):
    edge = make_reservation(patient, NOW + timedelta(hours=48))
    assert post(csrf_client(patient), edge.pk, htmx=True).status_code == 200
    edge.refresh_from_db()
    assert edge.status == "CANCELLED"


def test_it_refuses_past_sessions(patient, make_reservation, frozen_now):
    past = make_reservation(patient, NOW - timedelta(days=1))
    r = post(csrf_client(patient), past.pk, htmx=True)
    assert "Esta sesión ya pasó" in r.content.decode()
    assert_unchanged(past)


def test_cancelling_twice_leaves_one_cancellation(patient, upcoming):
    client = csrf_client(patient)
    post(client, upcoming.pk, htmx=True)
    r = post(client, upcoming.pk, htmx=True)
    assert r.status_code == 200
    assert "Ya cancelado" in r.content.decode()
    assert upcoming.events.count() == 1


def test_it_checks_owner(other_patient, upcoming):
    r = post(csrf_client(other_patient), upcoming.pk, htmx=True)
    assert r.status_code == 404
    assert_unchanged(upcoming)


def test_not_yours_and_missing_look_the_same(other_patient, upcoming):
    client = csrf_client(other_patient)
    theirs = post(client, upcoming.pk)
    missing = post(client, uuid.uuid4())
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_the_professional_cannot_cancel_from_the_patient_page(professional, upcoming):
    assert post(csrf_client(professional), upcoming.pk).status_code == 404
    assert_unchanged(upcoming)


def test_it_rejects_get_and_other_methods(patient, upcoming):
    client = csrf_client(patient)
    assert client.get(url(upcoming.pk)).status_code == 405
    # Unsafe methods meet the CSRF check first; with a valid token they get 405 too.
    token = {"X-CSRFToken": CSRF_TOKEN}
    assert client.put(url(upcoming.pk), headers=token).status_code == 405
    assert client.delete(url(upcoming.pk), headers=token).status_code == 405
    assert client.patch(url(upcoming.pk), headers=token).status_code == 405
    assert_unchanged(upcoming)


def test_it_requires_a_csrf_token(patient, upcoming):
    client = csrf_client(patient)
    assert client.post(url(upcoming.pk), headers=HTMX).status_code == 403
    bad = client.post(url(upcoming.pk), {"csrfmiddlewaretoken": "x" * 32})
    assert bad.status_code == 403
    assert_unchanged(upcoming)


def test_anonymous_users_are_sent_to_log_in(upcoming):
    client = csrf_client()
    plain = post(client, upcoming.pk)
    assert plain.status_code == 302
    assert plain["Location"].startswith("/accounts/login/")
    # An htmx request is redirected as a whole page, not given a login form in a table row.
    htmx = post(client, upcoming.pk, htmx=True)
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"].startswith("/accounts/login/?next=/dashboard/")
    assert htmx.content == b""
    assert_unchanged(upcoming)


def test_malformed_ids_are_not_found(patient):
    client = csrf_client(patient)
    assert client.post("/reservations/abc/cancel/").status_code == 404
    assert client.post("/reservations/-1/cancel/").status_code == 404
