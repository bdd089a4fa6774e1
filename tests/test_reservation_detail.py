"""GET /reservations/<uuid>/: one reservation, its facts, and the cancel form or why not."""

import uuid
from datetime import timedelta

import pytest

from reservations.actions import Actor
from reservations.models import Reservation

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db


def url(reservation):
    return f"/reservations/{reservation.pk}/"


def test_it_shows_the_reservation(patient, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(days=7), status="PENDING")
    html = csrf_client(patient).get(url(r)).content.decode()
    assert "martes 17 de marzo, 12:00 – 12:45 (45 min)" in html
    assert "Lic. Carolina Gómez" in html and "Psicología" in html
    assert "Pendiente" in html and "Virtual" in html and "45 minutos" in html
    # The last moment to cancel online: 48 h before.
    assert "Podés cancelar en línea hasta el domingo 15 de marzo a las 12:00." in html
    assert "Tu profesional todavía no lo confirmó." in html
    assert f'action="/reservations/{r.pk}/cancel/"' in html
    assert f'name="next" value="/reservations/{r.pk}/"' in html


def test_inside_the_notice_period_it_says_why_and_has_no_form(
    patient, make_reservation, frozen_now
):
    r = make_reservation(patient, NOW + timedelta(hours=20))
    html = csrf_client(patient).get(url(r)).content.decode()
    assert "Solo podés cancelar con 48 h de anticipación" in html
    assert "/cancel/" not in html


def test_a_cancelled_one_says_when_and_by_whom(patient, staff, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(days=7))
    r.cancel(by=Actor.staff(staff), reason="Feriado", now=NOW)
    html = csrf_client(patient).get(url(r)).content.decode()
    assert "Cancelado" in html and "hoy, 12:00" in html
    assert "por el consultorio" in html and "Feriado" in html
    assert "/cancel/" not in html


def test_it_checks_owner(other_patient, patient, make_reservation):
    r = make_reservation(patient, NOW + timedelta(days=7))
    assert csrf_client(other_patient).get(url(r)).status_code == 404


def test_a_missing_one_is_the_same_404(patient):
    assert csrf_client(patient).get(f"/reservations/{uuid.uuid4()}/").status_code == 404


def test_it_needs_a_login(patient, make_reservation):
    r = make_reservation(patient, NOW + timedelta(days=7))
    response = csrf_client().get(url(r))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_cancelling_from_it_without_javascript_comes_back_to_it(
    patient, make_reservation, frozen_now
):
    r = make_reservation(patient, NOW + timedelta(days=7))
    client = csrf_client(patient)
    response = client.post(
        f"/reservations/{r.pk}/cancel/", {"csrfmiddlewaretoken": CSRF_TOKEN, "next": url(r)}
    )
    assert response.status_code == 302
    assert response["Location"] == url(r)
    assert "Tu turno fue cancelado." in client.get(url(r)).content.decode()
    assert Reservation.objects.get(pk=r.pk).status == "CANCELLED"


def test_next_cannot_send_anywhere_else(patient, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(days=7))
    response = csrf_client(patient).post(
        f"/reservations/{r.pk}/cancel/",
        {"csrfmiddlewaretoken": CSRF_TOKEN, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/dashboard/"


def test_cancelling_from_it_with_htmx_updates_its_card(patient, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(days=7))
    response = csrf_client(patient).post(
        f"/reservations/{r.pk}/cancel/",
        {"csrfmiddlewaretoken": CSRF_TOKEN, "next": url(r)},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert 'id="reservation-detail"' in html and 'hx-swap-oob="true"' in html
    assert 'hx-swap-oob="innerHTML:#flash"' in html
    # Nothing aimed at the dashboard's elements, which this page does not have.
    assert f'id="reservation-{r.pk}"' not in html
    assert "Tu turno fue cancelado." in html and "Cancelado</span>" in html
    assert Reservation.objects.get(pk=r.pk).status == "CANCELLED"


def test_a_refused_cancel_from_it_changes_nothing(patient, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(hours=20))
    response = csrf_client(patient).post(
        f"/reservations/{r.pk}/cancel/",
        {"csrfmiddlewaretoken": CSRF_TOKEN, "next": url(r)},
        headers={"HX-Request": "true"},
    )
    assert "flash--error" in response.content.decode()
    assert Reservation.objects.get(pk=r.pk).status == "CONFIRMED"
    assert not r.events.exists()


def test_rows_and_card_link_to_it(patient, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(days=7))
    html = csrf_client(patient).get("/dashboard/").content.decode()
    assert html.count(f'href="{url(r)}"') == 2  # its date and its "details" button
