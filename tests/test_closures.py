"""Days the practice is closed: Argentina's national holidays (PRACTICE_HOLIDAYS, from the
`holidays` package) and the practice's own closures (scheduling.Closure). They offer no slot on
the booking page nor in the API, a booking posted on them is refused, a new series skips them
naming why, and the booking week shades them. The clock is frozen in December 2026: Tuesday
8 December (Inmaculada Concepción de María), Friday 25 December and Friday 1 January 2027."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group

from reservations.models import Reservation
from reservations_site import roles
from scheduling.closures import closed_days
from scheduling.models import Closure, TimeOff, WorkingHours
from series.models import Series, SkippedOccurrence

from .conftest import CSRF_TOKEN, csrf_client, make_user
from .test_api import bearer_client

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
# Tuesday 1 December 2026, 10:00 in Buenos Aires.
NOW = datetime(2026, 12, 1, 10, tzinfo=BA)
HOLIDAYS = [date(2026, 12, 8), date(2026, 12, 25), date(2027, 1, 1)]


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=BA)


def param(start):
    return start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ")


@pytest.fixture(autouse=True)
def december(settings):
    settings.PRACTICE_HOLIDAYS = "AR"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hours(professional):
    """Tuesdays and Fridays, 9 to 13 (four sessions of 50 minutes), bookable 10 weeks ahead:
    8 and 25 December and 1 January 2027 fall on them."""
    for weekday in (1, 4):
        WorkingHours.objects.create(
            professional=professional,
            weekday=weekday,
            start_time=time(9),
            end_time=time(13),
            horizon_weeks=10,
        )


def week_page(client, professional, week):
    r = client.get(f"/book/{professional.pk}/?week={week}")
    assert r.status_code == 200
    return r.content.decode()


def offered_days(html):
    return {date.fromisoformat(d) for d in re.findall(r"\?start=(\d{4}-\d\d-\d\d)T", html)}


def api_days(patient, professional, first, last):
    r = bearer_client(patient).get(
        f"/api/professionals/{professional.pk}/slots?from={first}&to={last}"
    )
    assert r.status_code == 200
    return {date.fromisoformat(s["start_time"][:10]) for s in r.json()["data"]}


def post_booking(client, professional, start):
    return client.post(
        f"/book/{professional.pk}/",
        {"start": param(start), "modality": "Virtual", "csrfmiddlewaretoken": CSRF_TOKEN},
    )


# National holidays


def test_national_holidays_offer_no_slot_on_the_booking_page(patient, professional, hours):
    client = csrf_client(patient)
    html = week_page(client, professional, "2026-12-07")
    assert offered_days(html) == {date(2026, 12, 11)}
    # The holiday is there, shaded and named, not just empty.
    assert "day--closed" in html
    assert "Feriado: Inmaculada Concepción de María" in html
    christmas = week_page(client, professional, "2026-12-21")
    assert offered_days(christmas) == {date(2026, 12, 22)}
    assert "Feriado: Navidad" in christmas
    new_year = week_page(client, professional, "2026-12-28")
    assert offered_days(new_year) == {date(2026, 12, 29)}
    assert "Feriado: Año Nuevo" in new_year


def test_national_holidays_offer_no_slot_in_the_api(patient, professional, hours):
    days = api_days(patient, professional, "2026-12-04", "2027-01-03")
    assert not days & set(HOLIDAYS)
    assert {date(2026, 12, 11), date(2026, 12, 22), date(2026, 12, 29)} <= days


@pytest.mark.parametrize("day", HOLIDAYS)
def test_a_booking_posted_on_a_holiday_is_refused(patient, professional, hours, day):
    r = post_booking(csrf_client(patient), professional, at(day, 9))
    assert r.status_code == 409
    assert "Ese horario ya no está disponible." in r.content.decode()
    assert not Reservation.objects.exists()
    # The next working day, at the same time, is booked: the refusal is the holiday's.
    after = {date(2026, 12, 8): 11, date(2026, 12, 25): 29, date(2027, 1, 1): 5}[day]
    r = post_booking(csrf_client(patient), professional, at(day.replace(day=after), 9))
    assert r.status_code == 302
    assert Reservation.objects.count() == 1


def test_a_practice_that_works_on_holidays_offers_them(patient, professional, hours, settings):
    settings.PRACTICE_HOLIDAYS = ""
    html = week_page(csrf_client(patient), professional, "2026-12-07")
    assert offered_days(html) == {date(2026, 12, 8), date(2026, 12, 11)}
    assert "Feriado" not in html and "day--closed" not in html
    assert set(HOLIDAYS) <= api_days(patient, professional, "2026-12-04", "2027-01-03")


def test_the_holiday_is_named_in_the_readers_language(patient, professional, hours):
    patient.language = "en"
    patient.save(update_fields=["language"])
    html = week_page(csrf_client(patient), professional, "2026-12-07")
    assert "Holiday: Immaculate Conception" in html


def test_the_professionals_day_decides(patient, professional, hours):
    """A professional in Madrid: the practice's holidays are the days of their own calendar (their
    Tuesday 8 December, 9 to 13 in Madrid, 5 to 9 in Buenos Aires)."""
    professional.time_zone = "Europe/Madrid"
    professional.save(update_fields=["time_zone"])
    days = api_days(patient, professional, "2026-12-07", "2026-12-13")
    # Their Tuesday 8 December (Madrid) is closed; Friday 11 is offered.
    assert days == {date(2026, 12, 11)}


# The practice's own closures


def test_a_closure_offers_nothing_and_is_named(patient, professional, hours):
    Closure.objects.create(
        name="Vacaciones de verano", first_day=date(2027, 1, 2), last_day=date(2027, 1, 16)
    )
    client = csrf_client(patient)
    for week in ("2027-01-04", "2027-01-11"):
        html = week_page(client, professional, week)
        assert offered_days(html) == set()
        assert html.count("Vacaciones de verano") >= 2  # each working day of the week, named
        assert "No hay horarios libres esta semana." not in html
    assert api_days(patient, professional, "2027-01-02", "2027-01-16") == set()
    assert api_days(patient, professional, "2027-01-17", "2027-01-23") == {
        date(2027, 1, 19),
        date(2027, 1, 22),
    }
    r = post_booking(client, professional, at(date(2027, 1, 5), 9))
    assert r.status_code == 409
    assert not Reservation.objects.exists()


def test_closed_days_names_each_day_a_closure_winning_over_a_holiday(professional):
    Closure.objects.create(
        name="Mudanza", first_day=date(2026, 12, 24), last_day=date(2026, 12, 26)
    )
    days = closed_days(professional, date(2026, 12, 1), date(2026, 12, 31))
    assert days[date(2026, 12, 8)] == "Feriado: Inmaculada Concepción de María"
    assert days[date(2026, 12, 25)] == "Mudanza"
    assert days[date(2026, 12, 24)] == "Mudanza"
    assert date(2026, 12, 9) not in days


def test_reception_adds_a_closure_in_the_admin():
    desk = make_user("mostrador@example.com", is_staff=True)
    desk.groups.add(Group.objects.get(name=roles.RECEPTION))
    client = csrf_client(desk)
    assert client.get("/admin/scheduling/closure/add/").status_code == 200
    r = client.post(
        "/admin/scheduling/closure/add/",
        {
            "name": "Vacaciones de verano",
            "first_day": "2027-01-02",
            "last_day": "2027-01-16",
            "csrfmiddlewaretoken": CSRF_TOKEN,
        },
    )
    assert r.status_code == 302
    closure = Closure.objects.get()
    assert (closure.first_day, closure.last_day) == (date(2027, 1, 2), date(2027, 1, 16))
    backwards = client.post(
        "/admin/scheduling/closure/add/",
        {
            "name": "Al revés",
            "first_day": "2027-02-10",
            "last_day": "2027-02-01",
            "csrfmiddlewaretoken": CSRF_TOKEN,
        },
    )
    assert backwards.status_code == 200
    assert Closure.objects.count() == 1


# Shading absences


def test_an_absence_is_shaded_on_the_booking_week(patient, professional, hours):
    TimeOff.objects.create(
        professional=professional, start=at(date(2026, 12, 11), 0), end=at(date(2026, 12, 12), 0)
    )
    html = week_page(csrf_client(patient), professional, "2026-12-07")
    assert offered_days(html) == set()
    assert "No atiende ese día" in html


def test_the_booking_week_costs_the_same_queries_with_closures_and_absences(
    patient, professional, hours
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = csrf_client(patient)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/book/{professional.pk}/?week=2026-12-21").status_code == 200
        return len(ctx.captured_queries)

    client.get(f"/book/{professional.pk}/?week=2026-12-21")  # the session's first reads
    before = queries()
    for n in range(10):
        first = date(2026, 12, 21) + timedelta(days=n % 5)
        Closure.objects.create(name=f"Cierre {n}", first_day=first, last_day=first)
        TimeOff.objects.create(
            professional=professional,
            start=at(first, 9) + timedelta(minutes=n),
            end=at(first, 10),
        )
    assert queries() == before


# A new series


@pytest.fixture
def seen(patient, make_reservation):
    """Lucía's session last week: one of Lic. Gómez's patients."""
    return make_reservation(patient, at(date(2026, 11, 24), 18))


@pytest.fixture
def series_form(patient, seen):
    """Tuesdays at 18:00 from Tuesday 1 December 2026: 8 December is the second date."""
    return {
        "client": str(patient.pk),
        "weekday": "1",
        "local_time": "18:00",
        "minutes": "45",
        "session_modality": "Virtual",
        "interval_weeks": "1",
        "starts_on": "2026-12-01",
        "ends_on": "",
        "count": "",
        "csrfmiddlewaretoken": CSRF_TOKEN,
    }


def test_a_series_from_the_agenda_skips_the_holiday_naming_it(professional, series_form):
    assert date(2026, 12, 8).weekday() == 1  # a Tuesday, as the series
    pro = csrf_client(professional)
    preview = pro.post("/agenda/series/new/", {**series_form, "_preview": "1"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Omitida: Feriado: Inmaculada Concepción de María" in html
    # And Carnival Tuesday, 9 February 2027, the eleventh date: the package knows movable ones.
    assert "Omitida: Feriado: Martes de Carnaval" in html
    assert html.count("plan-list__item--closed") == 2
    assert "plan-list__item--clash" not in html
    # Nothing to tick: the holiday is skipped whatever the person does.
    assert 'name="skip"' not in html
    assert not Series.objects.exists()
    digest = re.search(r'name="digest" value="(\w+)"', html)[1]
    done = pro.post("/agenda/series/new/", {**series_form, "_confirm": "1", "digest": digest})
    assert done.status_code == 302
    series = Series.objects.get()
    booked = sorted(
        r.start_time.astimezone(BA).date()
        for r in Reservation.objects.filter(occurrence__series=series)
    )
    assert date(2026, 12, 8) not in booked
    assert booked[:3] == [date(2026, 12, 1), date(2026, 12, 15), date(2026, 12, 22)]
    assert len(booked) == series.occurrences.count() == 10  # twelve dates, two skipped
    skipped = SkippedOccurrence.objects.filter(series=series).order_by("index")
    assert [(s.start.astimezone(BA).date(), s.reason) for s in skipped] == [
        (date(2026, 12, 8), "Feriado: Inmaculada Concepción de María"),
        (date(2027, 2, 9), "Feriado: Martes de Carnaval"),
    ]


def test_a_series_from_the_admin_shows_the_holiday_skipped(staff, professional, series_form):
    admin = csrf_client(staff)
    form = {**series_form, "professional": str(professional.pk)}
    r = admin.post("/admin/series/series/add/", {**form, "_preview": "1"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "Omitida: Feriado: Inmaculada Concepción de María" in html
    assert r.context["step"].clashing == []
    assert re.findall(r'name="skip" value="(\d+)"', html) == []
    digest = r.context["step"].digest
    done = admin.post("/admin/series/series/add/", {**form, "_confirm": "1", "digest": digest})
    assert done.status_code == 302
    series = Series.objects.get()
    days = {
        r.start_time.astimezone(BA).date()
        for r in Reservation.objects.filter(occurrence__series=series)
    }
    assert date(2026, 12, 8) not in days and date(2026, 12, 15) in days


def test_a_series_still_asks_about_a_real_clash_beside_a_holiday(
    professional, series_form, other_patient, make_reservation
):
    make_reservation(other_patient, at(date(2026, 12, 15), 18))
    r = csrf_client(professional).post("/agenda/series/new/", {**series_form, "_preview": "1"})
    html = r.content.decode()
    assert html.count("plan-list__item--clash") == 1
    assert re.findall(r'name="skip" value="(\d+)"', html) == ["2"]


def test_the_worker_skips_a_closed_day_with_nothing_left_to_review(professional, series_form):
    from series.services import extend_all_series

    pro = csrf_client(professional)
    preview = pro.post("/agenda/series/new/", {**series_form, "_preview": "1"})
    digest = re.search(r'name="digest" value="(\w+)"', preview.content.decode())[1]
    pro.post("/agenda/series/new/", {**series_form, "_confirm": "1", "digest": digest})
    series = Series.objects.get()
    last = max(r.start_time for r in Reservation.objects.filter(occurrence__series=series))
    closed = last.astimezone(BA).date() + timedelta(days=7)  # the next date the worker adds
    Closure.objects.create(name="Mudanza", first_day=closed, last_day=closed)
    with time_machine.travel(NOW + timedelta(weeks=1), tick=False):
        extend_all_series()
    skipped = SkippedOccurrence.objects.get(series=series, start__date=closed)
    assert skipped.reason == "Mudanza"
    assert skipped.consented_by == professional  # who made the series: not "to review"
