"""Asking for the password again before what matters (allauth's re-authentication): reception's
bulk cancels, a superuser changing someone's role, changing an email address. Without a recent
re-authentication the change waits on allauth's "confirm it is you" page; once confirmed, it is
carried out; and ACCOUNT_REAUTHENTICATION_TIMEOUT later it asks again."""

from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Permission

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reservations/reservation/"
RANGE = f"{CHANGELIST}cancel-range/"
USERS = "/admin/accounts/user/"
REAUTH = "/accounts/reauthenticate/"
NO_INLINE_ROWS = {
    f"{prefix}-{count}_FORMS": "0"
    for prefix in ("professional_profile", "reservations", "reservations-2")
    for count in ("TOTAL", "INITIAL")
}


def post(client, path, data=None):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **(data or {})})


def asks_again(response, path):
    return response.status_code == 302 and response["Location"] == (
        f"{REAUTH}?next={quote(path, safe='')}"
    )


def confirm(client, response, password=PASSWORD):
    """Give the password on the page the response led to; allauth then carries on."""
    page = client.get(response["Location"])
    assert page.status_code == 200
    return post(client, response["Location"], {"password": password})


@pytest.fixture
def reception(frozen_now):
    user = make_user("mostrador@example.com", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["reservations", "scheduling"],
            # Cancelling a professional's days records them as an absence: add_timeoff too.
            codename__in=["view_reservation", "change_reservation", "add_timeoff"],
        )
    )
    return user


@pytest.fixture
def two_days(patient, other_patient, professional, make_reservation, frozen_now):
    return [
        make_reservation(patient, NOW + timedelta(days=1)),
        make_reservation(other_patient, NOW + timedelta(days=1, hours=2)),
    ]


def range_confirm(sessions, professional):
    return {
        "professional": professional.pk,
        "start": "2026-03-11",
        "end": "2026-03-11",
        "reason": "Enfermedad",
        "confirm": "1",
        "session": [s.pk for s in sessions],
    }


def statuses(sessions):
    return {s.__class__.objects.get(pk=s.pk).status for s in sessions}


# --- Reception's bulk cancels --------------------------------------------------------------------


def test_cancelling_a_professionals_days_asks_for_the_password_then_cancels(
    reception, professional, two_days
):
    desk = csrf_client(reception)
    # Choosing and seeing the list needs nothing more.
    choice = range_confirm(two_days, professional)
    del choice["confirm"]
    preview = post(desk, RANGE, choice)
    assert preview.status_code == 200
    r = post(desk, RANGE, range_confirm(two_days, professional))
    assert asks_again(r, RANGE)
    assert statuses(two_days) == {"CONFIRMED"}
    # A wrong password carries out nothing.
    assert confirm(desk, r, password="wrong").status_code == 200
    assert statuses(two_days) == {"CONFIRMED"}
    done = confirm(desk, r)
    assert done.status_code == 302
    assert statuses(two_days) == {"CANCELLED"}


def test_a_recent_confirmation_holds_for_its_timeout_then_it_asks_again(
    reception, professional, patient, make_reservation
):
    with time_machine.travel(NOW, tick=False) as clock:
        desk = csrf_client(reception)
        assert post(desk, REAUTH, {"password": PASSWORD}).status_code == 302
        first = [make_reservation(patient, NOW + timedelta(days=1))]
        clock.shift(timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT - 1))
        assert post(desk, RANGE, range_confirm(first, professional)).status_code == 302
        assert statuses(first) == {"CANCELLED"}
        second = [make_reservation(patient, NOW + timedelta(days=1, hours=3))]
        clock.shift(timedelta(seconds=1))
        r = post(desk, RANGE, range_confirm(second, professional))
        assert asks_again(r, RANGE)
        assert statuses(second) == {"CONFIRMED"}


def test_the_cancel_action_asks_for_the_password_then_cancels(reception, two_days):
    desk = csrf_client(reception)
    data = {
        "action": "cancel_selected",
        "_selected_action": [s.pk for s in two_days],
        "confirm": "yes",
        "reason": "El consultorio cierra",
    }
    r = post(desk, CHANGELIST, data)
    assert asks_again(r, CHANGELIST)
    assert statuses(two_days) == {"CONFIRMED"}
    confirm(desk, r)
    assert statuses(two_days) == {"CANCELLED"}


# --- A superuser changing someone's role ---------------------------------------------------------


def user_form(user, **changes):
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "time_zone": user.time_zone,
        "language": user.language,
        "is_active": "on",
        **NO_INLINE_ROWS,
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return data


@pytest.fixture
def root(frozen_now):
    return make_user("root@example.com", is_staff=True, is_superuser=True)


def test_making_someone_staff_asks_for_the_password_then_does_it(root, patient):
    client = csrf_client(root)
    url = f"{USERS}{patient.pk}/change/"
    r = post(client, url, user_form(patient, is_staff="on"))
    assert asks_again(r, url)
    patient.refresh_from_db()
    assert not patient.is_staff
    assert confirm(client, r).status_code == 302
    patient.refresh_from_db()
    assert patient.is_staff


def test_giving_permissions_or_groups_asks_for_the_password_too(root, patient):
    from django.contrib.auth.models import Group

    desk = Group.objects.get(name="Recepción")  # every migrate makes it (reservations_site/roles)
    client = csrf_client(root)
    url = f"{USERS}{patient.pk}/change/"
    assert asks_again(post(client, url, user_form(patient, groups=[desk.pk])), url)
    permission = Permission.objects.get(codename="view_reservation")
    r = post(client, url, user_form(patient, user_permissions=[permission.pk]))
    assert asks_again(r, url)
    r = post(client, url, user_form(patient, is_staff="on", is_superuser="on"))
    assert asks_again(r, url)
    patient.refresh_from_db()
    assert not patient.groups.exists() and not patient.user_permissions.exists()
    assert not patient.is_superuser


def test_changing_a_groups_permissions_asks_for_the_password(root):
    from django.contrib.auth.models import Group

    desk = Group.objects.create(name="Gerencia")
    permission = Permission.objects.get(codename="change_reservation")
    client = csrf_client(root)
    url = f"/admin/auth/group/{desk.pk}/change/"
    r = post(client, url, {"name": "Gerencia", "permissions": [permission.pk]})
    assert asks_again(r, url)
    assert not desk.permissions.exists()
    confirm(client, r)
    assert list(desk.permissions.all()) == [permission]


def test_other_changes_to_a_person_need_no_password(root, patient):
    client = csrf_client(root)
    r = post(client, f"{USERS}{patient.pk}/change/", user_form(patient, first_name="Lucía Inés"))
    assert r.status_code == 302 and r["Location"].startswith(USERS)
    patient.refresh_from_db()
    assert patient.first_name == "Lucía Inés"


# --- Changing an email address (allauth's own pages) ---------------------------------------------


def test_adding_an_email_address_asks_for_the_password_then_adds_it(patient, frozen_now):
    client = csrf_client(patient)
    data = {"action_add": "", "email": "lucia.nueva@example.com"}
    r = post(client, "/accounts/email/", data)
    assert asks_again(r, "/accounts/email/")
    assert not EmailAddress.objects.filter(email="lucia.nueva@example.com").exists()
    confirm(client, r)
    assert EmailAddress.objects.filter(user=patient, email="lucia.nueva@example.com").exists()


def test_the_confirm_page_is_in_the_sites_layout(patient):
    page = csrf_client(patient).get(REAUTH, headers={"Accept-Language": "en"}).content.decode()
    assert "Confirm it is you" in page and 'class="auth-card"' in page


def test_two_factor_keeps_asking_for_itself():
    # allauth.mfa re-authenticates before a factor changes unless told otherwise: never here.
    assert getattr(settings, "MFA_REAUTHENTICATION_REQUIRED", True) is True
    assert settings.ACCOUNT_REAUTHENTICATION_REQUIRED is True
