"""Phone numbers are real numbers (issue 25, item 7): read as people in Argentina write them,
stored in E.164, shown the local way and linked as tel: and wa.me want them; a number that is none
is refused at every door; the numbers stored before are converted by a migration."""

import importlib
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts import phones
from accounts.models import ProfessionalProfile, ProfileChange, User

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db

LOCAL_MOBILE = "011 15 5555-0101"
E164_MOBILE = "+5491155550101"
WA_ME = "https://wa.me/5491155550101"
TEL = "tel:+5491155550101"
EN = {"Accept-Language": "en"}


# Reading, storing, showing and linking a number


@pytest.mark.parametrize(
    ("written", "stored", "shown"),
    [
        (LOCAL_MOBILE, E164_MOBILE, "011 15-5555-0101"),
        ("+54 9 11 5555-0101", E164_MOBILE, "011 15-5555-0101"),
        ("0111555550101", E164_MOBILE, "011 15-5555-0101"),  # the issue's broken wa.me input
        ("011 4555-0101", "+541145550101", "011 4555-0101"),
        ("0351 15 555-0101", "+5493515550101", "0351 15-555-0101"),
        ("+598 94 231 234", "+59894231234", "+598 94 231 234"),  # from abroad: international
    ],
)
def test_a_number_written_the_local_way_is_stored_in_e164_and_shown_the_local_way(
    patient, written, stored, shown
):
    patient.phone = written
    patient.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [patient.pk.hex])
        row = cursor.fetchone()
    if row is None:  # PostgreSQL keeps a uuid column, not its hex
        with connection.cursor() as cursor:
            cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [patient.pk])
            row = cursor.fetchone()
    assert row == (stored,)
    fresh = User.objects.get(pk=patient.pk)
    assert phones.stored(fresh.phone) == stored
    assert phones.text(fresh.phone) == shown
    assert phones.tel_href(fresh.phone) == "tel:" + stored
    assert phones.whatsapp_href(fresh.phone) == "https://wa.me/" + stored[1:]


def test_the_issues_number_gives_the_wa_me_and_tel_links():
    assert phones.e164(LOCAL_MOBILE) == E164_MOBILE
    assert phones.whatsapp_href(LOCAL_MOBILE) == WA_ME
    assert phones.tel_href(LOCAL_MOBILE) == TEL


@pytest.mark.parametrize("value", ["", None, "1234", "abc"])
def test_no_number_or_one_that_is_not_valid_gets_no_link(value):
    assert phones.tel_href(value) == phones.whatsapp_href(value) == ""


# Where patients see them: the session's contact links


@pytest.fixture
def gomez(professional):
    profile = professional.professional_profile
    profile.phone, profile.whatsapp = "011 4555-0101", LOCAL_MOBILE
    profile.save()
    return profile


def test_a_session_inside_its_notice_links_the_professional_by_tel_and_wa_me(
    patient, gomez, make_reservation, frozen_now
):
    # 48 h notice: a session in 5 hours can no longer be cancelled online; the page says whom
    # to reach, on the dashboard's refusal and on the session's page.
    session = make_reservation(patient, NOW + timedelta(hours=5))
    client = csrf_client(patient)
    for page in ["/dashboard/", f"/reservations/{session.pk}/"]:
        html = client.get(page, headers=EN).content.decode()
        assert f'href="{WA_ME}"' in html, page
        assert 'href="tel:+541145550101"' in html, page
        assert "WhatsApp 011 15-5555-0101" in html and "Call 011 4555-0101" in html, page
        assert "wa.me/011" not in html and "wa.me/+" not in html


def test_the_practices_numbers_from_the_environment_are_read_the_local_way(
    settings, patient, make_reservation, frozen_now
):
    settings.PRACTICE_PHONE = settings.PRACTICE_WHATSAPP = ""
    session = make_reservation(patient, NOW + timedelta(hours=5))
    settings_module = importlib.import_module("reservations_site.settings")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PRACTICE_WHATSAPP", LOCAL_MOBILE)
        settings.PRACTICE_WHATSAPP = settings_module.env_phone("PRACTICE_WHATSAPP")
        env.setenv("PRACTICE_PHONE", "011 15 5555")
        with pytest.raises(ImproperlyConfigured, match="PRACTICE_PHONE='011 15 5555' is not a"):
            settings_module.env_phone("PRACTICE_PHONE")
    assert settings.PRACTICE_WHATSAPP == E164_MOBILE
    html = csrf_client(patient).get(f"/reservations/{session.pk}/", headers=EN).content.decode()
    assert f'href="{WA_ME}"' in html


def test_the_api_gives_numbers_as_e164_strings_and_ready_links(
    patient, gomez, make_reservation, frozen_now
):
    session = make_reservation(patient, NOW + timedelta(days=2))
    client = csrf_client(patient)
    response = client.get(f"/api/reservations/{session.pk}")
    assert response.status_code == 200, response.content
    contact = response.json()["data"]["contact"]
    assert (contact["phone"], contact["whatsapp"]) == ("+541145550101", E164_MOBILE)
    assert {"kind": "whatsapp", "text": "011 15-5555-0101", "href": WA_ME} in contact["links"]


def test_the_professional_sees_the_patients_number_linked(
    patient, professional, make_reservation, frozen_now
):
    patient.phone = LOCAL_MOBILE
    patient.save()
    session = make_reservation(patient, NOW + timedelta(days=2))
    html = csrf_client(professional).get(f"/agenda/{session.pk}/").content.decode()
    assert f'<a href="{TEL}">011 15-5555-0101</a>' in html and f'href="{WA_ME}"' in html


# Refused at every door, with a clear message; refused means unchanged


def test_the_agenda_settings_store_a_local_number_in_e164(professional):
    response = csrf_client(professional).post(
        "/agenda/settings/", settings_form(professional, whatsapp=LOCAL_MOBILE)
    )
    assert response.status_code == 302
    profile = ProfessionalProfile.objects.get(pk=professional.pk)
    assert str(profile.whatsapp) == E164_MOBILE
    (change,) = ProfileChange.objects.filter(profile=profile)
    assert change.changes["whatsapp"] == ["", E164_MOBILE]
    # The form shows it back the local way.
    page = csrf_client(professional).get("/agenda/settings/").content.decode()
    assert 'value="011 15-5555-0101"' in page and 'type="tel"' in page


@pytest.mark.parametrize("number", ["1234", "011 15 5555", "call me"])
def test_the_agenda_settings_refuse_a_number_that_is_none(professional, number):
    client = csrf_client(professional)
    response = client.post(
        "/agenda/settings/", settings_form(professional, whatsapp=number), headers=EN
    )
    assert response.status_code == 200
    assert "This is not a valid phone number." in response.content.decode()
    profile = ProfessionalProfile.objects.get(pk=professional.pk)
    assert profile.whatsapp == "" and not ProfileChange.objects.exists()
    # And without the CSRF token, nothing at all.
    data = settings_form(professional, whatsapp=LOCAL_MOBILE)
    del data["csrfmiddlewaretoken"]
    assert client.post("/agenda/settings/", data).status_code == 403
    assert ProfessionalProfile.objects.get(pk=professional.pk).whatsapp == ""


def test_the_admin_refuses_a_number_that_is_none_and_stores_a_good_one_in_e164(staff, patient):
    client = csrf_client(staff)
    page = f"/admin/accounts/user/{patient.pk}/change/"
    data = form_of(client.get(page, headers=EN).content.decode(), "user_form")
    data["phone"] = "4555"
    response = client.post(page, data, headers=EN)
    assert response.status_code == 200
    assert "This is not a valid phone number." in response.content.decode()
    assert User.objects.get(pk=patient.pk).phone == ""
    data["phone"] = LOCAL_MOBILE
    assert client.post(page, data, headers=EN).status_code == 302
    assert str(User.objects.get(pk=patient.pk).phone) == E164_MOBILE


def test_the_admin_add_page_refuses_a_number_that_is_none(staff):
    client = csrf_client(staff)
    data = form_of(client.get("/admin/accounts/user/add/").content.decode(), "user_form")
    data.update(email="nuevo@example.com", phone="15 5555", send_invitation="")
    response = client.post("/admin/accounts/user/add/", data, headers=EN)
    assert response.status_code == 200
    assert "This is not a valid phone number." in response.content.decode()
    assert not User.objects.filter(email="nuevo@example.com").exists()


# The numbers stored before: the data migration


MIGRATION = importlib.import_module("accounts.migrations.0010_phone_numbers_e164")


@pytest.mark.parametrize(
    ("before", "after", "ok"),
    [
        (LOCAL_MOBILE, E164_MOBILE, True),
        ("0111555550101", E164_MOBILE, True),
        ("+54 11 4555-0101", "+541145550101", True),
        (" 011 4555-0101 ", "+541145550101", True),
        ("", "", True),
        ("llamar a la tarde", "llamar a la tarde", False),  # kept, never blanked
        ("4555", "4555", False),
    ],
)
def test_the_migration_converts_a_number_or_keeps_it_as_written(before, after, ok):
    assert MIGRATION.convert(before, "AR") == (after, ok)


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_the_stored_numbers_and_keeps_what_is_not_one(capsys):
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0009_profile_booking_emails")])
    try:
        old = executor.loader.project_state([("accounts", "0009_profile_booking_emails")]).apps
        OldUser = old.get_model("accounts", "User")
        OldProfile = old.get_model("accounts", "ProfessionalProfile")
        lucia = OldUser.objects.create(email="lucia@example.com", phone=LOCAL_MOBILE)
        odd = OldUser.objects.create(email="odd@example.com", phone="llamar a la tarde")
        pro = OldUser.objects.create(email="pro@example.com")
        OldProfile.objects.create(user=pro, phone="011 4555-0101", whatsapp="+54 9 11 5555-0101")
        executor = MigrationExecutor(connection)
        executor.migrate([("accounts", "0010_phone_numbers_e164")])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert str(User.objects.get(pk=lucia.pk).phone) == E164_MOBILE
    assert User.objects.get(pk=odd.pk).phone.raw_input == "llamar a la tarde"
    profile = ProfessionalProfile.objects.get(pk=pro.pk)
    assert (str(profile.phone), str(profile.whatsapp)) == ("+541145550101", E164_MOBILE)
    out = capsys.readouterr().out
    assert "llamar a la tarde" in out and "kept as written" in out
    # Kept, shown as written, never linked.
    assert phones.text(User.objects.get(pk=odd.pk).phone) == "llamar a la tarde"
    assert phones.whatsapp_href(User.objects.get(pk=odd.pk).phone) == ""


# The demo


def test_the_demos_numbers_are_valid_and_link_to_wa_me_in_e164():
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=Discard())
        gomez = ProfessionalProfile.objects.get(user__email="lic.gomez@turnos.example")
        assert (str(gomez.phone), str(gomez.whatsapp)) == ("+541145550101", E164_MOBILE)
        patient = User.objects.get(email="paciente@turnos.example")
        session = (
            patient.reservations.filter(professional=gomez.user, start_time__gt=NOW)
            .exclude(status="CANCELLED")
            .order_by("start_time")
            .first()
        )
        html = csrf_client(patient).get(f"/reservations/{session.pk}/").content.decode()
    assert f'href="{WA_ME}"' in html and 'href="tel:+541145550101"' in html


# Helpers


class Discard:
    def write(self, text):
        pass


def settings_form(professional, **values):
    profile = professional.professional_profile
    data = {
        "csrfmiddlewaretoken": CSRF_TOKEN,
        "display_name": profile.display_name,
        "specialty": profile.specialty,
        "phone": "",
        "whatsapp": "",
        "contact_email": "",
        "address": "",
        "video_url": "",
        "cancellation_notice_hours": str(profile.cancellation_notice_hours),
        "requires_approval": "on" if profile.requires_approval else "",
        "reminder_hours": str(profile.reminder_hours),
        "booking_emails": "on" if profile.booking_emails else "",
    }
    data.update(values)
    return {name: value for name, value in data.items() if value != "" or name in values}


class FormReader(HTMLParser):
    """The fields of one form as a browser would submit them untouched."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.select, self.textarea = form_id, False, None, None
        self.data = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button", "file"}:
            if a.get("type") in {"checkbox", "radio"}:
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            else:
                self.data[name] = a.get("value") or ""
        elif tag == "select" and name:
            self.select = name
            if "multiple" not in a:
                self.data.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = ""

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False


def form_of(html, form_id):
    reader = FormReader(form_id)
    reader.feed(html)
    reader.data["csrfmiddlewaretoken"] = CSRF_TOKEN
    return reader.data
