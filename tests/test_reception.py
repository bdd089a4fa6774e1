"""The reception desk in the admin, through HTTP: the list reception works on, its filters and
search, the pickers, cancels that ask for a reason, a professional's days cancelled at once, the
overlap that names the other booking, and patients registered without a password."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from accounts.models import User
from reservations.actions import Actor
from reservations.models import Reservation, ReservationEvent
from scheduling.models import TimeOff

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user
from .test_notifications import run_due_tasks

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reservations/reservation/"
RANGE = f"{CHANGELIST}cancel-range/"
USERS = "/admin/accounts/user/"

# The user page's inlines (professional profile, sessions ahead, sessions behind), posted empty.
NO_INLINE_ROWS = {
    f"{prefix}-{count}_FORMS": "0"
    for prefix in ("professional_profile", "reservations", "reservations-2")
    for count in ("TOTAL", "INITIAL")
}

# NOW is Tuesday 10 March 2026, 12:00 in Buenos Aires (the staff member's zone).
DAY = timedelta(days=1)


def post(client, path, data, **kwargs):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data}, **kwargs)


def shown(response):
    return {r.pk for r in response.context["cl"].result_list}


@pytest.fixture
def desk(staff, frozen_now):
    client = csrf_client(staff)
    # Bulk cancels ask for the password again (tests/test_reauth.py): confirmed once, on the
    # frozen clock it stays recent.
    post(client, "/accounts/reauthenticate/", {"password": PASSWORD})
    return client


@pytest.fixture
def week(patient, other_patient, make_reservation, frozen_now):
    """Sessions around NOW, named by when they start (Buenos Aires)."""
    return {
        "last_week": make_reservation(patient, NOW - 7 * DAY),
        "yesterday": make_reservation(other_patient, NOW - DAY),
        "this_morning": make_reservation(patient, NOW - timedelta(hours=3)),  # 09:00 today
        "tonight": make_reservation(other_patient, NOW + timedelta(hours=8)),  # 20:00 today
        "tomorrow": make_reservation(patient, NOW + DAY, status="PENDING"),
        "in_6_days": make_reservation(other_patient, NOW + 6 * DAY),
        "in_7_days": make_reservation(patient, NOW + 7 * DAY),
    }


# The list


def test_the_list_opens_on_today_and_the_days_after_nearest_first(desk, week):
    r = desk.get(CHANGELIST)
    assert r.status_code == 200
    order = [x.pk for x in r.context["cl"].result_list]
    expected = ["this_morning", "tonight", "tomorrow", "in_6_days", "in_7_days"]
    assert order == [week[name].pk for name in expected]
    assert "Desde hoy" in r.content.decode()


@pytest.mark.parametrize(
    "when, expected",
    [
        ("today", {"this_morning", "tonight"}),
        ("tomorrow", {"tomorrow"}),
        ("week", {"this_morning", "tonight", "tomorrow", "in_6_days"}),
        ("past", {"last_week", "yesterday"}),
        ("all", {"last_week", "yesterday", "this_morning", "tonight", "tomorrow", "in_6_days",
                 "in_7_days"}),
    ],
)  # fmt: skip
def test_the_date_filters(desk, week, when, expected):
    r = desk.get(CHANGELIST, {"when": when})
    assert shown(r) == {week[name].pk for name in expected}


def test_the_date_filters_follow_the_staff_members_zone(staff, week):
    # In Madrid it is already 16:00 on the 10th; 20:00 in Buenos Aires is 00:00 of the 11th.
    staff.time_zone = "Europe/Madrid"
    staff.save()
    r = csrf_client(staff).get(CHANGELIST, {"when": "tomorrow"})
    assert shown(r) == {week["tonight"].pk, week["tomorrow"].pk}


def test_the_list_shows_times_badges_attendance_and_lateness(desk, week, staff):
    week["this_morning"].record_attendance(False, by=Actor.staff(staff))
    week["tonight"].cancel(by=Actor.staff(staff), reason="x")
    html = desk.get(CHANGELIST).content.decode()
    assert "10 de marzo de 2026, 09:00" in html and "09:45 (45 min)" in html
    assert '<span class="turnos-badge turnos-badge--absent">Ausente</span>' in html
    assert '<span class="turnos-badge turnos-badge--pending">Pendiente</span>' in html
    assert "Fuera de término, del consultorio" in html or "consultorio" in html
    assert "admin-turnos/admin.css" in html
    assert "Turnos · Recepción" in html


@pytest.mark.parametrize("term", ["fernandez", "FERNANDEZ", "Fernández", "fernán", "munoz"])
def test_search_ignores_accents_and_case(desk, make_reservation, frozen_now, term):
    # Runs on SQLite and on PostgreSQL (.ci/run runs the suite on both).
    fernandez = make_user("sofia@example.com", first_name="Sofía", last_name="Fernández Muñoz")
    make_user("otro@example.com", first_name="Otro")
    booked = make_reservation(fernandez, NOW + DAY)
    r = desk.get(CHANGELIST, {"q": term})
    assert shown(r) == {booked.pk}
    users = desk.get(USERS, {"q": term})
    assert [u.pk for u in users.context["cl"].result_list] == [fernandez.pk]


def test_search_finds_a_professional_by_the_name_patients_see(desk, week):
    r = desk.get(CHANGELIST, {"q": "lic. carolina gomez", "when": "all"})
    assert len(shown(r)) == len(week)


# Pickers


def autocomplete(client, field, term):
    return client.get(
        "/admin/autocomplete/",
        {
            "term": term,
            "app_label": "reservations",
            "model_name": "reservation",
            "field_name": field,
        },
    ).json()["results"]


def test_the_professional_picker_offers_professionals_only(desk, patient, professional):
    form = desk.get(f"{CHANGELIST}add/").context["form"]
    assert list(form.fields["professional"].queryset) == [professional]
    assert set(form.fields["client"].queryset) >= {patient, professional}
    assert [r["id"] for r in autocomplete(desk, "professional", "")] == [str(professional.pk)]
    assert autocomplete(desk, "professional", "lucia") == []


def test_a_patient_cannot_be_booked_as_the_professional(desk, patient, other_patient):
    r = post(
        desk,
        f"{CHANGELIST}add/",
        {
            "client": patient.pk,
            "professional": other_patient.pk,
            "day": "2026-03-20",
            "start": "10:00",
            "session_modality": "Virtual",
            "status": "PENDING",
            "override": "on",
        },
    )
    assert r.status_code == 200
    assert "professional" in r.context["form"].errors
    assert not Reservation.objects.exists()


def test_the_patient_picker_shows_name_and_email_and_puts_an_exact_email_first(desk):
    # "ana@example.com" is inside the other two addresses: an exact match must still lead.
    make_user("mariana@example.com", first_name="Mariana")
    make_user("ana@example.com.ar", first_name="Anahí")
    ana = make_user("ana@example.com", first_name="Ana", last_name="Pérez")
    results = autocomplete(desk, "client", "ana@example.com")
    assert len(results) == 3
    assert results[0] == {"id": str(ana.pk), "text": "Ana Pérez <ana@example.com>"}
    assert [r["text"] for r in autocomplete(desk, "client", "perez")] == [
        "Ana Pérez <ana@example.com>"
    ]


# Cancelling


def test_the_cancel_action_asks_for_a_reason_then_cancels_as_staff(desk, staff, week):
    chosen = [week["tonight"], week["tomorrow"], week["in_6_days"]]
    data = {"action": "cancel_selected", "_selected_action": [r.pk for r in chosen]}
    asked = post(desk, CHANGELIST, data)
    assert asked.status_code == 200
    assert "¿Cancelar estos turnos?" in asked.content.decode()
    assert not Reservation.objects.filter(status="CANCELLED").exists()
    refused = post(desk, CHANGELIST, {**data, "confirm": "yes", "reason": ""})
    assert refused.status_code == 200  # asked again: a reason is required
    assert not Reservation.objects.filter(status="CANCELLED").exists()

    done = post(desk, CHANGELIST, {**data, "confirm": "yes", "reason": "La Lic. está enferma"})
    assert done.status_code == 302
    for r in chosen:
        r.refresh_from_db()
        assert (r.status, r.cancelled_by, r.cancellation_reason) == (
            "CANCELLED",
            staff,
            "La Lic. está enferma",
        )
        event = r.events.get(action="cancelled")
        assert (event.actor, event.channel, event.reason) == (staff, "admin", r.cancellation_reason)
    # Inside the 48 h notice: late, on the practice's side; beyond it: on time.
    assert [r.late_cancellation for r in chosen] == ["practice", "practice", ""]


def cancel_page(reservation):
    return f"{CHANGELIST}{reservation.pk}/cancel/"


def test_cancel_one_for_the_patient_inside_the_notice_is_late_by_the_patient(desk, staff, week):
    target = week["tomorrow"]
    change = desk.get(f"{CHANGELIST}{target.pk}/change/").content.decode()
    assert cancel_page(target) in change
    page = desk.get(cancel_page(target)).content.decode()
    assert "dentro del plazo de aviso" in page
    r = post(desk, cancel_page(target), {"reason": "Llamó: viaja por trabajo", "for_patient": "on"})
    assert r.status_code == 302
    target.refresh_from_db()
    assert (target.status, target.cancelled_by, target.late_cancellation) == (
        "CANCELLED",
        staff,
        "patient",
    )
    assert target.events.get(action="cancelled").reason == "Llamó: viaja por trabajo"


def test_cancel_one_without_the_checkbox_is_late_by_the_practice(desk, week):
    target = week["tonight"]
    post(desk, cancel_page(target), {"reason": "Se cortó la luz"})
    target.refresh_from_db()
    assert target.late_cancellation == "practice"


def test_cancel_one_needs_a_reason_and_rejects_a_missing_csrf_token(desk, week, staff):
    target = week["tomorrow"]
    assert post(desk, cancel_page(target), {"reason": " "}).status_code == 200
    assert desk.post(cancel_page(target), {"reason": "x"}).status_code == 403  # no token
    target.refresh_from_db()
    assert target.status == "PENDING"


def test_a_cancelled_reservation_is_read_only_but_its_notes(desk, staff, week):
    target = week["tomorrow"]
    target.cancel(by=Actor.staff(staff), reason="x")
    url = f"{CHANGELIST}{target.pk}/change/"
    page = desk.get(url)
    form = page.context["adminform"].form
    assert list(form.fields) == ["internal_notes"]
    assert cancel_page(target) not in page.content.decode()
    r = post(
        desk,
        url,
        {
            "internal_notes": "Avisar si se libera otro horario",
            "start_time_0": "2026-03-25",
            "start_time_1": "10:00",
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "1",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    target.refresh_from_db()
    assert target.internal_notes == "Avisar si se libera otro horario"
    assert target.start_time == NOW + DAY  # untouched
    assert target.status == "CANCELLED"


def test_reservations_still_cannot_be_deleted(desk, week):
    target = week["tomorrow"]
    assert post(desk, f"{CHANGELIST}{target.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Reservation.objects.filter(pk=target.pk).exists()


# A professional's days


def test_cancel_a_professionals_days_shows_the_list_then_cancels_each(
    desk, staff, week, make_reservation, other_patient
):
    from accounts.models import ProfessionalProfile

    other_pro = make_user("ruiz@example.com", first_name="Dr. Ruiz")
    ProfessionalProfile.objects.create(user=other_pro, display_name="Dr. Ruiz")
    someone_elses = make_reservation(other_patient, NOW + DAY + timedelta(hours=2), pro=other_pro)
    form = {
        "professional": week["tonight"].professional_id,
        "start": "2026-03-10",
        "end": "2026-03-11",
        "reason": "La Lic. Gómez está enferma",
    }
    preview = post(desk, RANGE, form)
    assert preview.status_code == 200
    listed = [r.pk for r, _when in preview.context["sessions"]]
    # Today's session already over stays; tonight's and tomorrow's are listed; not Dr. Ruiz's.
    assert listed == [week["tonight"].pk, week["tomorrow"].pk]
    assert "Se van a cancelar 2 turnos" in preview.content.decode()
    assert not Reservation.objects.filter(status="CANCELLED").exists()

    done = post(desk, RANGE, {**form, "confirm": "1", "session": listed})
    assert done.status_code == 302
    assert Reservation.objects.filter(status="CANCELLED").count() == 2
    for name in ("tonight", "tomorrow"):
        r = week[name]
        r.refresh_from_db()
        assert (r.status, r.cancelled_by, r.late_cancellation) == ("CANCELLED", staff, "practice")
        event = r.events.get(action="cancelled")
        assert (event.actor, event.channel, event.reason) == (
            staff,
            "admin",
            "La Lic. Gómez está enferma",
        )
    someone_elses.refresh_from_db()
    assert someone_elses.status == "CONFIRMED"
    message = list(desk.get(done["Location"]).context["messages"])[0]
    assert "2 reservas canceladas" in str(message)


def test_cancel_a_professionals_days_shows_again_a_session_booked_since(
    desk, week, make_reservation, patient
):
    form = {
        "professional": week["tonight"].professional_id,
        "start": "2026-03-11",
        "end": "2026-03-11",
        "reason": "Feriado",
    }
    shown_pk = week["tomorrow"].pk
    booked_since = make_reservation(patient, NOW + DAY + timedelta(hours=3))
    # The days become an absence: a session inside it that nobody saw is not left there
    # silently, nor cancelled unseen. The list comes back with it, and nothing is done.
    again = post(desk, RANGE, {**form, "confirm": "1", "session": [shown_pk]})
    assert again.status_code == 200
    listed = [r.pk for r, _when in again.context["sessions"]]
    assert booked_since.pk in listed and shown_pk in listed
    assert not Reservation.objects.filter(status="CANCELLED").exists()
    assert not TimeOff.objects.exists()
    post(desk, RANGE, {**form, "confirm": "1", "session": listed})
    assert set(Reservation.objects.filter(pk__in=listed).values_list("status", flat=True)) == {
        "CANCELLED"
    }


def test_the_range_form_refuses_a_patient_and_a_backwards_range(desk, week, patient):
    r = post(
        desk,
        RANGE,
        {"professional": patient.pk, "start": "2026-03-12", "end": "2026-03-11", "reason": "x"},
    )
    errors = r.context["form"].errors
    assert "professional" in errors and "__all__" in errors
    assert not Reservation.objects.filter(status="CANCELLED").exists()


# Overlaps


def test_an_overlap_names_the_other_booking(desk, week, patient, other_patient, professional):
    clash = week["tomorrow"]  # Lucía with Lic. Gómez, 11/03 12:00–12:45
    r = post(
        desk,
        f"{CHANGELIST}add/",
        {
            "client": other_patient.pk,
            "professional": professional.pk,
            "day": "2026-03-11",
            "start": "12:30",
            "minutes": "45",
            "session_modality": "Virtual",
            "status": "PENDING",
            # This professional has no hours: booked anyway, but never over another session.
            "override": "on",
        },
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert (
        "Este horario se superpone con el turno de Lucía con Lic. Carolina Gómez el "
        "11/03/2026 12:00–12:45." in html
    )
    assert f'<a href="{CHANGELIST}{clash.pk}/change/">Abrir ese turno</a>' in html
    assert Reservation.objects.count() == len(week)


# Patients


def test_staff_add_a_patient_without_a_password_and_invite_them(
    desk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = post(
            desk,
            f"{USERS}add/",
            {
                "email": "Nueva.Paciente@Example.com",
                "first_name": "Inés",
                "last_name": "Álvarez",
                "phone": "+54 9 11 5555 0000",
                "time_zone": "America/Argentina/Cordoba",
                "language": "es-ar",
                "send_invitation": "on",
                **NO_INLINE_ROWS,
                "_save": "1",
            },
        )
    assert r.status_code == 302, r.content.decode()[:3000]
    user = User.objects.get(email="nueva.paciente@example.com")
    assert (user.first_name, user.phone, user.time_zone, user.language) == (
        "Inés",
        "+54 9 11 5555 0000",
        "America/Argentina/Cordoba",
        "es-ar",
    )
    assert not user.has_usable_password()
    assert not user.is_staff
    run_due_tasks()
    (message,) = mail.outbox
    assert message.to == ["nueva.paciente@example.com"]
    assert message.body.startswith("Hola Inés, te escribimos de Turnos.")
    assert "Recepción, de Turnos, te invitó a ver tus turnos" in message.body
    link = re.search(r"https?://[^/]+(/accounts/invitation/\S+/)", message.body).group(1)
    # The link leads to the page where she chooses her password (tests/test_invitations.py).
    follow = csrf_client().get(link)
    assert follow.status_code == 200 and "Elegí tu contraseña" in follow.content.decode()


def test_the_invitation_is_in_the_patients_language(desk, django_capture_on_commit_callbacks):
    user = make_user("john@example.com", first_name="John", language="en")
    r = post(desk, f"{USERS}{user.pk}/invite/", {})
    assert r.status_code == 302
    run_due_tasks()
    (message,) = mail.outbox
    assert message.body.startswith("Hello John, this is Turnos.")
    assert "Recepción, at Turnos, invited you to see your sessions" in message.body
    assert desk.get(f"{USERS}{user.pk}/invite/").status_code == 405


def test_without_the_box_no_invitation_is_sent(desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(
            desk,
            f"{USERS}add/",
            {
                "email": "sin@example.com",
                "time_zone": "America/Argentina/Buenos_Aires",
                **NO_INLINE_ROWS,
            },
        )
    assert User.objects.filter(email="sin@example.com").exists()
    assert mail.outbox == []


def test_the_user_page_lists_the_patients_sessions(desk, week, patient):
    r = desk.get(f"{USERS}{patient.pk}/change/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Próximos turnos" in html and "Turnos pasados" in html
    for name in ("this_morning", "tomorrow", "in_7_days", "last_week"):
        assert f"{CHANGELIST}{week[name].pk}/change/" in html, name
    assert f"{CHANGELIST}{week['tonight'].pk}/change/" not in html  # Martín's


@pytest.fixture
def reception(frozen_now):
    """Staff with the reservation and user permissions, not a superuser."""
    user = make_user("mostrador@example.com", first_name="Mostrador", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["reservations", "accounts"],
            codename__in=[
                "view_reservation",
                "change_reservation",
                "add_reservation",
                "view_user",
                "change_user",
                "add_user",
            ],
        )
    )
    return user


def test_reception_sees_no_groups_email_addresses_or_permission_lists(reception, patient):
    client = csrf_client(reception)
    index = client.get("/admin/").content.decode()
    assert "/admin/reservations/reservation/" in index and "/admin/accounts/user/" in index
    assert "/admin/auth/group/" not in index
    assert "/admin/account/emailaddress/" not in index
    assert client.get("/admin/auth/group/").status_code == 403
    assert client.get("/admin/account/emailaddress/").status_code == 403
    form = client.get(f"{USERS}{patient.pk}/change/").context["adminform"].form
    assert not {"is_superuser", "groups", "user_permissions"} & set(form.fields)
    # A superuser still has all of them.
    superuser = make_user("root@example.com", is_staff=True, is_superuser=True)
    root = csrf_client(superuser)
    assert "/admin/auth/group/" in root.get("/admin/").content.decode()
    form = root.get(f"{USERS}{patient.pk}/change/").context["adminform"].form
    assert {"is_superuser", "groups", "user_permissions"} <= set(form.fields)


def test_reception_without_the_change_permission_sees_no_cancel(reception, week):
    reception.user_permissions.remove(
        Permission.objects.get(
            codename="change_reservation", content_type__app_label="reservations"
        )
    )
    client = csrf_client(reception)
    page = client.get(CHANGELIST).content.decode()
    assert "cancel_selected" not in page and "confirm_selected" not in page
    assert RANGE not in page
    change = client.get(f"{CHANGELIST}{week['tomorrow'].pk}/change/").content.decode()
    assert cancel_page(week["tomorrow"]) not in change


def test_event_log_records_one_event_per_cancel(desk, week):
    post(desk, cancel_page(week["tomorrow"]), {"reason": "x"})
    post(desk, cancel_page(week["tomorrow"]), {"reason": "again"})  # already cancelled
    assert ReservationEvent.objects.filter(action="cancelled").count() == 1


def test_reception_cannot_grant_admin_access_nor_change_a_superuser(reception, patient):
    client = csrf_client(reception)
    form = client.get(f"{USERS}{patient.pk}/change/").context["adminform"].form
    assert "is_staff" not in form.fields  # shown, read-only
    r = post(
        client,
        f"{USERS}{patient.pk}/change/",
        {
            "email": patient.email,
            "first_name": "Cambiado",
            "last_name": patient.last_name,
            "time_zone": patient.time_zone,
            "language": patient.language,
            "is_active": "on",
            "is_staff": "on",
            **NO_INLINE_ROWS,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    patient.refresh_from_db()
    assert patient.first_name == "Cambiado" and not patient.is_staff

    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    for path in (f"{USERS}{root.pk}/change/", f"{USERS}{root.pk}/password/"):
        r = post(client, path, {"email": "mine@example.com", "password1": "x" * 20})
        assert r.status_code == 403, path
    assert client.get(f"{USERS}{root.pk}/delete/").status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.com" and root.is_superuser
    # A superuser may still change both.
    su = csrf_client(root)
    assert "is_staff" in su.get(f"{USERS}{patient.pk}/change/").context["adminform"].form.fields
