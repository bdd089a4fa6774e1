"""A patient books a session from the dashboard: a professional, a week of free slots, the
modality, confirm. HTTP tests with CSRF enforced, the database checked after each."""

import io
from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django_tasks_db.models import DBTaskResult

from accounts.models import ProfessionalProfile
from reservations.models import Reservation, ReservationEvent
from scheduling.models import WorkingHours
from scheduling.slots import Slot

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user

pytestmark = pytest.mark.django_db

BA = ZoneInfo("America/Argentina/Buenos_Aires")
MONDAY = date(2026, 3, 16)  # NOW is Tuesday 10 March 2026, 12:00 in Buenos Aires


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=BA)


def param(start):
    return start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ")


@pytest.fixture
def hours(professional):
    # Mondays 9 to 13, 50 minutes + 10, either modality.
    return WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(13)
    )


@pytest.fixture
def ruiz(db):
    user = make_user("ruiz@example.com", first_name="Andrés", last_name="Ruiz")
    ProfessionalProfile.objects.create(
        user=user, display_name="Dr. Andrés Ruiz", requires_approval=False
    )
    WorkingHours.objects.create(
        professional=user, weekday=2, start_time=time(18), end_time=time(20), modality="Virtual"
    )
    return user


def post_booking(client, pro, start, modality="Virtual", **headers):
    return client.post(
        f"/book/{pro.pk}/",
        {"start": param(start), "modality": modality, "csrfmiddlewaretoken": CSRF_TOKEN},
        headers=headers,
    )


def test_the_dashboard_offers_to_book(patient, make_reservation, frozen_now):
    client = csrf_client(patient)
    html = client.get("/dashboard/").content.decode()
    assert 'href="/book/"' in html and "Pedir turno" in html  # the empty state
    make_reservation(patient, NOW + timedelta(days=3))
    html = client.get("/dashboard/").content.decode()
    assert 'href="/book/"' in html  # next to the upcoming sessions


def test_it_lists_the_professionals_seen_first(patient, professional, hours, ruiz, settings):
    nobody = make_user("nohours@example.com", first_name="Sin", last_name="Horarios")
    ProfessionalProfile.objects.create(user=nobody, display_name="Lic. Sin Horarios")
    client = csrf_client(patient)
    Reservation.objects.create(
        client=patient,
        professional=ruiz,
        start_time=NOW - timedelta(days=30),
        end_time=NOW - timedelta(days=30, minutes=-30),
    )
    html = client.get("/book/").content.decode()
    assert html.index("Dr. Andrés Ruiz") < html.index("Lic. Carolina Gómez")
    assert "Sin Horarios" not in html  # no working hours: not bookable
    assert "Tu profesional" in html
    settings.BOOKING_OPEN_TO_ALL = False
    html = client.get("/book/").content.decode()
    assert "Dr. Andrés Ruiz" in html and "Lic. Carolina Gómez" not in html
    assert client.get(f"/book/{professional.pk}/").status_code == 404


def test_a_professional_without_hours_cannot_be_booked(patient, professional, frozen_now):
    client = csrf_client(patient)
    assert client.get(f"/book/{professional.pk}/").status_code == 404
    assert post_booking(client, professional, at(MONDAY, 9)).status_code == 404
    assert not Reservation.objects.exists()


def test_it_requires_login(professional, hours):
    r = csrf_client().get(f"/book/{professional.pk}/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_the_week_shows_the_first_free_one(patient, professional, hours, frozen_now):
    html = csrf_client(patient).get(f"/book/{professional.pk}/").content.decode()
    assert "Semana del lunes 16 de marzo" in html
    assert f'href="/book/{professional.pk}/confirm/?start=2026-03-16T12:00Z"' in html  # 9:00
    assert html.count('class="slot"') == 4
    assert f'href="/book/{professional.pk}/?week=2026-03-09"' in html  # this week: nothing
    assert f'href="/book/{professional.pk}/?week=2026-03-23"' in html
    # No way back before the current week.
    html = csrf_client(patient).get(f"/book/{professional.pk}/?week=2026-03-02").content.decode()
    assert "Semana del lunes 9 de marzo" in html
    assert "Semana anterior" not in html


def test_another_week_and_its_htmx_fragment(patient, professional, hours, frozen_now):
    client = csrf_client(patient)
    url = f"/book/{professional.pk}/?week=2026-03-25"  # any day of the week
    html = client.get(url).content.decode()
    assert "Semana del lunes 23 de marzo" in html
    assert "2026-03-23T12:00Z" in html
    assert f'href="/book/{professional.pk}/?week=2026-03-16"' in html
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "week"})
    body = fragment.content.decode()
    assert body.lstrip().startswith('<section id="week"') and "<html" not in body
    # Beyond the horizon (8 weeks): no next week.
    html = client.get(f"/book/{professional.pk}/?week=2026-05-11").content.decode()
    assert "Semana siguiente" not in html
    assert "No hay horarios libres esta semana." in html


def test_the_confirmation_asks_the_modality_when_both_are_offered(
    patient, professional, hours, ruiz, frozen_now
):
    client = csrf_client(patient)
    html = client.get(
        f"/book/{professional.pk}/confirm/?start={param(at(MONDAY, 10))}"
    ).content.decode()
    assert "lunes 16 de marzo, 10:00 – 10:50 (50 min)" in html
    assert 'type="radio" name="modality" value="Virtual"' in html
    assert 'type="radio" name="modality" value="Presencial"' in html
    assert "Tu profesional confirma cada pedido" in html
    html = client.get(
        f"/book/{ruiz.pk}/confirm/?start={param(at(date(2026, 3, 18), 18))}"
    ).content.decode()
    assert 'type="hidden" name="modality" value="Virtual"' in html
    assert "Queda confirmado en el momento." in html
    # A time that is not offered: the week again, saying so.
    html = client.get(
        f"/book/{professional.pk}/confirm/?start={param(at(MONDAY, 10, 30))}"
    ).content.decode()
    assert "Ese horario ya no está disponible." in html and 'class="slot"' in html


def test_booking_with_approval_is_a_pending_request_that_will_expire(
    patient, professional, hours, frozen_now, django_capture_on_commit_callbacks
):
    client = csrf_client(patient)
    with django_capture_on_commit_callbacks(execute=True):
        r = post_booking(client, professional, at(MONDAY, 10), "Presencial")
    booked = Reservation.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/reservations/{booked.pk}/"
    assert (booked.client, booked.professional) == (patient, professional)
    assert (booked.start_time, booked.end_time) == (at(MONDAY, 10), at(MONDAY, 10, 50))
    assert booked.status == "PENDING" and booked.session_modality == "Presencial"
    assert booked.expires_at == NOW + timedelta(hours=48)
    event = booked.events.get()
    assert (event.action, event.actor, event.channel) == ("created", patient, "page")
    # The worker will expire it when its hold ends, if nobody confirmed it by then.
    # (A booking also queues its messages: tests/test_notifications.py.)
    task = DBTaskResult.objects.get(task_path="reservations.tasks.expire_request")
    assert task.task_path == "reservations.tasks.expire_request"
    assert task.run_after == booked.expires_at
    assert task.args_kwargs["args"] == [str(booked.pk)]
    page = client.get(r["Location"]).content.decode()
    assert "Enviamos tu pedido. Tu profesional lo va a confirmar." in page


def test_booking_without_approval_is_confirmed_at_once(
    patient, ruiz, frozen_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = post_booking(csrf_client(patient), ruiz, at(date(2026, 3, 18), 19))
    booked = Reservation.objects.get()
    assert r.status_code == 302
    assert booked.status == "CONFIRMED" and booked.expires_at is None
    assert not DBTaskResult.objects.filter(task_path="reservations.tasks.expire_request").exists()


def test_one_pending_request_per_professional(
    patient, professional, hours, ruiz, frozen_now, settings
):
    client = csrf_client(patient)
    assert post_booking(client, professional, at(MONDAY, 9)).status_code == 302
    r = post_booking(client, professional, at(MONDAY, 11))
    assert r.status_code == 409
    assert "Ya tenés un pedido esperando la confirmación" in r.content.decode()
    assert Reservation.objects.count() == 1
    # Another professional, who confirms at once: no limit.
    assert post_booking(client, ruiz, at(date(2026, 3, 18), 18)).status_code == 302
    settings.BOOKING_MAX_PENDING = 2
    assert post_booking(client, professional, at(MONDAY, 11)).status_code == 302
    assert Reservation.objects.count() == 3


@pytest.mark.parametrize(
    "start, modality",
    [
        (at(MONDAY, 10, 30), "Virtual"),  # off the grid
        (at(MONDAY, 14), "Virtual"),  # after hours
        (at(date(2026, 3, 17), 10), "Virtual"),  # a Tuesday: no hours
        (at(date(2026, 3, 11), 10), "Virtual"),  # inside the lead time (and no hours)
        (at(date(2026, 6, 1), 10), "Virtual"),  # beyond the horizon
        (at(MONDAY, 10), "Telepathy"),  # no such modality
    ],
)
def test_a_time_that_is_not_offered_is_refused_even_posted_by_hand(
    patient, professional, hours, frozen_now, start, modality
):
    r = post_booking(csrf_client(patient), professional, start, modality)
    assert r.status_code == 409
    html = r.content.decode()
    assert "Ese horario ya no está disponible." in html
    assert "Semana del" in html  # the refreshed week of the time asked for
    assert not Reservation.objects.exists()


def test_a_modality_not_offered_then_is_refused(patient, ruiz, frozen_now):
    r = post_booking(csrf_client(patient), ruiz, at(date(2026, 3, 18), 18), "Presencial")
    assert r.status_code == 409
    assert "Esa modalidad no se ofrece en ese horario." in r.content.decode()
    assert not Reservation.objects.exists()


def test_a_taken_time_is_refused(patient, other_patient, professional, hours, frozen_now):
    taken = post_booking(csrf_client(other_patient), professional, at(MONDAY, 10))
    assert taken.status_code == 302
    r = post_booking(csrf_client(patient), professional, at(MONDAY, 10))
    assert r.status_code == 409
    html = r.content.decode()
    assert "Ese horario ya no está disponible." in html
    assert "2026-03-16T13:00Z" not in html and "2026-03-16T14:00Z" in html
    assert Reservation.objects.get().client == other_patient


def test_losing_the_race_in_the_database_is_a_refusal_not_an_error(
    patient, other_patient, professional, hours, frozen_now
):
    # The slot looked free when checked; another patient's booking is stored before ours.
    Reservation.objects.create(
        client=other_patient,
        professional=professional,
        start_time=at(MONDAY, 10),
        end_time=at(MONDAY, 10, 50),
        status="CONFIRMED",
    )
    free = Slot(at(MONDAY, 10), at(MONDAY, 10, 50), ("Virtual", "Presencial"))
    with mock.patch("scheduling.booking.slot_at", return_value=free):
        r = post_booking(csrf_client(patient), professional, at(MONDAY, 10))
    assert r.status_code == 409
    assert "Ese horario ya no está disponible." in r.content.decode()
    assert Reservation.objects.filter(client=patient).count() == 0


def test_a_lapsed_request_on_the_time_is_expired_first(
    patient, other_patient, professional, hours, frozen_now
):
    lapsed = Reservation.objects.create(
        client=other_patient,
        professional=professional,
        start_time=at(MONDAY, 10),
        end_time=at(MONDAY, 10, 50),
        status="PENDING",
        expires_at=NOW - timedelta(minutes=5),
    )
    assert post_booking(csrf_client(patient), professional, at(MONDAY, 10)).status_code == 302
    lapsed.refresh_from_db()
    assert lapsed.status == "CANCELLED" and lapsed.cancellation_reason == "expired"
    assert Reservation.objects.get(client=patient).start_time == at(MONDAY, 10)


def test_it_checks_csrf(patient, professional, hours, frozen_now):
    client = csrf_client(patient)
    r = client.post(f"/book/{professional.pk}/", {"start": param(at(MONDAY, 9))})
    assert r.status_code == 403
    assert not Reservation.objects.exists()


def test_it_rejects_other_methods(patient, professional, hours):
    client = csrf_client(patient)
    r = client.put(f"/book/{professional.pk}/", headers={"X-CSRFToken": CSRF_TOKEN})
    assert r.status_code == 405


def test_booking_is_throttled(patient, professional, hours, frozen_now, settings):
    settings.BOOKING_RATE_LIMIT = "2/h"
    settings.BOOKING_MAX_PENDING = 10
    client = csrf_client(patient)
    assert post_booking(client, professional, at(MONDAY, 9)).status_code == 302
    assert post_booking(client, professional, at(MONDAY, 10)).status_code == 302
    assert post_booking(client, professional, at(MONDAY, 11)).status_code == 429
    assert Reservation.objects.count() == 2
    # Browsing is not counted.
    assert client.get(f"/book/{professional.pk}/").status_code == 200


def test_the_event_says_the_page_booked_it(patient, professional, hours, frozen_now):
    post_booking(csrf_client(patient), professional, at(MONDAY, 12))
    assert ReservationEvent.objects.get().channel == "page"


def test_the_demo_professionals_can_be_booked(db):
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from scheduling.slots import free_slots

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # the hours are set once
    now = timezone.now()
    today = timezone.localdate()
    for email, approval in [("lic.gomez@turnos.example", True), ("dr.ruiz@turnos.example", False)]:
        pro = User.objects.get(email=email)
        assert pro.professional_profile.requires_approval is approval
        assert pro.working_hours.count() in (9, 2)
        assert free_slots(pro, today, today + timedelta(days=14), now=now)


def test_a_full_calendar_and_many_professionals_cost_no_more_queries(
    patient, other_patient, professional, hours, frozen_now
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(call):
        with CaptureQueriesContext(connection) as ctx:
            response = call()
        assert response.status_code in (200, 302), response.status_code
        return len(ctx.captured_queries)

    third = make_user("third@example.com", first_name="Tercera")
    # Warm up the worker's queue (the first message enqueues its sweep once).
    post_booking(csrf_client(third), professional, at(MONDAY, 9))
    page = queries(lambda: csrf_client(patient).get(f"/book/{professional.pk}/"))
    booking = queries(lambda: post_booking(csrf_client(patient), professional, at(MONDAY, 10)))

    # Eight weeks of Mondays booked by others, but for one slot, and twenty more professionals
    # with hours that anyone may book.
    for week in range(1, 9):
        for hour in (9, 10, 11):
            Reservation.objects.create(
                client=make_user(f"w{week}h{hour}@example.com"),
                professional=professional,
                start_time=at(MONDAY + timedelta(weeks=week), hour),
                end_time=at(MONDAY + timedelta(weeks=week), hour, 50),
                status="CONFIRMED",
            )
    for n in range(20):
        other = make_user(f"pro{n}@example.com")
        WorkingHours.objects.create(
            professional=other, weekday=n % 5, start_time=time(9), end_time=time(13)
        )
    assert queries(lambda: csrf_client(other_patient).get(f"/book/{professional.pk}/")) == page
    assert (
        queries(lambda: post_booking(csrf_client(other_patient), professional, at(MONDAY, 11)))
        == booking
    )
