"""Reception cannot take over a privileged account: only a superuser, or the person themself,
sets a staff member's or a professional's password or email, or sends them a set-password link.
Patients' accounts stay in reception's hands."""

import pytest
from django.contrib.auth.models import Permission

from accounts.credentials import may_manage_credentials
from accounts.models import ProfessionalProfile, User
from notifications.models import Outbox

from .conftest import CSRF_TOKEN, PASSWORD, csrf_client, make_user

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
NEW_PASSWORD = "another-horse-battery-staple-9"
NO_INLINE_ROWS = {
    f"{prefix}-{count}_FORMS": "0"
    for prefix in ("professional_profile", "reservations", "reservations-2")
    for count in ("TOTAL", "INITIAL")
}


@pytest.fixture
def reception(db):
    user = make_user("mostrador@example.com", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts",
            codename__in=["view_user", "change_user", "add_user"],
        )
    )
    return user


@pytest.fixture
def manager(db):
    """Another staff account, not a superuser (a manager with more permissions)."""
    user = make_user("gerencia@example.com", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def root(db):
    return make_user("root@example.com", is_staff=True, is_superuser=True)


def post(client, path, data):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **data})


def set_password(client, user):
    return post(
        client,
        f"{USERS}{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )


def change_email(client, user, email):
    return post(
        client,
        f"{USERS}{user.pk}/change/",
        {
            "email": email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "time_zone": user.time_zone,
            "language": user.language,
            "is_active": "on",
            **NO_INLINE_ROWS,
        },
    )


@pytest.fixture
def pro(db):
    user = make_user("pro@example.com", first_name="Pro")
    ProfessionalProfile.objects.create(user=user, display_name="Lic. Pro")
    return user


@pytest.mark.parametrize("target", ["manager", "pro"])
def test_reception_cannot_set_a_privileged_accounts_password(reception, target, request):
    victim = request.getfixturevalue(target)
    client = csrf_client(reception)
    assert client.get(f"{USERS}{victim.pk}/password/").status_code == 403
    assert set_password(client, victim).status_code == 403
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD) and not victim.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("target", ["manager", "pro"])
def test_reception_cannot_change_a_privileged_accounts_email(reception, target, request):
    victim = request.getfixturevalue(target)
    client = csrf_client(reception)
    form = client.get(f"{USERS}{victim.pk}/change/").context["adminform"].form
    assert "email" not in form.fields  # shown, read-only
    change_email(client, victim, "mine@example.com")
    victim.refresh_from_db()
    assert victim.email == f"{target.replace('manager', 'gerencia')}@example.com"


@pytest.mark.parametrize("target", ["root", "manager", "pro"])
def test_reception_cannot_invite_a_privileged_account(reception, target, request):
    victim = request.getfixturevalue(target)
    response = post(csrf_client(reception), f"{USERS}{victim.pk}/invite/", {})
    assert response.status_code == 403
    assert not Outbox.objects.exists()


def test_reception_still_sets_a_patients_password_email_and_invitation(reception, patient):
    client = csrf_client(reception)
    assert set_password(client, patient).status_code == 302
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    assert change_email(client, patient, "lucia.nueva@example.com").status_code == 302
    patient.refresh_from_db()
    assert patient.email == "lucia.nueva@example.com"
    assert post(client, f"{USERS}{patient.pk}/invite/", {}).status_code == 302
    assert Outbox.objects.filter(to="lucia.nueva@example.com").exists()


def test_a_superuser_and_the_person_themself_may(reception, manager, root):
    assert set_password(csrf_client(root), manager).status_code == 302
    manager.refresh_from_db()
    assert manager.check_password(NEW_PASSWORD)
    assert set_password(csrf_client(reception), reception).status_code == 302
    assert User.objects.get(pk=reception.pk).check_password(NEW_PASSWORD)


def test_the_rule(reception, manager, root, pro, patient):
    assert may_manage_credentials(root, manager) and may_manage_credentials(root, root)
    assert may_manage_credentials(manager, manager)
    assert may_manage_credentials(reception, patient)
    for target in (manager, pro, root):
        assert not may_manage_credentials(reception, target)
