"""Each patient's data is theirs (Ley 25.326 arts. 14 and 16): their copy, after the password
again; a deletion request due in 5 business days; reception carrying it out or refusing it; the
practice's copy, written to the access log. Two patients share a professional throughout: the
one's copy and deletion never touch the other."""

import json
from datetime import date, datetime, timedelta

import holidays
import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission

from accounts.models import User
from audit.models import AccessLog
from calendars.models import FeedToken
from notifications.models import Kind, Outbox
from privacy.models import DeletionRequest, business_days_after
from reservations.actions import Actor, Channel
from reservations.models import Reservation, ReservationEvent

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user

pytestmark = pytest.mark.django_db

LUCIA_REASON = "Lucía tiene fiebre"
LUCIA_NOTES = "Lucía: trabajar la ansiedad del examen"
MARTIN_REASON = "Martín viaja a Rosario"
MARTIN_NOTES = "Martín: segunda entrevista"


def reauth(client, password=PASSWORD):
    """allauth's "enter your password again" page, as a person fills it in."""
    return client.post(
        "/accounts/reauthenticate/", {"password": password, "csrfmiddlewaretoken": CSRF_TOKEN}
    )


def post(client, url, data=None):
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": CSRF_TOKEN})


def history(patient, professional, reason, notes, days_ago):
    """A past session booked by the practice, then cancelled by it with `reason` (two events),
    and one attended with internal notes."""
    start = NOW - timedelta(days=days_ago)
    staff_actor = Actor.staff(professional, Channel.ADMIN)
    # Booked and cancelled back then (the rule refuses to cancel a started session).
    with time_machine.travel(start - timedelta(days=2), tick=False):
        cancelled = Reservation.book(
            by=staff_actor,
            client=patient,
            professional=professional,
            start_time=start,
            end_time=start + timedelta(minutes=45),
            status="CONFIRMED",
        )
    with time_machine.travel(start - timedelta(days=1), tick=False):
        assert cancelled.cancel(by=Actor.professional(professional), reason=reason) is None
    attended = Reservation.book(
        by=staff_actor,
        client=patient,
        professional=professional,
        start_time=start + timedelta(days=1),
        end_time=start + timedelta(days=1, minutes=45),
        status="CONFIRMED",
    )
    Reservation.objects.filter(pk=attended.pk).update(internal_notes=notes)
    return cancelled, attended


@pytest.fixture
def two_patients(patient, other_patient, professional, frozen_now):
    User.objects.filter(pk=patient.pk).update(
        last_name="Pérez", phone="+54 9 11 5555-0101", language="en"
    )
    User.objects.filter(pk=other_patient.pk).update(last_name="Rodríguez", phone="+54 11 4444-2222")
    patient.refresh_from_db()
    other_patient.refresh_from_db()
    lucia = history(patient, professional, LUCIA_REASON, LUCIA_NOTES, days_ago=10)
    martin = history(other_patient, professional, MARTIN_REASON, MARTIN_NOTES, days_ago=20)
    FeedToken.for_user(patient)
    FeedToken.for_user(other_patient)
    return lucia, martin


def assert_nothing_of_martin(text, other_patient, martin):
    for trace in [
        other_patient.email,
        "Martín",
        "Rodríguez",
        "4444-2222",
        str(other_patient.pk),
        MARTIN_REASON,
        MARTIN_NOTES,
        *(str(r.pk) for r in martin),
    ]:
        assert trace not in text, trace


# The patient's copy


def test_the_download_asks_for_the_password_again_then_gives_the_file(patient, two_patients):
    client = csrf_client(patient)
    first = client.get("/preferences/data.json")
    assert first.status_code == 302
    assert first["Location"].startswith("/accounts/reauthenticate/")
    assert reauth(client, "wrong password").status_code == 200  # refused: the form again
    assert client.get("/preferences/data.json").status_code == 302
    assert reauth(client).status_code == 302
    r = client.get("/preferences/data.json")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    assert r["Content-Disposition"].startswith('attachment; filename="turnos-data-')
    assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"]
    assert json.loads(r.content)["profile"]["email"] == patient.email


def test_the_file_holds_every_session_and_event_of_the_patient_and_nothing_of_another(
    patient, other_patient, two_patients
):
    (cancelled, attended), martin = two_patients
    client = csrf_client(patient)
    reauth(client)
    r = client.get("/preferences/data.json")
    text = r.content.decode()
    data = json.loads(text)

    assert data["profile"]["last_name"] == "Pérez"
    assert data["profile"]["phone"] == "+5491155550101"  # E.164
    sessions = {s["id"]: s for s in data["sessions"]}
    assert set(sessions) == {str(cancelled.pk), str(attended.pk)}
    gone = sessions[str(cancelled.pk)]
    assert gone["status"] == "CANCELLED"
    assert gone["cancellation_reason"] == LUCIA_REASON
    assert [e["action"] for e in gone["events"]] == ["created", "cancelled"]
    assert gone["events"][1]["by"] == "professional"
    assert gone["events"][1]["reason"] == LUCIA_REASON
    assert [e["action"] for e in sessions[str(attended.pk)]["events"]] == ["created"]
    # The practice's notes are not the patient's to read; the calendar link is not written out.
    assert LUCIA_NOTES not in text
    assert [f["live"] for f in data["calendar_links"]] == [True]
    assert FeedToken.objects.get(user=patient).token not in text
    assert_nothing_of_martin(text, other_patient, martin)
    # A patient's own copy is not someone else opening their data.
    assert not AccessLog.objects.exists()


def test_the_readable_page_is_in_the_patients_language_and_theirs_alone(
    patient, other_patient, two_patients
):
    (cancelled, attended), martin = two_patients
    client = csrf_client(patient)
    assert client.get("/preferences/data/").status_code == 302
    reauth(client)
    r = client.get("/preferences/data/")
    assert r.status_code == 200
    assert r["Content-Language"] == "en"
    assert "no-store" in r["Cache-Control"]
    text = r.content.decode()
    assert "Your data" in text
    assert f'data-session-id="{cancelled.pk}"' in text
    assert f'data-session-id="{attended.pk}"' in text
    assert LUCIA_REASON in text
    assert LUCIA_NOTES not in text
    assert_nothing_of_martin(text, other_patient, martin)


def test_preferences_offer_the_download_and_the_deletion(patient):
    text = csrf_client(patient).get("/preferences/").content.decode()
    for url in ("/preferences/data.json", "/preferences/data/", "/preferences/data/deletion/"):
        assert f'href="{url}"' in text


# Asking for deletion


def test_argentinas_holidays_and_weekends_are_not_business_days():
    national = holidays.country_holidays("AR", years=2026)
    assert date(2026, 12, 8) in national  # Inmaculada Concepción
    assert date(2026, 12, 7) in national  # a bridge day before it
    # Friday 4 December: Mon 7 and Tue 8 off, then Wed 9, Thu 10, Fri 11, Mon 14, Tue 15.
    assert business_days_after(date(2026, 12, 4)) == date(2026, 12, 15)
    # An ordinary week: Monday -> the next Monday.
    assert business_days_after(date(2026, 3, 2)) == date(2026, 3, 9)


def test_a_deletion_request_is_due_five_business_days_later_and_made_once(patient):
    client = csrf_client(patient)
    # Friday 4 December 2026, 17:00 in Buenos Aires: across a weekend, a bridge day and 8 Dec.
    with time_machine.travel(datetime.fromisoformat("2026-12-04T20:00:00+00:00"), tick=False):
        # Asking again for the password first (a stolen session cannot ask for it).
        assert post(client, "/preferences/data/deletion/").status_code == 302
        assert not DeletionRequest.objects.exists()
        reauth(client)
        assert client.get("/preferences/data/deletion/").status_code == 200
        assert post(client, "/preferences/data/deletion/").status_code == 302
        assert post(client, "/preferences/data/deletion/").status_code == 302  # a second click
        page = client.get("/preferences/data/deletion/", HTTP_ACCEPT_LANGUAGE="en")
    request = DeletionRequest.objects.get()
    assert request.patient == patient
    assert request.status == DeletionRequest.Status.REQUESTED
    assert request.due_by == date(2026, 12, 15)
    assert 'data-status="requested"' in page.content.decode()


def test_the_deletion_page_needs_a_login_and_rejects_other_methods(patient):
    assert csrf_client().get("/preferences/data/deletion/").status_code == 302
    client = csrf_client(patient)
    reauth(client)
    assert client.put("/preferences/data/deletion/", HTTP_X_CSRFTOKEN=CSRF_TOKEN).status_code == 405
    assert not DeletionRequest.objects.exists()


# Reception decides


@pytest.fixture
def asked(patient, two_patients):
    return DeletionRequest.ask(patient)[0]


def admin_client(staff):
    client = csrf_client(staff)
    reauth(client)
    return client


def test_carrying_out_anonymises_the_patient_keeps_the_sessions_and_spares_the_other(
    patient, other_patient, professional, staff, two_patients, asked
):
    (cancelled, attended), martin = two_patients
    email = patient.email
    martin_before = list(
        Reservation.objects.filter(client=other_patient).values().order_by("start_time")
    )
    martin_events = list(
        ReservationEvent.objects.filter(reservation__client=other_patient).values().order_by("id")
    )
    kept = list(
        Reservation.objects.filter(client=patient)
        .values("pk", "professional", "start_time", "end_time", "status", "attended")
        .order_by("start_time")
    )
    client = admin_client(staff)
    url = f"/admin/privacy/deletionrequest/{asked.pk}/carry-out/"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert post(client, url).status_code == 302

    patient.refresh_from_db()
    assert patient.email == f"deleted-{patient.pk}@invalid"
    assert (patient.first_name, patient.last_name, patient.phone) == ("", "", "")
    assert not patient.is_active
    assert not patient.has_usable_password()
    assert not EmailAddress.objects.filter(user=patient).exists()
    assert not FeedToken.objects.filter(user=patient, revoked_at__isnull=True).exists()
    # The facts of each session stay; the words go.
    assert (
        list(
            Reservation.objects.filter(client=patient)
            .values("pk", "professional", "start_time", "end_time", "status", "attended")
            .order_by("start_time")
        )
        == kept
    )
    cancelled.refresh_from_db()
    attended.refresh_from_db()
    assert cancelled.cancellation_reason == "" and attended.internal_notes == ""
    events = ReservationEvent.objects.filter(reservation__client=patient)
    assert events.count() == 3 and not events.exclude(reason="").exists()
    # Told first, at the address they had, in their language; the worker sends it.
    farewell = Outbox.objects.get(recipient=patient, kind=Kind.ACCOUNT)
    assert farewell.to == email
    assert farewell.subject == "Your data at Turnos has been deleted"
    assert "Lucía" in farewell.body
    assert farewell.status == "pending"
    asked.refresh_from_db()
    assert asked.status == DeletionRequest.Status.DONE
    assert asked.decided_by == staff

    # The other patient, who shares the professional, is untouched.
    other_patient.refresh_from_db()
    assert (other_patient.email, other_patient.first_name) == ("martin@example.com", "Martín")
    assert other_patient.is_active and other_patient.has_usable_password()
    assert EmailAddress.objects.filter(user=other_patient).exists()
    assert FeedToken.objects.filter(user=other_patient, revoked_at__isnull=True).exists()
    assert (
        list(Reservation.objects.filter(client=other_patient).values().order_by("start_time"))
        == martin_before
    )
    assert (
        list(
            ReservationEvent.objects.filter(reservation__client=other_patient)
            .values()
            .order_by("id")
        )
        == martin_events
    )

    # The account can no longer log in, with the old address or the new one.
    for login in (email, patient.email):
        door = csrf_client()
        r = post(door, "/accounts/login/", {"login": login, "password": PASSWORD})
        assert r.status_code == 200
        assert door.get("/dashboard/").status_code == 302


def test_a_session_left_open_on_the_patients_device_ends(patient, staff, two_patients, asked):
    device = csrf_client(patient)
    assert device.get("/dashboard/").status_code == 200
    post(admin_client(staff), f"/admin/privacy/deletionrequest/{asked.pk}/carry-out/")
    assert device.get("/dashboard/").status_code == 302


def test_carrying_out_waits_while_the_patient_has_sessions_ahead(
    patient, staff, two_patients, asked, make_reservation
):
    make_reservation(patient, NOW + timedelta(days=3))
    client = admin_client(staff)
    url = f"/admin/privacy/deletionrequest/{asked.pk}/carry-out/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert "cancel them first" in page.content.decode()
    post(client, url)
    patient.refresh_from_db()
    assert patient.email == "lucia@example.com" and patient.is_active
    asked.refresh_from_db()
    assert asked.status == DeletionRequest.Status.REQUESTED
    assert not Outbox.objects.filter(kind=Kind.ACCOUNT).exists()


def test_carrying_out_asks_for_the_password_again(patient, staff, two_patients, asked):
    client = csrf_client(staff)
    r = post(client, f"/admin/privacy/deletionrequest/{asked.pk}/carry-out/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/reauthenticate/")
    patient.refresh_from_db()
    assert patient.is_active


def test_staff_without_change_permission_cannot_decide(patient, two_patients, asked):
    viewer = make_user("mirada@example.com", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_deletionrequest", content_type__app_label="privacy")
    )
    client = admin_client(viewer)
    assert client.get(f"/admin/privacy/deletionrequest/{asked.pk}/change/").status_code == 200
    for action in ("carry-out", "refuse"):
        url = f"/admin/privacy/deletionrequest/{asked.pk}/{action}/"
        assert post(client, url, {"reason": "x"}).status_code == 403
    patient.refresh_from_db()
    asked.refresh_from_db()
    assert patient.is_active and asked.status == DeletionRequest.Status.REQUESTED


def test_refusing_takes_a_reason_the_patient_reads(patient, staff, two_patients, asked):
    client = admin_client(staff)
    url = f"/admin/privacy/deletionrequest/{asked.pk}/refuse/"
    assert post(client, url, {"reason": ""}).status_code == 200  # the form again
    asked.refresh_from_db()
    assert asked.status == DeletionRequest.Status.REQUESTED
    assert post(client, url, {"reason": "Ley 26.529: la historia clínica"}).status_code == 302
    asked.refresh_from_db()
    assert asked.status == DeletionRequest.Status.REFUSED and asked.decided_by == staff
    patient.refresh_from_db()
    assert patient.is_active
    mine = csrf_client(patient)
    reauth(mine)
    page = mine.get("/preferences/data/deletion/").content.decode()
    assert 'data-status="refused"' in page and "Ley 26.529: la historia clínica" in page


def test_the_list_shows_open_requests_with_their_deadline_overdue_highlighted(
    staff, patient, other_patient, two_patients
):
    late = DeletionRequest.objects.create(
        patient=other_patient, requested_at=NOW - timedelta(days=30), due_by=date(2026, 2, 13)
    )
    DeletionRequest.ask(patient)
    text = admin_client(staff).get("/admin/privacy/deletionrequest/").content.decode()
    assert "2026-02-13" in text and "turnos-overdue" in text
    assert text.count("turnos-overdue") == 1
    assert late.is_overdue()


# The practice's copy


def test_a_professional_exports_their_own_patients_data_and_it_is_logged(
    patient, other_patient, professional, two_patients, make_reservation
):
    from accounts.models import ProfessionalProfile

    (cancelled, attended), martin = two_patients
    ruiz = make_user("ruiz@example.com", first_name="Pablo", last_name="Ruiz")
    ProfessionalProfile.objects.create(user=ruiz, display_name="Dr. Pablo Ruiz")
    elsewhere = make_reservation(patient, NOW - timedelta(days=40), pro=ruiz)
    client = csrf_client(professional)
    reauth(client)
    r = client.get(f"/agenda/patients/{patient.pk}/export/")
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    text = r.content.decode()
    data = json.loads(text)
    assert {s["id"] for s in data["sessions"]} == {str(cancelled.pk), str(attended.pk)}
    assert LUCIA_NOTES in text  # the practice's copy has its notes
    # Her sessions with another professional are not this one's to hand over.
    assert str(elsewhere.pk) not in text and "Ruiz" not in text
    assert_nothing_of_martin(text, other_patient, martin)
    entry = AccessLog.objects.get()
    assert (entry.kind, entry.actor, entry.subject) == ("export", professional, patient)
    assert entry.where == "agenda: export"
    page = client.get(f"/agenda/patients/{patient.pk}/export/?as=page")
    assert page.status_code == 200 and f'data-session-id="{attended.pk}"' in page.content.decode()
    # The session's page offers it.
    session = client.get(f"/agenda/{attended.pk}/").content.decode()
    assert f"/agenda/patients/{patient.pk}/export/" in session


def test_a_professional_cannot_export_someone_who_is_not_their_patient(
    patient, professional, two_patients
):
    stranger = make_user("ajena@example.com", first_name="Ajena")
    client = csrf_client(professional)
    reauth(client)
    for pk in (stranger.pk, professional.pk, "7d8f3a8e-0000-4000-8000-000000000000"):
        assert client.get(f"/agenda/patients/{pk}/export/").status_code == 404
    assert not AccessLog.objects.filter(kind="export").exists()
    # A patient is no professional.
    other = csrf_client(patient)
    reauth(other)
    assert other.get(f"/agenda/patients/{patient.pk}/export/").status_code == 403


def test_reception_exports_a_patients_data_and_it_is_logged(staff, patient, two_patients):
    client = admin_client(staff)
    assert "/admin/privacy/deletionrequest/export/" in (
        client.get(f"/admin/accounts/user/{patient.pk}/change/").content.decode()
    )
    before = AccessLog.objects.filter(kind="export").count()
    r = client.get(f"/admin/privacy/deletionrequest/export/{patient.pk}/")
    assert r.status_code == 200
    assert json.loads(r.content)["made_by"] == "practice"
    entry = AccessLog.objects.filter(kind="export").get()
    assert before == 0
    assert (entry.actor, entry.subject, entry.where) == (staff, patient, "admin: export")
    assert entry.object_id == str(patient.pk)


def reset_email(patient):
    """A password reset as allauth's adapter queues it: a live link in its body."""
    return Outbox.objects.create(
        kind=Kind.ACCOUNT,
        recipient=patient,
        to=patient.email,
        subject="Password reset",
        body="Follow https://turnos.example/accounts/password/reset/key/SECRET-KEY-123/",
        html='<a href="https://turnos.example/accounts/password/reset/key/SECRET-KEY-123/">',
        status="sent",
    )


def test_the_copy_lists_messages_without_their_text_or_links(patient, two_patients):
    reset_email(patient)
    client = csrf_client(patient)
    reauth(client)
    text = client.get("/preferences/data.json").content.decode()
    messages = json.loads(text)["messages"]
    assert [(m["kind"], m["subject"], m["to"]) for m in messages] == [
        ("account", "Password reset", patient.email)
    ]
    assert "SECRET-KEY-123" not in text
    page = client.get("/preferences/data/").content.decode()
    assert "Password reset" in page and "SECRET-KEY-123" not in page


def test_the_deletion_clears_messages_and_the_farewell_goes_to_the_old_address(
    patient, staff, two_patients, asked
):
    from django.core import mail
    from django.utils import timezone

    from notifications.tasks import deliver

    old = reset_email(patient)
    (_, attended), _ = two_patients
    waiting = Outbox.objects.create(
        kind=Kind.REMINDER,
        reservation=attended,
        recipient=patient,
        session_start=attended.start_time,
        next_attempt_at=NOW + timedelta(days=1),
    )
    post(admin_client(staff), f"/admin/privacy/deletionrequest/{asked.pk}/carry-out/")
    old.refresh_from_db()
    waiting.refresh_from_db()
    assert (old.to, old.subject, old.body, old.html) == (
        f"deleted-{patient.pk}@invalid",
        "",
        "",
        "",
    )
    assert waiting.status == "skipped"
    farewell = Outbox.objects.get(recipient=patient, kind=Kind.ACCOUNT, status="pending")
    assert farewell.claim(timezone.now())
    deliver(farewell)  # what the worker does with it
    assert [m.to for m in mail.outbox] == [["lucia@example.com"]]
    assert mail.outbox[0].subject == "Your data at Turnos has been deleted"


def test_the_agenda_export_asks_for_the_password_again(patient, professional, two_patients):
    r = csrf_client(professional).get(f"/agenda/patients/{patient.pk}/export/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/reauthenticate/")
    assert not AccessLog.objects.exists()


def test_the_pages_need_no_inline_script_or_style(patient, two_patients):
    """What the strict Content-Security-Policy would block is not there (tests/test_a11y.py)."""
    from .test_a11y import INLINE_HANDLER, INLINE_SCRIPT, STYLE_ATTRIBUTE

    client = csrf_client(patient)
    reauth(client)
    for path in ("/preferences/data/", "/preferences/data/deletion/"):
        html = client.get(path).content.decode()
        assert not INLINE_SCRIPT.search(html), path
        assert not INLINE_HANDLER.search(html), path
        assert not STYLE_ATTRIBUTE.search(html), path
