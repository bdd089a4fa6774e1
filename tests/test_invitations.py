"""Invitations (accounts/invitations.py), as people meet them: reception invites a patient from the
admin, the email arrives through a real SMTP server (aiosmtpd) in the patient's language, naming
who invites and to what; its link lets them choose a password once, for seven days, while it is
their newest invitation, and lands them on a welcome page. Any link that no longer works gets one
page that says whom to ask."""

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts.models import Invitation, ProfessionalProfile, User
from notifications.models import Kind, Outbox, State
from reservations_site import roles

from .conftest import CSRF_TOKEN, NOW, csrf_client, make_user
from .test_notifications import run_due_tasks
from .test_smtp import SMTPServer, free_port

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
LINK = re.compile(r"https?://[^/\s]+(/accounts/invitation/[^/\s]+/)")
NEW_PASSWORD = "otra-contraseña-bien-larga-42"
CLOSED_ES = "Este enlace ya no sirve"


@pytest.fixture
def smtp_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 5
    return settings


def post(client, path, data, **kwargs):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data}, **kwargs)


@pytest.fixture
def desk(frozen_now):
    """A receptionist: staff, in the group "Recepción", two-step verification set up."""
    user = make_user(
        "mostrador@example.com", first_name="Mostrador", last_name="Pérez", is_staff=True
    )
    user.groups.add(Group.objects.get(name=roles.RECEPTION))
    return user


@pytest.fixture
def new_patient(db):
    """Registered by the practice: no password, no email address row, no language chosen."""
    user = User.objects.create_user(email="ines@example.com", first_name="Inés")
    return user


def invite(client, user, **headers):
    return post(client, f"{USERS}{user.pk}/invite/", {}, **headers)


def sent_link(inbox, to):
    [(_, message)] = [m for m in inbox.messages if m[0] == [to]]
    return LINK.search(message.get_body(("plain",)).get_content()).group(1)


def choose_password(client, link, password=NEW_PASSWORD):
    return post(client, link, {"new_password1": password, "new_password2": password})


# The email


def test_a_spanish_patient_gets_her_invitation_in_spanish_whoever_clicks(
    desk, new_patient, smtp_settings
):
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox:
        # The receptionist's pages are in English; the patient chose no language: the site's.
        client = csrf_client(desk)
        response = invite(client, new_patient, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302
        run_due_tasks()
    [(recipients, message)] = inbox.messages
    assert recipients == ["ines@example.com"]
    assert (
        message["Subject"].strip() == "[Turnos] Tu invitación para ver y pedir tus turnos en línea"
    )
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Hola Inés, te escribimos de Turnos.")
    assert "Mostrador Pérez, de Turnos, te invitó a ver tus turnos con el consultorio" in text
    assert "Para empezar, elegí tu contraseña con este enlace:" in text
    assert LINK.search(text)
    # NOW is 10 March 2026, 12:00 in Buenos Aires (the patient's zone).
    assert "sirve una sola vez, durante 7 días: hasta el 17 de marzo de 2026 a las 12:00" in text
    assert "ines@example.com" in text
    for phishy in ("Alguien", "seguramente vos", "contraseña nueva", "verificación en dos"):
        assert phishy not in text
    # Reception is told, in her language, to whom it went.
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "The invitation was sent to Inés &lt;ines@example.com&gt;; its link works until" in (
        page.content.decode()
    )


def test_an_english_patient_gets_it_in_english(desk, smtp_settings):
    john = User.objects.create_user(email="john@example.com", first_name="John", language="en")
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox:
        invite(csrf_client(desk), john)
        run_due_tasks()
    [(_, message)] = inbox.messages
    assert (
        message["Subject"].strip()
        == "[Turnos] Your invitation to see and book your sessions online"
    )
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Hello John, this is Turnos.")
    assert "Mostrador Pérez, at Turnos, invited you to see your sessions with the practice" in text
    assert "The link works once, for 7 days: until March 17, 2026 at noon." in text
    assert "To start, choose your password with this link:" in text


def test_a_professional_is_invited_to_the_agenda_by_a_superuser(staff, smtp_settings, frozen_now):
    pro = User.objects.create_user(email="ruiz@example.com", first_name="Pablo")
    ProfessionalProfile.objects.create(user=pro, display_name="Lic. Pablo Ruiz")
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox:
        assert invite(csrf_client(staff), pro).status_code == 302
        run_due_tasks()
    [(_, message)] = inbox.messages
    assert message["Subject"].strip() == "[Turnos] Tu invitación a tu agenda"
    text = message.get_body(("plain",)).get_content()
    assert "Recepción, de Turnos, te invitó a tu agenda en la web" in text
    assert "verificación en dos pasos" in text


def test_the_link_is_on_the_outbox_row_only_until_it_is_sent(desk, new_patient):
    invite(csrf_client(desk), new_patient)
    row = Outbox.objects.get(to="ines@example.com")
    assert row.kind == Kind.ACCOUNT and row.carries_secret and row.recipient == new_patient
    link = LINK.search(row.body).group(1)
    run_due_tasks()
    row.refresh_from_db()
    assert row.status == State.SENT
    assert link not in row.subject + row.body + row.html


# The link


def test_the_link_sets_the_password_once_and_lands_on_the_welcome_page(
    desk, new_patient, smtp_settings
):
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox:
        invite(csrf_client(desk), new_patient)
        run_due_tasks()
    link = sent_link(inbox, "ines@example.com")
    client = csrf_client()
    page = client.get(link)
    assert page.status_code == 200
    assert "Elegí tu contraseña" in page.content.decode()
    assert "Tu cuenta es ines@example.com" in page.content.decode()
    assert "Escribí la misma contraseña otra vez" in page.content.decode()  # not "Introduzca"

    response = choose_password(client, link)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/welcome/"
    welcome = client.get(response["Location"]).content.decode()
    assert "¡Bienvenida/o a Turnos!" in welcome
    assert "Ver mis turnos" in welcome and "/book/" in welcome
    assert "Contraseña cambiada" not in welcome and "cambiada" not in welcome
    assert client.get("/dashboard/").status_code == 200  # logged in

    new_patient.refresh_from_db()
    assert new_patient.check_password(NEW_PASSWORD)
    # The link proved the address.
    address = EmailAddress.objects.get(user=new_patient)
    assert (address.email, address.verified, address.primary) == ("ines@example.com", True, True)
    assert Invitation.objects.get(user=new_patient).accepted_at == NOW

    # Once: the same link, opened or posted again (from another browser), changes nothing.
    again = csrf_client()
    assert again.get(link).status_code == 410
    refused = choose_password(again, link, "una-tercera-contraseña-99")
    assert refused.status_code == 410
    assert CLOSED_ES in refused.content.decode()
    new_patient.refresh_from_db()
    assert new_patient.check_password(NEW_PASSWORD)


def test_a_weak_password_is_refused_on_the_page_and_the_link_still_works(desk, new_patient):
    invite(csrf_client(desk), new_patient)
    link = LINK.search(Outbox.objects.get().body).group(1)
    client = csrf_client()
    response = choose_password(client, link, "123")
    assert response.status_code == 200
    assert "form-errors" in response.content.decode() or "errorlist" in response.content.decode()
    new_patient.refresh_from_db()
    assert not new_patient.has_usable_password()
    assert choose_password(client, link).status_code == 302


def test_tries_on_the_page_are_rate_limited_like_a_password_reset(desk, new_patient, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "reset_password_from_key": "2/m/ip",
    }
    invite(csrf_client(desk), new_patient)
    link = LINK.search(Outbox.objects.get().body).group(1)
    client = csrf_client()
    assert [choose_password(client, link, "123").status_code for _ in range(3)] == [200, 200, 429]
    new_patient.refresh_from_db()
    assert not new_patient.has_usable_password()


@pytest.mark.parametrize(
    "later, works",
    [(timedelta(days=6, hours=23), True), (timedelta(days=7, minutes=1), False)],
)
def test_the_link_works_for_seven_days(desk, new_patient, later, works):
    invite(csrf_client(desk), new_patient)
    link = LINK.search(Outbox.objects.get().body).group(1)
    with time_machine.travel(NOW + later, tick=False):
        client = csrf_client()
        assert client.get(link).status_code == (200 if works else 410)
        response = choose_password(client, link)
        assert response.status_code == (302 if works else 410)
    new_patient.refresh_from_db()
    assert new_patient.has_usable_password() == works


def test_an_expired_and_a_made_up_link_look_the_same(desk, new_patient, settings):
    settings.PRACTICE_PHONE = "+5491155550101"
    settings.PRACTICE_EMAIL = "consultorio@example.com"
    invite(csrf_client(desk), new_patient)
    link = LINK.search(Outbox.objects.get().body).group(1)
    pk, signature = link.split("/")[-2].split(":")
    made_up = [
        f"/accounts/invitation/{pk}:forged/",
        f"/accounts/invitation/{int(pk) + 1}:{signature}/",  # another invitation's number
        "/accounts/invitation/nothing/",
    ]
    with time_machine.travel(NOW + timedelta(days=8), tick=False):
        pages = [csrf_client().get(url) for url in [link, *made_up]]
    # Each page's own: its CSRF token, and its path (the language switcher comes back to it).
    own = re.compile(r'name="(csrfmiddlewaretoken|next)"( type="hidden")? value="[^"]+"')
    bodies = {own.sub("", page.content.decode()) for page in pages}
    assert [page.status_code for page in pages] == [410] * 4
    assert len(bodies) == 1
    [body] = bodies
    assert CLOSED_ES in body
    # Whom to ask; nothing about the account.
    assert "011 15-5555-0101" in body and "consultorio@example.com" in body
    assert "ines@example.com" not in body and "Inés" not in body


def test_a_link_for_an_address_changed_since_opens_nothing(desk, new_patient):
    invite(csrf_client(desk), new_patient)
    link = LINK.search(Outbox.objects.get().body).group(1)
    new_patient.email = "ines.nueva@example.com"
    new_patient.save()
    assert choose_password(csrf_client(), link).status_code == 410
    new_patient.refresh_from_db()
    assert not new_patient.has_usable_password()


def test_the_page_speaks_the_invitees_language(desk):
    john = User.objects.create_user(email="john@example.com", first_name="John", language="en")
    invite(csrf_client(desk), john)
    link = LINK.search(Outbox.objects.get().body).group(1)
    page = csrf_client().get(link).content.decode()
    assert "Choose your password" in page and "Save my password and enter" in page


# Professionals and staff: their second factor comes first


def test_a_new_professional_lands_on_setting_up_two_step_verification(staff, frozen_now):
    pro = make_user("ruiz@example.com", first_name="Pablo", factor=False)
    pro.set_unusable_password()
    pro.save()
    ProfessionalProfile.objects.create(user=pro, display_name="Lic. Pablo Ruiz")
    invite(csrf_client(staff), pro)
    link = LINK.search(Outbox.objects.get().body).group(1)
    client = csrf_client()
    response = choose_password(client, link)
    assert response["Location"] == "/accounts/welcome/"
    # EnrolmentRequiredMiddleware: the authenticator app first, then back to the welcome page.
    assert client.get("/accounts/welcome/")["Location"] == "/accounts/2fa/totp/activate/"


def test_someone_with_a_factor_is_asked_for_it_before_being_logged_in(staff, professional):
    invite(csrf_client(staff), professional)
    link = LINK.search(Outbox.objects.get().body).group(1)
    client = csrf_client()
    response = choose_password(client, link)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/dashboard/").status_code == 302  # not logged in yet


# Resending from the admin


def test_resending_makes_a_new_link_and_the_old_one_stops_working(desk, new_patient, smtp_settings):
    client = csrf_client(desk)
    with SMTPServer(smtp_settings.EMAIL_PORT) as inbox:
        invite(client, new_patient)
        run_due_tasks()
        old = sent_link(inbox, "ines@example.com")
        inbox.messages.clear()
        response = invite(client, new_patient)
        run_due_tasks()
        new = sent_link(inbox, "ines@example.com")
    assert old != new
    message = client.get(response["Location"]).content.decode()
    assert "Se envió una invitación nueva a Inés &lt;ines@example.com&gt;" in message
    assert "El enlace enviado antes ya no sirve." in message
    assert choose_password(csrf_client(), old).status_code == 410
    new_patient.refresh_from_db()
    assert not new_patient.has_usable_password()
    assert choose_password(csrf_client(), new).status_code == 302


@pytest.mark.parametrize("target", ["professional", "colleague"])
def test_reception_cannot_invite_a_professional_or_staff(desk, target, request):
    if target == "colleague":
        victim = make_user("otro.mostrador@example.com", is_staff=True)
    else:
        victim = request.getfixturevalue(target)
    assert invite(csrf_client(desk), victim).status_code == 403
    assert not Invitation.objects.exists()
    assert not Outbox.objects.exists()


def test_the_users_page_says_where_the_invitation_stands(desk, new_patient):
    client = csrf_client(desk)
    page = f"{USERS}{new_patient.pk}/change/"
    assert "Nunca se envió" in client.get(page).content.decode()
    invite(client, new_patient)
    shown = client.get(page).content.decode()
    assert "Enviada, esperando que la use hasta el 17 de marzo de 2026, 12:00" in shown
    with time_machine.travel(NOW + timedelta(days=8), tick=False):
        desk_later = csrf_client(desk)
        assert (
            "Venció el 17 de marzo de 2026, 12:00 sin usarse"
            in desk_later.get(page).content.decode()
        )
    link = LINK.search(Outbox.objects.get().body).group(1)
    choose_password(csrf_client(), link)
    assert "Aceptada el 10 de marzo de 2026, 12:00" in client.get(page).content.decode()
