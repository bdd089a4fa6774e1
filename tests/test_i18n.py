"""Language: Spanish (Argentina) by default, English from the browser or the switcher, and the
catalogs complete and compiled (a fresh machine needs no gettext tools)."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.template import engines
from django.utils import translation
from django.utils.translation.template import templatize

from reservations.models import Reservation

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"


def get(client, path, language=None):
    headers = {"Accept-Language": language} if language else {}
    return client.get(path, headers=headers).content.decode()


@pytest.fixture
def turns(patient, make_reservation, frozen_now):
    # Tuesday 10 March 2026, 12:00 in Buenos Aires.
    return {
        "today": make_reservation(patient, NOW + timedelta(hours=2)),  # 14:00 today
        "next_week": make_reservation(patient, NOW + timedelta(days=7, hours=2), status="PENDING"),
    }


def test_spanish_is_the_default(patient, turns):
    html = get(csrf_client(patient), "/dashboard/")
    assert '<html lang="es-ar">' in html
    assert "Tu próximo turno" in html
    assert "hoy, 14:00 – 14:45 (45 min)" in html
    assert "martes 17 de marzo, 14:00 – 14:45 (45 min)" in html
    assert 'aria-label="Cancelar turno del martes 17 de marzo, 14:00"' in html
    assert "¿Cancelar tu turno del martes 17 de marzo, 14:00? No se puede deshacer." in html
    assert "Pendiente</span>" in html and "Confirmado</span>" in html


def test_a_language_the_site_does_not_have_falls_back_to_spanish(patient, turns):
    assert "Tu próximo turno" in get(csrf_client(patient), "/dashboard/", "fr-FR,fr;q=0.9")


def test_english_comes_from_the_browser(patient, turns):
    html = get(csrf_client(patient), "/dashboard/", "en-US,en;q=0.9")
    assert '<html lang="en">' in html
    assert "Your next session" in html
    assert "today, 14:00 – 14:45 (45 min)" in html
    assert "Tuesday, March 17, 14:00 – 14:45 (45 min)" in html
    assert 'aria-label="Cancel session of Tuesday, March 17, 14:00"' in html
    assert "Times are shown in Buenos Aires time" in html
    assert "Cancel this session?" in html  # the dialog
    assert "Pending</span>" in html and "Confirmed</span>" in html


def test_labels_of_statuses_and_modalities_in_both_languages():
    reservation = Reservation(status="CONFIRMED", session_modality="Presencial")
    with translation.override("es-ar"):
        assert reservation.get_status_display() == "Confirmado"
        assert reservation.get_session_modality_display() == "Presencial"
    with translation.override("en"):
        assert reservation.get_session_modality_display() == "In person"
    # A value outside the choices (a row written by hand) shows as itself.
    assert Reservation(status="ON_HOLD").get_status_display() == "ON_HOLD"


def test_tomorrow_in_both_languages(patient, make_reservation, frozen_now):
    make_reservation(patient, NOW + timedelta(days=1))
    client = csrf_client(patient)
    assert "mañana, 12:00 – 12:45" in get(client, "/dashboard/")
    assert "tomorrow, 12:00 – 12:45" in get(client, "/dashboard/", "en")


def test_the_switcher_remembers_the_choice(patient, turns):
    client = csrf_client(patient)
    r = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/dashboard/", "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert r.status_code == 302
    # The choice beats the browser's header on later visits.
    assert "Your next session" in get(client, "/dashboard/", "es-AR,es;q=0.9")
    assert "Preferences" in get(client, "/preferences/", "es-AR")
    client.post(
        "/i18n/setlang/",
        {"language": "es-ar", "next": "/dashboard/", "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert "Tu próximo turno" in get(client, "/dashboard/", "en")


@pytest.mark.parametrize(
    "path, english, spanish",
    [
        ("/accounts/login/", "Forgot your password, or never set one?", "¿Olvidaste tu"),
        ("/accounts/password/reset/", "Send me the link", "Enviame el enlace"),
        ("/accounts/signup/", "Sign-up is closed", "El registro está cerrado"),
    ],
)
def test_account_pages_switch_language(db, path, english, spanish):
    client = csrf_client()
    assert english in get(client, path, "en")
    assert spanish in get(client, path, "es-AR")


def test_logged_in_account_pages_switch_language(patient):
    client = csrf_client(patient)
    for path, english, spanish in [
        ("/accounts/password/change/", "Change your password", "Cambiá tu contraseña"),
        ("/accounts/logout/", "Do you want to log out of Turnos?", "¿Querés salir de Turnos?"),
        ("/preferences/", "Time zone", "Zona horaria"),
    ]:
        assert english in get(client, path, "en"), path
        assert spanish in get(client, path, "es-AR"), path


def test_the_cancel_answer_is_in_the_readers_language(patient, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(days=7))
    client = csrf_client(patient)
    response = client.post(
        f"/reservations/{r.pk}/cancel/",
        {"csrfmiddlewaretoken": CSRF_TOKEN},
        headers={"HX-Request": "true", "Accept-Language": "en"},
    )
    assert "Your session was cancelled." in response.content.decode()


# The catalogs


def catalog(language):
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def used_msgids():
    """Every msgid the project's templates and Python code use (no gettext tools needed)."""
    found = set()
    call = re.compile(r"\b(?:n?gettext)\((u'(?:[^'\\]|\\.)*')")
    templates = ROOT / "templates"
    for template in [*templates.rglob("*.html"), *templates.rglob("*.txt")]:
        for literal in call.findall(templatize(template.read_text(), origin=str(template))):
            found.add(ast.literal_eval(literal))
    jinja = engines["jinja2"].env
    for template in (ROOT / "jinja2").rglob("*.html"):
        for _line, _function, message in jinja.extract_translations(template.read_text()):
            found.update([message] if isinstance(message, str) else message[:1])
    names = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
    for folder in ("accounts", "api", "reservations", "reservations_site"):
        for source in (ROOT / folder).rglob("*.py"):
            if "migrations" in source.parts:
                continue
            for node in ast.walk(ast.parse(source.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) in names
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.add(node.args[0].value)
    return found


def test_every_string_the_ui_uses_has_a_spanish_translation():
    po = catalog("es_AR")
    translated = {e.msgid for e in po.translated_entries()}
    used = used_msgids()
    assert len(used) > 100
    assert sorted(used - translated) == []


def test_the_spanish_catalog_is_complete_and_clean():
    po = catalog("es_AR")
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert po.obsolete_entries() == []
    for entry in po.translated_entries():
        # A placeholder lost or misspelled in translation breaks the sentence at runtime.
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            if text:
                assert set(re.findall(r"%\(\w+\)s", text)) == set(
                    re.findall(r"%\(\w+\)s", entry.msgid)
                ), entry.msgid


@pytest.mark.parametrize("language", ["es_AR", "en"])
def test_the_compiled_catalog_matches_its_source(language):
    """The .mo files are committed (a fresh machine has no msgfmt): they must be current."""
    folder = LOCALE / language / "LC_MESSAGES"
    po = polib.pofile(str(folder / "django.po"))
    mo = polib.mofile(str(folder / "django.mo"))
    compiled = {(e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo}
    source = {
        (e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in po.translated_entries()
    }
    assert source - compiled == set()


def test_spanish_weekdays_are_all_lower_case(frozen_now):
    """Django's own es_AR catalog writes "Domingo"; ours overrides it."""
    from django.utils import translation

    from reservations.templatetags.turnos import turn_day

    with translation.override("es-ar"):
        days = [turn_day(NOW + timedelta(days=n)) for n in range(2, 9)]
    assert [d.split()[0] for d in days] == [
        "jueves",
        "viernes",
        "sábado",
        "domingo",
        "lunes",
        "martes",
        "miércoles",
    ]


@pytest.mark.parametrize(
    "language, expected",
    [
        ("es-AR", ["Hola Lucía:", "Si no fuiste vos, ignorá este email", "Elegí tu contraseña"]),
        ("en", ["Hello Lucía,", "If it was not you, ignore this email", "choose a new password"]),
    ],
)
def test_the_password_reset_email_speaks_the_readers_language(patient, language, expected):
    from django.core import mail

    csrf_client().post(
        "/accounts/password/reset/",
        {"email": "lucia@example.com", "csrfmiddlewaretoken": CSRF_TOKEN},
        headers={"Accept-Language": language},
    )
    message = mail.outbox[-1]
    text = message.subject + "\n" + message.body
    for fragment in expected:
        assert fragment in text
    assert "/accounts/password/reset/key/" in message.body


def test_the_policy_note_follows_the_practices_default_notice(patient, settings):
    settings.DEFAULT_CANCELLATION_NOTICE_HOURS = 24
    client = csrf_client(patient)
    assert "con al menos 24 horas de anticipación" in get(client, "/dashboard/")
    assert "at least 24 hours in advance" in get(client, "/dashboard/", "en")
