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


def test_htmx_cancel_updates_the_row_the_card_and_announces_it(patient, upcoming):
    client = csrf_client(patient)
    r = post(client, upcoming.pk, htmx=True, reason="Viajo")
    assert r.status_code == 200
    html = r.content.decode()
    assert f'id="reservation-{upcoming.pk}"' in html
    assert 'id="current-turn"' in html
    assert html.count('hx-swap-oob="true"') == 2
    assert 'hx-swap-oob="innerHTML:#flash"' in html
    assert "Tu turno fue cancelado." in html
    assert "Ya cancelado" in html
    assert "No tenés turnos próximos." in html
    upcoming.refresh_from_db()
    assert upcoming.status == "CANCELLED"
    assert upcoming.cancelled_by == patient
    assert upcoming.cancelled_at == NOW
    assert upcoming.cancellation_reason == "Viajo"
    event = upcoming.events.get()
    assert (event.actor, event.channel, event.to_status) == (patient, "page", "CANCELLED")


def test_after_cancelling_the_card_shows_the_next_turn(patient, upcoming, make_reservation):
    following = make_reservation(patient, NOW + timedelta(days=10))
    html = post(csrf_client(patient), upcoming.pk, htmx=True).content.decode()
    card = html[html.index('id="current-turn"') :]
    assert f'data-reservation-id="{following.pk}"' in card


def test_cancelling_a_later_session_sends_the_card_still_showing_the_next_one(
    patient, upcoming, make_reservation, django_assert_max_num_queries
):
    later = make_reservation(patient, NOW + timedelta(days=10))
    client = csrf_client(patient)
    # Session, user, the reservation, update, event, the current turn, and the savepoint pair
    # of the test's transaction.
    with django_assert_max_num_queries(8):
        html = post(client, later.pk, htmx=True).content.decode()
    assert f'id="reservation-{later.pk}"' in html and "Tu turno fue cancelado." in html
    card = html[html.index('id="current-turn"') :]
    assert f'data-reservation-id="{upcoming.pk}"' in card
    later.refresh_from_db()
    assert later.status == "CANCELLED"


def test_a_card_out_of_date_is_replaced_by_any_cancel(patient, upcoming, make_reservation):
    # The page was loaded while a session now over was the current turn. Cancelling a later
    # session also brings the card up to date.
    make_reservation(patient, NOW - timedelta(hours=2))
    later = make_reservation(patient, NOW + timedelta(days=10))
    html = post(csrf_client(patient), later.pk, htmx=True).content.decode()
    card_html = html[html.index('id="current-turn"') :]
    assert f'data-reservation-id="{upcoming.pk}"' in card_html
    later.refresh_from_db()
    assert later.status == "CANCELLED"


def test_cancelling_the_cards_session_sends_the_next_one(patient, upcoming, make_reservation):
    following = make_reservation(patient, NOW + timedelta(days=10))
    html = post(csrf_client(patient), upcoming.pk, htmx=True).content
    card_html = html.decode()[html.decode().index('id="current-turn"') :]
    assert f'data-reservation-id="{following.pk}"' in card_html


def test_a_session_cancelled_elsewhere_is_taken_off_the_card(patient, upcoming, make_reservation):
    # Cancelled in another tab: this page's card still shows it, with its cancel button.
    following = make_reservation(patient, NOW + timedelta(days=10))
    other_tab, this_tab = csrf_client(patient), csrf_client(patient)
    post(other_tab, upcoming.pk, htmx=True)
    html = post(this_tab, upcoming.pk, htmx=True).content.decode()
    assert "Ya cancelado" in html
    card = html[html.index('id="current-turn"') :]
    assert f'data-reservation-id="{following.pk}"' in card


def test_a_refused_cancel_of_the_cards_session_sends_the_card_without_its_button(
    patient, make_reservation, frozen_now
):
    soon = make_reservation(patient, NOW + timedelta(hours=47))  # the deadline passed on the page
    for data in ({}, {"card": str(soon.pk)}):  # an older page's script, and app.js
        html = post(csrf_client(patient), soon.pk, htmx=True, **data).content.decode()
        card = html[html.index('id="current-turn"') :]
        assert f'data-reservation-id="{soon.pk}"' in card and "cancel-form" not in card
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
