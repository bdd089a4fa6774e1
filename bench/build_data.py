"""Build (or reuse) the benchmark database: patients, professionals, reservations, sessions.

Loaded with PostgreSQL COPY through psycopg 3: a million reservations take a minute or two.
The database is reused when its comment says it was built at the requested size; BENCH_REBUILD=1
(or `make bench BENCH_REBUILD=1`) drops every row and builds it again.

Used by bench/run.py and bench/profile.py, which set DATABASE_URL and the production settings.
"""

import itertools
import json
import random
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

DOMAIN = "bench.turnos.example"
CSRF_TOKEN = "Bench0CsrfToken0ForLoadTests01234"[:32]
SCHEMA_VERSION = 3


@dataclass(frozen=True)
class Size:
    patients: int
    professionals: int
    reservations: int
    heavy_patients: int  # each with `heavy_rows` reservations: page 10 exists for them
    heavy_rows: int
    light_patients: int  # each with exactly 5 reservations
    # Besides: professionals whose calendar is full (every slot of every week but one, for half
    # a year, each slot a weekly patient of their own), and patients with no history who book.
    full_professionals: int
    bookers: int


FULL = Size(10_000, 200, 1_000_000, 50, 2_000, 50, 5, 12_000)
QUICK = Size(2_000, 40, 100_000, 20, 2_000, 20, 2, 4_000)

# Every professional's working hours, in their zone (the site's): Monday to Friday 9–13 and
# 14–19, 50-minute sessions with a 10-minute break, both modalities, bookable 24 h to 8 weeks
# ahead. On the hour, as the reservations below: 9 sessions a day, 45 a week.
HOURS = [(clock(9), clock(13)), (clock(14), clock(19))]
SLOT_HOURS = [9, 10, 11, 12, 14, 15, 16, 17, 18]
HORIZON_WEEKS = 8
FULL_WEEKS = 26


def progress(label, done, total, started):
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-6)
    sys.stdout.write(
        f"\r  {label:<14} [{'#' * filled}{'.' * (width - filled)}] "
        f"{done:>9,}/{total:,}  {rate:,.0f}/s"
    )
    if done >= total:
        sys.stdout.write("\n")
    sys.stdout.flush()


def marker(size):
    """What the database's comment says once it holds `size` (checked before migrating)."""
    return f"turnos-bench v{SCHEMA_VERSION} " + json.dumps(asdict(size), sort_keys=True)


def current_marker():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        return cur.fetchone()[0]


def _copy(table, columns, rows, total, label):
    started = time.monotonic()
    raw = connection.connection  # the psycopg 3 connection
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for n, row in enumerate(rows, 1):
            copy.write_row(row)
            if n % 20_000 == 0 or n == total:
                progress(label, n, total, started)


def build(size, *, rebuild=False):
    """Make the database hold `size`; returns quickly when it already does."""
    connection.ensure_connection()
    if not rebuild and current_marker() == marker(size):
        print(f"  reusing {settings.DATABASES['default']['NAME']} ({size.reservations:,} rows)")
        return False
    rng = random.Random(20260310)  # the same data on every machine
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(days=int(365.25 * 4.5))
    span_hours = int((now + timedelta(days=182) - first).total_seconds() // 3600)

    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        # The site's 10 s statement timeout is for requests, not for loading a million rows.
        cur.execute("SET statement_timeout = 0")
        cur.execute(
            "TRUNCATE reservations_reservationevent, reservations_reservation, "
            "scheduling_workinghours, scheduling_timeoff, accounts_professionalprofile, "
            "account_emailaddress, django_session, accounts_user CASCADE"
        )

    # One fixed password hash for everybody: sessions are made directly, nobody logs in.
    password = "!bench-unusable-password"
    pros = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size.professionals)]
    patients = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size.patients)]
    full_pros = [
        uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size.full_professionals)
    ]
    per_week = 5 * len(SLOT_HOURS)
    full_patients = [
        uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(len(full_pros) * per_week)
    ]
    bookers = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size.bookers)]
    user_cols = [
        "id",
        "password",
        "is_superuser",
        "email",
        "first_name",
        "last_name",
        "time_zone",
        "is_staff",
        "is_active",
        "date_joined",
    ]
    first_names = ["Lucía", "Martín", "Sofía", "Mateo", "Valentina", "Joaquín", "Camila", "Tomás"]
    last_names = ["Fernández", "Gómez", "Sosa", "Ruiz", "Pereyra", "Díaz", "Romero", "Álvarez"]

    groups = [
        ("pro", pros),
        ("patient", patients),
        ("fullpro", full_pros),
        ("fullpatient", full_patients),
        ("booker", bookers),
    ]

    def users():
        for prefix, ids in groups:
            for i, pk in enumerate(ids):
                yield (
                    pk,
                    password,
                    False,
                    f"{prefix}{i}@{DOMAIN}",
                    rng.choice(first_names),
                    rng.choice(last_names),
                    settings.TIME_ZONE,
                    False,
                    True,
                    first,
                )

    _copy("accounts_user", user_cols, users(), sum(len(ids) for _, ids in groups), "users")
    specialties = ["Psicología clínica", "Psiquiatría", "Psicopedagogía", "Terapia de pareja"]
    _copy(
        "accounts_professionalprofile",
        ["user_id", "display_name", "specialty", "cancellation_notice_hours"],
        (
            (
                pk,
                f"Lic. {rng.choice(first_names)} {rng.choice(last_names)}",
                rng.choice(specialties),
                rng.choice([24, 48, 48, 48, 72]),
            )
            for pk in pros + full_pros
        ),
        len(pros) + len(full_pros),
        "professionals",
    )
    _copy(
        "scheduling_workinghours",
        [
            "professional_id",
            "weekday",
            "start_time",
            "end_time",
            "modality",
            "session_minutes",
            "buffer_minutes",
            "horizon_weeks",
            "min_lead_hours",
        ],
        (
            (pk, day, opens, closes, "both", 50, 10, HORIZON_WEEKS, 24)
            for pk in pros + full_pros
            for day in range(5)
            for opens, closes in HOURS
        ),
        (len(pros) + len(full_pros)) * 5 * len(HOURS),
        "working hours",
    )

    # Therapy is weekly: each patient has one or more series, each at a fixed weekday and hour
    # with one professional. A professional's weekday-hour slot holds one series at a time, and
    # a patient's series sit at different weekday-hours, so no two non-cancelled sessions of a
    # professional or of a patient overlap (the database refuses that: migration 0002).
    weeks = span_hours // (24 * 7)
    monday = first - timedelta(days=first.weekday())
    hours = range(12, 23)  # 09:00–19:00 in Buenos Aires (UTC-3)
    slots = [(pro, day, hour) for pro in pros for day in range(5) for hour in hours]
    rng.shuffle(slots)
    free_from = dict.fromkeys(range(len(slots)), 0)  # slot -> first free week
    fresh = iter(range(len(slots)))  # untouched slots, for the long series of heavy patients

    def place(length, taken):
        """A slot with `length` free weeks at a weekday-hour not in `taken`; its start week."""
        for _ in range(10_000):
            i = rng.randrange(len(slots))
            if slots[i][1:] in taken or weeks - free_from[i] < length:
                continue
            begin = free_from[i] + rng.randrange(0, max(1, min(8, weeks - free_from[i] - length)))
            free_from[i] = begin + length
            return i, begin
        raise RuntimeError("the professionals' weeks are full: more professionals needed")

    series = []  # (client, slot index, first week, number of weeks)
    for client in patients[: size.heavy_patients]:
        taken, left = set(), size.heavy_rows
        while left:
            i = next(fresh)
            if slots[i][1:] in taken:
                continue
            length = min(left, weeks)
            free_from[i] = length
            taken.add(slots[i][1:])
            series.append((client, i, 0, length))
            left -= length
    for client in patients[size.heavy_patients : size.heavy_patients + size.light_patients]:
        series.append((client, *place(5, set()), 5))
    rest = patients[size.heavy_patients + size.light_patients :]
    left = size.reservations - size.heavy_patients * size.heavy_rows - size.light_patients * 5
    # Spread history lengths around the mean, then nudge them to add up exactly.
    lengths = [rng.randint(1, 2 * left // len(rest)) for _ in rest]
    lengths = [max(1, round(n * left / sum(lengths))) for n in lengths]
    while (diff := left - sum(lengths)) != 0:
        k = rng.randrange(len(lengths))
        if diff > 0 or lengths[k] > 1:
            lengths[k] += 1 if diff > 0 else -1
    for client, length in zip(rest, lengths, strict=True):
        taken = set()
        while length:
            part = min(length, weeks // 2)
            i, begin = place(part, taken)
            taken.add(slots[i][1:])
            series.append((client, i, begin, part))
            length -= part

    def reservations():
        for client, i, begin, length in series:
            pro, day, hour = slots[i]
            minutes = rng.choice([45, 50, 50, 60])
            modality = rng.choice(["Virtual", "Virtual", "Presencial"])
            for week in range(begin, begin + length):
                start = monday + timedelta(weeks=week, days=day, hours=hour)
                if start < now:
                    status = rng.choices(["CONFIRMED", "CANCELLED", "PENDING"], [85, 13, 2])[0]
                else:
                    status = rng.choices(["PENDING", "CONFIRMED", "CANCELLED"], [55, 35, 10])[0]
                cancelled = status == "CANCELLED"
                yield (
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    client,
                    pro,
                    start,
                    start + timedelta(minutes=minutes),
                    status,
                    modality,
                    start - timedelta(days=rng.randrange(2, 30)),
                    start - timedelta(days=1) if cancelled else None,
                    client if cancelled else None,
                    "",
                )

    def full_calendars():
        """Each full professional's 45 weekly slots, each a patient of their own, from this week
        on for FULL_WEEKS, but one slot a week (a different one each week) left free."""
        zone = ZoneInfo(settings.TIME_ZONE)
        today = now.astimezone(zone).date()
        this_monday = today - timedelta(days=today.weekday())
        for f, pro in enumerate(full_pros):
            for week in range(FULL_WEEKS):
                for j in range(per_week):
                    if j == (week * 7 + f) % per_week:
                        continue
                    day, hour = divmod(j, len(SLOT_HOURS))
                    local = this_monday + timedelta(weeks=week, days=day)
                    start = datetime.combine(local, clock(SLOT_HOURS[hour]), tzinfo=zone)
                    start = start.astimezone(UTC)
                    status = "PENDING" if rng.random() < 0.15 else "CONFIRMED"
                    yield (
                        uuid.UUID(int=rng.getrandbits(128), version=4),
                        full_patients[f * per_week + j],
                        pro,
                        start,
                        start + timedelta(minutes=50),
                        status,
                        rng.choice(["Virtual", "Presencial"]),
                        start - timedelta(days=20),
                        None,
                        None,
                        "",
                    )

    full_rows = len(full_pros) * FULL_WEEKS * (per_week - 1)

    # Loading into a bare table and building the indexes and the no-overlap constraints once
    # afterwards is several times faster than checking each row against them as it arrives.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'reservations_reservation'::regclass AND contype = 'x'"
        )
        exclusions = cur.fetchall()
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
            "'reservations_reservation' AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = cur.fetchall()
        for name, _ in exclusions:
            cur.execute(f"ALTER TABLE reservations_reservation DROP CONSTRAINT {name}")
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
    _copy(
        "reservations_reservation",
        [
            "id",
            "client_id",
            "professional_id",
            "start_time",
            "end_time",
            "status",
            "session_modality",
            "created_at",
            "cancelled_at",
            "cancelled_by_id",
            "cancellation_reason",
        ],
        itertools.chain(reservations(), full_calendars()),
        size.reservations + full_rows,
        "reservations",
    )
    print(f"  indexes and constraints ({len(indexes)} + {len(exclusions)})")
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cur.execute(definition)
        for name, definition in exclusions:
            cur.execute(f"ALTER TABLE reservations_reservation ADD CONSTRAINT {name} {definition}")
    print("  VACUUM ANALYZE (statistics and the visibility map for index-only scans)")
    with connection.cursor() as cur:
        for table in [
            "accounts_user",
            "accounts_professionalprofile",
            "scheduling_workinghours",
            "reservations_reservation",
        ]:
            cur.execute(f"VACUUM ANALYZE {table}")
        db = connection.ops.quote_name(settings.DATABASES["default"]["NAME"])
        cur.execute(f"COMMENT ON DATABASE {db} IS %s", [marker(size)])
    return True


def patient_groups(size):
    """Users of the data set, in fixed orders: "all" the patients with a history (shuffled),
    "heavy" those with `heavy_rows`, "full" the weekly patients of the full professionals (with
    `full_of`: their professional's id), "bookers" the patients with no history, and
    "open_professionals" the professionals whose calendars are not full."""
    from accounts.models import User
    from reservations.models import Reservation

    def users(prefix):
        return list(
            User.objects.filter(email__startswith=prefix, email__endswith=DOMAIN)
            .order_by("email")
            .only("id", "password", "email")
        )

    patients = users("patient")
    by_email = {u.email: u for u in patients}
    heavy = [by_email[f"patient{i}@{DOMAIN}"] for i in range(size.heavy_patients)]
    # Shuffled, so that the heavy patients are spread over the rotation, not one burst of it.
    random.Random(7).shuffle(patients)
    full = users("fullpatient")
    random.Random(7).shuffle(full)
    full_of = dict(
        Reservation.objects.filter(client__in=full)
        .values_list("client_id", "professional_id")
        .distinct()
    )
    return {
        "all": patients,
        "heavy": heavy,
        "full": full,
        "full_of": full_of,
        "bookers": users("booker"),
        "open_professionals": users("pro"),
    }


def log_in(users, *, seen_ahead=False):
    """Sessions for `users`, as logging in would leave them in the database, without the login
    form (allauth rate-limits it): [(session key, user id)], in the order of `users`.

    The session-timeout middleware (accounts/middleware.py) rewrites a session's last-seen time
    once a minute has passed since it last did. A patient's requests come in visits, most of them
    inside that minute; a benchmark's come from a different patient each time, minutes apart, so
    that nearly every dashboard of the load pays a session write, and only some of the faster
    floor's requests do. With `seen_ahead`, the sessions are seen "in a day": no request rewrites
    them while they last (and the idle timeout does not apply). The rewrite also updates the
    session's row in allauth.usersessions' list, if it has one (these sessions have none: the
    first rewrite adds it)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    store = SessionStore()
    expire = datetime.now(UTC) + timedelta(days=1)
    last_seen = int(time.time()) + (24 * 3600 if seen_ahead else 0)
    rows, pairs = [], []
    for user in users:
        key = uuid.uuid4().hex
        data = {
            # What logging in sets (accounts/sessions.py): the login time, the last-seen time,
            # and whether staff limits apply. A session without them is written once to add them.
            "_login_at": int(time.time()),
            "_last_seen": last_seen,
            "_strict": False,
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],  # as the login form
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        pairs.append((key, str(user.pk)))
    Session.objects.bulk_create(rows, batch_size=2_000)
    return pairs
