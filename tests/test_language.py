"""Each person's language (user.language): Preferences and the footer's switcher save it; a
logged-in person's pages follow it whatever the browser's cookie says; and everything the
practice sends them speaks it: emails (the professional's too), reminders, the .ics, the
calendar feed, the account emails. The cookie serves anonymous visitors only."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from accounts.models import ProfessionalProfile, User
from calendars.models import FeedToken
from reservations.models import Reservation
from scheduling.models import WorkingHours

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client, make_user
from .test_notifications import run_due_tasks

pytestmark = pytest.mark.django_db
BA = ZoneInfo("America/Argentina/Buenos_Aires")
COOKIE = settings.LANGUAGE_COOKIE_NAME
# Wednesdays 18 and 25 March 2026, 18:00 in Buenos Aires (NOW is Tuesday 10 March, 12:00).
WED_18 = NOW.astimezone(BA).replace(day=18, hour=18)
WED_25 = WED_18 + timedelta(days=7)


@pytest.fixture
def ann(db):
    """A patient who chose English."""
    return make_user("ann@example.com", first_name="Ann", language="en")


@pytest.fixture
def lucia(db):
    """A patient who chose Spanish."""
    return make_user("lucia@example.com", first_name="Lucía", language="es-ar")


@pytest.fixture
def ruiz(db):
    """Bookings with Dr. Ruiz are confirmed at once: Wednesdays 18 to 20, virtual. He reads
    Spanish."""
    user = make_user(
        "ruiz@example.com", first_name="Andrés", last_name="Ruiz", factor=True, language="es-ar"
    )
    ProfessionalProfile.objects.create(
        user=user, display_name="Dr. Andrés Ruiz", requires_approval=False
    )
    WorkingHours.objects.create(
        professional=user, weekday=2, start_time=time(18), end_time=time(20), modality="Virtual"
    )
    return user


def browser(user=None, cookie=None, accept=None):
    """A client as a browser: logged in as `user`, with a language cookie and Accept-Language."""
    client = csrf_client(user)
    if cookie:
        client.cookies[COOKIE] = cookie
    if accept:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = accept
    return client


def post(client, path, data=None):
    return client.post(path, {"csrfmiddlewaretoken": CSRF_TOKEN, **(data or {})})


def to(address):
    return [m for m in mail.outbox if m.to == [address]]


# Saving it


def test_preferences_save_the_language_on_the_person(lucia):
    client = browser(lucia, cookie="es-ar")
    # Without the CSRF token: refused, nothing changes.
    refused = client.post("/preferences/", {"time_zone": "Europe/Madrid", "language": "en"})
    assert refused.status_code == 403
    lucia.refresh_from_db()
    assert lucia.language == "es-ar"

    r = post(client, "/preferences/", {"time_zone": "Europe/Madrid", "language": "en"})
    assert r.status_code == 302
    lucia.refresh_from_db()
    assert (lucia.language, lucia.time_zone) == ("en", "Europe/Madrid")
    # The page after it is English, though the browser still sent the old cookie.
    client.cookies[COOKIE] = "es-ar"
    html = client.get("/preferences/").content.decode()
    assert '<html lang="en">' in html
    assert "Saved. Times are now shown in Madrid time." in html


def test_preferences_show_the_persons_language_chosen(ann):
    html = browser(ann, cookie="es-ar").get("/preferences/").content.decode()
    assert '<option value="en" lang="en" selected>' in html


def test_a_form_without_the_language_keeps_the_persons(ann):
    r = post(browser(ann), "/preferences/", {"time_zone": "Asia/Tokyo"})
    assert r.status_code == 302
    ann.refresh_from_db()
    assert (ann.language, ann.time_zone) == ("en", "Asia/Tokyo")


def test_the_footers_switcher_saves_a_logged_in_persons_language(lucia):
    client = browser(lucia)
    refused = client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
    assert refused.status_code == 403
    lucia.refresh_from_db()
    assert lucia.language == "es-ar"

    r = post(client, "/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
    assert r.status_code == 302
    lucia.refresh_from_db()
    assert lucia.language == "en"
    # Another device, with a Spanish cookie, speaks English to her too.
    other = browser(lucia, cookie="es-ar", accept="es-AR")
    assert '<html lang="en">' in other.get("/dashboard/").content.decode()


def test_a_language_the_site_does_not_have_is_not_saved(lucia):
    post(browser(lucia), "/i18n/setlang/", {"language": "fr", "next": "/dashboard/"})
    post(browser(lucia), "/preferences/", {"time_zone": "Europe/Madrid", "language": "fr"})
    lucia.refresh_from_db()
    assert (lucia.language, lucia.time_zone) == ("es-ar", "America/Argentina/Buenos_Aires")


def test_the_switcher_for_an_anonymous_visitor_sets_the_cookie_only(lucia):
    r = post(browser(), "/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.cookies[COOKIE].value == "en"
    assert not User.objects.filter(language="en").exists()


# Pages


@pytest.mark.parametrize(
    "language, cookie, words, other_words",
    [
        ("en", "es-ar", "Preferences", "Preferencias"),
        ("es-ar", "en", "Preferencias", "Preferences"),
    ],
)
def test_a_logged_in_persons_pages_follow_their_language_over_the_cookie(
    lucia, language, cookie, words, other_words
):
    User.objects.filter(pk=lucia.pk).update(language=language)
    response = browser(lucia, cookie=cookie, accept=cookie).get("/dashboard/")
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert words in html and other_words not in html
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]


def test_a_person_who_has_not_chosen_follows_the_browser(patient):
    # Blank: not chosen yet (the practice's language for what is sent to them).
    assert patient.language == ""
    html = browser(patient, accept="en").get("/dashboard/").content.decode()
    assert '<html lang="en">' in html


@pytest.mark.parametrize("cookie, words", [("en", "Log in"), ("es-ar", "Ingresar")])
def test_anonymous_pages_follow_the_cookie(db, cookie, words):
    response = browser(cookie=cookie).get("/accounts/login/")
    assert f'<html lang="{cookie}">' in response.content.decode()
    assert words in response.content.decode()
    assert response["Content-Language"] == cookie


def test_logging_in_switches_to_the_persons_language(ann):
    client = browser(cookie="es-ar", accept="es-AR")
    assert '<html lang="es-ar">' in client.get("/accounts/login/").content.decode()
    r = post(client, "/accounts/login/", {"login": ann.email, "password": PASSWORD})
    assert r.status_code == 302
    html = client.get(r.url).content.decode()
    assert '<html lang="en">' in html


def test_the_person_page_costs_no_extra_query(ann, django_assert_max_num_queries):
    client = browser(ann, cookie="es-ar")
    client.get("/dashboard/")
    User.objects.filter(pk=ann.pk).update(language="")
    with django_assert_max_num_queries(50) as blank:
        client.get("/dashboard/")
    User.objects.filter(pk=ann.pk).update(language="en")
    with django_assert_max_num_queries(len(blank.captured_queries)):
        client.get("/dashboard/")


# What is sent to them


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def book(client, professional, start, on_commit):
    with on_commit():
        r = post(
            client,
            f"/book/{professional.pk}/",
            {
                "start": start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ"),
                "modality": "Virtual",
            },
        )
    assert r.status_code == 302, r.content.decode()[:500]
    return Reservation.objects.get(professional=professional, start_time=start)


@time_machine.travel(NOW, tick=False)
def test_an_english_patient_gets_english_emails_and_a_spanish_one_spanish(
    ann, lucia, ruiz, on_commit
):
    hers = book(browser(ann, cookie="es-ar"), ruiz, WED_18, on_commit)
    book(browser(lucia, cookie="en"), ruiz, WED_25, on_commit)
    run_due_tasks()

    (booked,) = to(ann.email)
    assert booked.subject == "Your session with Dr. Andrés Ruiz is booked"
    assert "Your session with Dr. Andrés Ruiz is booked for Wednesday, March 18, 18:00" in (
        booked.body
    )
    ics = Calendar.from_ical(booked.attachments[0][1])
    assert str(ics.events[0]["SUMMARY"]) == "Session with Dr. Andrés Ruiz"
    (reservada,) = to(lucia.email)
    assert reservada.subject == "Tu turno con Dr. Andrés Ruiz está reservado"
    assert str(Calendar.from_ical(reservada.attachments[0][1]).events[0]["SUMMARY"]) == (
        "Turno con Dr. Andrés Ruiz"
    )
    # The professional reads his in Spanish, whoever booked.
    told = sorted(m.subject for m in to(ruiz.email))
    assert told == [
        "Turno nuevo: Ann, miércoles 18 de marzo, 18:00 – 18:50 (50 min)",
        "Turno nuevo: Lucía, miércoles 25 de marzo, 18:00 – 18:50 (50 min)",
    ]

    mail.outbox.clear()
    with on_commit():
        assert post(browser(ann), f"/reservations/{hers.pk}/cancel/").status_code == 302
    run_due_tasks()
    (cancelled,) = to(ann.email)
    assert cancelled.subject == "You cancelled your session with Dr. Andrés Ruiz"


@time_machine.travel(NOW, tick=False)
def test_a_professional_reads_their_emails_in_their_own_language(lucia, ruiz, on_commit):
    User.objects.filter(pk=ruiz.pk).update(language="en")
    book(browser(lucia), ruiz, WED_18, on_commit)
    run_due_tasks()
    (told,) = to(ruiz.email)
    assert told.subject == "New session: Lucía, Wednesday, March 18, 18:00 – 18:50 (50 min)"
    (reservada,) = to(lucia.email)
    assert reservada.subject == "Tu turno con Dr. Andrés Ruiz está reservado"


def test_reminders_speak_each_patients_language(ann, lucia, ruiz, on_commit):
    with time_machine.travel(NOW, tick=False):
        book(browser(ann), ruiz, WED_18, on_commit)
        book(browser(lucia), ruiz, WED_25, on_commit)
        run_due_tasks()
    mail.outbox.clear()
    for day in (WED_18, WED_25):
        with time_machine.travel(day - timedelta(hours=2), tick=False):
            run_due_tasks()
    (reminder,) = to(ann.email)
    assert reminder.subject.startswith("Reminder: your session with Dr. Andrés Ruiz, ")
    (recordatorio,) = to(lucia.email)
    assert recordatorio.subject.startswith("Recordatorio: tu turno con Dr. Andrés Ruiz, ")


def feed_events(user, accept):
    url = reverse("calendar_feed", args=[FeedToken.for_user(user).token])
    response = browser(accept=accept, cookie=accept).get(url)
    assert response.status_code == 200
    return response, Calendar.from_ical(response.content).events


@time_machine.travel(NOW, tick=False)
def test_the_feed_speaks_its_owners_language_whatever_the_calendar_app_asks(
    ann, lucia, ruiz, make_reservation
):
    make_reservation(ann, WED_18, pro=ruiz)
    make_reservation(lucia, WED_25, pro=ruiz)

    response, (event,) = feed_events(ann, "es-AR")
    assert response["Content-Language"] == "en"
    assert str(event["SUMMARY"]) == "Session with Dr. Andrés Ruiz"
    assert "Modality: Virtual" in str(event["DESCRIPTION"])

    response, (event,) = feed_events(lucia, "en")
    assert response["Content-Language"] == "es-ar"
    assert str(event["SUMMARY"]) == "Turno con Dr. Andrés Ruiz"
    assert "Modalidad: Virtual" in str(event["DESCRIPTION"])

    # The professional's feed, in his language.
    _response, events = feed_events(ruiz, "en")
    assert {str(e["SUMMARY"]) for e in events} == {"Turno con A.", "Turno con L."}


@time_machine.travel(NOW, tick=False)
def test_a_sessions_ics_speaks_the_persons_language(ann, lucia, ruiz, make_reservation):
    for user, summary in [
        (ann, "Session with Dr. Andrés Ruiz"),
        (lucia, "Turno con Dr. Andrés Ruiz"),
    ]:
        r = make_reservation(user, WED_18, pro=ruiz)
        other = "es-ar" if user.language == "en" else "en"
        response = browser(user, cookie=other, accept=other).get(
            reverse("reservation_calendar", args=[r.pk])
        )
        (event,) = Calendar.from_ical(response.content).events
        assert str(event["SUMMARY"]) == summary
        r.delete()


def test_an_account_email_speaks_its_readers_language_not_the_askers_browser(ann):
    post(browser(cookie="es-ar", accept="es-AR"), "/accounts/password/reset/", {"email": ann.email})
    run_due_tasks()
    (message,) = to(ann.email)
    assert "Hello Ann, this is Turnos." in message.body
    assert "/accounts/password/reset/key/" in message.body


# The admin


def test_the_admin_shows_the_language_to_superusers_and_reception(ann, staff):
    from django.contrib.auth.models import Permission

    reception = make_user("mesa@example.com", is_staff=True)
    reception.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    for user in (staff, reception):
        page = csrf_client(user).get(f"/admin/accounts/user/{ann.pk}/change/")
        assert page.status_code == 200
        html = page.content.decode()
        assert '<select name="language"' in html
        assert '<option value="en" selected>' in html
