"""The dashboard's cost does not grow with a patient's history.

The load benchmark itself is `make bench` (docs/performance.md); these are the parts of it that
are cheap enough to guard on every run.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reservations.models import Reservation

from .conftest import NOW

pytestmark = pytest.mark.django_db

# session, user, current turn, history page, the professionals on the page
DASHBOARD_QUERIES = 5


def _add_history(patient, professional, count, start=NOW):
    Reservation.objects.bulk_create(
        Reservation(
            client=patient,
            professional=professional,
            start_time=start - timedelta(days=i + 1),
            end_time=start - timedelta(days=i + 1) + timedelta(minutes=50),
            status=("CONFIRMED", "CANCELLED", "PENDING")[i % 3],
        )
        for i in range(count)
    )


def _queries(client, path, **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, headers=headers)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_dashboard_queries_are_few_and_do_not_grow_with_history(
    client, patient, professional, make_reservation
):
    make_reservation(patient, NOW + timedelta(days=3))
    client.force_login(patient)
    short = _queries(client, "/dashboard/")
    _add_history(patient, professional, 300)
    long = _queries(client, "/dashboard/")
    assert len(short) == len(long) == DASHBOARD_QUERIES <= 5


def test_a_deep_history_page_costs_what_the_first_one_does(
    client, patient, professional, make_reservation
):
    make_reservation(patient, NOW + timedelta(days=3))
    _add_history(patient, professional, 300)
    client.force_login(patient)
    first = _queries(client, "/dashboard/")
    tenth = _queries(client, "/dashboard/?page=10")
    assert len(first) == len(tenth) == DASHBOARD_QUERIES
    # With htmx only the history is rendered: no current-turn query.
    partial = _queries(client, "/dashboard/?page=10", HX_Request="true", HX_Target="history")
    assert len(partial) == DASHBOARD_QUERIES - 1


def test_history_pages_hold_the_right_rows_in_order(client, patient, professional):
    _add_history(patient, professional, 45)
    client.force_login(patient)
    expected = list(
        Reservation.objects.filter(client=patient)
        .order_by("-start_time", "-id")
        .values_list("pk", flat=True)
    )
    seen = []
    for number in (1, 2, 3, 4, 5):
        html = client.get(f"/dashboard/?page={number}").content.decode()
        seen += re.findall(r'<li id="reservation-([0-9a-f-]+)"', html)
    assert seen == [str(pk) for pk in expected]


def test_the_dashboard_loads_its_assets_from_this_site_only(client, patient, make_reservation):
    make_reservation(patient, NOW + timedelta(days=10))
    client.force_login(patient)
    html = client.get("/dashboard/").content.decode()
    urls = re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]+)"', html)
    assert urls, "the page loads no assets at all?"
    assert not [u for u in urls if re.match(r"(https?:)?//", u)], "a third-party request"
    for url in urls:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), url


# --- Every query of the dashboard uses an index (PostgreSQL's planner, on a seeded table) -------


@pytest.fixture
def seeded_history(patient, professional):
    """60,000 reservations among 600 patients, 2,000 of them the patient's; planner statistics.

    The others see their own professional (seeded1), so the patient's daily sessions with
    `professional` never overlap theirs.
    """
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO accounts_user (id, password, is_superuser, email, first_name, last_name,
                                       time_zone, is_staff, is_active, date_joined)
            SELECT gen_random_uuid(), '!', false, 'seeded' || n || '@example.com', '', '',
                   'UTC', false, true, now()
            FROM generate_series(1, 600) AS n
            """
        )
        cur.execute(
            """
            INSERT INTO reservations_reservation
                (id, client_id, professional_id, start_time, end_time, status,
                 session_modality, created_at, cancellation_reason)
            SELECT gen_random_uuid(), c.id, c.pro, s.start, s.start + interval '50 minutes',
                   (ARRAY['CONFIRMED', 'CANCELLED', 'PENDING'])[1 + n %% 3], 'Virtual', now(), ''
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS k,
                         (SELECT id FROM accounts_user WHERE email = 'seeded1@example.com') AS pro
                  FROM accounts_user WHERE email LIKE 'seeded%%') AS c
            CROSS JOIN generate_series(1, 97) AS n
            -- One hour of their own each: nobody is double-booked (the database refuses that).
            CROSS JOIN LATERAL (SELECT %s::timestamptz - ((c.k - 1) * 97 + n) * interval '1 hour'
                                       AS start) AS s
            """,
            [NOW],
        )
        cur.execute(
            """
            INSERT INTO reservations_reservation
                (id, client_id, professional_id, start_time, end_time, status,
                 session_modality, created_at, cancellation_reason)
            SELECT gen_random_uuid(), %s, %s, s.start, s.start + interval '50 minutes',
                   (ARRAY['CONFIRMED', 'CANCELLED', 'PENDING'])[1 + n %% 3], 'Virtual', now(), ''
            FROM generate_series(1, 2000) AS n
            CROSS JOIN LATERAL (SELECT %s::timestamptz + (100 - n) * interval '1 day'
                                       AS start) AS s
            """,
            [patient.pk, professional.pk, NOW],
        )
        # Every reservation has its events, as in production (the history asks whether each row
        # was declined): one "created" each, and a decline for some cancelled ones.
        cur.execute(
            """
            INSERT INTO reservations_reservationevent
                (action_id, channel, reason, changes, at, reservation_id, action, from_status,
                 to_status)
            SELECT gen_random_uuid(), 'page', '', '{}'::jsonb, r.created_at, r.id, 'created', '',
                   'PENDING'
            FROM reservations_reservation AS r
            UNION ALL
            SELECT gen_random_uuid(), 'agenda', '', '{}'::jsonb, r.created_at, r.id, 'declined',
                   'PENDING', 'CANCELLED'
            FROM reservations_reservation AS r
            WHERE r.status = 'CANCELLED' AND (r.start_time::date - DATE '2000-01-01') % 5 = 0
            """
        )
        cur.execute("ANALYZE accounts_user")
        cur.execute("ANALYZE reservations_reservation")
        cur.execute("ANALYZE reservations_reservationevent")
    return patient


def _plan(sql):
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


@pytest.mark.postgres
def test_every_dashboard_query_on_reservations_uses_an_index(client, seeded_history):
    assert Reservation.objects.filter(client=seeded_history).count() == 2000
    client.force_login(seeded_history)
    for path in ["/dashboard/", "/dashboard/?page=10"]:
        queries = [q for q in _queries(client, path) if "reservations_reservation" in q]
        assert len(queries) == 2  # current turn, page
        for sql in queries:
            plan = _plan(sql)
            assert "Seq Scan" not in plan, f"{sql}\n{plan}"
            # The patient's rows are found through one of the client indexes.
            assert re.search(r"reservation_client|reservations_reservation_client_id", plan), plan


# Booking and cancelling as production does them: in transactions of their own (no test
# transaction around them), with the messages written once the action commits, in the same
# request. The budgets count every statement, BEGIN and COMMIT included (as make bench does);
# SQLite logs those and PostgreSQL does not, so the data statements are held exactly on both and
# the whole on SQLite.

BOOKING_QUERIES = 14  # and 2 transactions: at most 16 statements
CANCEL_QUERIES = 8  # and 1 transaction: at most 10
TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")


def _page_queries(call):
    """(the statements that read or write rows, every statement logged)."""
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code in (200, 302), response.content[:300]
    logged = [q["sql"] for q in ctx.captured_queries]
    return [sql for sql in logged if not TRANSACTION_CONTROL.match(sql)], logged


def _within(logged, budget):
    if connection.vendor == "sqlite":
        assert len(logged) <= budget, "\n".join(logged)


@pytest.mark.django_db(transaction=True)
def test_a_booking_through_the_page_is_a_handful_of_queries_however_full_the_calendar(
    patient, professional, frozen_now
):
    from datetime import time

    from scheduling.models import WorkingHours

    from .conftest import make_user
    from .test_booking import MONDAY, at, post_booking

    # Mondays 9 to 13; approval needed (the request is counted against the patient's limit).
    WorkingHours.objects.create(
        professional=professional, weekday=0, start_time=time(9), end_time=time(13)
    )
    from .conftest import csrf_client

    client = csrf_client(patient)
    first, logged = _page_queries(lambda: post_booking(client, professional, at(MONDAY, 9)))
    # The session, the user, the professional, lapsed requests, the patient's lock, the hours
    # and the sessions in the way, the practice's closures that day, the pending limit, the
    # reservation, its event and the task that expires it if nobody confirms it; then its
    # messages (the patient's and the professional's) and their task.
    assert len(first) == BOOKING_QUERIES, "\n".join(first)
    _within(logged, 16)
    for week in range(1, 9):
        for hour in (10, 11):
            make = make_user(f"w{week}h{hour}@example.com")
            Reservation.objects.create(
                client=make,
                professional=professional,
                start_time=at(MONDAY + timedelta(weeks=week), hour),
                end_time=at(MONDAY + timedelta(weeks=week), hour, 50),
                status="CONFIRMED",
            )
    other = csrf_client(make_user("otra@example.com"))
    again, _logged = _page_queries(
        lambda: post_booking(other, professional, at(MONDAY + timedelta(weeks=1), 9))
    )
    assert len(again) == len(first)


@pytest.mark.django_db(transaction=True)
def test_a_cancel_is_a_handful_of_queries(patient, professional, make_reservation, frozen_now):
    from .conftest import CSRF_TOKEN, csrf_client

    session = make_reservation(patient, NOW + timedelta(days=7))
    client = csrf_client(patient)
    queries, logged = _page_queries(
        lambda: client.post(
            f"/reservations/{session.pk}/cancel/",
            {"csrfmiddlewaretoken": CSRF_TOKEN},
            headers={"HX-Request": "true"},
        )
    )
    # The session, the user, the reservation; the conditional UPDATE and its event; then the
    # reminder skipped, the two messages (hers and the professional's) and their task.
    assert len(queries) == CANCEL_QUERIES, "\n".join(queries)
    _within(logged, 10)
    session.refresh_from_db()
    assert session.status == "CANCELLED"
