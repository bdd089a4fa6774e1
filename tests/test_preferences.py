"""The preferences page: a zone found by its city, with its offset now, the language, email
reminders and the calendar link."""

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from accounts.forms import zone_table_of
from accounts.models import zone_label, zone_offset
from calendars.models import FeedToken

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db


class SelectReader(HTMLParser):
    """The options of one <select> as a reader meets them: (group, value, label, selected)."""

    def __init__(self, name):
        super().__init__()
        self.name, self.inside, self.group, self.option = name, False, None, None
        self.options, self.attrs = [], {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # By id: the footer's switcher is another select named "language".
        if tag == "select" and attrs.get("id") == f"id_{self.name}":
            self.inside, self.attrs = True, attrs
        elif self.inside and tag == "optgroup":
            self.group = attrs["label"]
        elif self.inside and tag == "option":
            self.option = [self.group, attrs["value"], "", "selected" in attrs, attrs.get("lang")]

    def handle_data(self, data):
        if self.option is not None:
            self.option[2] += data

    def handle_endtag(self, tag):
        if tag == "option" and self.option is not None:
            self.options.append(tuple(self.option))
            self.option = None
        elif tag == "select":
            self.inside = False


def read_select(html, name="time_zone"):
    reader = SelectReader(name)
    reader.feed(html)
    return reader


def page(client, language=None):
    headers = {"Accept-Language": language} if language else {}
    return client.get("/preferences/", headers=headers).content.decode()


def save(client, **data):
    return client.post("/preferences/", {**data, "csrfmiddlewaretoken": CSRF_TOKEN})


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):  # Tuesday 10 March 2026, before Europe's change
        yield


# The zone list


def test_the_common_zones_come_first(patient, at_now):
    options = read_select(page(csrf_client(patient), "en")).options
    groups = list(dict.fromkeys(group for group, *_rest in options))
    assert groups[:3] == ["Common", "America", "Europe"]
    assert groups[-1] == "Pacific Ocean"  # no "Other zones": old aliases are not listed
    common = [(value, label) for group, value, label, *_rest in options if group == "Common"]
    # The site's zone first, the one shown selected; Argentina, its neighbours and Spain follow.
    assert common[0] == ("America/Argentina/Buenos_Aires", "Buenos Aires (GMT-3)")
    assert options[0][3] is True
    values = [value for value, _label in common]
    for zone in ("America/Argentina/Cordoba", "America/Montevideo", "Europe/Madrid"):
        assert zone in values
    # Every zone stays in its region too: one entry per place (see tests/test_fixes_zones.py).
    assert 450 < len({value for _group, value, *_rest in options}) < 500


def test_labels_read_city_then_offset(patient, at_now):
    options = read_select(page(csrf_client(patient), "en")).options
    labels = {value: label for group, value, label, *_rest in options if group != "Common"}
    assert labels["America/Argentina/Buenos_Aires"] == "Buenos Aires (GMT-3)"
    assert labels["Europe/Madrid"] == "Madrid (GMT+1)"
    assert labels["Asia/Kolkata"] == "Kolkata (GMT+5:30)"
    assert labels["Europe/London"] == "London (GMT)"
    # A region names a city once: the old alias America/Buenos_Aires is not listed twice.
    america = [label for group, _value, label, *_rest in options if group == "America"]
    assert america.count("Buenos Aires (GMT-3)") == 1
    assert america == sorted(america, key=str.casefold)


def test_the_patients_own_zone_is_among_the_common(patient, at_now):
    patient.time_zone = "Asia/Tokyo"
    patient.save()
    options = read_select(page(csrf_client(patient), "en")).options
    selected = [option for option in options if option[3]]
    assert selected == [("Common", "Asia/Tokyo", "Tokyo (GMT+9)", True, None)]


@pytest.mark.parametrize(
    "instant, offset",
    [
        ("2026-01-15T12:00:00+00:00", "GMT+1"),  # winter
        ("2026-03-29T00:59:00+00:00", "GMT+1"),  # a minute before the clocks go forward
        ("2026-03-29T01:00:00+00:00", "GMT+2"),  # 03:00 in Madrid: summer time
        ("2026-07-15T12:00:00+00:00", "GMT+2"),  # summer
    ],
)
def test_a_zone_with_summer_time_shows_its_offset_now(patient, instant, offset):
    with time_machine.travel(datetime.fromisoformat(instant), tick=False):
        options = read_select(page(csrf_client(patient), "en")).options
    assert ("Common", "Europe/Madrid", f"Madrid ({offset})", False, None) in options


def test_the_list_is_built_once_a_quarter_hour(patient):
    client = csrf_client(patient)
    zone_table_of.cache_clear()
    with time_machine.travel(datetime.fromisoformat("2026-03-29T00:46:00+00:00"), tick=False):
        page(client)
        page(client)
    assert zone_table_of.cache_info().misses == 1
    with time_machine.travel(datetime.fromisoformat("2026-03-29T01:00:00+00:00"), tick=False):
        page(client)
    assert zone_table_of.cache_info().misses == 2


def test_zone_label_for_other_pages():
    winter = datetime.fromisoformat("2026-01-15T12:00:00+00:00")
    assert zone_label("America/Argentina/Buenos_Aires", winter) == "Buenos Aires (GMT-3)"
    assert zone_label("Europe/Madrid", winter) == "Madrid (GMT+1)"
    assert zone_label("America/St_Johns", winter) == "St Johns (GMT-3:30)"
    assert zone_label("Asia/Kathmandu", winter) == "Kathmandu (GMT+5:45)"
    assert zone_offset("Africa/Abidjan", winter) == "GMT"
    # A zone this machine does not know (a row written by hand) still gets its city.
    assert zone_label("Mars/Olympus_Mons") == "Olympus Mons"


# Saving


def test_a_patient_saves_a_zone(patient):
    client = csrf_client(patient)
    r = save(client, time_zone="Europe/Madrid", language="es-ar")
    assert r.status_code == 302
    patient.refresh_from_db()
    assert patient.time_zone == "Europe/Madrid"
    assert "Listo. Ahora ves los horarios en hora de Madrid." in page(client)


def test_an_old_alias_is_saved_as_its_citys_zone(patient):
    # Not listed (America/Argentina/Buenos_Aires is): an older page's value is saved as listed.
    assert save(csrf_client(patient), time_zone="America/Buenos_Aires").status_code == 302
    patient.refresh_from_db()
    assert patient.time_zone == "America/Argentina/Buenos_Aires"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd"])
def test_an_unknown_zone_is_refused_and_nothing_changes(patient, zone):
    client = csrf_client(patient)
    r = save(client, time_zone=zone, language="en")
    assert r.status_code == 200
    select = read_select(r.content.decode())
    assert select.attrs["aria-invalid"] == "true"
    assert select.attrs["aria-describedby"] == "id_time_zone_helptext id_time_zone_error"
    assert settings.LANGUAGE_COOKIE_NAME not in r.cookies
    patient.refresh_from_db()
    assert patient.time_zone == "America/Argentina/Buenos_Aires"
    assert '<html lang="es-ar">' in page(client)


def test_saving_english_speaks_english_from_then_on(patient):
    client = csrf_client(patient)
    r = save(client, time_zone="Europe/Madrid", language="en")
    assert r.status_code == 302
    assert r.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    # The choice beats the browser's header on the next page, and the confirmation is English.
    html = page(client, "es-AR,es;q=0.9")
    assert '<html lang="en">' in html
    assert "Saved. Times are now shown in Madrid time." in html
    assert "Time zone" in html
    patient.refresh_from_db()
    assert patient.time_zone == "Europe/Madrid"
    # And back: the confirmation is then in Spanish.
    save(client, time_zone="Europe/Madrid", language="es-ar")
    html = page(client, "en")
    assert '<html lang="es-ar">' in html
    assert "Listo. Ahora ves los horarios en hora de Madrid." in html


def test_the_cookie_is_the_one_the_footers_switcher_sets(patient, frozen_now):
    # Frozen: both cookies expire a year from "now", which must be the same second for both.
    ours = save(csrf_client(patient), time_zone="Europe/Madrid", language="en")
    footers = csrf_client(patient).post(
        "/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": CSRF_TOKEN}
    )
    name = settings.LANGUAGE_COOKIE_NAME
    assert dict(ours.cookies[name]) == dict(footers.cookies[name])
    assert ours.cookies[name].value == footers.cookies[name].value


def test_a_form_without_a_language_leaves_it_alone(patient):
    client = csrf_client(patient)
    r = save(client, time_zone="Asia/Tokyo")
    assert r.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in r.cookies
    patient.refresh_from_db()
    assert patient.time_zone == "Asia/Tokyo"


def test_a_language_the_site_does_not_have_is_refused(patient):
    r = save(csrf_client(patient), time_zone="Europe/Madrid", language="fr")
    assert r.status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in r.cookies
    patient.refresh_from_db()
    assert patient.time_zone == "America/Argentina/Buenos_Aires"


# The page


@pytest.mark.parametrize("language", ["es-AR", "en"])
def test_each_language_is_named_in_itself(patient, language):
    html = page(csrf_client(patient), language)
    options = read_select(html, "language").options
    assert [(value, label, lang) for _g, value, label, _s, lang in options] == [
        ("es-ar", "Español de Argentina", "es-ar"),
        ("en", "English", "en"),
    ]
    assert [value for _g, value, _l, selected, _lang in options if selected] == [language.lower()]


def test_each_field_has_a_label_and_its_help(patient):
    html = page(csrf_client(patient), "en")
    for name in ("time_zone", "language"):
        select = read_select(html, name)
        assert f'<label for="{select.attrs["id"]}">' in html
        help_id = select.attrs["aria-describedby"]
        assert f'id="{help_id}"' in html


def test_the_spanish_page_speaks_voseo(patient):
    html = page(csrf_client(patient))
    assert '<html lang="es-ar">' in html
    assert "Elegí la del lugar donde estás" in html
    assert "Elija" not in html and "Seleccione" not in html


def test_the_spanish_page_names_its_groups_and_errors_in_spanish(patient):
    # Needs the es_AR catalog entries from this change (listed in its report).
    client = csrf_client(patient)
    groups = {group for group, *_rest in read_select(page(client)).options}
    assert {"Frecuentes", "América", "Europa"} <= groups
    html = save(client, time_zone="Mars/Olympus").content.decode()
    assert "Elegí una zona horaria de la lista." in html
    # Needs i18n-pending/language.po in the catalog.
    assert "El idioma de estas páginas y de los emails y el calendario que te mandamos." in html


def test_anonymous_is_sent_to_log_in(db):
    client = csrf_client()
    for r in (client.get("/preferences/"), save(client, time_zone="Europe/Madrid")):
        assert r.status_code == 302
        assert r["Location"] == "/accounts/login/?next=/preferences/"


# Email reminders


def test_a_patient_turns_reminders_off_and_on(patient):
    client = csrf_client(patient)
    assert patient.reminders_enabled is True
    assert 'name="reminders_enabled"' in page(client)
    # An unchecked box is absent from the form: off.
    assert save(client, time_zone="Europe/Madrid").status_code == 302
    patient.refresh_from_db()
    assert (patient.reminders_enabled, patient.time_zone) == (False, "Europe/Madrid")
    save(client, time_zone="Europe/Madrid", reminders_enabled="on")
    patient.refresh_from_db()
    assert patient.reminders_enabled is True


def test_the_reminders_switch_says_changes_always_arrive(patient):
    html = page(csrf_client(patient))
    assert '<label for="id_reminders_enabled">Recordatorios por email</label>' in html
    assert (
        "Los avisos de cambios (reservado, confirmado, movido, cancelado) llegan siempre." in html
    )


def test_a_professional_has_no_reminders_switch(professional):
    client = csrf_client(professional)
    assert 'name="reminders_enabled"' not in page(client)
    save(client, time_zone="Europe/Madrid")
    professional.refresh_from_db()
    assert professional.reminders_enabled is True


# The calendar link


def feed_links(html):
    return re.findall(r"(?:http|webcal)://testserver/calendar/[A-Za-z0-9_-]+\.ics", html)


def test_the_page_shows_the_calendar_link_to_copy_and_open(patient, frozen_now):
    html = page(csrf_client(patient))
    token = FeedToken.objects.get(user=patient, revoked_at=None).token
    assert feed_links(html) == [
        f"http://testserver/calendar/{token}.ics",
        f"webcal://testserver/calendar/{token}.ics",
    ]
    assert "readonly" in html and 'data-copy="calendar-url"' in html
    assert "Copiar" in html and "Generar un enlace nuevo" in html
    assert "Creado el martes 10 de marzo de 2026." in html
    # The same link on every visit: seeing it does not change it.
    assert feed_links(page(csrf_client(patient)))[0] == f"http://testserver/calendar/{token}.ics"
    assert FeedToken.objects.filter(user=patient).count() == 1


def test_a_new_link_revokes_the_old_one(patient, frozen_now):
    client = csrf_client(patient)
    old_url = feed_links(page(client))[0].removeprefix("http://testserver")
    assert Client().get(old_url).status_code == 200

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        response = client.post("/calendar/new/", {"csrfmiddlewaretoken": CSRF_TOKEN})
    assert response.status_code == 302
    assert response["Location"] == "/preferences/#calendar"

    old, new = FeedToken.objects.filter(user=patient).order_by("created_at")
    assert old.revoked_at == NOW + timedelta(hours=1)
    assert new.revoked_at is None and new.created_at == NOW + timedelta(hours=1)
    html = page(client)
    assert "Tu calendario tiene un enlace nuevo. El anterior ya no funciona" in html
    new_url = feed_links(html)[0].removeprefix("http://testserver")
    assert new_url != old_url
    assert Client().get(old_url).status_code == 404
    assert Client().get(new_url).status_code == 200


def test_a_new_link_needs_the_csrf_token(patient):
    link = FeedToken.for_user(patient)
    assert csrf_client(patient).post("/calendar/new/").status_code == 403
    assert list(FeedToken.objects.filter(user=patient)) == [link]
    assert FeedToken.objects.get().revoked_at is None


def test_a_new_link_rejects_get(patient):
    link = FeedToken.for_user(patient)
    assert csrf_client(patient).get("/calendar/new/").status_code == 405
    assert FeedToken.objects.get().pk == link.pk


def test_anonymous_cannot_make_a_link(db):
    response = csrf_client().post("/calendar/new/", {"csrfmiddlewaretoken": CSRF_TOKEN})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not FeedToken.objects.exists()
