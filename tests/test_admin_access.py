"""Who may open the reception desk's own pages: one table of (role, method, page, status).

The admin lets in active staff only (everyone else is sent to its login page); among staff, a
page that changes reservations needs the change permission (403 otherwise, before any lookup, so
a missing id tells nothing), cancelling a professional's days also the permission to add an
absence (the days become one), and the invitation needs the permission to change users."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from accounts.models import ProfessionalProfile

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reservations/reservation/"
MISSING = "00000000-0000-0000-0000-000000000000"


def role(name, patient):
    if name == "anonymous":
        return None
    if name == "patient":
        return patient
    if name == "professional":
        # A professional logs into their agenda, not the admin.
        user = make_user("pro@example.com", first_name="Pro", factor=True)
        ProfessionalProfile.objects.create(user=user, display_name="Lic. Pro")
        return user
    if name == "superuser":
        return make_user("root@example.com", is_staff=True, is_superuser=True)
    user = make_user(f"{name}@example.com", is_staff=True)
    if name == "staff":
        user.user_permissions.set(
            Permission.objects.filter(
                codename__in=[
                    "view_reservation",
                    "change_reservation",
                    "view_user",
                    "change_user",
                    "add_timeoff",
                ]
            )
        )
    elif name == "staff_viewer":  # may look at reservations, not change them
        user.user_permissions.set(
            Permission.objects.filter(codename__in=["view_reservation", "view_user"])
        )
    return user


ROLES = ["anonymous", "patient", "professional", "staff_no_perms", "staff_viewer", "staff",
         "superuser"]  # fmt: skip
LOGIN = "login"  # 302 to the admin's login page

# page -> (method, status for each role above, in order)
MATRIX = [
    ("GET", "range", [LOGIN, LOGIN, LOGIN, 403, 403, 200, 200]),
    ("POST", "range_preview", [LOGIN, LOGIN, LOGIN, 403, 403, 200, 200]),
    ("POST", "range_confirm", [LOGIN, LOGIN, LOGIN, 403, 403, 302, 302]),
    ("GET", "cancel", [LOGIN, LOGIN, LOGIN, 403, 403, 200, 200]),
    ("POST", "cancel", [LOGIN, LOGIN, LOGIN, 403, 403, 302, 302]),
    ("GET", "cancel_missing", [LOGIN, LOGIN, LOGIN, 403, 403, 404, 404]),
    ("POST", "action", [LOGIN, LOGIN, LOGIN, 403, 200, 302, 302]),
    ("POST", "invite", [LOGIN, LOGIN, LOGIN, 403, 403, 302, 302]),
    ("GET", "invite", [LOGIN, LOGIN, LOGIN, 403, 403, 405, 405]),
    ("POST", "invite_missing", [LOGIN, LOGIN, LOGIN, 403, 403, 404, 404]),
]
CASES = [
    (method, page, name, status)
    for method, page, statuses in MATRIX
    for name, status in zip(ROLES, statuses, strict=True)
]


@pytest.mark.parametrize(("method", "page", "who", "expected"), CASES)
def test_access(method, page, who, expected, patient, professional, make_reservation, frozen_now):
    session = make_reservation(patient, NOW + timedelta(days=1))
    day = {"professional": professional.pk, "start": "2026-03-11", "end": "2026-03-11"}
    day |= {"reason": "Enfermedad"}
    url, data = {
        "range": (f"{CHANGELIST}cancel-range/", {}),
        "range_preview": (f"{CHANGELIST}cancel-range/", day),
        "range_confirm": (
            f"{CHANGELIST}cancel-range/",
            {**day, "confirm": "1", "session": session.pk},
        ),
        "cancel": (f"{CHANGELIST}{session.pk}/cancel/", {"reason": "Enfermedad"}),
        "cancel_missing": (f"{CHANGELIST}{MISSING}/cancel/", {}),
        "action": (
            CHANGELIST,
            {
                "action": "cancel_selected",
                "_selected_action": session.pk,
                "confirm": "yes",
                "reason": "Enfermedad",
            },
        ),
        "invite": (f"/admin/accounts/user/{patient.pk}/invite/", {}),
        "invite_missing": (f"/admin/accounts/user/{MISSING}/invite/", {}),
    }[page]
    user = role(who, patient)
    client = csrf_client(user)
    if user is not None:
        # Bulk cancels ask for the password again (tests/test_reauth.py): recently given here.
        client.post(
            "/accounts/reauthenticate/", {"csrfmiddlewaretoken": CSRF_TOKEN, "password": PASSWORD}
        )
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, {"csrfmiddlewaretoken": CSRF_TOKEN, **data})
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == expected
    session.refresh_from_db()
    changed = method == "POST" and expected == 302 and page in ("range_confirm", "cancel", "action")
    assert (session.status == "CANCELLED") == changed
