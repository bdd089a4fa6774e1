"""Reception is a role, not a superuser: staff in the group "Recepción", which every migrate
writes with exactly the permissions reservations_site/roles.py lists. One table of (page,
status) walks the admin as a receptionist (staff, two-step verification set up, the group and
nothing else): what she can open, and what answers 403 (or 404) whatever a group holds. Each
refused change leaves the database as it was."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from accounts.models import ProfessionalProfile, User
from demo import users as demo
from privacy.models import DeletionRequest
from reservations.models import Reservation
from reservations_site import roles
from scheduling.models import TimeOff, WorkingHours

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"
USERS = "/admin/accounts/user/"
RESERVATIONS = "/admin/reservations/reservation/"
NEW_PASSWORD = "another-horse-battery-staple-9"
NO_INLINE_ROWS = {
    f"{prefix}-{count}_FORMS": "0"
    for prefix in ("professional_profile", "reservations", "reservations-2")
    for count in ("TOTAL", "INITIAL")
}


@pytest.fixture
def desk(frozen_now):
    """A receptionist as a practice makes one: staff, in the group, no permission of her own."""
    user = make_user("mostrador@example.com", first_name="Mostrador", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.RECEPTION))
    return user


@pytest.fixture
def place(desk, patient, professional, make_reservation):
    """What the pages below are about, by name: {name: primary key}."""
    colleague = make_user("otro.mostrador@example.com", is_staff=True)
    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    session = make_reservation(patient, NOW + timedelta(days=1))
    hours = WorkingHours.objects.create(
        professional=professional,
        weekday=2,
        start_time="09:00",
        end_time="13:00",
        modality="both",
        session_minutes=45,
        buffer_minutes=15,
    )
    request, _ = DeletionRequest.ask(patient, now=NOW)
    return {
        "me": desk.pk,
        "patient": patient.pk,
        "professional": professional.pk,
        "colleague": colleague.pk,
        "root": root.pk,
        "session": session.pk,
        "hours": hours.pk,
        "request": request.pk,
    }


def post(client, url, data=None):
    return client.post(url, {"csrfmiddlewaretoken": CSRF_TOKEN, **(data or {})})


def reauthenticate(client):
    """allauth's "confirm it is you" (the erasure pages ask for it before anything else)."""
    assert post(client, "/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302


# page (with {names} from `place`) -> status a GET gets
CAN = [
    (ADMIN, 200),
    (RESERVATIONS, 200),
    (f"{RESERVATIONS}add/", 200),
    (f"{RESERVATIONS}{{session}}/change/", 200),
    (f"{RESERVATIONS}{{session}}/cancel/", 200),
    (f"{RESERVATIONS}cancel-range/", 200),
    ("/admin/reservations/reservationevent/", 200),
    (USERS, 200),
    (f"{USERS}add/", 200),
    (f"{USERS}{{patient}}/change/", 200),
    (f"{USERS}{{professional}}/change/", 200),
    (f"{USERS}{{me}}/change/", 200),
    # A patient's password is in reception's hands (she registers and invites them).
    (f"{USERS}{{patient}}/password/", 200),
    ("/admin/series/series/", 200),
    ("/admin/series/series/add/", 200),
    ("/admin/scheduling/workinghours/", 200),
    ("/admin/scheduling/workinghours/add/", 200),
    ("/admin/scheduling/workinghours/{hours}/change/", 200),
    ("/admin/scheduling/timeoff/", 200),
    ("/admin/scheduling/timeoff/add/", 200),
    ("/admin/scheduling/schedulechange/", 200),
    ("/admin/privacy/deletionrequest/", 200),
    ("/admin/privacy/deletionrequest/{request}/change/", 200),  # to read, not to decide
    ("/admin/notifications/outbox/", 200),
]
CANNOT = [
    # Superusers' pages.
    ("/admin/auth/group/", 403),
    ("/admin/auth/group/add/", 403),
    ("/admin/audit/accesslog/", 403),
    ("/admin/mfa/authenticator/", 403),
    ("/admin/account/emailaddress/", 403),
    ("/admin/usersessions/usersession/", 403),
    ("/admin/django_tasks_database/dbtaskresult/", 403),
    ("/admin/auth/permission/", 404),  # not in the admin at all
    # Credentials of accounts that open other people's data (accounts/credentials.py).
    (f"{USERS}{{colleague}}/password/", 403),
    (f"{USERS}{{professional}}/password/", 403),
    (f"{USERS}{{root}}/password/", 403),
    (f"{USERS}{{colleague}}/reset-factors/", 403),
    # Nothing is deleted.
    (f"{USERS}{{patient}}/delete/", 403),
    (f"{RESERVATIONS}{{session}}/delete/", 403),
    # Not for her to add: the patient asks, the worker sends.
    ("/admin/privacy/deletionrequest/add/", 403),
    ("/admin/notifications/outbox/add/", 403),
]


@pytest.mark.parametrize(("page", "status"), CAN + CANNOT)
def test_what_reception_opens(desk, place, page, status):
    assert csrf_client(desk).get(page.format(**place)).status_code == status


def test_the_index_shows_reception_nothing_of_the_superusers(desk, place):
    index = csrf_client(desk).get(ADMIN).content.decode()
    for page, _status in CAN:
        if page.endswith("/") and "{" not in page and page.count("/") == 4:
            assert page in index, page
    for page in [
        "/admin/auth/group/",
        "/admin/audit/accesslog/",
        "/admin/mfa/authenticator/",
        "/admin/account/emailaddress/",
        "/admin/usersessions/usersession/",
        "/admin/django_tasks_database/",
    ]:
        assert page not in index, page


def test_the_user_form_has_no_superuser_switch_groups_permissions_or_staff_field(desk, place):
    client = csrf_client(desk)
    for whom in ("patient", "professional", "me"):
        page = client.get(f"{USERS}{place[whom]}/change/")
        fields = set(page.context["adminform"].form.fields)
        assert not {"is_superuser", "is_staff", "groups", "user_permissions"} & fields, whom
        assert "is_superuser" not in page.content.decode()


def user_form(user, **changes):
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "time_zone": user.time_zone,
        "language": user.language,
        "is_active": "on",
        **NO_INLINE_ROWS,
        **changes,
    }


def test_she_cannot_grant_staff_superuser_groups_or_permissions_to_anyone_or_herself(desk, patient):
    client = csrf_client(desk)
    group = Group.objects.get(name=roles.RECEPTION)
    every = list(Permission.objects.values_list("pk", flat=True))
    for user in (patient, desk):
        r = post(
            client,
            f"{USERS}{user.pk}/change/",
            user_form(
                user, is_staff="on", is_superuser="on", groups=[group.pk], user_permissions=every
            ),
        )
        # The form saves what she may change and ignores the rest.
        assert r.status_code == 302, r.content.decode()[:2000]
    patient.refresh_from_db()
    desk.refresh_from_db()
    assert not patient.is_staff and not patient.is_superuser
    assert not patient.groups.exists() and not patient.user_permissions.exists()
    assert desk.is_staff and not desk.is_superuser
    assert list(desk.groups.all()) == [group] and not desk.user_permissions.exists()


def test_refused_changes_leave_everything_as_it_was(desk, place):
    client = csrf_client(desk)
    groups = list(Group.objects.values_list("name", flat=True))
    refused = [
        ("/admin/auth/group/add/", {"name": "Todo"}),
        (f"{USERS}{place['root']}/change/", {"email": "mia@example.com", "is_active": "on"}),
        (f"{USERS}{place['patient']}/delete/", {"post": "yes"}),
        (f"{RESERVATIONS}{place['session']}/delete/", {"post": "yes"}),
        (f"{USERS}{place['colleague']}/reset-factors/", {}),
    ] + [
        (f"{USERS}{place[who]}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        for who in ("colleague", "professional", "root")
    ]
    for url, data in refused:
        assert post(client, url, data).status_code == 403, url
    assert list(Group.objects.values_list("name", flat=True)) == groups
    root = User.objects.get(pk=place["root"])
    assert root.email == "root@example.com" and root.is_active
    assert User.objects.filter(pk=place["patient"]).exists()
    assert Reservation.objects.filter(pk=place["session"]).exists()
    assert Authenticator.objects.filter(user_id=place["colleague"]).exists()
    for who in ("colleague", "professional", "root"):
        assert User.objects.get(pk=place[who]).check_password(PASSWORD), who


def test_she_reads_a_deletion_request_but_does_not_decide_it(desk, place):
    client = csrf_client(desk)
    reauthenticate(client)
    request = f"/admin/privacy/deletionrequest/{place['request']}/"
    for action in ("carry-out", "refuse"):
        assert client.get(f"{request}{action}/").status_code == 403
        assert post(client, f"{request}{action}/", {"reason": "Ley 26.529"}).status_code == 403
    deletion = DeletionRequest.objects.get(pk=place["request"])
    assert deletion.is_open
    assert User.objects.get(pk=place["patient"]).email == "lucia@example.com"


def test_she_may_remove_hours_or_an_absence_typed_by_mistake(desk, professional):
    absence = TimeOff.objects.create(
        professional=professional, start=NOW + timedelta(days=3), end=NOW + timedelta(days=4)
    )
    url = f"/admin/scheduling/timeoff/{absence.pk}/delete/"
    assert post(csrf_client(desk), url, {"post": "yes"}).status_code == 302
    assert not TimeOff.objects.filter(pk=absence.pk).exists()


# The group itself ---------------------------------------------------------------------------


def held(group):
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def test_the_group_holds_exactly_what_roles_lists_and_deletes_only_schedules(db):
    group = Group.objects.get(name=roles.RECEPTION)
    assert held(group) == roles.codenames(roles.ROLES[roles.RECEPTION])
    deletes = {codename for _, codename in held(group) if codename.startswith("delete_")}
    assert deletes == {"delete_workinghours", "delete_timeoff", "delete_closure"}
    apps = {app for app, _ in held(group)}
    assert not apps & {"auth", "audit", "mfa", "account", "usersessions", "django_tasks_database"}


def test_every_migrate_puts_the_group_back_as_the_code_says(db):
    group = Group.objects.get(name=roles.RECEPTION)
    # By hand in the admin: one taken away, one added.
    group.permissions.remove(Permission.objects.get(codename="view_reservation"))
    group.permissions.add(Permission.objects.get(codename="delete_reservation"))
    call_command("migrate", verbosity=0)
    assert held(group) == roles.codenames(roles.ROLES[roles.RECEPTION])
    Group.objects.filter(name=roles.RECEPTION).delete()
    call_command("migrate", verbosity=0)
    assert Group.objects.filter(name=roles.RECEPTION).exists()


def test_a_permission_that_does_not_exist_is_an_error_not_a_smaller_role(db, monkeypatch):
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setitem(roles.ROLES, roles.RECEPTION, {"reservations.booking": ("view",)})
    with pytest.raises(ImproperlyConfigured, match="view_booking"):
        roles.sync_roles(apps)


# The demo's receptionist -------------------------------------------------------------------


class _Discard:
    def write(self, text):
        pass


def test_the_demo_receptionist_is_staff_in_the_group_not_a_superuser(frozen_now):
    assert demo.RECEPTION == roles.RECEPTION
    # A database seeded when she was a superuser: the next seed makes her reception.
    User.objects.create_user(email=demo.STAFF, password=PASSWORD, is_staff=True, is_superuser=True)
    call_command("seed_demo", stdout=_Discard())
    staff = User.objects.get(email=demo.STAFF)
    assert staff.is_staff and not staff.is_superuser
    assert [g.name for g in staff.groups.all()] == [roles.RECEPTION]
    assert not ProfessionalProfile.objects.filter(user=staff).exists()
    assert staff.has_perm("reservations.add_reservation")
    assert not staff.has_perm("auth.change_group")
    assert not staff.has_perm("reservations.delete_reservation")
