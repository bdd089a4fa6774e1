"""Build (or reuse) the benchmark database: patients, professionals, reservations, sessions.

Loaded with PostgreSQL COPY through psycopg 3: a million reservations take a minute or two.
The database is reused when its comment says it was built at the requested size; BENCH_REBUILD=1
(or `make bench BENCH_REBUILD=1`) drops every row and builds it again.

Run through bench/run.py, which sets DATABASE_URL and the production settings.
"""

import json
import random
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection

DOMAIN = "bench.turnos.example"
CSRF_TOKEN = "Bench0CsrfToken0ForLoadTests01234"[:32]
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Size:
    patients: int
    professionals: int
    reservations: int
    heavy_patients: int  # each with `heavy_rows` reservations: page 10 exists for them
    heavy_rows: int
    light_patients: int  # each with exactly 5 reservations
    sessions: int  # logged-in patients driven by the load generator (besides heavy and light)


FULL = Size(10_000, 200, 1_000_000, 50, 2_000, 50, 1_000)
QUICK = Size(2_000, 40, 100_000, 20, 2_000, 20, 300)


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


def _marker(size):
    return f"turnos-bench v{SCHEMA_VERSION} " + json.dumps(asdict(size), sort_keys=True)


def _current_marker():
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
    if not rebuild and _current_marker() == _marker(size):
        print(f"  reusing {settings.DATABASES['default']['NAME']} ({size.reservations:,} rows)")
        return False
    rng = random.Random(20260310)  # the same data on every machine
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(days=int(365.25 * 4.5))
    span_hours = int((now + timedelta(days=182) - first).total_seconds() // 3600)

    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute(
            "TRUNCATE reservations_reservationevent, reservations_reservation, "
            "accounts_professionalprofile, account_emailaddress, django_session, "
            "accounts_user CASCADE"
        )

    # One fixed password hash for everybody: sessions are made directly, nobody logs in.
    password = "!bench-unusable-password"
    pros = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size.professionals)]
    patients = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size.patients)]
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

    def users():
        for i, pk in enumerate(pros):
            yield (
                pk,
                password,
                False,
                f"pro{i}@{DOMAIN}",
                rng.choice(first_names),
                rng.choice(last_names),
                settings.TIME_ZONE,
                False,
                True,
                first,
            )
        for i, pk in enumerate(patients):
            yield (
                pk,
                password,
                False,
                f"patient{i}@{DOMAIN}",
                rng.choice(first_names),
                rng.choice(last_names),
                settings.TIME_ZONE,
                False,
                True,
                first,
            )

    _copy("accounts_user", user_cols, users(), len(pros) + len(patients), "users")
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
            for pk in pros
        ),
        len(pros),
        "professionals",
    )

    # Who owns each reservation: heavy patients first, then light ones, the rest at random.
    heavy = patients[: size.heavy_patients]
    light = patients[size.heavy_patients : size.heavy_patients + size.light_patients]
    rest = patients[size.heavy_patients + size.light_patients :]
    fixed = size.heavy_patients * size.heavy_rows + size.light_patients * 5
    each_pro = {pk: rng.choice(pros) for pk in patients}  # most patients see one professional

    def owners():
        for pk in heavy:
            yield from [pk] * size.heavy_rows
        for pk in light:
            yield from [pk] * 5
        for _ in range(size.reservations - fixed):
            yield rng.choice(rest)

    def reservations():
        for client in owners():
            start = first + timedelta(hours=rng.randrange(span_hours))
            # Sessions run 09:00–20:00 in Buenos Aires (UTC-3): 12–23 UTC.
            start = start.replace(hour=12 + start.hour % 12)
            minutes = rng.choice([45, 50, 50, 60])
            if start < now:
                status = rng.choices(["CONFIRMED", "CANCELLED", "PENDING"], [85, 13, 2])[0]
            else:
                status = rng.choices(["PENDING", "CONFIRMED", "CANCELLED"], [55, 35, 10])[0]
            pro = each_pro[client] if rng.random() < 0.9 else rng.choice(pros)
            cancelled = status == "CANCELLED"
            yield (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                client,
                pro,
                start,
                start + timedelta(minutes=minutes),
                status,
                rng.choice(["Virtual", "Virtual", "Presencial"]),
                start - timedelta(days=rng.randrange(2, 30)),
                start - timedelta(days=1) if cancelled else None,
                client if cancelled else None,
                "",
            )

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
        reservations(),
        size.reservations,
        "reservations",
    )
    print("  VACUUM ANALYZE (statistics and the visibility map for index-only scans)")
    with connection.cursor() as cur:
        for table in ["accounts_user", "accounts_professionalprofile", "reservations_reservation"]:
            cur.execute(f"VACUUM ANALYZE {table}")
        db = connection.ops.quote_name(settings.DATABASES["default"]["NAME"])
        cur.execute(f"COMMENT ON DATABASE {db} IS %s", [_marker(size)])
    return True


def make_sessions(size):
    """Log patients in the way the login form would, without the form (allauth rate-limits it).

    Returns {"mixed": [...], "heavy": [...], "light": [...]}: (session key, user id) pairs.
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    from accounts.models import User

    Session.objects.all().delete()
    users = list(
        User.objects.filter(email__endswith=DOMAIN, professional_profile=None)
        .order_by("email")
        .only("id", "password", "email")
    )
    by_email = {u.email: u for u in users}
    heavy = [by_email[f"patient{i}@{DOMAIN}"] for i in range(size.heavy_patients)]
    light = [
        by_email[f"patient{size.heavy_patients + i}@{DOMAIN}"] for i in range(size.light_patients)
    ]
    rng = random.Random(7)
    mixed = rng.sample(users, size.sessions)
    expire = datetime.now(UTC) + timedelta(days=1)
    store = SessionStore()
    rows, keys = [], {}
    for user in {u.pk: u for u in heavy + light + mixed}.values():
        key = uuid.uuid4().hex
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        keys[user.pk] = key
    Session.objects.bulk_create(rows, batch_size=2_000)
    return {
        "mixed": [(keys[u.pk], str(u.pk)) for u in mixed],
        "heavy": [(keys[u.pk], str(u.pk)) for u in heavy],
        "light": [(keys[u.pk], str(u.pk)) for u in light],
    }
