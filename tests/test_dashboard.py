import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile
from reservations.models import Reservation

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_visitors_to_log_in(client):
    r = client.get("/dashboard/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/?next=/dashboard/")


def test_dashboard_without_slash_and_root_redirect_to_it(client, patient):
    client.force_login(patient)
    assert client.get("/dashboard")["Location"] == "/dashboard/"
    assert client.get("/")["Location"] == "/dashboard/"


def test_it_greets_the_patient_by_first_name(client, patient):
    client.force_login(patient)
    r = client.get("/dashboard/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Hola, bienvenido Lucía" in html
    assert "Gestioná tus turnos y revisá tu historial de sesiones" in html
    assert '<html lang="es-ar">' in html


def history_ids(response):
    """The ids of the history's rows, in the order the page shows them."""
    return re.findall(r'<li id="reservation-([0-9a-f-]+)"', _section(response, "history"))


def upcoming_ids(response):
    """The ids of the upcoming sessions, in the order the page shows them."""
    return re.findall(r'<li id="reservation-([0-9a-f-]+)"', _section(response, "upcoming"))


def _item(response, reservation):
    """The HTML of one session's item on the page."""
    html = response.content.decode()
    start = html.index(f'<li id="reservation-{reservation.pk}"')
    return html[start : html.index("</li>", start)]


def test_upcoming_sessions_come_nearest_first_and_the_first_is_the_next_one(
    client, patient, make_reservation, frozen_now
):
    later = make_reservation(patient, NOW + timedelta(days=9))
    nearest = make_reservation(patient, NOW + timedelta(days=3), status="PENDING")
    middle = make_reservation(patient, NOW + timedelta(days=5))
    make_reservation(patient, NOW + timedelta(days=1), status="CANCELLED")
    make_reservation(patient, NOW - timedelta(days=2))
    client.force_login(patient)
    r = client.get("/dashboard/")
    assert upcoming_ids(r) == [str(x.pk) for x in (nearest, middle, later)]
    first = _item(r, nearest)
    assert "Tu próximo turno" in first
    assert "Tu próximo turno" not in _item(r, later)
    # Friday 13 March 2026, 12:00 in Buenos Aires (15:00 UTC), 45 minutes.
    assert "viernes 13 de marzo, 12:00 – 12:45 (45 min)" in first
    assert "Lic. Carolina Gómez" in first and "Psicología" in first
    assert "Virtual" in first
    assert "Pendiente" in first
    assert "Tu profesional todavía no lo confirmó." in first
    assert "todavía no lo confirmó" not in _item(r, middle)


def test_it_shows_the_session_in_progress_first(client, patient, make_reservation, frozen_now):
    live = make_reservation(patient, NOW - timedelta(minutes=15), minutes=50)
    make_reservation(patient, NOW + timedelta(days=2))
    client.force_login(patient)
    r = client.get("/dashboard/")
    assert upcoming_ids(r)[0] == str(live.pk)
    card = _item(r, live)
    assert "Sesión en curso" in card
    assert "En curso</span>" in card
    assert "Esta sesión está en curso" in card
    assert "cancel-form" not in card


def test_it_says_so_when_there_is_no_upcoming_turn(client, patient, make_reservation, frozen_now):
    make_reservation(patient, NOW - timedelta(days=2))
    make_reservation(patient, NOW + timedelta(days=4), status="CANCELLED")
    client.force_login(patient)
    r = client.get("/dashboard/")
    assert upcoming_ids(r) == []
    assert "No tenés turnos próximos." in _section(r, "upcoming")


def test_history_holds_what_is_behind_newest_first(client, patient, make_reservation, frozen_now):
    past = make_reservation(patient, NOW - timedelta(days=7))
    older = make_reservation(patient, NOW - timedelta(days=14))
    cancelled = make_reservation(patient, NOW + timedelta(days=4), status="CANCELLED")
    upcoming = make_reservation(patient, NOW + timedelta(days=2))
    client.force_login(patient)
    r = client.get("/dashboard/")
    assert history_ids(r) == [str(x.pk) for x in (cancelled, past, older)]
    assert upcoming_ids(r) == [str(upcoming.pk)]
    # The past says what happened, and offers no action.
    assert "Realizado</span>" in _item(r, past)
    assert "Confirmado" not in _section(r, "history")
    assert "cancel-form" not in _section(r, "history")


def test_past_sessions_say_what_happened(client, patient, make_reservation, frozen_now):
    done = make_reservation(patient, NOW - timedelta(days=7))
    absent = make_reservation(patient, NOW - timedelta(days=14))
    absent.attended = False
    absent.save()
    never_confirmed = make_reservation(patient, NOW - timedelta(days=21), status="PENDING")
    by_me = make_reservation(patient, NOW - timedelta(days=28), status="CANCELLED")
    by_me.cancelled_by = patient
    by_me.save()
    client.force_login(patient)
    r = client.get("/dashboard/")
    assert "Realizado</span>" in _item(r, done)
    assert "Ausente</span>" in _item(r, absent)
    assert "Sin confirmar</span>" in _item(r, never_confirmed)
    assert "Cancelado</span>" in _item(r, by_me) and "por vos" in _item(r, by_me)


def test_history_is_paged_by_ten(client, patient, make_reservation, frozen_now):
    made = [make_reservation(patient, NOW - timedelta(days=i + 1)) for i in range(25)]
    client.force_login(patient)
    first = client.get("/dashboard/")
    assert history_ids(first) == [str(r.pk) for r in made[:10]]
    assert "Anteriores" in first.content.decode() and "Más recientes" not in first.content.decode()
    third = client.get("/dashboard/?page=3")
    assert history_ids(third) == [str(r.pk) for r in made[20:]]
    html = third.content.decode()
    assert "Página 3" in html and "Más recientes" in html and "Anteriores" not in html
    # Past the end or junk: a page that says so, or the first page, instead of an error.
    beyond = client.get("/dashboard/?page=99").content.decode()
    assert "No hay sesiones más antiguas." in beyond and 'href="?page=98"' in beyond
    assert history_ids(client.get("/dashboard/?page=abc")) == history_ids(first)
    assert history_ids(client.get("/dashboard/?page=-4")) == history_ids(first)


def test_exactly_a_page_of_history_offers_no_older_page(client, patient, make_reservation):
    for i in range(10):
        make_reservation(patient, NOW - timedelta(days=i + 1))
    client.force_login(patient)
    html = client.get("/dashboard/").content.decode()
    assert 'class="pager"' not in html


def test_htmx_paging_returns_only_the_history_block(client, patient, make_reservation):
    for i in range(15):
        make_reservation(patient, NOW - timedelta(days=i + 1))
    client.force_login(patient)
    r = client.get("/dashboard/?page=2", headers={"HX-Request": "true", "HX-Target": "history"})
    html = r.content.decode()
    assert r.status_code == 200
    assert html.lstrip().startswith('<section id="history"')
    assert "<html" not in html
    assert html.count("data-reservation-id=") == 5


def test_it_never_shows_another_patients_reservations(
    client, patient, other_patient, make_reservation, frozen_now
):
    mine = make_reservation(patient, NOW + timedelta(days=3))
    theirs = make_reservation(other_patient, NOW + timedelta(days=2))
    theirs_past = make_reservation(other_patient, NOW - timedelta(days=2))
    client.force_login(patient)
    html = client.get("/dashboard/").content.decode()
    assert str(mine.pk) in html
    assert str(theirs.pk) not in html
    assert str(theirs_past.pk) not in html
    assert "martin@example.com" not in html


def test_the_number_of_queries_does_not_grow_with_history(
    client, patient, make_reservation, django_user_model, frozen_now
):
    make_reservation(patient, NOW + timedelta(days=3))
    client.force_login(patient)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/dashboard/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(60):
        make_reservation(patient, NOW - timedelta(days=i + 1))
    for i in range(30):
        make_reservation(patient, NOW + timedelta(days=i + 4), modality="Presencial")
    # Seen by several professionals, each with their own profile: still one query for them all.
    for i in range(3):
        pro = django_user_model.objects.create_user(
            email=f"pro{i}@example.com", first_name=f"Pro{i}"
        )
        ProfessionalProfile.objects.create(user=pro, display_name=f"Lic. Pro {i}")
        make_reservation(patient, NOW - timedelta(hours=2 + i), minutes=30, pro=pro)
    html = client.get("/dashboard/").content.decode()
    assert all(f"Lic. Pro {i}" in html for i in range(3))
    # session, user, upcoming sessions, history page, the professionals on the page
    assert few == count() == 5


def test_times_are_shown_in_the_patients_time_zone(client, patient, make_reservation, frozen_now):
    patient.time_zone = "Europe/Madrid"
    patient.save()
    make_reservation(patient, NOW + timedelta(days=3))
    client.force_login(patient)
    card = _section(client.get("/dashboard/"), "upcoming")
    # 15:00 UTC is 16:00 in Madrid in March (CET, before the DST change on the 29th).
    assert "viernes 13 de marzo, 16:00 – 16:45 (45 min)" in card


def test_near_turns_read_today_and_tomorrow(client, patient, make_reservation, frozen_now):
    make_reservation(patient, NOW + timedelta(hours=3))
    make_reservation(patient, NOW + timedelta(days=1))
    client.force_login(patient)
    html = _section(client.get("/dashboard/"), "upcoming")
    assert "hoy, 15:00 – 15:45 (45 min)" in html
    assert "mañana, 12:00 – 12:45 (45 min)" in html


def _section(response, element_id):
    """The HTML of the element with this id (up to the end of its <section>)."""
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    end = html.index("</section>", start)
    return html[start:end]


def test_a_change_made_anywhere_shows_on_the_next_visit(
    client, patient, professional, make_reservation, frozen_now
):
    # Nothing a patient sees is cached: a write that no view of ours made (a shell, psql, a
    # bulk update) is on the very next page.
    turn = make_reservation(patient, NOW + timedelta(days=5))
    client.force_login(patient)
    assert "Lic. Carolina Gómez" in _section(client.get("/dashboard/"), "upcoming")
    Reservation.objects.filter(pk=turn.pk).update(status="CANCELLED")
    type(professional.professional_profile).objects.filter(user=professional).update(
        display_name="Dra. Carolina Gómez"
    )
    r = client.get("/dashboard/")
    assert "No tenés turnos próximos." in _section(r, "upcoming")
    assert "Dra. Carolina Gómez" in _section(r, "history")


@pytest.mark.parametrize("htmx", [False, True])
def test_no_page_with_a_patients_sessions_is_stored_by_a_browser_or_proxy(
    client, patient, make_reservation, htmx
):
    turn = make_reservation(patient, NOW + timedelta(days=5))
    client.force_login(patient)
    headers = {"HX-Request": "true", "HX-Target": "history"} if htmx else {}
    for path in ["/dashboard/", "/dashboard/?page=2", f"/reservations/{turn.pk}/", "/preferences/"]:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        cache_control = response["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, path
    # The dashboard's answer differs by HX-Request (a block or the whole page): a cache that
    # kept one must not serve it for the other.
    assert "HX-Request" in client.get("/dashboard/", headers=headers)["Vary"]
