"""Language: Spanish (Argentina) by default, English from the browser or the switcher, and the
catalogs complete and compiled (a fresh machine needs no gettext tools)."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.utils import translation
from django.utils.translation.template import templatize

from reservations.models import Reservation

from .conftest import CSRF_TOKEN, NOW, csrf_client
from .test_notifications import run_due_tasks

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
    assert "Times are shown in Buenos Aires (GMT-3) time." in html
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
    # Every app of ours (a folder with an apps.py), as `make messages` reads them.
    apps = sorted(path.parent.name for path in ROOT.glob("*/apps.py"))
    for templates in (ROOT / "templates", *(ROOT / app / "templates" for app in apps)):
        for template in [*templates.rglob("*.html"), *templates.rglob("*.txt")]:
            for literal in call.findall(templatize(template.read_text(), origin=str(template))):
                found.add(ast.literal_eval(literal))
    names = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
    for folder in apps:
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
        # A placeholder lost or misspelled in translation breaks the sentence at runtime. (A
        # plural's forms after the first are the plural msgid's.)
        forms = [(entry.msgstr, entry.msgid)] + [
            (text, entry.msgid if n == 0 else entry.msgid_plural)
            for n, text in sorted(entry.msgstr_plural.items())
        ]
        for text, source in forms:
            if text:
                assert set(re.findall(r"%\(\w+\)s", text)) == set(
                    re.findall(r"%\(\w+\)s", source)
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

    from reservations.texts import turn_day

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
        ("es-AR", ["Hola Lucía, te escribimos de Turnos.", "Si no fuiste vos, ignorá este email"]),
        ("en", ["Hello Lucía, this is Turnos.", "If it was not you, ignore this email"]),
    ],
)
def test_the_password_reset_email_speaks_the_readers_language(patient, language, expected):
    from django.core import mail

    csrf_client().post(
        "/accounts/password/reset/",
        {"email": "lucia@example.com", "csrfmiddlewaretoken": CSRF_TOKEN},
        headers={"Accept-Language": language},
    )
    run_due_tasks()
    message = mail.outbox[-1]
    text = message.subject + "\n" + message.body
    for fragment in expected:
        assert fragment in text
    assert "/accounts/password/reset/key/" in message.body


def test_the_policy_note_says_the_notice_is_each_professionals(patient, settings):
    # Professionals set their own notice: the page must not promise one figure for everyone.
    settings.DEFAULT_CANCELLATION_NOTICE_HOURS = 24
    client = csrf_client(patient)
    spanish, english = get(client, "/dashboard/"), get(client, "/dashboard/", "en")
    assert "depende de cada profesional: cada turno lo indica." in spanish
    assert "depends on each professional" in english
    assert "24 horas" not in spanish and "24 hours" not in english


# Voseo. The site speaks to patients as "vos" ("ingresá", "tu contraseña", "te mandamos"), as
# people in Argentina speak. django-allauth's Spanish and Django's es_AR speak "usted" ("Ingrese",
# "su contraseña", "le enviamos") and allauth's sometimes "tú" ("Introduce", "puedes"); whatever of
# theirs reaches a patient is overridden in our catalog or replaced by our own template.
#
# Each alternative is a form only a reader addressed as usted (or tú) produces. Left out on
# purpose: words that are also English ("has", "active", "use"; a message nobody translated
# reads in English), and third person that is not the reader ("puede tardar", "debe usar el
# formato").
NOT_VOSEO = re.compile(
    r"\b(?:ustedes?|ud\."
    # the reader's things, possessed with "su" (voseo: "tu contraseña")
    r"|sus? (?:contraseña|cuenta|correo|dirección|email|e-mail|sesión|usuario|navegador|código"
    r"|teléfono|número|información|bandeja|carpeta|dispositivo|aplicación|nombre)"
    # the reader as object: "le enviamos" (voseo: "te mandamos")
    r"|le"
    # usted's perfect and present tenses: "que ha indicado", "¿desea...?", "no puede eliminar"
    r"|ha (?:indicado|iniciado|cerrado|olvidado|confirmado|sido usted)|desea"
    r"|está (?:seguro|recibiendo|a punto)|recibirá|debería|debe (?:escribir|ingresar|introducir)"
    r"|no puede (?:eliminar|añadir|agregar|activar)"
    # usted's imperatives (voseo: "ingresá", "hacé", "verificá", "intentá", "elegí"...)
    r"|introduzca|introdúzcal[ao]|ingrese|haga|verifique|intente|inténtelo|vuelva|escriba|elija"
    r"|seleccione|compruebe|confirme|utilice|revise|contacte|contáctenos|póngase|espere"
    r"|asegúrese|cambie|establezca|solicite|pulse|siga|proporcione|indique|acceda|inicie"
    r"|regístrese|emita|corrija|envíe|tenga|tome"
    # tú, which is not how Argentina speaks either (voseo: "podés", "tenés", "ingresá", "andá")
    r"|puedes|tienes|quieres|debes|eres|introduce|introdúcelo|vete|regístrate|envíame|ten"
    r"|has (?:verificado|confirmado|iniciado|cerrado)|utiliza|selecciona"
    r")\b",
    re.IGNORECASE,
)


def test_the_usted_pattern_tells_usted_from_voseo():
    for usted in [
        "La dirección de correo electrónico y/o la contraseña que ha indicado no son correctas.",
        "Su contraseña debe contener por lo menos 8 caracteres.",
        "Le hemos enviado un correo electrónico.",
        "Introduzca una dirección de email válida.",
        "Demasiados intentos fallidos. Inténtelo más tarde.",
        "Ten paciencia, estás enviando muchas solicitudes.",
    ]:
        assert NOT_VOSEO.search(usted), usted
    for voseo in [
        "El email o la contraseña que ingresaste no son correctos.",
        "Tu contraseña tiene que tener al menos 8 caracteres.",
        "Si ese email está registrado, te mandamos un enlace. Puede tardar unos minutos.",
        "Ingresá un email válido.",
        "Demasiados intentos fallidos. Probá de nuevo más tarde.",
        "This account is inactive.",  # English, untranslated: not usted
    ]:
        assert not NOT_VOSEO.search(voseo), voseo


_GETTEXT = {
    "_": "gettext",
    "gettext": "gettext",
    "gettext_lazy": "gettext",
    "pgettext": "pgettext",
    "pgettext_lazy": "pgettext",
    "ngettext": "ngettext",
    "ngettext_lazy": "ngettext",
    "npgettext": "npgettext",
    "npgettext_lazy": "npgettext",
}
_LITERALS = {"gettext": 1, "pgettext": 2, "ngettext": 2, "npgettext": 3}


def messages_in_python(source):
    """(function, *literals) of each gettext call with literal arguments in a Python file."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        function = _GETTEXT.get(name)
        if function is None:
            continue
        args = node.args[: _LITERALS[function]]
        if len(args) == _LITERALS[function] and all(
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args
        ):
            found.add((function, *[a.value for a in args]))
    return found


def messages_in_django_template(template):
    found = set()
    literal = r"u'(?:[^'\\]|\\.)*'"
    calls = re.findall(
        rf"\b(n?p?gettext)\(((?:\s*{literal}\s*,?)+)",
        templatize(template.read_text(), origin=str(template)),
    )
    for function, args in calls:
        found.add((function, *[ast.literal_eval(a) for a in re.findall(literal, args)]))
    return found


def patient_facing_messages():
    """Every message a patient can read, from our code and templates and from the libraries'.

    Ours: the project's templates and Python (used_msgids). allauth's: the
    templates of theirs we render (those under account/ and allauth/ that ours do not replace)
    and the messages of its account code (form errors, rate limits). Django's: form validation
    errors and the password validators.
    """
    import allauth
    import django
    from allauth.account import app_settings

    found = {("gettext", msgid) for msgid in used_msgids()}
    library = Path(allauth.__file__).parent
    # Templates of features that are off cannot be reached; if one is switched on, its
    # templates join the check.
    off = []
    if not (
        app_settings.LOGIN_BY_CODE_ENABLED
        or app_settings.PASSWORD_RESET_BY_CODE_ENABLED
        or app_settings.EMAIL_VERIFICATION_BY_CODE_ENABLED
    ):
        off.append("code")
    if "phone" not in app_settings.LOGIN_METHODS | app_settings.SIGNUP_FIELDS.keys():
        off.append("phone")
    off += ["signup", "passkey", "account_already_exists"]  # the site adapter closes sign-up
    if not app_settings.EMAIL_NOTIFICATIONS:
        off += ["base_notification", "_changed_", "_deleted_", "password_set_", "reset_message"]
    if not app_settings.CHANGE_EMAIL:
        off.append("email_change.html")
    for folder in ("account", "allauth", "mfa", "usersessions"):
        for template in (library / "templates" / folder).rglob("*"):
            relative = template.relative_to(library / "templates")
            if template.suffix not in (".html", ".txt") or (ROOT / "templates" / relative).exists():
                continue
            if any(word in str(relative) for word in off):
                continue
            found |= messages_in_django_template(template)
    for source in [
        *(library / "account").rglob("*.py"),
        *(library / "mfa").rglob("*.py"),
        *(library / "usersessions").rglob("*.py"),
    ]:
        if not {"tests", "migrations", "admin.py"} & set(source.parts):
            found |= messages_in_python(source)
    framework = Path(django.__file__).parent
    for source in [
        *(framework / "forms").glob("*.py"),
        framework / "core" / "validators.py",
        framework / "contrib" / "auth" / "password_validation.py",
    ]:
        found |= messages_in_python(source)
    return found


def in_spanish(message):
    function, *args = message
    with translation.override("es-ar"):
        if function in ("gettext", "pgettext"):
            return [getattr(translation, function)(*args)]
        # Each plural form: Django's es_AR has three (1, millions, the rest).
        return [getattr(translation, function)(*args, n) for n in (1, 2, 1_000_000)]


def test_no_message_a_patient_can_read_says_usted():
    messages = patient_facing_messages()
    assert len(messages) > 250
    usted = sorted(
        f"{message[1:]!r} -> {text!r}"
        for message in messages
        for text in in_spanish(message)
        if NOT_VOSEO.search(text)
    )
    assert usted == []


def test_our_catalog_says_no_usted():
    for entry in catalog("es_AR").translated_entries():
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            assert not NOT_VOSEO.search(text), (entry.msgid, text)


def readable(html):
    """What a reader meets on a page: its text and the labels screen readers announce."""
    labels = re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', html)
    return " ".join([re.sub(r"<[^>]+>", " ", html), *labels])


def assert_voseo(text, where):
    found = NOT_VOSEO.search(text)
    if found:
        around = text[max(found.start() - 80, 0) : found.end() + 80]
        pytest.fail(f"{where}: {found.group(0)!r} in …{around}…")


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/accounts/password/reset/", "/accounts/password/reset/done/"],
)
def test_the_pages_before_logging_in_speak_voseo_and_invite_no_sign_up(db, path):
    html = get(csrf_client(), path, "es-AR")
    assert '<html lang="es-ar">' in html
    assert_voseo(readable(html), path)
    # Sign-up is closed: the practice registers its patients.
    assert "/accounts/signup/" not in html
    assert not re.search(r"registrate|registrarte|creá tu cuenta|crear una cuenta", html, re.I)


@pytest.mark.parametrize(
    "path", ["/accounts/password/change/", "/accounts/logout/", "/accounts/email/"]
)
def test_the_account_pages_of_a_logged_in_patient_speak_voseo(patient, path):
    html = get(csrf_client(patient), path, "es-AR")
    assert '<html lang="es-ar">' in html
    assert_voseo(readable(html), path)


def post(client, path, data):
    data = {"csrfmiddlewaretoken": CSRF_TOKEN, **data}
    return client.post(path, data, headers={"Accept-Language": "es-AR"}).content.decode()


def test_form_errors_speak_voseo(patient):
    anonymous = csrf_client()
    wrong = post(anonymous, "/accounts/login/", {"login": "lucia@example.com", "password": "x"})
    assert "El email o la contraseña que ingresaste no son correctos." in wrong
    not_an_email = post(anonymous, "/accounts/password/reset/", {"email": "lucia"})
    assert "Ingresá un email válido." in not_an_email
    client = csrf_client(patient)
    weak = post(
        client,
        "/accounts/password/change/",
        {"oldpassword": "not-it", "password1": "12345", "password2": "54321"},
    )
    assert "Escribí tu contraseña actual." in weak
    for page in (wrong, not_an_email, weak):
        assert_voseo(readable(page), "form errors")


def test_the_login_lock_speaks_voseo(patient):
    client = csrf_client()
    for _ in range(6):
        page = post(client, "/accounts/login/", {"login": "lucia@example.com", "password": "x"})
    assert "Demasiados intentos fallidos. Probá de nuevo más tarde." in page
    assert_voseo(readable(page), "login lock")


def test_the_new_password_page_and_its_rules_speak_voseo(patient):
    from django.core import mail

    client = csrf_client()
    post(client, "/accounts/password/reset/", {"email": "lucia@example.com"})
    run_due_tasks()
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body)
    form_url = client.get(link.group(1))["Location"]
    html = get(client, form_url, "es-AR")
    # The password validators' rules, shown under the new password.
    assert "Tu contraseña tiene que tener al menos 8 caracteres." in html
    assert_voseo(readable(html), "new password page")
    refused = post(client, form_url, {"password1": "lucia", "password2": "lucia"})
    assert "La contraseña es demasiado corta" in refused
    assert_voseo(readable(refused), "new password refused")


def test_the_emails_speak_voseo_as_the_practice_never_as_a_host(patient, settings):
    from django.core import mail

    settings.SITE_NAME = "Consultorio Sur"
    settings.ACCOUNT_EMAIL_SUBJECT_PREFIX = None  # then the subject names the practice too
    client = csrf_client()
    for address in ("lucia@example.com", "nadie@example.com"):
        client.post(
            "/accounts/password/reset/",
            {"email": address, "csrfmiddlewaretoken": CSRF_TOKEN},
            headers={"Accept-Language": "es-AR"},
        )
    run_due_tasks()
    known, unknown = mail.outbox
    assert known.body.startswith("Hola Lucía, te escribimos de Consultorio Sur.")
    assert unknown.body.startswith("Hola, te escribimos de Consultorio Sur.")
    assert "No encontramos tu cuenta" in unknown.subject
    for message in (known, unknown):
        assert message.subject.startswith("[Consultorio Sur] ")
        without_links = re.sub(r"https?://\S+", "", message.subject + "\n" + message.body)
        assert "testserver" not in without_links
        assert_voseo(without_links, message.subject)
    # The practice registers its patients: an unknown address is not invited to sign up.
    assert "signup" not in unknown.body
    assert not re.search(r"registrate|registrarte|crear una cuenta", unknown.body, re.I)
