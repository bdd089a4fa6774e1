"""The dashboard is served from a cache, and a cached page is never out of date.

A page comes from the cache only while it is exactly what rendering it would show: any change to
what it shows (by any door, down to raw SQL) or the clock crossing a moment that changes it
(a deadline, a session starting or ending, midnight) makes it render again.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile, User
from reservations import pagecache
from reservations.models import Reservation

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user

pytestmark = pytest.mark.django_db

# What a visit costs when the page comes from the cache: the session and the user.
CACHED_QUERIES = 2
RENDERED_QUERIES = 5  # and the current turn, the history count and the history page


def _visit(client, path="/dashboard/", **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


def _text(response):
    # Each render masks the CSRF token anew; the secret behind it is the same.
    return re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]+"', r"\1", response.content.decode())


def _fresh(client, path="/dashboard/", **headers):
    pagecache.clear()
    response, queries = _visit(client, path, **headers)
    assert queries > CACHED_QUERIES
    return _text(response)


def test_a_second_visit_is_served_from_the_cache(client, patient, make_reservation):
    make_reservation(patient, NOW + timedelta(days=30))
    client.force_login(patient)
    first, first_queries = _visit(client)
    again, again_queries = _visit(client)
    assert (first_queries, again_queries) == (RENDERED_QUERIES, CACHED_QUERIES)
    assert _text(again) == _text(first)
    assert "Lucía" in again.content.decode()


def test_patients_never_get_each_others_pages(client, patient, other_patient, make_reservation):
    make_reservation(patient, NOW + timedelta(days=30))
    make_reservation(other_patient, NOW + timedelta(days=31))
    for _ in range(2):
        for user, name, other in ((patient, "Lucía", "Martín"), (other_patient, "Martín", "Lucía")):
            client.force_login(user)
            page = client.get("/dashboard/").content.decode()
            assert name in page and other not in page
            mine = Reservation.objects.get(client=user).pk
            assert f'data-reservation-id="{mine}"' in page


def _raw_sql_update(reservation):
    pk = Reservation._meta.pk.get_db_prep_value(reservation.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reservations_reservation SET session_modality = %s WHERE id = %s",
            ["Presencial", pk],
        )


CHANGES = {
    "cancelled by the patient": lambda r, **_: r.cancel(by=r.client, channel="page"),
    "status changed by a queryset update": lambda r, **_: Reservation.objects.filter(
        pk=r.pk
    ).update(status="PENDING"),
    "modality changed with raw SQL": lambda r, **_: _raw_sql_update(r),
    "time changed by a save": lambda r, **_: (
        setattr(r, "start_time", r.start_time + timedelta(hours=1)),
        setattr(r, "end_time", r.end_time + timedelta(hours=1)),
        r.save(),
    ),
    "a new reservation": lambda r, make, **_: make(r.client, NOW + timedelta(days=20)),
    "a reservation deleted": lambda r, **_: Reservation.objects.filter(pk=r.pk).delete(),
    "the professional's display name": lambda r, **_: ProfessionalProfile.objects.filter(
        user=r.professional
    ).update(display_name="Dra. Carolina Gómez"),
    "the professional's notice": lambda r, **_: ProfessionalProfile.objects.filter(
        user=r.professional
    ).update(cancellation_notice_hours=24 * 60),
    "the professional's specialty, saved": lambda r, **_: (
        setattr(r.professional.professional_profile, "specialty", "Psicopedagogía"),
        r.professional.professional_profile.save(),
    ),
    "the professional's profile removed": lambda r, **_: ProfessionalProfile.objects.filter(
        user=r.professional
    ).delete(),
    "the patient's own name": lambda r, **_: User.objects.filter(pk=r.client_id).update(
        first_name="Lu"
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_made_through_any_door_shows_on_the_next_visit(
    change, client, patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=30))
    make_reservation(patient, NOW - timedelta(days=3))
    client.force_login(patient)
    before = _text(_visit(client)[0])
    assert _visit(client)[1] == CACHED_QUERIES

    CHANGES[change](reservation, make=make_reservation)

    after, queries = _visit(client)
    assert queries == RENDERED_QUERIES, "a changed page must be rendered again"
    assert _text(after) != before
    assert _text(after) == _fresh(client)


def test_a_professionals_own_name_shows_at_once_where_there_is_no_profile_name(
    client, patient, make_reservation, frozen_now
):
    pro = make_user("perez@example.com", first_name="Ana", last_name="Pérez")
    make_reservation(patient, NOW + timedelta(days=30), pro=pro)
    client.force_login(patient)
    assert "Ana Pérez" in client.get("/dashboard/").content.decode()
    User.objects.filter(pk=pro.pk).update(last_name="Pérez Vidal")
    assert "Ana Pérez Vidal" in client.get("/dashboard/").content.decode()


def test_an_old_copy_of_the_user_saved_later_does_not_bring_back_an_old_page(
    patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=30))
    stale = User.objects.get(pk=patient.pk)
    reservation.cancel(by=patient, channel="page")
    version = User.objects.get(pk=patient.pk).page_version
    assert version != stale.page_version
    stale.save()  # e.g. an admin form opened before the cancel
    assert User.objects.get(pk=patient.pk).page_version == version


def test_a_cached_page_is_what_rendering_it_would_show_at_every_moment(
    client, patient, make_reservation
):
    # Around NOW (12:00 in Buenos Aires): a session starting in 10 minutes (the current turn goes
    # live, then ends), one whose 48 h deadline passes in 30 minutes, one at 00:30 the day after
    # tomorrow ("mañana" becomes "hoy" at midnight), one next week and a past one.
    for start in (
        NOW + timedelta(minutes=10),
        NOW + timedelta(hours=48, minutes=30),
        NOW + timedelta(hours=36, minutes=30),
        NOW + timedelta(days=7),
        NOW - timedelta(days=2),
    ):
        make_reservation(patient, start, minutes=50)
    client.force_login(patient)
    served_from_cache = 0
    with time_machine.travel(NOW, tick=False) as traveller:
        # Every 13 minutes for three days: across each start, end, deadline and midnight.
        for _ in range(3 * 24 * 60 // 13):
            traveller.shift(timedelta(minutes=13))
            served, queries = _visit(client)
            served_from_cache += queries == CACHED_QUERIES
            assert _text(served) == _fresh(client)
    # Most visits did come from the cache; the rest were the moments the page changed.
    assert served_from_cache > 250


def test_the_deadline_passing_shows_without_any_change_in_the_database(
    client, patient, make_reservation
):
    make_reservation(patient, NOW + timedelta(hours=48, minutes=5))
    client.force_login(patient)
    with time_machine.travel(NOW, tick=False) as traveller:
        assert 'class="cancel-form"' in client.get("/dashboard/").content.decode()
        traveller.shift(timedelta(minutes=4, seconds=59))
        assert _visit(client)[1] == CACHED_QUERIES
        traveller.shift(timedelta(seconds=2))
        page = client.get("/dashboard/").content.decode()
    assert 'class="cancel-form"' not in page
    assert "turn__note--notice" in page


def test_each_browser_gets_forms_that_its_own_csrf_cookie_accepts(
    patient, make_reservation, frozen_now
):
    reservation = make_reservation(patient, NOW + timedelta(days=30), status="PENDING")
    first = csrf_client(patient)
    first.get("/dashboard/")
    second = csrf_client(patient)
    second.cookies["csrftoken"] = "Another0CsrfSecret0ForTests01234"
    page = second.get("/dashboard/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = second.post(
        f"/reservations/{reservation.pk}/cancel/", {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    reservation.refresh_from_db()
    assert reservation.status == "CANCELLED"
    assert second.cookies["csrftoken"].value != CSRF_TOKEN


def test_language_time_zone_and_page_each_have_their_own_page(
    client, patient, professional, make_reservation, frozen_now
):
    make_reservation(patient, NOW + timedelta(days=30))
    client.force_login(patient)
    spanish = client.get("/dashboard/").content.decode()
    english = client.get("/dashboard/", headers={"Accept-Language": "en"}).content.decode()
    assert "Hola" in spanish and "Hello" in english
    assert "Hola" in client.get("/dashboard/").content.decode()

    # 9 April, 15:00 UTC: 12:00 in Buenos Aires, 17:00 in Madrid.
    assert "12:00 – 12:45" in spanish
    User.objects.filter(pk=patient.pk).update(time_zone="Europe/Madrid")
    madrid = client.get("/dashboard/").content.decode()
    assert "17:00 – 17:45" in madrid and "12:00 – 12:45" not in madrid


def test_the_history_fragment_and_the_whole_page_are_cached_apart(
    client, patient, make_reservation
):
    for i in range(25):
        make_reservation(patient, NOW - timedelta(days=i + 1))
    client.force_login(patient)
    whole = client.get("/dashboard/?page=2").content.decode()
    fragment, queries = _visit(client, "/dashboard/?page=2", HX_Request="true", HX_Target="history")
    assert queries == RENDERED_QUERIES - 1
    assert fragment.content.decode().lstrip().startswith('<section id="history"')
    assert "<html" in whole
    again, queries = _visit(client, "/dashboard/?page=2", HX_Request="true", HX_Target="history")
    assert queries == CACHED_QUERIES and again.content == fragment.content


def test_a_one_time_message_is_shown_once_and_never_cached(patient, make_reservation, frozen_now):
    reservation = make_reservation(patient, NOW + timedelta(days=30))
    browser = csrf_client(patient)
    browser.get("/dashboard/")
    browser.post(f"/reservations/{reservation.pk}/cancel/", {"csrfmiddlewaretoken": CSRF_TOKEN})
    with_message = browser.get("/dashboard/").content.decode()
    assert "flash--success" in with_message
    assert "flash--success" not in browser.get("/dashboard/").content.decode()
    assert "flash--success" not in browser.get("/dashboard/").content.decode()


def test_the_page_is_rendered_when_the_cache_fails(client, patient, make_reservation, monkeypatch):
    make_reservation(patient, NOW + timedelta(days=30))
    client.force_login(patient)

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    response, queries = _visit(client)
    assert queries == RENDERED_QUERIES
    assert "Lucía" in response.content.decode()


def test_the_api_list_is_cached_and_shows_a_cancel_at_once(client, patient, make_reservation):
    with time_machine.travel(NOW, tick=False):
        reservation = make_reservation(patient, NOW + timedelta(days=30))
        client.force_login(patient)
        path = f"/api/reservations/user/{patient.pk}"
        first, first_queries = _visit(client, path)
        again, again_queries = _visit(client, path)
        assert again_queries < first_queries
        assert again.content == first.content
        assert again["Content-Type"] == first["Content-Type"] == "application/json; charset=utf-8"
        assert "no-store" in again["Cache-Control"]
        assert first.json()["data"][0]["status"] == "CONFIRMED"

        reservation.cancel(by=patient, channel="page")
        after, queries = _visit(client, path)
    assert queries == first_queries
    assert after.json()["data"][0]["status"] == "CANCELLED"


def test_staff_reading_a_patients_api_list_always_read_the_database(
    client, staff, patient, make_reservation
):
    reservation = make_reservation(patient, NOW + timedelta(days=30))
    client.force_login(staff)
    path = f"/api/reservations/user/{patient.pk}"
    assert client.get(path).json()["data"][0]["status"] == "CONFIRMED"
    Reservation.objects.filter(pk=reservation.pk).update(status="PENDING")
    assert client.get(path).json()["data"][0]["status"] == "PENDING"


def test_a_process_keeps_its_recent_pages_within_its_byte_budget():
    recent = pagecache._Recent(max_bytes=1000)
    for i in range(10):
        recent.put(f"k{i}", (NOW, b"x" * 200))
    assert recent.get("k0") is None  # the oldest went first
    assert recent.get("k9") == (NOW, b"x" * 200)
    kept = [i for i in range(10) if recent.get(f"k{i}")]
    assert kept == [5, 6, 7, 8, 9]
    recent.put("big", (NOW, b"x" * 300))  # more than a quarter of the budget: not kept
    assert recent.get("big") is None
