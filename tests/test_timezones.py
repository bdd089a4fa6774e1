"""Time zones: every time is shown in the viewer's zone, and the notice rule counts real hours.

The case: a patient in Madrid, a session on Monday 30 March 2026 at 10:00 Madrid time. Europe
moved its clocks forward on Sunday 29 March (02:00 CET -> 03:00 CEST), Buenos Aires did not, so
between "Saturday 10:00" and "Monday 10:00" on a Madrid wall clock there are only 47 real hours.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reservations.models import Reservation

from .conftest import CSRF_TOKEN, csrf_client, make_user

pytestmark = pytest.mark.django_db

MADRID = ZoneInfo("Europe/Madrid")
UTC = ZoneInfo("UTC")
# Monday 30 March 2026, 10:00 in Madrid (CEST, UTC+2) = 08:00 UTC = 05:00 in Buenos Aires.
START = datetime(2026, 3, 30, 10, 0, tzinfo=MADRID)


def at(*args, tz=UTC):
    return time_machine.travel(datetime(*args, tzinfo=tz), tick=False)


@pytest.fixture
def madrid_patient(db):
    return make_user("ana@example.com", first_name="Ana", time_zone="Europe/Madrid")


@pytest.fixture
def session(madrid_patient, make_reservation):
    return make_reservation(madrid_patient, START)


def cancel(user, reservation):
    return csrf_client(user).post(
        f"/reservations/{reservation.pk}/cancel/", {"csrfmiddlewaretoken": CSRF_TOKEN}
    )


def test_the_start_is_stored_in_absolute_time(session):
    assert session.start_time == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_exactly_48_real_hours_before_is_still_allowed(madrid_patient, session):
    # 48 h before 08:00 UTC Monday is 08:00 UTC Saturday, which in Madrid (still CET) is 09:00.
    with at(2026, 3, 28, 9, 0, tz=MADRID):
        cancel(madrid_patient, session)
    session.refresh_from_db()
    assert session.status == "CANCELLED"


def test_one_second_later_is_refused(madrid_patient, session):
    with at(2026, 3, 28, 8, 0, 1):
        response = cancel(madrid_patient, session)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == "CONFIRMED"


def test_the_wall_clock_does_not_count_hours(madrid_patient, session):
    """At 09:30 Saturday in Madrid the wall clock shows 48 h 30 min to go, but only 47 h 30 min
    will pass: refused. (Wall-clock arithmetic would have allowed it.)"""
    now = datetime(2026, 3, 28, 9, 30, tzinfo=MADRID)
    # (Python subtracts two datetimes of the same zone by their wall clocks: this is that trap.
    # The model compares UTC values, read from the database and timezone.now().)
    assert (START - now).total_seconds() / 3600 == 48.5
    assert (START.astimezone(UTC) - now.astimezone(UTC)).total_seconds() / 3600 == 47.5
    with at(2026, 3, 28, 9, 30, tz=MADRID):
        assert session.cancel_refusal().code == "notice"
        cancel(madrid_patient, session)
    session.refresh_from_db()
    assert session.status == "CONFIRMED"


def test_the_dashboard_shows_madrid_times_on_both_sides_of_the_change(
    madrid_patient, make_reservation, session
):
    # Saturday 28 March 10:00 Madrid is CET (UTC+1): 09:00 UTC.
    before = make_reservation(madrid_patient, datetime(2026, 3, 28, 10, 0, tzinfo=MADRID))
    assert before.start_time == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    with at(2026, 3, 20, 12, 0):
        html = csrf_client(madrid_patient).get("/dashboard/").content.decode()
    assert "sábado 28 de marzo, 10:00 – 10:45 (45 min)" in html
    assert "lunes 30 de marzo, 10:00 – 10:45 (45 min)" in html
    assert "Los horarios están en hora de Madrid (GMT+1)." in html


def test_today_and_tomorrow_are_the_viewers_days(madrid_patient, patient, make_reservation):
    # 23:30 UTC Sunday: already Monday 01:30 in Madrid, still Sunday 20:30 in Buenos Aires.
    with at(2026, 3, 29, 23, 30):
        madrid = csrf_client(madrid_patient)
        mine = make_reservation(madrid_patient, START)
        theirs = make_reservation(patient, datetime(2026, 3, 30, 12, 0, tzinfo=MADRID))
        assert "hoy, 10:00 – 10:45" in madrid.get(f"/reservations/{mine.pk}/").content.decode()
        buenos_aires = csrf_client(patient).get(f"/reservations/{theirs.pk}/").content.decode()
        assert "mañana, 07:00 – 07:45" in buenos_aires


def test_the_detail_page_also_gives_the_practices_time(madrid_patient, session):
    with at(2026, 3, 20, 12, 0):
        html = csrf_client(madrid_patient).get(f"/reservations/{session.pk}/").content.decode()
    assert "lunes 30 de marzo, 10:00 – 10:45" in html
    assert "En Buenos Aires (el consultorio)" in html
    assert "lunes 30 de marzo, 05:00 – 05:45" in html
    # The last moment to cancel online, in the patient's zone: Saturday 09:00 (see above).
    assert "Podés cancelar en línea hasta el sábado 28 de marzo a las 09:00." in html


def test_a_patient_in_the_practices_zone_sees_no_second_time(patient, make_reservation):
    reservation = make_reservation(patient, START)
    with at(2026, 3, 20, 12, 0):
        html = csrf_client(patient).get(f"/reservations/{reservation.pk}/").content.decode()
    assert "lunes 30 de marzo, 05:00 – 05:45" in html
    assert "(el consultorio)" not in html
    assert "Los horarios están en hora de Buenos Aires" in html


@pytest.mark.parametrize(
    "zone, shown, not_shown",
    [("Europe/Madrid", "10:00", "05:00"), ("America/Argentina/Buenos_Aires", "05:00", "10:00")],
)
def test_the_admin_shows_times_in_the_staff_members_zone(session, zone, shown, not_shown):
    staff = make_user("staff@example.com", is_staff=True, is_superuser=True, time_zone=zone)
    with at(2026, 3, 20, 12, 0):
        changelist = csrf_client(staff).get("/admin/reservations/reservation/").content.decode()
    assert re.search(rf"30 de \w+ de 2026, {shown}", changelist)
    assert not re.search(rf"30 de \w+ de 2026, {not_shown}", changelist)


# The preferences page, where a patient chooses their zone.


def test_a_patient_chooses_their_time_zone(patient):
    client = csrf_client(patient)
    page = client.get("/preferences/").content.decode()
    assert 'value="America/Argentina/Buenos_Aires" selected' in page
    r = client.post(
        "/preferences/", {"time_zone": "Europe/Madrid", "csrfmiddlewaretoken": CSRF_TOKEN}
    )
    assert r.status_code == 302
    patient.refresh_from_db()
    assert patient.time_zone == "Europe/Madrid"
    assert "hora de Madrid" in client.get(r["Location"]).content.decode()


def test_an_unknown_zone_is_refused(patient):
    r = csrf_client(patient).post(
        "/preferences/", {"time_zone": "Mars/Olympus", "csrfmiddlewaretoken": CSRF_TOKEN}
    )
    assert r.status_code == 200
    assert 'aria-invalid="true"' in r.content.decode()
    patient.refresh_from_db()
    assert patient.time_zone == "America/Argentina/Buenos_Aires"


def test_preferences_need_the_csrf_token(patient):
    r = csrf_client(patient).post("/preferences/", {"time_zone": "Europe/Madrid"})
    assert r.status_code == 403
    patient.refresh_from_db()
    assert patient.time_zone == "America/Argentina/Buenos_Aires"


def test_preferences_need_a_login(db):
    r = csrf_client().get("/preferences/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


def test_reservations_are_not_touched_by_a_zone_change(patient, make_reservation):
    reservation = make_reservation(patient, START)
    csrf_client(patient).post(
        "/preferences/", {"time_zone": "Asia/Tokyo", "csrfmiddlewaretoken": CSRF_TOKEN}
    )
    assert Reservation.objects.get(pk=reservation.pk).start_time == START
