"""The access log is append-only and only superusers read it: nobody changes or deletes an entry,
through the admin (superusers included) or through the model; superusers filter it by who and by
whose data, and take a date range as CSV."""

import csv
import io
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import transaction

from audit.models import AccessLog, AppendOnly

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user

pytestmark = pytest.mark.django_db

Kind = AccessLog.Kind
CHANGELIST = "/admin/audit/accesslog/"
EXPORT = "/admin/audit/accesslog/export/"


def entry(actor, subject, kind=Kind.VIEW, at=NOW, **fields):
    return AccessLog.objects.create(
        kind=kind, actor=actor, subject=subject, at=at, where="agenda: session", **fields
    )


def snapshot():
    return list(AccessLog.objects.order_by("id").values())


@pytest.fixture
def superuser(db):
    return make_user("root@example.com", first_name="Root", is_staff=True, is_superuser=True)


@pytest.fixture
def logged(professional, patient, other_patient, staff):
    return [
        entry(professional, patient, object_type="reservations.reservation", object_id="1"),
        entry(professional, other_patient, at=NOW + timedelta(days=1)),
        entry(staff, patient, at=NOW + timedelta(days=2)),
        entry(None, patient, kind=Kind.LOGIN_FAILED, at=NOW - timedelta(days=1)),
    ]


# Nothing changes or deletes an entry: through the model ...


def test_the_model_refuses_to_change_an_entry(logged):
    before = snapshot()
    e = AccessLog.objects.get(pk=logged[0].pk)
    e.subject = None
    e.detail = "edited"
    with pytest.raises(AppendOnly):
        e.save()
    with pytest.raises(AppendOnly):
        AccessLog.objects.filter(pk=e.pk).update(detail="edited")
    with pytest.raises(AppendOnly):
        AccessLog.objects.update(detail="edited")
    # bulk_update's own transaction has no savepoint: give it one inside the test's.
    with pytest.raises(AppendOnly), transaction.atomic():
        AccessLog.objects.bulk_update([e], ["detail"])
    assert snapshot() == before


def test_the_model_refuses_to_delete_an_entry(logged):
    before = snapshot()
    with pytest.raises(AppendOnly):
        AccessLog.objects.get(pk=logged[0].pk).delete()
    with pytest.raises(AppendOnly):
        AccessLog.objects.filter(pk=logged[0].pk).delete()
    with pytest.raises(AppendOnly):
        AccessLog.objects.all().delete()
    assert snapshot() == before


# ... or through the admin, superusers included.


def test_a_superuser_cannot_change_delete_or_add_an_entry_in_the_admin(superuser, logged):
    before = snapshot()
    client = csrf_client(superuser)
    pk = logged[0].pk
    # The entry's page is read-only.
    page = client.get(f"{CHANGELIST}{pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()
    data = {"csrfmiddlewaretoken": CSRF_TOKEN, "kind": "view", "detail": "edited", "post": "yes"}
    assert client.post(f"{CHANGELIST}{pk}/change/", data).status_code == 403
    assert client.get(f"{CHANGELIST}{pk}/delete/").status_code == 403
    assert client.post(f"{CHANGELIST}{pk}/delete/", data).status_code == 403
    assert client.post(f"{CHANGELIST}add/", data).status_code == 403
    # No bulk action either (not even "delete selected").
    bulk = {"csrfmiddlewaretoken": CSRF_TOKEN, "action": "delete_selected", "_selected_action": pk}
    client.post(CHANGELIST, {**bulk, "post": "yes"})
    assert snapshot() == before


# Who reads it: superusers only.


def test_staff_with_every_permission_cannot_read_the_log(logged):
    reception = make_user("recepcion2@example.com", is_staff=True)
    reception.user_permissions.set(Permission.objects.all())
    client = csrf_client(reception)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{logged[0].pk}/change/").status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert "audit/accesslog" not in client.get("/admin/").content.decode()


@pytest.mark.parametrize("who", ["patient", "professional"])
def test_people_outside_the_admin_are_sent_to_its_login(who, request, logged):
    client = csrf_client(request.getfixturevalue(who))
    for url in (CHANGELIST, EXPORT):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_a_superuser_reads_the_log_with_names_and_emails(superuser, logged, patient):
    page = csrf_client(superuser).get(CHANGELIST, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.content.decode()
    assert len(page.context["cl"].result_list) == 4
    assert "Carolina Gómez &lt;gomez@example.com&gt;" in html
    assert "lucia@example.com" in html
    # Each person links to the entries about them; the object to its own admin page.
    assert f'href="?actor={logged[0].actor_id}"' in html
    assert f'href="?subject={patient.pk}"' in html
    assert 'href="/admin/reservations/reservation/1/change/"' in html
    assert f'action="{EXPORT}"' in html


def test_a_superuser_filters_by_person_and_by_patient(
    superuser, logged, professional, patient, other_patient
):
    client = csrf_client(superuser)

    def shown(**params):
        page = client.get(CHANGELIST, params)
        assert page.status_code == 200
        return {e.pk for e in page.context["cl"].result_list}

    ids = [e.pk for e in logged]
    assert shown(actor=professional.pk) == {ids[0], ids[1]}
    assert shown(subject=patient.pk) == {ids[0], ids[2], ids[3]}
    assert shown(subject=other_patient.pk) == {ids[1]}
    # Typed as an address (any case), as the filter's box sends it.
    assert shown(subject="LUCIA@example.com") == {ids[0], ids[2], ids[3]}
    assert shown(actor=professional.email, subject=patient.email) == {ids[0]}
    assert shown(subject="nobody@example.com") == set()
    # The box says who is chosen, by name and email, when a row's link gave only the id.
    page = client.get(CHANGELIST, {"actor": professional.pk}, headers={"Accept-Language": "en"})
    sidebar = page.content.decode().split('id="changelist-filter"')[1]
    assert "Carolina Gómez &lt;gomez@example.com&gt;" in sidebar
    # The box keeps the other filters in force.
    page = client.get(CHANGELIST, {"kind": "view", "subject": patient.email})
    assert 'name="kind" value="view"' in page.content.decode()


# The CSV of a date range.


def rows_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_has_the_range_only_with_its_header(superuser, logged, professional, patient):
    client = csrf_client(superuser)
    # NOW is 10 March 2026, 12:00 in Buenos Aires (the superuser's zone): days 10 and 11.
    rows = rows_of(client.get(EXPORT, {"from": "2026-03-10", "to": "2026-03-11"}))
    header, *data = rows
    assert header[:6] == ["at", "kind", "actor_id", "actor_email", "subject_id", "subject_email"]
    assert [(r[2], r[5]) for r in data] == [
        (str(professional.pk), "lucia@example.com"),
        (str(professional.pk), "martin@example.com"),
    ]
    assert data[0][6:8] == ["reservations.reservation", "1"]
    everything = rows_of(client.get(EXPORT))
    assert len(everything) == 1 + 4
    one_patient = rows_of(client.get(EXPORT, {"subject": patient.pk}))
    assert len(one_patient) == 1 + 3


def test_the_csv_carries_no_password_and_no_formula(superuser, patient):
    # A failed login written through the site, with a typed "address" a spreadsheet would run.
    client = csrf_client()
    typed = "=cmd|' /C calc'!A0@example.com"
    with time_machine.travel(NOW, tick=False):
        client.post(
            "/accounts/login/",
            {
                "login": patient.email,
                "password": "s3cret-typed-pw",
                "csrfmiddlewaretoken": CSRF_TOKEN,
            },
        )
    AccessLog.objects.create(kind=Kind.LOGIN_FAILED, at=NOW, detail=typed)
    text = "\n".join(
        ",".join(r) for r in rows_of(csrf_client(superuser).get(EXPORT, {"from": "2026-03-10"}))
    )
    assert "s3cret-typed-pw" not in text and PASSWORD not in text
    assert "password" not in text.lower()
    assert patient.email in text
    assert "'" + typed in text  # quoted: a cell, not a formula


@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "10/03/2026"])
def test_a_malformed_date_is_a_400(superuser, bad):
    assert csrf_client(superuser).get(EXPORT, {"from": bad}).status_code == 400


def test_the_range_ends_are_days_in_the_readers_zone(superuser, patient):
    # 23:30 in Buenos Aires on 10 March is 02:30 UTC on the 11th: still the 10th for the reader.
    late = datetime.fromisoformat("2026-03-11T02:30:00+00:00")
    AccessLog.objects.create(kind=Kind.VIEW, subject=patient, at=late)
    client = csrf_client(superuser)
    assert len(rows_of(client.get(EXPORT, {"from": "2026-03-10", "to": "2026-03-10"}))) == 2
    assert len(rows_of(client.get(EXPORT, {"from": "2026-03-11", "to": "2026-03-11"}))) == 1
