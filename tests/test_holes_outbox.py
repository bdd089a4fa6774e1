"""A message that carries a link opening an account (a password reset, an invitation) is never
readable in the admin, and is gone from the database once sent; the worker sends the real link."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from notifications.models import Kind, Outbox, State

from .conftest import CSRF_TOKEN, csrf_client, make_user
from .test_notifications import run_due_tasks

pytestmark = pytest.mark.django_db

KEY = re.compile(r"/accounts/password/reset/key/(\S+)")


@pytest.fixture
def reader(db):
    """Staff who may look at the outbox."""
    user = make_user("mostrador@example.com", is_staff=True, language="en")
    user.user_permissions.set(Permission.objects.filter(codename="view_outbox"))
    return user


def test_staff_who_read_the_outbox_never_see_a_reset_link(reader):
    root = make_user("root@example.com", is_staff=True, is_superuser=True)
    # Anyone can ask for the superuser's reset.
    csrf_client().post(
        "/accounts/password/reset/",
        {"email": root.email, "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    row = Outbox.objects.get(kind=Kind.ACCOUNT, to=root.email)
    key = KEY.search(row.body).group(1)  # the worker's copy, until it is sent
    client = csrf_client(reader)
    for url in (
        "/admin/notifications/outbox/",
        f"/admin/notifications/outbox/{row.pk}/change/",
        "/admin/notifications/outbox/?q=root",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert key not in page and "/password/reset/key/" not in page, url
    page = client.get(f"/admin/notifications/outbox/{row.pk}/change/").content.decode()
    # The reader's own language (English) decides the page's.
    assert "[redacted: it carries a link that opens an account]" in page

    # The worker sends the real link, then forgets it.
    run_due_tasks()
    [message] = mail.outbox
    assert KEY.search(message.body).group(1) == key
    row.refresh_from_db()
    assert row.status == State.SENT
    assert key not in row.body + row.html


def test_other_messages_stay_readable(reader, patient, professional):
    # Session messages are rendered when sent, from the session: nothing secret on the row.
    row = Outbox.objects.create(kind=Kind.REMINDER, recipient=patient, to=patient.email)
    assert not row.carries_secret
    assert Outbox(kind=Kind.ACCOUNT).carries_secret
