"""`make bench` / `make bench-quick`: build the data, serve it, load it, write the table.

    python -m bench.run [--quick] [--runs N] [--duration S] [--connections 16]
                        [--server granian|gunicorn] [--only NAME ...] [--[no-]write-doc]
                        [--no-session-writes]

Every page and API answer is rendered from the database. The headline rows are the dashboard
and the API list (each rotating through every patient of the data set), cancels per second, and
the logged-in floor (/livez as a patient: loading the session and the user), each against the
ceiling (/livez anonymous: the whole middleware stack, no database) of the same server in the
same run, so the ratios hold even on a busy machine. Two secondary rows show that a long history
costs no more: the dashboard and history page 10 of patients with 2,000 reservations. Two rows
are about booking: the slot page of a professional whose calendar is full (the week's free slots
found among every session of the coming weeks), and bookings through the page's form where every
slot is asked for by two patients at once, after which no professional may hold two sessions at
once and every patient's answer must agree with the database. The table ends with the targets:
the dashboard's cost against the floor's (the floor's req/s over the dashboard's, in this run)
and the queries of a dashboard, a booking and a cancel (each checked to have done its work).

The server is `make serve` on BENCH_PORT (default 8765). That port must be free: the benchmark
refuses to start otherwise, since wrk would measure whatever answers there. The server's
REDIS_URL (rate-limit counters, as in production) is a Redis database of the benchmark's own,
BENCH_REDIS (default redis://127.0.0.1:6379/3), emptied at the start; API_RATE_LIMIT is raised
so that the API's throttle never refuses the load. PostgreSQL: BENCH_PG.
"""

import argparse
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DOC_PATH = "docs/performance.md"
DOC = ROOT / DOC_PATH
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
START, END = "<!-- bench:results -->", "<!-- /bench:results -->"
BENCH_REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")
API_RATE_LIMIT = "1000000/min"
WARM_UP_S = 2
CONNECTIONS = 16
# The targets (docs/performance.md): the dashboard's cost against the logged-in floor's (the
# floor's req/s over the dashboard's, in the same run), and queries per request.
TARGET_FLOOR_MULTIPLE = 4.5
TARGET_QUERIES = {"dashboard": 5, "booking": 15, "cancel": 10}


def configure(db_name):
    """Production settings, pointed at the benchmark database; before Django is imported."""
    os.environ.update(
        DATABASE_URL=f"{PG}/{db_name}",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="reservations_site.settings",
        # Never the REDIS_URL of the environment: the benchmark empties this database.
        REDIS_URL=BENCH_REDIS,
        API_RATE_LIMIT=API_RATE_LIMIT,
        BOOKING_RATE_LIMIT=API_RATE_LIMIT,
    )
    os.environ.pop("CONN_MAX_AGE", None)


def redis_ready():
    """Empty the benchmark's Redis database; False (and per-process caches) without Redis."""
    import redis

    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2).flushdb()
    except redis.RedisError as exc:
        print(f"  no Redis at {os.environ['REDIS_URL']} ({exc}): per-process caches instead")
        del os.environ["REDIS_URL"]
        return False
    return True


def create_database(db_name, expected_marker, rebuild):
    """Keep a database built at this size; otherwise start from an empty one.

    Decided before migrating: new migrations (constraints) may not apply to old data.
    """
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [db_name],
        ).fetchone()
        if row and (rebuild or row[0] != expected_marker):
            print(f"  dropping {db_name} to build it again")
            conn.execute(f'DROP DATABASE "{db_name}" WITH (FORCE)')
            row = None
        if not row:
            conn.execute(f'CREATE DATABASE "{db_name}"')
            print(f"  created database {db_name}")


def need_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("  installing wrk (Debian package)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not shutil.which("wrk"):
        sys.exit("The benchmark needs wrk: apt-get install wrk")


# --- the server and its memory ----------------------------------------------------------------


def check_port_free():
    """Exit unless PORT is free. An earlier run measured another server that was listening on
    it, as if it were ours."""
    with socket.socket() as probe:
        probe.settimeout(2)
        taken = probe.connect_ex(("127.0.0.1", PORT)) == 0
    if not taken:
        # Something may hold the port without accepting connections. SO_REUSEADDR as the
        # servers bind: connections of an earlier run still in TIME_WAIT do not count.
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", PORT))
            except OSError:
                taken = True
    if taken:
        sys.exit(
            f"Port {PORT} is already in use, so the benchmark would not measure its own server. "
            f"See who holds it (ss -ltnp 'sport = :{PORT}'), stop it, or choose another port: "
            f"BENCH_PORT=8766 make bench"
        )


def _tree(root_pid):
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    pids, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def _rss_kb(pid):
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        if comm in {"make", "bash", "sh"}:
            return 0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _holds_listener(pids):
    """Whether the sockets listening on PORT (IPv4 or IPv6) are all held by `pids`."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == PORT:
                listening.add(f"socket:[{fields[9]}]")
    held = set()
    for pid in pids:
        try:
            held.update(os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
    return bool(listening) and listening <= held


class Server:
    """`make serve` on PORT; refuses to go on unless what answers there is that server."""

    def __init__(self, server):
        env = dict(os.environ, PORT=str(PORT), HOST="127.0.0.1", SERVER=server)
        self.log_path = OUT / "server.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            ["make", "-s", "serve"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.peak_kb = 0
        self._stop = threading.Event()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self.check()
            try:
                with urllib.request.urlopen(BASE + "/livez", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            self.stop()
            sys.exit("the server did not answer /livez within 2 minutes")
        # check_port_free() leaves a few seconds (collectstatic, migrate) in which another
        # server could take the port; then /livez would be that server's answer.
        if not _holds_listener(_tree(self.proc.pid)):
            self.stop()
            sys.exit(f"Something else answers on port {PORT}, not the server the benchmark started")
        threading.Thread(target=self._sample, daemon=True).start()

    def check(self):
        if self.proc.poll() is not None:
            self.stop()
            tail = self.log_path.read_text().splitlines()[-15:]
            sys.exit(
                f"`make serve` exited (status {self.proc.returncode}); the end of "
                f"{self.log_path}:\n" + "\n".join(tail)
            )

    def _sample(self):
        while not self._stop.wait(0.25):
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in _tree(self.proc.pid)))

    def reset_peak(self):
        self.peak_kb = sum(_rss_kb(p) for p in _tree(self.proc.pid))

    def stop(self):
        self._stop.set()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    args: list  # the wrk script's arguments
    probe: tuple | None  # count_queries() arguments, for the queries/request column
    script: str = "get.lua"
    key: str | None = None  # for the targets: "floor", "dashboard", "booking", "cancel"
    results: list = field(default_factory=list)

    def median(self, key):
        return statistics.median(r[key] for r in self.results)


def wrk(script, args, duration, connections, threads=2):
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(ROOT / "bench" / "wrk" / script),
        BASE,
        "--",
        *args,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")


def write_lines(name, pairs):
    path = OUT / f"{name}.txt"
    path.write_text("".join(f"{a} {b}\n" for a, b in pairs))
    return str(path)


def cancel_targets(sessions, limit):
    """Active reservations far enough ahead that their patients may cancel them:
    [(session key, reservation id, status)]."""
    from datetime import timedelta

    from django.utils import timezone

    from reservations.models import Reservation

    owners = dict((client, key) for key, client in sessions)
    rows = (
        Reservation.objects.active()
        .filter(client_id__in=list(owners), start_time__gt=timezone.now() + timedelta(days=4))
        .order_by("start_time")
        .values_list("pk", "client_id", "status")[:limit]
    )
    return [(owners[str(client)], str(pk), status) for pk, client, status in rows]


def check_and_reset_cancels(targets):
    """Each target cancelled exactly once (no lost or doubled update), then put back:
    (cancelled, doubled, lost). The messages the cancels wrote are deleted, and the tasks that
    would send them (the benchmark's data has no others)."""
    from django.db import transaction
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from notifications.models import Outbox
    from reservations.models import Reservation, ReservationEvent, Status

    ids = [pk for _, pk, _ in targets]
    # wrk has stopped, but the server may still be answering requests it had queued: wait
    # until the number of cancellations stops moving before judging (and resetting) them.
    seen = -1
    while True:
        now_seen = ReservationEvent.objects.filter(reservation_id__in=ids).count()
        if now_seen == seen:
            break
        seen = now_seen
        time.sleep(1.5)
    events = dict(
        ReservationEvent.objects.filter(reservation_id__in=ids, action="cancelled")
        .values_list("reservation_id")
        .annotate(n=Count("id"))
        .values_list("reservation_id", "n")
    )
    cancelled = set(
        Reservation.objects.filter(pk__in=ids, status=Status.CANCELLED).values_list("pk", flat=True)
    )
    doubled = sum(1 for n in events.values() if n > 1)
    # A lost update: the row says cancelled without its event, or an event without the row.
    lost = len(cancelled ^ set(events))
    with transaction.atomic():
        Outbox.objects.filter(reservation_id__in=ids).delete()
        ReservationEvent.objects.filter(reservation_id__in=ids).delete()
        DBTaskResult.objects.all().delete()
        for status in {s for _, _, s in targets}:
            Reservation.objects.filter(pk__in=[pk for _, pk, s in targets if s == status]).update(
                status=status, cancelled_at=None, cancelled_by=None, cancellation_reason=""
            )
    return len(cancelled), doubled, lost


def open_slots(professionals):
    """Free slots of `professionals`, the nearest first, round-robin over them: [(professional,
    slot)]. Free an hour from now, and within four weeks: still bookable (24 hours ahead at
    least, 8 weeks at most) while a benchmark runs; the first slot of each professional would
    otherwise fall inside the lead time a minute into the run, and be refused."""
    from datetime import timedelta

    from django.utils import timezone

    from scheduling.slots import free_slots

    now = timezone.now() + timedelta(hours=1)
    today = timezone.localdate(now)
    per_professional = [
        free_slots(pro, today, today + timedelta(weeks=4), now=now) for pro in professionals
    ]
    return [
        (pro, slot)
        for row in itertools.zip_longest(*per_professional)
        for pro, slot in zip(professionals, row, strict=True)
        if slot is not None
    ]


def booking_targets(bookers, professionals):
    """Free slots of `professionals` (open_slots), each for two bookers at once: [(session key
    A, session key B, professional id, start, modality)]. Each booker asks once, so no limit on
    a patient's requests refuses them."""
    slots = open_slots(professionals)
    return [
        (a, b, str(pro.pk), f"{slot.start:%Y-%m-%dT%H:%MZ}", slot.modalities[0])
        for (a, _), (b, _), (pro, slot) in zip(bookers[::2], bookers[1::2], slots, strict=False)
    ]


def check_and_reset_bookings(bookers, won):
    """The bookers' sessions: how many were made, how many overlap another session of their
    professional that holds time (the database must make that 0), and how many were lost: a
    booking answered as made (302) but not stored, or stored without its "created" event. (More
    stored than answered is not a loss: wrk stops counting answers when its time is up, while the
    server finishes what it had accepted.) Then they are deleted, with their events, messages and
    expiry tasks, for the next run."""
    from django.db.models import Exists, OuterRef

    from reservations.models import Reservation, ReservationEvent

    ids = [pk for _, pk in bookers]
    booked = Reservation.objects.filter(client_id__in=ids)
    seen = -1
    while (now_seen := booked.count()) != seen:  # the server may still be answering
        seen = now_seen
        time.sleep(1.5)
    clash = Reservation.objects.active().filter(
        professional=OuterRef("professional"),
        start_time__lt=OuterRef("end_time"),
        end_time__gt=OuterRef("start_time"),
    )
    made = booked.active()
    doubled = made.filter(Exists(clash.exclude(pk=OuterRef("pk")))).count()
    created = made.count()
    recorded = ReservationEvent.objects.filter(reservation=OuterRef("pk"), action="created")
    unrecorded = made.exclude(Exists(recorded)).count()
    reset_bookings(bookers)
    return created, doubled, max(0, won - created) + unrecorded


def reset_bookings(bookers):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from reservations.models import Reservation, ReservationEvent

    booked = Reservation.objects.filter(client_id__in=[pk for _, pk in bookers])
    with transaction.atomic():
        ReservationEvent.objects.filter(reservation__in=booked).delete()
        booked.delete()  # their messages go with them
        # The benchmark's database has no tasks but the ones its bookings and cancels enqueued.
        DBTaskResult.objects.all().delete()


# Statements that open, mark or close a transaction: round trips like any query, and counted as
# queries, but a test inside a test's transaction does not send them; the tables say how many.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def transaction_control(captured):
    """How many of `captured` (CaptureQueriesContext's queries) are transaction control."""
    return sum(q["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL) for q in captured)


def spell_queries(total, control):
    """ "25 (4 of them BEGIN, COMMIT…)" for a table; each may be a count or a range "24–25"."""
    return f"{total}" if control in (0, "0") else f"{total} ({control} BEGIN, COMMIT…)"


def count_queries(path, session_key, method="GET", csrf=None, visits=2, data=None, expect=None):
    """Queries of one request, in-process, the last of `visits` (the ones before warm the
    process up, as the load's warm-up does): (all, of which transaction control). A POST with
    `data` is a form (urlencoded, as a browser sends it), else htmx. The answer must be
    `expect`, or below 400."""
    from urllib.parse import urlencode

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    kwargs = {}
    if method == "POST":
        client.cookies[settings.CSRF_COOKIE_NAME] = csrf
        if data:
            kwargs = {
                "data": urlencode(data),
                "content_type": "application/x-www-form-urlencoded",
                "headers": {"X-CSRFToken": csrf},
            }
        else:
            kwargs = {"headers": {"HX-Request": "true", "X-CSRFToken": csrf}}
    for _ in range(visits - 1):
        getattr(client, method.lower())(path, **kwargs)
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method.lower())(path, **kwargs)
    ok = (response.status_code == expect) if expect else (response.status_code < 400)
    if not ok:
        sys.exit(f"{method} {path} answered {response.status_code}, not {expect or 'below 400'}")
    return len(ctx.captured_queries), transaction_control(ctx.captured_queries)


def machine():
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    load = os.getloadavg()
    pg = subprocess.run(
        ["psql", f"{PG}/postgres", "-Atc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"PostgreSQL {pg or '?'}; load average {load[0]:.1f} at the start"
    )


def commit():
    """The commit measured, and whether the tracked files differ from it (the doc the benchmark
    writes aside; untracked files are not looked at)."""

    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    head = git("rev-parse", "--short=12", "HEAD").strip() or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", f":!{DOC_PATH}")
    return f"{head} with uncommitted changes" if changed.strip() else head


CANCEL = "cancel (page endpoint, htmx), 1 in 10 sent twice at once"
BOOK = "booking (page form), every slot asked for by two patients at once"


def load(server, scenarios, targets, bookings, runs, duration, connections):
    """Every scenario in turn, `runs` times; each run's results are appended to its scenario."""
    from django.db import connection

    for run in range(1, runs + 1):
        print(f"Run {run}/{runs} ({duration} s per scenario, {connections} connections)")
        for s in scenarios:
            server.check()
            # A cancel's warm-up would use up targets; the scenarios before it warmed the
            # server up.
            if s.script == "get.lua":
                wrk(s.script, s.args, WARM_UP_S, connections)
            server.reset_peak()
            r = wrk(s.script, s.args, duration, connections)
            r["peak_mb"] = server.peak_kb / 1024
            extra = ""
            if s.name == CANCEL:
                r["cancelled"], r["doubled"], r["lost"] = check_and_reset_cancels(targets)
                r["cancels_per_s"] = r["cancelled"] / (r["duration_us"] / 1e6)
                connection.close()
                extra = (
                    f"  {r['cancels_per_s']:.0f} cancels/s, doubled {r['doubled']}, "
                    f"lost {r['lost']}"
                )
            if s.name == BOOK:
                bookers, r["targets"] = bookings
                r["created"], r["doubled"], r["lost"] = check_and_reset_bookings(bookers, r["won"])
                r["bookings_per_s"] = r["created"] / (r["duration_us"] / 1e6)
                connection.close()
                extra = (
                    f"  {r['bookings_per_s']:.0f} bookings/s, {r['refused']} refused, "
                    f"doubled {r['doubled']}, lost {r['lost']}"
                )
                if r["sent"] >= 2 * r["targets"]:
                    extra += "  (ran out of targets: more bookers needed)"
            s.results.append(r)
            print(
                f"  {s.name:<62} {r['rps']:7.0f} req/s  p99 {r['p99_us'] / 1000:6.1f} ms"
                f"  non-2xx {r['non_2xx_3xx']}{extra}"
            )
    server.check()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--duration", type=int)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--server", default=os.environ.get("SERVER", "granian"))
    parser.add_argument("--write-doc", action=argparse.BooleanOptionalAction)
    parser.add_argument(
        "--no-session-writes",
        action="store_true",
        help="sessions seen 'in a day': no request rewrites its last-seen time (build_data.log_in)",
    )
    parser.add_argument(
        "--only",
        action="append",
        help="run only the scenarios whose name contains this (and the ceiling); may be given "
        "more than once; never writes the doc. E.g. --only cancel --only API",
    )
    opts = parser.parse_args()
    runs = opts.runs or (1 if opts.quick else 3)
    duration = opts.duration or (5 if opts.quick else 15)
    write_doc = opts.write_doc if opts.write_doc is not None else not opts.quick
    write_doc = write_doc and not opts.only
    db_name = "turnos_bench_quick" if opts.quick else "turnos_bench"
    OUT.mkdir(exist_ok=True)
    began = time.monotonic()
    host = machine()  # its load average before the benchmark adds its own

    check_port_free()
    need_wrk()
    configure(db_name)
    from bench import build_data

    size = build_data.QUICK if opts.quick else build_data.FULL
    print(f"Data: {db_name}")
    create_database(db_name, build_data.marker(size), os.environ.get("BENCH_REBUILD") == "1")
    redis = "a Redis database of its own" if redis_ready() else "none (no Redis server)"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    build_data.build(size)
    Session.objects.all().delete()  # only this run's patients are logged in
    groups = build_data.patient_groups(size)
    ahead = opts.no_session_writes
    patients = build_data.log_in(groups["all"], seen_ahead=ahead)
    heavy = build_data.log_in(groups["heavy"], seen_ahead=ahead)
    everyone, heavy_file = write_lines("patients", patients), write_lines("heavy", heavy)
    # The full professionals' patients, each with their professional's id (the path's {client}).
    full = [
        (key, str(groups["full_of"][user.pk]))
        for (key, _), user in zip(
            build_data.log_in(groups["full"], seen_ahead=ahead), groups["full"], strict=True
        )
    ]
    full_file = write_lines("full-calendar", full)
    bookers = build_data.log_in(groups["bookers"], seen_ahead=ahead)
    reset_bookings(bookers)  # what an interrupted run left
    book = booking_targets(bookers, groups["open_professionals"])
    book_file = write_lines(
        "booking-targets", [(f"{a} {b} {pro}", f"{start} {m}") for a, b, pro, start, m in book]
    )

    token = build_data.CSRF_TOKEN
    # Production cookie names (__Host-…), as the browser would send them.
    cookies = [settings.SESSION_COOKIE_NAME, f"{settings.CSRF_COOKIE_NAME}={token}"]
    heavy_key, heavy_client = heavy[0]
    targets = cancel_targets(patients, 40_000)
    targets_file = write_lines("cancel-targets", [(key, pk) for key, pk, _ in targets])
    first_key, first_pk, _ = targets[0]
    many = f"{len(patients):,} patients"
    scenarios = [
        Scenario("ceiling: /livez, anonymous (no database)", ["none", "/livez"], None),
        Scenario(
            f"floor: /livez as a logged-in patient, {many}",
            [everyone, "/livez", *cookies],
            ("/livez", patients[0][0]),
            key="floor",
        ),
        Scenario(
            f"dashboard, {many}",
            [everyone, "/dashboard/", *cookies],
            ("/dashboard/", patients[0][0]),
            key="dashboard",
        ),
        Scenario(
            f"API list, {many}",
            [everyone, "/api/reservations/user/{client}", *cookies],
            (f"/api/reservations/user/{heavy_client}", heavy_key),
        ),
        # "2": wrk's threads, which share the targets out.
        Scenario(
            CANCEL,
            [targets_file, token, "2", settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME],
            (f"/reservations/{first_pk}/cancel/", first_key, "POST", token, 1),
            script="cancel.lua",
            key="cancel",
        ),
        Scenario(
            f"slot page (first week with a free slot), {size.full_professionals} professionals "
            f"with a full {build_data.HORIZON_WEEKS}-week calendar",
            [full_file, "/book/{client}/", *cookies],
            (f"/book/{full[0][1]}/", full[0][0]),
        ),
        Scenario(
            BOOK,
            [book_file, token, "2", settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME],
            (
                f"/book/{book[-1][2]}/",
                book[-1][0],
                "POST",
                token,
                1,
                {"start": book[-1][3], "modality": book[-1][4]},
                302,  # booked: to the new session's page
            ),
            script="book.lua",
            key="booking",
        ),
        Scenario(
            f"dashboard, patients with {size.heavy_rows:,} reservations",
            [heavy_file, "/dashboard/", *cookies],
            ("/dashboard/", heavy_key),
            key="dashboard-heavy",
        ),
        Scenario(
            f"history page 10 (full page), patients with {size.heavy_rows:,} reservations",
            [heavy_file, "/dashboard/?page=10", *cookies],
            ("/dashboard/?page=10", heavy_key),
        ),
    ]
    scenarios = [
        s
        for s in scenarios
        if s is scenarios[0] or not opts.only or any(part in s.name for part in opts.only)
    ]
    cancels = any(s.name == CANCEL for s in scenarios)
    bookings = any(s.name == BOOK for s in scenarios)
    server = None
    try:
        # Counted before the load, so that a page that fails stops the benchmark at once.
        queries = {s.name: count_queries(*s.probe) for s in scenarios if s.probe}
        # The cancel and the booking whose queries were counted must have done their work (a
        # refused cancel answers 200 too), checked in the database; then they are undone.
        if cancels and check_and_reset_cancels(targets[:1]) != (1, 0, 0):
            sys.exit("The cancel whose queries were counted did not cancel its reservation")
        if bookings and check_and_reset_bookings(bookers, 1) != (1, 0, 0):
            sys.exit("The booking whose queries were counted did not book")
        print(f"Serving with `make serve` (SERVER={opts.server}) on {BASE}")
        connection.close()  # the server's workers get the connections
        server = Server(opts.server)
        load(server, scenarios, targets, (bookers, len(book)), runs, duration, opts.connections)
    except BaseException:
        if cancels:
            check_and_reset_cancels(targets)  # what an interrupted run cancelled
        if bookings:
            reset_bookings(bookers)
        raise
    finally:
        if server:
            server.stop()

    table = report(
        scenarios, queries, size, runs, duration, opts, redis, settings.SESSION_ENGINE, host
    )
    print()
    print(table)
    (OUT / ("last-quick.md" if opts.quick else "last.md")).write_text(table)
    if write_doc:
        write_doc_block(START, END, table)
    print(f"Done in {time.monotonic() - began:.0f} s")


def report(scenarios, queries, size, runs, duration, opts, redis, session_engine, host):
    from bench import build_data

    ceiling_rps = scenarios[0].median("rps")
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, on {host}.",
        "",
        f"Data: {size.patients:,} patients, {size.professionals} professionals, "
        f"{size.reservations:,} reservations over five years "
        f"({size.heavy_patients} patients with {size.heavy_rows:,}); besides, "
        f"{size.full_professionals} professionals whose {build_data.FULL_WEEKS} weeks ahead "
        "are full but for one slot a week, and "
        f"{size.bookers:,} patients with no history who book. Every professional works "
        f"Monday to Friday 9–13 and 14–19, 50-minute sessions, bookable up to "
        f"{build_data.HORIZON_WEEKS} weeks ahead. "
        "Every page and API answer is rendered from the database. The ceiling is /livez with "
        "no cookie (the whole middleware stack, no database), the floor the same as a "
        "logged-in patient (the session and the user from the database). "
        f"Server: `make serve` with SERVER={opts.server}, sessions `{session_engine}`, "
        f"REDIS_URL {redis} (rate-limit counters), API_RATE_LIMIT={API_RATE_LIMIT} so that "
        "the API's throttle never refuses the load. "
        f"Load: wrk, {opts.connections} connections, {duration} s per scenario after a "
        f"{WARM_UP_S} s warm-up (none for the cancels and the bookings), "
        f"{'median of ' + str(runs) + ' runs' if runs > 1 else 'one run'}; every request as "
        f"one of {size.patients:,} logged-in patients (session cookies rotate), or of the "
        f"{size.heavy_patients} with {size.heavy_rows:,} reservations where the row says so"
        + (
            "; no request rewrites its session's last-seen time (--no-session-writes)."
            if opts.no_session_writes
            else "; a session's last-seen time is rewritten once a minute, so nearly every "
            "dashboard rewrites its session, and some of the floor's requests do."
        )
        + " Queries: every statement one request sends, counted in-process; in brackets, how "
        "many of them are BEGIN, COMMIT, SAVEPOINT or RELEASE.",
        "",
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | vs ceiling | queries/request "
        "| peak server memory | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in scenarios:
        rs = s.results
        rps = s.median("rps")
        errors = sum(r["non_2xx_3xx"] + r["socket_errors"] for r in rs)
        extra = ""
        if s.name == CANCEL:
            extra = (
                f"; {s.median('cancels_per_s'):.0f} cancels/s, "
                f"{sum(r['doubled'] for r in rs)} doubled, {sum(r['lost'] for r in rs)} lost"
            )
        if s.name == BOOK:
            extra = (
                f"; {s.median('bookings_per_s'):.0f} bookings/s, "
                f"{sum(r['refused'] for r in rs)} refused as taken, "
                f"{sum(r['doubled'] for r in rs)} doubled, {sum(r['lost'] for r in rs)} lost"
            )
        lines.append(
            f"| {s.name} | {rps:,.0f} | {s.median('p50_us') / 1000:.1f} "
            f"| {s.median('p95_us') / 1000:.1f} | {s.median('p99_us') / 1000:.1f} "
            f"| {rps / ceiling_rps:.1%} | {spell_queries(*queries.get(s.name, (0, 0)))} "
            f"| {max(r['peak_mb'] for r in rs):.0f} MB "
            f"| {errors} non-2xx/3xx, {sum(r['status_5xx'] for r in rs)} 5xx{extra} |"
        )
    summary = targets_summary(scenarios, queries)
    cancel = next((s for s in scenarios if s.name == CANCEL), None)
    if cancel:
        rs = cancel.results
        summary.append(
            f"- Cancels: {cancel.median('cancels_per_s'):.0f}/s, "
            f"{sum(r['doubled'] for r in rs)} doubled, {sum(r['lost'] for r in rs)} lost, "
            f"{sum(r['status_5xx'] for r in rs)} 5xx."
        )
    booking = next((s for s in scenarios if s.name == BOOK), None)
    if booking:
        rs = booking.results
        summary.append(
            f"- Bookings: {booking.median('bookings_per_s'):.0f}/s with every slot raced, "
            f"{sum(r['doubled'] for r in rs)} doubled, {sum(r['lost'] for r in rs)} lost, "
            f"{sum(r['status_5xx'] for r in rs)} 5xx."
        )
    if summary:
        lines += ["", *summary]
    return "\n".join(lines) + "\n"


def met(ok):
    return f"**target {'met' if ok else 'not met'}**"


def floor_multiple(floor, dashboard):
    """How many times the floor's cost a dashboard costs: the floor's req/s over the
    dashboard's, run by run (the two are measured one after the other), and their median."""
    each = [f["rps"] / d["rps"] for f, d in zip(floor.results, dashboard.results, strict=True)]
    return statistics.median(each), each


def targets_summary(scenarios, queries):
    by_key = {s.key: s for s in scenarios if s.key}
    summary = []
    floor, dashboard = by_key.get("floor"), by_key.get("dashboard")
    if floor and dashboard:
        multiple, each = floor_multiple(floor, dashboard)
        runs = f" (runs: {', '.join(f'{m:.2f}' for m in each)})" if len(each) > 1 else ""
        summary.append(
            f"- Dashboard cost against the logged-in floor's, at most "
            f"{TARGET_FLOOR_MULTIPLE}×: {multiple:.2f}×{runs}, "
            f"{dashboard.median('rps'):,.0f} req/s against {floor.median('rps'):,.0f}, "
            f"{met(multiple <= TARGET_FLOOR_MULTIPLE)}."
        )
    for key, limit in TARGET_QUERIES.items():
        if key not in by_key:
            continue
        n, control = queries[by_key[key].name]
        line, ok = f"- {key.capitalize()} queries ≤ {limit}", n <= limit
        heavy = by_key.get(f"{key}-heavy")
        if heavy:  # the same whatever the history
            who = heavy.name.split(", ", 1)[-1]  # "patients with 2,000 reservations"
            line += f", whatever the history: {n}, and {queries[heavy.name][0]} for {who}"
            ok = ok and queries[heavy.name][0] == n
        else:
            line += f": {spell_queries(n, control)}"
        summary.append(f"{line}, {met(ok)}.")
    return summary


def write_doc_block(start, end, block):
    """Put `block` between the markers `start` and `end` in docs/performance.md (at its end the
    first time)."""
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if start not in text:
        text = f"{text.rstrip()}\n\n{start}\n{end}\n"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    DOC.write_text(f"{head}{start}\n{block}\n{end}{tail}")
    print(f"Wrote {DOC_PATH}")


if __name__ == "__main__":
    main()
