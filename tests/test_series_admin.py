"""Series in the admin, through HTTP with CSRF checked: a preview of every date and its clashes
before anything is saved, consent to skip, and "this and later" from the series or a session."""

import re
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission

from reservations.actions import Actor
from reservations.models import Reservation, ReservationEvent
from series.models import Series, SkippedOccurrence
from series.planning import plan_digest
from series.services import create_series, preview_series

from .conftest import CSRF_TOKEN, csrf_client, make_user

pytestmark = pytest.mark.django_db

ADD = "/admin/series/series/add/"
BA = zoneinfo.ZoneInfo("America/Argentina/Buenos_Aires")


def at(day, hour, minute=0):
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=BA)


@pytest.fixture
def admin(staff):
    return csrf_client(staff)


@pytest.fixture
def form(patient, professional):
    return {
        "client": str(patient.pk),
        "professional": str(professional.pk),
        "weekday": "1",
        "local_time": "18:00",
        "minutes": "45",
        "session_modality": "Virtual",
        "interval_weeks": "1",
        "starts_on": "2026-03-10",
        "ends_on": "",
        "count": "",
        "csrfmiddlewaretoken": CSRF_TOKEN,
    }


def fields_of(form):
    from accounts.models import User

    return {
        "client": User.objects.get(pk=form["client"]),
        "professional": User.objects.get(pk=form["professional"]),
        "weekday": int(form["weekday"]),
        "local_time": time(18, 0),
        "minutes": 45,
        "session_modality": "Virtual",
        "starts_on": date(2026, 3, 10),
    }


@pytest.fixture
def clash(other_patient, make_reservation):
    """The professional's session with another patient on Tuesday 24 March at 18:00."""
    return make_reservation(other_patient, at("2026-03-24", 18))


def test_the_add_page_asks_for_the_series(admin, frozen_now):
    r = admin.get(ADD)
    assert r.status_code == 200
    html = r.content.decode()
    for name in ("client", "professional", "weekday", "local_time", "starts_on", "count"):
        assert f'name="{name}"' in html
    assert 'name="_preview"' in html and 'name="_confirm"' not in html


def test_the_preview_lists_each_date_and_its_clashes_and_saves_nothing(
    admin, form, clash, frozen_now
):
    r = admin.post(ADD, {**form, "_preview": "1"})
    assert r.status_code == 200
    html = r.content.decode()
    assert len(r.context["step"].plan) == 12
    assert [p.index for p in r.context["step"].clashing] == [2]
    assert "martes 24/03/2026 18:00" in html
    assert "Martín" in html  # whom it clashes with
    # The clashing date, and only it, has its box to skip it.
    assert re.findall(r'name="skip" value="(\d+)"', html) == ["2"]
    assert Series.objects.count() == 0 and Reservation.objects.count() == 1


def test_confirming_a_series_without_clashes_creates_it(admin, form, staff, frozen_now):
    preview = admin.post(ADD, {**form, "_preview": "1"})
    digest = preview.context["step"].digest
    r = admin.post(ADD, {**form, "_confirm": "1", "digest": digest})
    series = Series.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(
        f"/admin/series/series/{series.pk}/change/"
    )
    assert series.occurrences.count() == 12
    assert series.created_by == staff
    page = admin.get(r["Location"]).content.decode()
    assert "Semanal · martes 18:00" in page
    assert "Cancelar esta sesión y las siguientes" in page


def test_clashes_are_skipped_only_when_ticked(admin, form, staff, clash, frozen_now):
    digest = admin.post(ADD, {**form, "_preview": "1"}).context["step"].digest
    refused = admin.post(ADD, {**form, "_confirm": "1", "digest": digest})
    assert refused.status_code == 200
    assert "marcá cada una que aceptes saltear" in refused.content.decode()
    assert Series.objects.count() == 0

    r = admin.post(ADD, {**form, "_confirm": "1", "digest": digest, "skip": "2"})
    assert r.status_code == 302
    series = Series.objects.get()
    assert series.occurrences.count() == 11
    skipped = SkippedOccurrence.objects.get()
    assert (skipped.index, skipped.consented_by) == (2, staff)
    assert Reservation.objects.get(pk=clash.pk).status == "CONFIRMED"


def test_a_clash_that_appeared_after_the_preview_is_shown_again_never_saved(
    admin, form, other_patient, make_reservation, clash, frozen_now
):
    digest = admin.post(ADD, {**form, "_preview": "1"}).context["step"].digest
    make_reservation(other_patient, at("2026-04-07", 18))  # booked meanwhile
    r = admin.post(ADD, {**form, "_confirm": "1", "digest": digest, "skip": "2"})
    assert r.status_code == 200
    assert [p.index for p in r.context["step"].clashing] == [2, 4]
    assert Series.objects.count() == 0


def test_adding_needs_the_csrf_token(admin, form, frozen_now):
    r = admin.post(ADD, {**form, "_preview": "1", "csrfmiddlewaretoken": ""})
    assert r.status_code == 403


def test_invalid_fields_are_shown_with_the_form(admin, form, frozen_now):
    r = admin.post(ADD, {**form, "count": "4", "ends_on": "2026-05-01", "_preview": "1"})
    assert r.status_code == 200
    assert r.context["step"] is None
    assert "count" in r.context["form"].errors
    assert Series.objects.count() == 0


@pytest.fixture
def series(form, staff, frozen_now):
    return create_series(**fields_of(form), by=Actor.staff(staff))


def test_cancel_this_and_later_from_the_series_page(admin, series, staff, frozen_now):
    url = f"/admin/series/series/{series.pk}/cancel-from/"
    page = admin.get(f"{url}?from=4")
    assert page.status_code == 200
    assert len(page.context["sessions"]) == 8  # sessions 5 to 12
    r = admin.post(url, {"from": "4", "reason": "Alta", "csrfmiddlewaretoken": CSRF_TOKEN})
    assert r.status_code == 302
    statuses = dict(series.occurrences.values_list("index", "reservation__status"))
    assert [statuses[i] for i in range(12)] == ["CONFIRMED"] * 4 + ["CANCELLED"] * 8
    series.refresh_from_db()
    assert not series.active and series.end_reason == "Alta" and series.ended_by == staff


def test_move_this_and_later_refuses_a_clash_unless_skipped(
    admin, series, staff, other_patient, make_reservation, frozen_now
):
    make_reservation(other_patient, at("2026-04-09", 10))  # Thursday 10:00
    url = f"/admin/series/series/{series.pk}/move-from/"
    query = {"from": "2", "weekday": "3", "local_time": "10:00", "minutes": "45"}
    preview = admin.get(url, query)
    assert preview.status_code == 200
    assert [p.index for p in preview.context["step"].clashing] == [4]
    assert "jueves 09/04/2026 10:00" in preview.content.decode()
    post = {**query, "digest": preview.context["step"].digest, "csrfmiddlewaretoken": CSRF_TOKEN}
    before = list(Reservation.objects.order_by("pk").values_list("start_time", flat=True))

    refused = admin.post(url, post)
    assert refused.status_code == 200 and refused.context["step"].error
    assert list(Reservation.objects.order_by("pk").values_list("start_time", flat=True)) == before
    assert not ReservationEvent.objects.filter(action="rescheduled").exists()

    r = admin.post(url, {**post, "skip": "4"})
    assert r.status_code == 302
    moved = series.occurrences.get(index=2).reservation
    assert moved.start_time == at("2026-03-26", 10)
    assert moved.events.get(action="rescheduled").actor == staff
    assert series.occurrences.get(index=4).reservation.start_time == at("2026-04-07", 18)
    assert SkippedOccurrence.objects.get().action == "move"


def test_a_session_page_leads_to_this_and_later(admin, series, frozen_now):
    third = series.occurrences.get(index=2).reservation
    page = admin.get(f"/admin/reservations/reservation/{third.pk}/change/").content.decode()
    assert f"/admin/series/series/{series.pk}/cancel-from/?from=2" in page
    assert f"/admin/series/series/{series.pk}/move-from/?from=2" in page
    assert "Semanal · martes 18:00" in page
    r = admin.post(
        "/admin/reservations/reservation/",
        {
            "action": "move_series_from",
            "_selected_action": [str(third.pk)],
            "csrfmiddlewaretoken": CSRF_TOKEN,
        },
    )
    assert r.status_code == 302
    assert r["Location"] == f"/admin/series/series/{series.pk}/move-from/?from=2"


def test_staff_without_permission_cannot_touch_a_series(series, frozen_now):
    clerk = make_user("clerk@example.com", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_series"))
    client = csrf_client(clerk)
    url = f"/admin/series/series/{series.pk}/cancel-from/"
    assert client.get(url).status_code == 403
    r = client.post(url, {"from": "0", "csrfmiddlewaretoken": CSRF_TOKEN})
    assert r.status_code == 403
    assert client.get(ADD).status_code == 403
    assert not Reservation.objects.filter(status="CANCELLED").exists()


def test_a_patient_is_sent_to_the_login(patient, series, frozen_now):
    r = csrf_client(patient).get(f"/admin/series/series/{series.pk}/move-from/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_the_digest_changes_with_any_date_or_clash(form, clash, frozen_now):
    _, plan = preview_series(**fields_of(form))
    assert plan_digest(plan) != plan_digest(plan[:-1])
    moved = [plan[0]._replace(start=plan[0].start + timedelta(minutes=30)), *plan[1:]]
    assert plan_digest(plan) != plan_digest(moved)


def test_the_list_and_the_page_show_the_rule_and_what_the_worker_skipped(
    admin, series, other_patient, make_reservation
):
    import time_machine

    from series.services import extend_all_series

    make_reservation(other_patient, at("2026-06-02", 18))  # taken before the worker got there
    with time_machine.travel(at("2026-03-17", 12), tick=False):
        extend_all_series()
        listing = admin.get("/admin/series/series/").content.decode()
        page = admin.get(f"/admin/series/series/{series.pk}/change/").content.decode()
    assert "Semanal · martes 18:00" in listing and "Lucía" in listing
    assert "Nadie: la encontró el proceso automático, para revisar" in page
    assert "Sesión del profesional con Martín" in page


def test_the_series_event_log_reads_in_words(
    admin, series, other_patient, make_reservation, frozen_now
):
    make_reservation(other_patient, at("2026-04-09", 10))  # Thursday 10:00, skipped below
    url = f"/admin/series/series/{series.pk}/move-from/"
    query = {"from": "2", "weekday": "3", "local_time": "10:00", "minutes": "45"}
    preview = admin.get(url, query)
    post = {**query, "digest": preview.context["step"].digest, "csrfmiddlewaretoken": CSRF_TOKEN}
    assert admin.post(url, {**post, "skip": "4"}).status_code == 302
    html = admin.get(f"/admin/series/series/{series.pk}/change/").content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Día de la semana: martes → jueves" in text
    assert "Hora: 18:00 → 10:00" in text
    assert "45 → 45" not in text  # what did not change is not listed
    assert "&quot;weekday&quot;" not in html and '{"weekday"' not in html
