"""Weekly series from the professional's agenda (/agenda/series/new/, and "this and later" from a
session's page), through HTTP with CSRF checked and the database read after each request. The
agenda calls the series' own functions, as the admin does: every date is listed with its clashes
first, a clash is skipped only when ticked, and each skip is recorded. The patient is one of the
professional's own; anything else of another professional's is a 404 like a missing id."""

import re
import uuid
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile
from reservations.actions import Actor
from reservations.models import Reservation, ReservationEvent
from series.models import Occurrence, Series, SeriesEvent, SkippedOccurrence
from series.services import create_series

from .conftest import CSRF_TOKEN, csrf_client, make_user

pytestmark = pytest.mark.django_db

NEW = "/agenda/series/new/"
BA = zoneinfo.ZoneInfo("America/Argentina/Buenos_Aires")
MISSING = uuid.UUID("00000000-0000-4000-8000-000000000000")


def at(day, hour, minute=0):
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=BA)


def post(client, path, data):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data})


def without_tokens(html):
    # Each render masks the CSRF token anew: the rest of two answers must match.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


@pytest.fixture
def pro(professional):
    return csrf_client(professional)


@pytest.fixture
def ruiz(db):
    user = make_user("ruiz@example.com", first_name="Ruiz", factor=True)
    ProfessionalProfile.objects.create(user=user, display_name="Dr. Ruiz")
    return user


@pytest.fixture
def seen(patient, make_reservation, frozen_now):
    """Lucía's session last week: she is one of Lic. Gómez's patients."""
    return make_reservation(patient, at("2026-03-03", 18))


@pytest.fixture
def form(patient, seen):
    """Tuesdays at 18:00 from Tuesday 10 March 2026 (today, at noon): 12 dates to the horizon."""
    return {
        "client": str(patient.pk),
        "weekday": "1",
        "local_time": "18:00",
        "minutes": "45",
        "session_modality": "Virtual",
        "interval_weeks": "1",
        "starts_on": "2026-03-10",
        "ends_on": "",
        "count": "",
    }


@pytest.fixture
def clash(other_patient, make_reservation, frozen_now):
    """Lic. Gómez's session with Martín on Tuesday 24 March at 18:00: the third date."""
    return make_reservation(other_patient, at("2026-03-24", 18))


def preview(client, form):
    r = post(client, NEW, {**form, "_preview": "1"})
    assert r.status_code == 200
    return r, re.search(r'name="digest" value="(\w+)"', r.content.decode())[1]


def saved():
    return (
        Series.objects.count(),
        Occurrence.objects.count(),
        SkippedOccurrence.objects.count(),
        SeriesEvent.objects.count(),
        list(Reservation.objects.order_by("pk").values_list("pk", "status", "start_time")),
    )


# Creating a series


def test_the_agenda_head_links_to_a_new_series(pro, frozen_now):
    html = pro.get("/agenda/").content.decode()
    assert f'href="{NEW}"' in html and "Nueva serie semanal" in html


def test_the_form_offers_only_their_own_patients_and_no_professional(
    pro, seen, other_patient, ruiz, make_reservation
):
    make_reservation(other_patient, at("2026-03-12", 10), pro=ruiz)  # Martín sees Dr. Ruiz only
    r = pro.get(NEW)
    assert r.status_code == 200
    html = r.content.decode()
    for name in ("client", "weekday", "local_time", "minutes", "starts_on", "ends_on", "count"):
        assert f'name="{name}"' in html
    assert 'name="professional"' not in html
    assert "lucia@example.com" in html
    assert "martin@example.com" not in html and "Martín" not in html
    assert 'name="_confirm"' not in html


def test_the_preview_lists_each_date_and_its_clashes_and_saves_nothing(pro, form, clash):
    before = saved()
    r, _digest = preview(pro, form)
    html = r.content.decode()
    assert html.count('class="plan-list__item') == 12
    assert html.count("plan-list__item--clash") == 1
    assert "martes 24 de marzo, 18:00 – 18:45" in html
    assert "Tu sesión con Martín" in html  # their own session, their own patient: named
    assert 'name="skip" value="2"' in html
    assert 'name="_confirm"' in html
    assert saved() == before


def test_their_own_time_off_reads_as_theirs(pro, form, professional):
    from scheduling.models import TimeOff

    TimeOff.objects.create(
        professional=professional,
        start=at("2026-03-31", 0),
        end=at("2026-04-01", 0),
        reason="Congreso",
    )
    html = preview(pro, form)[0].content.decode()
    assert "Tu ausencia (Congreso), 31/03/2026 00:00 – 01/04/2026 00:00" in html


def test_a_professional_creates_a_series(pro, form, professional, patient):
    _r, digest = preview(pro, form)
    r = post(pro, NEW, {**form, "_confirm": "1", "digest": digest})
    assert r.status_code == 302 and r["Location"] == "/agenda/?date=2026-03-10"
    series = Series.objects.get()
    assert (series.professional, series.client, series.created_by) == (
        professional,
        patient,
        professional,
    )
    assert series.time_zone == "America/Argentina/Buenos_Aires"
    starts = [o.reservation.start_time for o in series.occurrences.order_by("index")]
    assert starts == [at("2026-03-10", 18) + timedelta(weeks=n) for n in range(12)]
    event = SeriesEvent.objects.get()
    assert (event.action, event.actor, event.channel) == ("created", professional, "agenda")
    assert event.changes == {"skipped": []}
    booked = ReservationEvent.objects.filter(
        action="created", reservation__occurrence__series=series
    )
    assert booked.count() == 12
    assert set(booked.values_list("channel", "actor")) == {("agenda", professional.pk)}
    assert set(series.occurrences.values_list("reservation__status", flat=True)) == {"CONFIRMED"}
    week = pro.get(r["Location"]).content.decode()
    assert "Serie creada con 12 sesiones." in week


def test_a_clash_without_consent_is_refused_and_nothing_is_saved(pro, form, clash):
    _r, digest = preview(pro, form)
    before = saved()
    r = post(pro, NEW, {**form, "_confirm": "1", "digest": digest})
    assert r.status_code == 200
    assert "marcá cada una que aceptes saltear" in r.content.decode()
    assert saved() == before
    # Ticking another date is not consent to skip this one.
    r = post(pro, NEW, {**form, "_confirm": "1", "digest": digest, "skip": ["3"]})
    assert r.status_code == 200 and saved() == before


def test_a_ticked_clash_is_skipped_and_recorded(pro, form, clash, professional):
    _r, digest = preview(pro, form)
    r = post(pro, NEW, {**form, "_confirm": "1", "digest": digest, "skip": ["2"]})
    assert r.status_code == 302
    series = Series.objects.get()
    assert sorted(series.occurrences.values_list("index", flat=True)) == [
        0,
        1,
        *range(3, 12),
    ]
    skipped = SkippedOccurrence.objects.get()
    assert (skipped.index, skipped.action, skipped.consented_by) == (2, "create", professional)
    assert "Martín" in skipped.reason
    assert SeriesEvent.objects.get().changes == {"skipped": [2]}
    clash.refresh_from_db()
    assert (clash.status, clash.start_time) == ("CONFIRMED", at("2026-03-24", 18))


def test_a_series_session_lists_the_dates_left_out_and_who_agreed(pro, form, clash, professional):
    _r, digest = preview(pro, form)
    post(pro, NEW, {**form, "_confirm": "1", "digest": digest, "skip": ["2"]})
    series = Series.objects.get()
    # One more date the worker could not create while extending: nobody agreed.
    SkippedOccurrence.objects.create(
        series=series,
        index=20,
        start=at("2026-07-28", 18),
        end=at("2026-07-28", 18, 45),
        action="create",
        reason="Clash",
    )
    first = series.occurrences.get(index=0).reservation
    html = pro.get(f"/agenda/{first.pk}/").content.decode()
    assert "Fechas salteadas" in html
    assert "martes 24 de marzo, 18:00: la salteaste vos" in html
    assert "martes 28 de julio, 18:00: <strong>chocaba cuando se extendió la serie" in html
    assert "Clash" not in html  # the stored staff wording may name another professional


def test_a_clash_that_appeared_after_the_preview_is_shown_again_never_saved(
    pro, form, clash, other_patient, make_reservation
):
    _r, digest = preview(pro, form)
    make_reservation(other_patient, at("2026-04-07", 18))  # booked meanwhile
    before = saved()
    r = post(pro, NEW, {**form, "_confirm": "1", "digest": digest, "skip": ["2"]})
    assert r.status_code == 200
    html = r.content.decode()
    assert "Las fechas cambiaron desde la vista previa" in html
    assert html.count("plan-list__item--clash") == 2
    assert "checked" not in html  # the ticks were for the plan that changed
    assert saved() == before


def test_a_clash_booked_between_the_check_and_the_save_is_shown_again(
    pro, form, other_patient, make_reservation, monkeypatch
):
    """A booking that lands after the view compared the digests: create_series finds it and
    refuses (SeriesClash); the page shows the plan as it is now, never an error page."""
    from agenda import views
    from series.services import preview_series

    def preview_then_someone_books(**fields):
        result = preview_series(**fields)
        if not Reservation.objects.filter(client=other_patient).exists():
            make_reservation(other_patient, at("2026-04-14", 18))
        return result

    _r, digest = preview(pro, form)
    monkeypatch.setattr(views, "preview_series", preview_then_someone_books)
    r = post(pro, NEW, {**form, "_confirm": "1", "digest": digest})
    assert r.status_code == 200
    html = r.content.decode()
    assert "Las fechas cambiaron desde la vista previa" in html
    assert 'name="skip" value="5"' in html
    assert Series.objects.count() == 0 and Occurrence.objects.count() == 0


def test_a_patient_not_theirs_is_refused_exactly_like_an_unknown_id(
    pro, form, other_patient, ruiz, make_reservation
):
    make_reservation(other_patient, at("2026-03-12", 10), pro=ruiz)
    before = saved()
    theirs = post(pro, NEW, {**form, "client": str(other_patient.pk), "_preview": "1"})
    unknown = post(pro, NEW, {**form, "client": str(MISSING), "_preview": "1"})
    garbage = post(pro, NEW, {**form, "client": "nobody", "_preview": "1"})
    assert theirs.status_code == unknown.status_code == garbage.status_code == 400
    assert without_tokens(theirs.content.decode()) == without_tokens(unknown.content.decode())
    assert "Martín" not in theirs.content.decode()
    assert 'name="_confirm"' not in theirs.content.decode()
    # Nor can a confirmation with a digest of its own make it.
    r = post(pro, NEW, {**form, "client": str(other_patient.pk), "_confirm": "1", "digest": "x"})
    assert r.status_code == 400
    assert saved() == before


def test_the_professional_is_always_the_one_signed_in(pro, form, ruiz, professional):
    data = {**form, "professional": str(ruiz.pk)}
    _r, digest = preview(pro, data)
    assert post(pro, NEW, {**data, "_confirm": "1", "digest": digest}).status_code == 302
    assert Series.objects.get().professional == professional


def test_invalid_fields_are_shown_with_the_form(pro, form):
    before = saved()
    r = post(pro, NEW, {**form, "count": "4", "ends_on": "2026-05-01", "_preview": "1"})
    assert r.status_code == 400
    assert "Indicá una fecha final o una cantidad de sesiones" in r.content.decode()
    assert saved() == before


def test_the_preview_queries_do_not_grow_with_the_dates(pro, form):
    # Session, user, profile; the chosen patient; the model's checks (the form's and the
    # preview's, constraints and foreign keys); the plan: the sessions in the way and the time
    # off, two queries for any number of dates; the patients to choose from.
    pro.get(NEW)  # the first agenda page marks the session (agenda/views.py, SESSION_KEY)
    counts = []
    for count in ("2", "12"):
        with CaptureQueriesContext(connection) as queries:
            r = post(pro, NEW, {**form, "count": count, "_preview": "1"})
        assert r.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_session_not_in_a_series_offers_to_repeat_it_prefilled(pro, seen, patient):
    html = pro.get(f"/agenda/{seen.pk}/").content.decode()
    assert f'href="{NEW}?session={seen.pk}"' in html and "Repetir semanalmente" in html
    html = pro.get(f"{NEW}?session={seen.pk}").content.decode()
    assert f'<option value="{patient.pk}" selected>' in html
    assert 'name="weekday"' in html and '<option value="1" selected>' in html
    assert 'value="18:00"' in html and 'value="45"' in html
    assert 'value="2026-03-10"' in html  # from the week after the session


def test_prefilling_from_another_professionals_session_is_a_404(
    pro, ruiz, other_patient, make_reservation, frozen_now
):
    theirs = make_reservation(other_patient, at("2026-03-12", 10), pro=ruiz)
    a, b = pro.get(f"{NEW}?session={theirs.pk}"), pro.get(f"{NEW}?session={MISSING}")
    assert a.status_code == b.status_code == 404 and a.content == b.content
    assert pro.get(f"{NEW}?session=nonsense").status_code == 404


# This and later, from a session's page


@pytest.fixture
def series(form, patient, professional):
    return create_series(
        client=patient,
        professional=professional,
        weekday=1,
        local_time=time(18),
        minutes=45,
        session_modality="Virtual",
        starts_on=date(2026, 3, 10),
        by=Actor.professional(professional),
    )


def session_of(series, index):
    return series.occurrences.get(index=index).reservation


def test_a_session_of_a_series_says_so_and_leads_to_this_and_later(pro, series):
    third = session_of(series, 2)
    html = pro.get(f"/agenda/{third.pk}/").content.decode()
    assert "Semanal · martes 18:00" in html and "sesión 3" in html
    assert f'href="/agenda/{third.pk}/series/cancel/"' in html
    assert f'href="/agenda/{third.pk}/series/move/"' in html
    assert "Cancelar esta y las siguientes" in html
    assert "Cambiar el horario de esta y las siguientes" in html
    assert "Repetir semanalmente" not in html


def test_cancel_this_and_later_from_the_agenda(pro, series, professional):
    fifth = session_of(series, 4)
    url = f"/agenda/{fifth.pk}/series/cancel/"
    page = pro.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('<li class="capfirst">') == 8  # sessions 5 to 12

    before = saved()
    assert post(pro, url, {"reason": "  "}).status_code == 400
    assert saved() == before

    r = post(pro, url, {"reason": "Alta terapéutica"})
    assert r.status_code == 302 and r["Location"] == f"/agenda/{fifth.pk}/"
    statuses = dict(series.occurrences.values_list("index", "reservation__status"))
    assert [statuses[i] for i in range(12)] == ["CONFIRMED"] * 4 + ["CANCELLED"] * 8
    series.refresh_from_db()
    assert (series.active, series.ended_by, series.end_reason) == (
        False,
        professional,
        "Alta terapéutica",
    )
    ended = SeriesEvent.objects.get(action="ended")
    assert (ended.from_index, ended.actor, ended.channel) == (4, professional, "agenda")
    fifth.refresh_from_db()
    assert (fifth.cancelled_by, fifth.cancellation_reason) == (professional, "Alta terapéutica")
    cancelled = fifth.events.get(action="cancelled")
    assert (cancelled.actor, cancelled.channel) == (professional, "agenda")
    html = pro.get(r["Location"]).content.decode()
    assert "8 sesiones canceladas; la serie terminó." in html
    assert "terminada" in html and f"/agenda/{fifth.pk}/series/move/" not in html


def test_move_this_and_later_lists_the_clashes_and_skips_only_the_ticked(
    pro, series, professional, other_patient, make_reservation
):
    make_reservation(other_patient, at("2026-04-09", 10))  # Thursday 10:00, the fifth week
    third = session_of(series, 2)
    url = f"/agenda/{third.pk}/series/move/"
    page = pro.get(url).content.decode()
    assert '<option value="1" selected>' in page and 'value="18:00"' in page
    query = {"weekday": "3", "local_time": "10:00", "minutes": "45"}
    before = saved()
    preview = post(pro, url, {**query, "_preview": "1"})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert html.count('class="plan-list__item') == 10  # sessions 3 to 12
    assert html.count("plan-list__item--clash") == 1
    assert "jueves 9 de abril, 10:00 – 10:45" in html and "Martín" in html
    assert "Ahora: martes 7 de abril, 18:00" in html
    digest = re.search(r'name="digest" value="(\w+)"', html)[1]
    assert saved() == before

    refused = post(pro, url, {**query, "_confirm": "1", "digest": digest})
    assert refused.status_code == 200 and "marcá cada una" in refused.content.decode()
    assert saved() == before
    assert not ReservationEvent.objects.filter(action="rescheduled").exists()

    r = post(pro, url, {**query, "_confirm": "1", "digest": digest, "skip": ["4"]})
    assert r.status_code == 302 and r["Location"] == f"/agenda/{third.pk}/"
    assert session_of(series, 1).start_time == at("2026-03-17", 18)
    assert session_of(series, 2).start_time == at("2026-03-26", 10)
    assert session_of(series, 4).start_time == at("2026-04-07", 18)  # skipped: its old time
    assert session_of(series, 11).start_time == at("2026-05-28", 10)
    moved = session_of(series, 2).events.get(action="rescheduled")
    assert (moved.actor, moved.channel) == (professional, "agenda")
    skipped = SkippedOccurrence.objects.get()
    assert (skipped.index, skipped.action, skipped.consented_by) == (4, "move", professional)
    event = SeriesEvent.objects.get(action="moved")
    assert (event.from_index, event.actor, event.channel) == (2, professional, "agenda")
    series.refresh_from_db()
    assert (series.weekday, series.local_time) == (3, time(10))
    assert "9 sesiones movidas." in pro.get(r["Location"]).content.decode()


def test_moving_with_a_stale_preview_shows_it_again(pro, series, other_patient, make_reservation):
    third = session_of(series, 2)
    url = f"/agenda/{third.pk}/series/move/"
    query = {"weekday": "3", "local_time": "10:00", "minutes": "45"}
    html = post(pro, url, {**query, "_preview": "1"}).content.decode()
    digest = re.search(r'name="digest" value="(\w+)"', html)[1]
    make_reservation(other_patient, at("2026-04-02", 10))  # booked meanwhile
    before = saved()
    r = post(pro, url, {**query, "_confirm": "1", "digest": digest})
    assert r.status_code == 200
    assert "Las fechas cambiaron desde la vista previa" in r.content.decode()
    assert saved() == before


def test_the_patient_reads_the_series_cancel_as_the_practices(pro, series, patient):
    fifth = session_of(series, 4)
    post(pro, f"/agenda/{fifth.pk}/series/cancel/", {"reason": "Alta"})
    html = csrf_client(patient).get(f"/reservations/{fifth.pk}/").content.decode()
    assert "Alta" in html and "por el consultorio" in html


# Who may


def series_urls(r):
    return [f"/agenda/{r.pk}/series/cancel/", f"/agenda/{r.pk}/series/move/"]


def test_another_professionals_series_is_exactly_a_missing_one(series, ruiz):
    client = csrf_client(ruiz)
    third = session_of(series, 2)
    before = saved()
    for theirs, missing in zip(
        series_urls(third), series_urls(Reservation(pk=MISSING)), strict=True
    ):
        a, b = client.get(theirs), client.get(missing)
        assert a.status_code == b.status_code == 404 and a.content == b.content
        data = {"reason": "x", "weekday": "3", "local_time": "10:00", "minutes": "45"}
        a, b = post(client, theirs, data), post(client, missing, data)
        assert a.status_code == b.status_code == 404 and a.content == b.content
        a = post(client, theirs, {**data, "_confirm": "1", "skip": ["4"]})
        assert a.status_code == 404
    assert saved() == before
    assert series.occurrences.filter(reservation__status="CANCELLED").count() == 0


def test_a_session_of_theirs_outside_any_series_is_a_404_there(pro, seen):
    for url in series_urls(seen):
        assert pro.get(url).status_code == 404
        assert post(pro, url, {"reason": "x"}).status_code == 404


@pytest.mark.parametrize("role", ["patient", "staff"])
def test_someone_without_a_profile_gets_403(series, form, patient, staff, role):
    client = csrf_client({"patient": patient, "staff": staff}[role])
    third = session_of(series, 2)
    before = saved()
    assert client.get(NEW).status_code == 403
    assert post(client, NEW, {**form, "_preview": "1"}).status_code == 403
    for url in series_urls(third):
        assert client.get(url).status_code == 403
        assert post(client, url, {"reason": "x", "weekday": "3"}).status_code == 403
    assert saved() == before


def test_anonymous_goes_to_login_and_csrf_is_checked(series, form, professional):
    r = csrf_client().get(NEW)
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    client = csrf_client(professional)
    before = saved()
    third = session_of(series, 2)
    assert client.post(NEW, {**form, "_confirm": "1"}).status_code == 403  # no token
    assert client.post(series_urls(third)[0], {"reason": "x"}).status_code == 403
    assert client.post(series_urls(third)[1], {"weekday": "3"}).status_code == 403
    assert saved() == before


def test_english(pro, form, clash):
    html = pro.get(NEW, headers={"Accept-Language": "en"}).content.decode()
    assert "New weekly series" in html and "Preview the dates" in html
    r = pro.post(
        NEW,
        {**form, "_preview": "1", "csrfmiddlewaretoken": CSRF_TOKEN},
        headers={"Accept-Language": "en"},
    )
    assert "1 date clashes" in r.content.decode()
