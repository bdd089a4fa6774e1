"""The professional's agenda through HTTP, as a browser sends it (CSRF checks on): the pending
requests first, confirm, decline, cancel, attendance, notes, the week, the time zone and the
settings page. Each refusal leaves the database as it was."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile, ProfileChange
from reservations.models import Reservation, ReservationEvent

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user, totp_code

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def post(client, path, htmx=False, shown_in=None, **data):
    if shown_in:
        data["from"] = shown_in  # where the form is: "pending", "week" or "session"
    return client.post(
        path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data}, headers=HTMX if htmx else {}
    )


def html_of(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def events(r, action=None):
    rows = ReservationEvent.objects.filter(reservation=r)
    return list(rows.filter(action=action) if action else rows)


def assert_unchanged(r):
    """Refused means untouched: same row, no event beyond the one that created it (none here)."""
    fresh = Reservation.objects.get(pk=r.pk)
    assert (fresh.status, fresh.cancelled_at, fresh.cancelled_by_id, fresh.attended) == (
        r.status,
        r.cancelled_at,
        r.cancelled_by_id,
        r.attended,
    )
    assert fresh.late_cancellation == r.late_cancellation
    assert events(r) == []


@pytest.fixture
def pro(professional):
    return csrf_client(professional)


@pytest.fixture
def request_of(patient, make_reservation, frozen_now):
    """A pending request for next Tuesday, asked a day ago."""
    r = make_reservation(patient, NOW + timedelta(days=7), status="PENDING")
    Reservation.objects.filter(pk=r.pk).update(created_at=NOW - timedelta(days=1))
    r.refresh_from_db()
    return r


# Logging in


@pytest.mark.parametrize(
    "who, lands_on", [("professional", "/agenda/"), ("patient", "/dashboard/")]
)
def test_logging_in_lands_a_professional_on_the_agenda_and_a_patient_on_the_dashboard(
    request, who, lands_on
):
    user = request.getfixturevalue(who)
    client = csrf_client()
    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD, "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    if who == "professional":  # the second step first (two-step verification)
        assert response["Location"] == "/accounts/2fa/authenticate/"
        response = client.post(
            response["Location"], {"code": totp_code(), "csrfmiddlewaretoken": CSRF_TOKEN}
        )
    assert response.status_code == 302
    assert response["Location"] == lands_on


def test_a_professional_who_is_a_patient_too_switches_between_agenda_and_sessions(
    professional, patient
):
    client = csrf_client(professional)
    agenda = html_of(client.get("/agenda/"))
    assert 'href="/dashboard/"' in agenda and "Mis turnos" in agenda
    assert '<a href="/agenda/" aria-current="page">Agenda</a>' in agenda
    # Back on the patient's pages (the dashboard and preferences), "Agenda" leads back.
    assert '<a href="/agenda/">Agenda</a>' in html_of(client.get("/dashboard/"))
    assert '<a href="/agenda/">Agenda</a>' in html_of(client.get("/preferences/"))
    # A patient is never offered it.
    assert 'href="/agenda/"' not in html_of(csrf_client(patient).get("/dashboard/"))


# Pending requests


def test_pending_requests_come_first_oldest_request_first(
    pro, professional, patient, other_patient, make_reservation, frozen_now
):
    asked = {}
    for name, start, created in [
        ("soonest_but_newest", 2, 1),
        ("latest_but_oldest", 20, 10),
        ("middle", 9, 5),
    ]:
        r = make_reservation(patient, NOW + timedelta(days=start), status="PENDING")
        Reservation.objects.filter(pk=r.pk).update(created_at=NOW - timedelta(hours=created))
        asked[name] = r
    past = make_reservation(other_patient, NOW - timedelta(days=1), status="PENDING")
    confirmed = make_reservation(other_patient, NOW + timedelta(days=1))
    other_pro = make_user("ruiz@example.com", first_name="Ruiz")
    ProfessionalProfile.objects.create(user=other_pro)
    theirs = make_reservation(
        other_patient, NOW + timedelta(days=3), status="PENDING", pro=other_pro
    )

    html = html_of(pro.get("/agenda/"))
    listed = re.findall(r'<li id="pending-([0-9a-f-]+)"', html)
    assert listed == [
        str(asked[n].pk) for n in ("latest_but_oldest", "middle", "soonest_but_newest")
    ]
    assert html.index('id="pending"') < html.index('id="week"')
    for absent in (past, confirmed, theirs):
        assert f"pending-{absent.pk}" not in html
    assert str(theirs.pk) not in html  # another professional's patients are never shown


def test_confirm(pro, professional, request_of):
    response = post(pro, f"/agenda/{request_of.pk}/confirm/", shown_in="pending")
    assert response.status_code == 302
    assert response["Location"] == "/agenda/"
    request_of.refresh_from_db()
    assert request_of.status == "CONFIRMED"
    (event,) = events(request_of, "confirmed")
    assert (event.actor, event.channel, event.at) == (professional, "agenda", NOW)
    assert "Confirmado. El paciente lo ve confirmado." in html_of(pro.get("/agenda/"))


def test_confirm_with_htmx_answers_the_request_again_in_place(pro, request_of):
    response = post(
        pro, f"/agenda/{request_of.pk}/confirm/", htmx=True, date="2026-03-17", shown_in="pending"
    )
    html = html_of(response)
    assert 'hx-swap-oob="innerHTML:#flash"' in html and "Confirmado." in html
    # The request where it was, confirmed and without its buttons; and its row in that week.
    assert f'<li id="pending-{request_of.pk}"' in html
    assert f'<li id="session-{request_of.pk}"' in html
    # ... and, swapped out of band too, the count of requests and the session's block in the grid.
    assert '<span id="pending-count"' in html and f'<a id="grid-{request_of.pk}"' in html
    assert html.count('hx-swap-oob="true"') == 4
    assert "Confirmado</span>" in html and "agenda_decline" not in html and "/decline/" not in html
    # The request row comes last: app.js focuses the last session swapped in.
    assert html.index(f"session-{request_of.pk}") < html.index(f"pending-{request_of.pk}")


def test_a_confirm_of_a_session_outside_the_week_on_screen_sends_only_the_request(pro, request_of):
    html = html_of(
        post(
            pro,
            f"/agenda/{request_of.pk}/confirm/",
            htmx=True,
            date="2026-03-10",
            shown_in="pending",
        )
    )
    assert f'id="session-{request_of.pk}"' not in html
    assert f'id="pending-{request_of.pk}"' in html


def test_confirming_twice_is_refused_the_second_time(pro, request_of):
    post(pro, f"/agenda/{request_of.pk}/confirm/")
    html = html_of(post(pro, f"/agenda/{request_of.pk}/confirm/", htmx=True, shown_in="pending"))
    assert "Este pedido ya no está pendiente" in html and "flash--error" in html
    assert len(events(request_of, "confirmed")) == 1


def test_decline_with_a_reason(pro, professional, patient, request_of):
    response = post(pro, f"/agenda/{request_of.pk}/decline/", reason="No atiendo ese día")
    assert response.status_code == 302
    request_of.refresh_from_db()
    assert request_of.status == "CANCELLED"
    assert request_of.cancelled_by == professional
    assert request_of.cancellation_reason == "No atiendo ese día"
    assert request_of.late_cancellation == ""  # turning down a request is never late
    (event,) = events(request_of, "declined")
    assert (event.actor, event.channel, event.reason) == (
        professional,
        "agenda",
        "No atiendo ese día",
    )

    # The patient reads it: declined, as on its page (tests/test_fixes_labels.py), and why.
    patient_client = csrf_client(patient)
    dashboard = html_of(patient_client.get("/dashboard/"))
    assert f'id="reservation-{request_of.pk}"' in dashboard
    row = dashboard[dashboard.index(f'id="reservation-{request_of.pk}"') :]
    row = row[: row.index("</li>")]
    assert "Rechazado</span>" in row and "por el consultorio" not in row
    detail = html_of(patient_client.get(f"/reservations/{request_of.pk}/"))
    assert "No atiendo ese día" in detail


@pytest.mark.parametrize("reason", ["", "   "])
def test_decline_without_a_reason_is_refused(pro, request_of, reason):
    html = html_of(
        post(pro, f"/agenda/{request_of.pk}/decline/", htmx=True, reason=reason, shown_in="pending")
    )
    assert "Escribí el motivo: lo va a leer el paciente." in html
    assert_unchanged(request_of)


def test_decline_of_a_session_that_is_not_pending_is_refused(
    pro, patient, make_reservation, frozen_now
):
    confirmed = make_reservation(patient, NOW + timedelta(days=5))
    response = post(pro, f"/agenda/{confirmed.pk}/decline/", reason="No")
    assert response.status_code == 302
    assert_unchanged(confirmed)
    assert "Este pedido ya no está pendiente" in html_of(pro.get("/agenda/"))


# Cancelling


def test_cancel_inside_the_notice_is_a_late_cancellation_by_the_practice(
    pro, professional, patient, make_reservation, frozen_now
):
    soon = make_reservation(patient, NOW + timedelta(hours=5))  # notice: 48 h
    html = html_of(
        post(
            pro, f"/agenda/{soon.pk}/cancel/", htmx=True, reason="Estoy enferma", shown_in="session"
        )
    )
    assert "cuenta como cancelación fuera de término" in html
    assert '<div id="session"' in html and 'hx-swap-oob="true"' in html
    soon.refresh_from_db()
    assert (soon.status, soon.late_cancellation) == ("CANCELLED", "practice")
    assert soon.cancelled_by == professional and soon.cancellation_reason == "Estoy enferma"
    (event,) = events(soon, "cancelled")
    assert event.channel == "agenda" and event.changes == {"late_cancellation": "practice"}
    # The patient sees it cancelled by the practice (not a late cancellation of theirs).
    dashboard = html_of(csrf_client(patient).get("/dashboard/"))
    assert "por el consultorio" in dashboard and "fuera de término" not in dashboard


def test_cancel_outside_the_notice_is_not_late(pro, patient, make_reservation, frozen_now):
    later = make_reservation(patient, NOW + timedelta(days=3))
    response = post(pro, f"/agenda/{later.pk}/cancel/", reason="Congreso", shown_in="session")
    assert response.status_code == 302 and response["Location"] == f"/agenda/{later.pk}/"
    later.refresh_from_db()
    assert (later.status, later.late_cancellation) == ("CANCELLED", "")


def test_cancel_of_a_started_session_is_refused(pro, patient, make_reservation, frozen_now):
    started = make_reservation(patient, NOW - timedelta(minutes=10))
    html = html_of(
        post(pro, f"/agenda/{started.pk}/cancel/", htmx=True, reason="x", shown_in="session")
    )
    assert "Esta sesión está en curso" in html or "en curso" in html
    assert_unchanged(started)


def test_cancel_without_a_reason_is_refused(pro, patient, make_reservation, frozen_now):
    later = make_reservation(patient, NOW + timedelta(days=3))
    post(pro, f"/agenda/{later.pk}/cancel/", reason="")
    assert_unchanged(later)


def test_the_cancel_form_asks_first_and_says_when_it_will_be_late(
    pro, patient, make_reservation, frozen_now
):
    soon = make_reservation(patient, NOW + timedelta(hours=5))
    html = html_of(pro.get(f"/agenda/{soon.pk}/"))
    assert (
        'data-confirm="¿Cancelar el turno de hoy, 17:00, con Lucía? No se puede deshacer."' in html
    )
    assert "se va a registrar como cancelación fuera de término del consultorio" in html
    later = make_reservation(patient, NOW + timedelta(days=3))
    assert "fuera de término" not in html_of(pro.get(f"/agenda/{later.pk}/"))


# Attendance


def attend(client, r, value, **data):
    return post(client, f"/agenda/{r.pk}/attendance/", attended=value, **data)


def test_attendance_before_the_start_is_refused(pro, patient, make_reservation, frozen_now):
    ahead = make_reservation(patient, NOW + timedelta(minutes=5))
    attend(pro, ahead, "yes")
    assert_unchanged(ahead)


def test_attendance_within_seven_days_and_changed_twice(
    pro, professional, patient, make_reservation, frozen_now
):
    past = make_reservation(patient, NOW - timedelta(days=6, hours=23))
    assert attend(pro, past, "no", shown_in="session")["Location"] == f"/agenda/{past.pk}/"
    past.refresh_from_db()
    assert past.attended is False
    html = html_of(attend(pro, past, "yes", htmx=True, shown_in="week", date="2026-03-03"))
    assert f'<li id="session-{past.pk}"' in html and "Asistió</span>" in html
    past.refresh_from_db()
    assert past.attended is True
    changes = [e.changes["attended"] for e in events(past, "attendance")]
    assert sorted(map(tuple, changes), key=str) == sorted([(None, False), (False, True)], key=str)
    assert all(e.actor == professional and e.channel == "agenda" for e in events(past))


def test_attendance_can_be_recorded_once_the_session_has_started(
    pro, patient, make_reservation, frozen_now
):
    now_on = make_reservation(patient, NOW - timedelta(minutes=1))
    attend(pro, now_on, "yes")
    now_on.refresh_from_db()
    assert now_on.attended is True


def test_attendance_more_than_seven_days_after_is_refused(
    pro, patient, make_reservation, frozen_now
):
    old = make_reservation(patient, NOW - timedelta(days=7, minutes=46))  # ended 7 days + 1 min ago
    attend(pro, old, "no")
    assert_unchanged(old)


@pytest.mark.parametrize("value", ["", "maybe", "true"])
def test_attendance_needs_yes_or_no(pro, patient, make_reservation, frozen_now, value):
    past = make_reservation(patient, NOW - timedelta(days=1))
    attend(pro, past, value)
    assert_unchanged(past)


def test_a_no_show_reads_absent_in_the_patients_history(pro, patient, make_reservation, frozen_now):
    past = make_reservation(patient, NOW - timedelta(days=1))
    attend(pro, past, "no")
    dashboard = html_of(csrf_client(patient).get("/dashboard/"))
    row = dashboard[dashboard.index(f'id="reservation-{past.pk}"') :][:1500]
    assert "Ausente</span>" in row


def test_past_sessions_in_the_week_offer_attendance_future_ones_do_not(
    pro, patient, make_reservation, frozen_now
):
    past = make_reservation(patient, NOW - timedelta(days=1))
    ahead = make_reservation(patient, NOW + timedelta(days=1))
    html = html_of(pro.get("/agenda/"))
    row = lambda r: html[html.index(f'id="session-{r.pk}"') :].split("</li>")[0]  # noqa: E731
    assert f"/agenda/{past.pk}/attendance/" in row(past)
    assert "Asistencia sin registrar" in row(past)
    assert "attendance" not in row(ahead) and "Confirmado</span>" in row(ahead)


# The session page and its notes


def test_the_session_page_says_everything_and_its_log(pro, patient, request_of):
    patient.phone = "+54 9 11 5555-0101"
    patient.save()
    post(pro, f"/agenda/{request_of.pk}/decline/", reason="Agenda completa")
    html = html_of(pro.get(f"/agenda/{request_of.pk}/"))
    for text in ["Lucía", "lucia@example.com", "011 15-5555-0101", "Virtual", "Cancelado</span>"]:
        assert text in html
    assert "Agenda completa" in html
    assert "Rechazado" in html and "por vos" in html and "Agenda del profesional" in html


def test_internal_notes_are_saved_with_an_event_and_never_shown_to_the_patient(
    pro, professional, patient, request_of
):
    response = post(pro, f"/agenda/{request_of.pk}/notes/", notes="Primera consulta, derivada")
    assert response.status_code == 302
    request_of.refresh_from_db()
    assert request_of.internal_notes == "Primera consulta, derivada"
    (event,) = events(request_of, "changed")
    assert event.changes == {"internal_notes": ["", "Primera consulta, derivada"]}
    assert event.actor == professional and event.channel == "agenda"
    assert "Primera consulta" in html_of(pro.get(f"/agenda/{request_of.pk}/"))
    assert "Primera consulta" not in html_of(
        csrf_client(patient).get(f"/reservations/{request_of.pk}/")
    )
    # Saving the same text again records nothing.
    post(pro, f"/agenda/{request_of.pk}/notes/", notes="Primera consulta, derivada")
    assert len(events(request_of, "changed")) == 1


def test_notes_with_a_nul_are_refused(pro, request_of):
    response = post(pro, f"/agenda/{request_of.pk}/notes/", notes="a\x00b")
    assert response.status_code == 400
    request_of.refresh_from_db()
    assert request_of.internal_notes == ""


def test_actions_need_csrf_and_post(professional, request_of):
    client = csrf_client(professional)
    for action in ("confirm", "decline", "cancel", "attendance", "notes"):
        path = f"/agenda/{request_of.pk}/{action}/"
        assert client.post(path, {"reason": "x", "attended": "yes"}).status_code == 403
        assert client.get(path).status_code == 405
    assert_unchanged(request_of)


# The week


def test_the_week_is_monday_to_sunday_around_the_date(pro, patient, make_reservation, frozen_now):
    this_week = make_reservation(patient, NOW + timedelta(days=1))  # Wednesday 11
    next_week = make_reservation(patient, NOW + timedelta(days=6))  # Monday 16
    html = html_of(pro.get("/agenda/"))
    assert "Semana del lunes 9 de marzo" in html
    assert f"session-{this_week.pk}" in html and f"session-{next_week.pk}" not in html
    days = re.findall(r'<section id="day-([\d-]+)"', html)
    assert days == [f"2026-03-{d:02d}" for d in range(9, 16)]
    assert 'id="day-2026-03-10" class="agenda-day agenda-day--selected agenda-day--today"' in html
    # Previous / next week, and day by day (the phone's).
    for link in ("?date=2026-03-03", "?date=2026-03-17", "?date=2026-03-09", "?date=2026-03-11"):
        assert f'href="{link}"' in html

    html = html_of(pro.get("/agenda/?date=2026-03-17"))
    assert "Semana del lunes 16 de marzo" in html
    assert f"session-{next_week.pk}" in html and f"session-{this_week.pk}" not in html
    assert 'id="day-2026-03-17" class="agenda-day agenda-day--selected"' in html


@pytest.mark.parametrize(
    "value", ["garbage", "2026-02-30", "20260317", "0001-01-01", "9999-12-31", "2026-W12-1", ""]
)
def test_a_bad_date_shows_this_week(pro, frozen_now, professional, value):
    html = html_of(pro.get(f"/agenda/?date={value}"))
    assert "Semana del lunes 9 de marzo" in html


def test_a_week_of_another_year_names_the_year(pro, frozen_now, professional):
    assert "Semana del lunes 4 de enero de 2027" in html_of(pro.get("/agenda/?date=2027-01-06"))


def test_times_are_the_professionals_own_zone(professional, patient, make_reservation, frozen_now):
    professional.time_zone = "Europe/Madrid"
    professional.save()
    make_reservation(patient, NOW + timedelta(hours=2))  # 17:00 UTC: 18:00 in Madrid (CET)
    html = html_of(csrf_client(professional).get("/agenda/"))
    assert "18:00–18:45" in html
    assert "Madrid (GMT+1)" in html
    # The week is Madrid's too: a session at 23:30 UTC Sunday is Monday 00:30 there.
    sunday_night = make_reservation(patient, NOW + timedelta(days=5, hours=8, minutes=30))
    assert f"session-{sunday_night.pk}" not in html_of(csrf_client(professional).get("/agenda/"))


def test_english_for_a_professional_who_reads_english(pro, request_of):
    html = pro.get("/agenda/", headers={"Accept-Language": "en"}).content.decode()
    assert "Pending requests" in html and "Week of Monday, March 9" in html
    assert "Decline…" in html


def test_the_agenda_queries_do_not_grow_with_the_sessions(
    pro, professional, patient, other_patient, frozen_now
):
    def add(count):
        Reservation.objects.all().delete()
        Reservation.objects.bulk_create(
            Reservation(
                client=(patient, other_patient)[i % 2],
                professional=professional,
                start_time=NOW + timedelta(days=i % 6 - 1, hours=i // 6 - 8),
                end_time=NOW + timedelta(days=i % 6 - 1, hours=i // 6 - 8, minutes=45),
                status=("CONFIRMED", "PENDING", "CANCELLED")[i % 3],
            )
            for i in range(count)
        )

    def count():
        with CaptureQueriesContext(connection) as ctx:
            html = html_of(pro.get("/agenda/"))
        return len(ctx.captured_queries), html.count('<li id="session-')

    pro.get("/agenda/")  # the first visit also marks the session (the menu's "Agenda")
    add(5)
    few, shown = count()
    assert shown == 5
    add(50)
    many, shown = count()
    assert shown == 50
    # session, user, professional profile, their second factor (accounts/enrolment.py), pending
    # requests, the week, its working hours, the practice's closures and its time off (the grid's),
    # the payments of the sessions listed (agenda/money.py)
    assert few == many == 10


# Settings


def test_settings_saves_and_records_the_change(pro, professional):
    page = html_of(pro.get("/agenda/settings/"))
    assert 'value="Lic. Carolina Gómez"' in page
    data = {
        "display_name": "Lic. Carolina Gómez",
        "specialty": "Psicología clínica",
        "phone": "011 4555-0101",
        "whatsapp": "",
        "contact_email": "consultas@example.com",
        "address": "",
        "video_url": "",
        "cancellation_notice_hours": "24",
        "reminder_hours": "24",
        "booking_emails": "on",
    }
    # requires_approval and daily_summary unticked: False.
    response = post(pro, "/agenda/settings/", **data)
    assert response.status_code == 302 and response["Location"] == "/agenda/settings/"
    profile = ProfessionalProfile.objects.get(user=professional)
    assert profile.specialty == "Psicología clínica"
    assert profile.cancellation_notice_hours == 24
    assert profile.requires_approval is False
    (change,) = ProfileChange.objects.filter(profile=profile)
    assert change.actor == professional
    assert change.changes["cancellation_notice_hours"] == [48, 24]
    assert change.changes["requires_approval"] == [True, False]
    assert "Guardado." in html_of(pro.get("/agenda/settings/"))
    # Saving the same again changes nothing and records nothing.
    post(pro, "/agenda/settings/", **data)
    assert ProfileChange.objects.count() == 1


@pytest.mark.parametrize("hours", ["169", "-1", "abc"])
def test_settings_refuses_a_notice_out_of_range(pro, professional, hours):
    response = post(pro, "/agenda/settings/", display_name="X", cancellation_notice_hours=hours)
    assert response.status_code == 200
    assert "form-errors" in response.content.decode()
    profile = ProfessionalProfile.objects.get(user=professional)
    assert profile.cancellation_notice_hours == 48 and profile.display_name == "Lic. Carolina Gómez"
    assert not ProfileChange.objects.exists()


def test_settings_accepts_the_bounds(pro, professional):
    for hours in (0, 168):
        post(
            pro,
            "/agenda/settings/",
            display_name="X",
            cancellation_notice_hours=str(hours),
            reminder_hours="24",
        )
        assert ProfessionalProfile.objects.get(user=professional).cancellation_notice_hours == hours
