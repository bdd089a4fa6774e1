"""`make bench` / `make bench-quick`: build the data, serve it, load it, write the table.

    python -m bench.run [--quick] [--runs N] [--duration S] [--server granian|gunicorn]

Every scenario runs against the same `make serve` process in the same run as the ceiling
(/livez: full middleware, no database), so the ratios hold even on a busy machine.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "performance.md"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
START, END = "<!-- bench:results -->", "<!-- /bench:results -->"
BENCH_REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")


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
    )
    os.environ.pop("CONN_MAX_AGE", None)
    # Production shares sessions and cached pages between the server's processes through Redis
    # (REDIS_URL); the benchmark does too, in a Redis database of its own, emptied per run.
    os.environ.setdefault("REDIS_URL", BENCH_REDIS)


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
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("  installing wrk (Debian package)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not shutil.which("wrk"):
        sys.exit("The benchmark needs wrk: apt-get install wrk")
    return shutil.which("wrk")


# --- the server and its memory ----------------------------------------------------------------


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


class Server:
    def __init__(self, server, env_extra):
        env = dict(os.environ, PORT=str(PORT), HOST="127.0.0.1", SERVER=server, **env_extra)
        self.log = open(OUT / "server.log", "w")  # noqa: SIM115 (closed in stop)
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
            if self.proc.poll() is not None:
                sys.exit(f"make serve exited; see {OUT / 'server.log'}")
            try:
                with urllib.request.urlopen(BASE + "/livez", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            self.stop()
            sys.exit("the server did not answer /livez within 2 minutes")
        threading.Thread(target=self._sample, daemon=True).start()

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
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


# --- the load ---------------------------------------------------------------------------------


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


def visit_each(sessions_file, template, cookies):
    """Every patient's page once, eight at a time: the warm-up of a scenario that rotates through
    more patients than a 2 s warm-up reaches (a patient's second visit finds their page cached)."""
    from concurrent.futures import ThreadPoolExecutor

    pairs = [line.split() for line in Path(sessions_file).read_text().splitlines()]
    session_cookie, csrf_cookie = cookies

    def visit(pair):
        key, client = pair
        request = urllib.request.Request(
            BASE + template.replace("{client}", client),
            headers={"Cookie": f"{session_cookie}={key}; {csrf_cookie}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(visit, pairs))


def write_sessions(name, pairs):
    path = OUT / f"{name}.txt"
    path.write_text("".join(f"{key} {value}\n" for key, value in pairs))
    return str(path)


def api_available():
    from django.urls import Resolver404, resolve

    try:
        match = resolve("/api/reservations/user/00000000-0000-4000-8000-000000000000")
    except Resolver404:
        return False
    # A catch-all under /api/ (the API's own 404) is not the list.
    return "reservations/user" in match.route


def cancel_targets(sessions, limit):
    """Active reservations far enough ahead that their patients may cancel them."""
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
    """Each target cancelled exactly once (no lost or doubled update), then put back."""
    from django.db import transaction
    from django.db.models import Count

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
        ReservationEvent.objects.filter(reservation_id__in=ids).delete()
        for status in {s for _, _, s in targets}:
            Reservation.objects.filter(pk__in=[pk for _, pk, s in targets if s == status]).update(
                status=status, cancelled_at=None, cancelled_by=None, cancellation_reason=""
            )
    return len(cancelled), doubled, lost


def count_queries(path, session_key, method="GET", csrf=None, visits=2):
    """Queries of one request, the last of `visits` (the ones before fill the caches, as the
    load's warm-up does)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    headers = {}
    if method == "POST":
        client.cookies[settings.CSRF_COOKIE_NAME] = csrf
        headers = {"HX-Request": "true", "X-CSRFToken": csrf}
    for _ in range(visits - 1):
        getattr(client, method.lower())(path, headers=headers)
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method.lower())(path, headers=headers)
    assert response.status_code < 400, (path, response.status_code)
    return len(ctx.captured_queries)


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--duration", type=int)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--server", default=os.environ.get("SERVER", "granian"))
    parser.add_argument("--write-doc", action=argparse.BooleanOptionalAction)
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

    need_wrk()
    configure(db_name)
    from bench import build_data

    size = build_data.QUICK if opts.quick else build_data.FULL
    print(f"Data: {db_name}")
    create_database(db_name, build_data.marker(size), os.environ.get("BENCH_REBUILD") == "1")
    opts.caches = (
        "sessions and cached pages in Redis"
        if redis_ready()
        else "no Redis: sessions in PostgreSQL, pages cached per process"
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    build_data.build(size)
    sessions = build_data.make_sessions(size)
    files = {name: write_sessions(name, pairs) for name, pairs in sessions.items()}
    has_api = api_available()

    from django.conf import settings

    token = build_data.CSRF_TOKEN
    # Production cookie names (__Host-…), as the browser would send them.
    cookies = [settings.SESSION_COOKIE_NAME, f"{settings.CSRF_COOKIE_NAME}={token}"]
    heavy_key = sessions["heavy"][0][0]
    scenarios = [
        # (name, script, args, query count probe)
        ("ceiling: /livez (no database)", "get.lua", ["none", "/livez"], None),
        # The same view as a logged-in patient: the middleware loads the session and the user.
        (
            "/livez as a logged-in patient",
            "get.lua",
            [files["mixed"], "/livez", *cookies],
            ("/livez", heavy_key),
        ),
        (
            f"dashboard, {size.sessions:,} patients",
            "get.lua",
            [files["mixed"], "/dashboard/", *cookies],
            ("/dashboard/", heavy_key),
        ),
        (
            f"dashboard, {size.sessions:,} patients, every visit rendered (no cached page)",
            "get.lua",
            [files["mixed"], "/dashboard/?visit={n}", *cookies],
            ("/dashboard/?visit=probe", heavy_key, "GET", None, 1),
        ),
        (
            f"dashboard, patients with {size.heavy_rows:,} reservations",
            "get.lua",
            [files["heavy"], "/dashboard/", *cookies],
            ("/dashboard/", heavy_key),
        ),
        (
            "dashboard, patients with 5 reservations",
            "get.lua",
            [files["light"], "/dashboard/", *cookies],
            ("/dashboard/", sessions["light"][0][0]),
        ),
        (
            "history page 10 (full page), 2,000-row patients",
            "get.lua",
            [files["heavy"], "/dashboard/?page=10", *cookies],
            ("/dashboard/?page=10", heavy_key),
        ),
    ]
    if has_api:
        scenarios.append(
            (
                "API list",
                "get.lua",
                [files["mixed"], "/api/reservations/user/{client}", *cookies],
                ("/api/reservations/user/" + sessions["heavy"][0][1], heavy_key),
            )
        )

    cancel_name = "cancel (page endpoint, htmx), 1 in 10 sent twice at once"

    def wanted(name):
        return not opts.only or any(part in name for part in opts.only)

    scenarios = [s for s in scenarios if s is scenarios[0] or wanted(s[0])]
    run_cancels = wanted(cancel_name)

    queries = {}
    for name, _, _, probe in scenarios:
        if probe:
            queries[name] = count_queries(*probe)

    server_name = opts.server
    print(f"Serving with `make serve` (SERVER={server_name}) on {BASE}")
    from django.db import connection

    connection.close()  # the server's workers get the connections
    server = Server(server_name, {})
    results = {name: [] for name, *_ in scenarios}
    results[cancel_name] = []
    cancel_checks = []
    targets = []
    try:
        for run in range(1, runs + 1):
            print(f"Run {run}/{runs} ({duration} s per scenario, {opts.connections} connections)")
            for name, script, args, _ in scenarios:
                if run == 1 and args[0] != "none" and "{n}" not in args[1]:
                    visit_each(args[0], args[1], args[2:4])
                wrk(script, args, 2, opts.connections)  # warm up workers and caches
                server.reset_peak()
                r = wrk(script, args, duration, opts.connections)
                r["peak_mb"] = server.peak_kb / 1024
                results[name].append(r)
                print(
                    f"  {name:<48} {r['rps']:8.0f} req/s  p99 {r['p99_us'] / 1000:6.1f} ms"
                    f"  non-2xx {r['non_2xx_3xx']}"
                )
            if not run_cancels:
                continue
            targets = cancel_targets(sessions["mixed"] + sessions["heavy"], 40_000)
            path = OUT / "cancel-targets.txt"
            path.write_text("".join(f"{key} {pk}\n" for key, pk, _ in targets))
            server.reset_peak()
            r = wrk(
                "cancel.lua",
                [str(path), token, "2", settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME],
                duration,
                opts.connections,
            )
            r["peak_mb"] = server.peak_kb / 1024
            done, doubled, lost = check_and_reset_cancels(targets)
            r["cancelled"], r["doubled"], r["lost"] = done, doubled, lost
            r["cancels_per_s"] = done / (r["duration_us"] / 1e6)
            results[cancel_name].append(r)
            cancel_checks.append((done, doubled, lost, r["status_5xx"]))
            print(
                f"  {cancel_name:<48} {r['rps']:8.0f} req/s  {r['cancels_per_s']:.0f} cancels/s"
                f"  doubled {doubled}  lost {lost}  5xx {r['status_5xx']}"
            )
            connection.close()
    finally:
        server.stop()

    if targets:
        key, pk, _ = targets[0]
        queries[cancel_name] = count_queries(
            f"/reservations/{pk}/cancel/", key, "POST", token, visits=1
        )
        check_and_reset_cancels(targets[:1])

    table = report(
        results, queries, scenarios, cancel_name, size, runs, duration, opts, server_name, has_api
    )
    print()
    print(table)
    (OUT / ("last-quick.md" if opts.quick else "last.md")).write_text(table)
    if write_doc:
        text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        DOC.write_text(f"{head}{START}\n{table}\n{END}{tail}")
        print(f"Wrote {DOC.relative_to(ROOT)}")
    print(f"Done in {time.monotonic() - began:.0f} s")


def report(results, queries, scenarios, cancel_name, size, runs, duration, opts, server, has_api):
    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    ceiling = results[scenarios[0][0]]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        "",
        f"Data: {size.patients:,} patients, {size.professionals} professionals, "
        f"{size.reservations:,} reservations over five years "
        f"({size.heavy_patients} patients with {size.heavy_rows:,}). "
        f"Server: `make serve` with SERVER={server}, {opts.caches}. "
        f"Load: wrk, {opts.connections} connections, "
        f"{duration} s per scenario after a 2 s warm-up, "
        f"{'median of ' + str(runs) + ' runs' if runs > 1 else 'one run'}; every request as "
        f"one of {size.sessions:,} logged-in patients (session cookies rotate).",
        "",
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | vs ceiling | queries/request "
        "| peak server memory | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    ceiling_rps = statistics.median(r["rps"] for r in ceiling)
    for name in [s[0] for s in scenarios] + [cancel_name]:
        rs = results[name]
        if not rs:
            continue
        rps = med(name, "rps")
        errors = sum(r["non_2xx_3xx"] + r["socket_errors"] for r in rs)
        extra = ""
        if name == cancel_name:
            extra = (
                f"; {statistics.median(r['cancels_per_s'] for r in rs):.0f} cancels/s, "
                f"{sum(r['doubled'] for r in rs)} doubled, {sum(r['lost'] for r in rs)} lost"
            )
        lines.append(
            f"| {name} | {rps:,.0f} | {med(name, 'p50_us') / 1000:.1f} "
            f"| {med(name, 'p95_us') / 1000:.1f} | {med(name, 'p99_us') / 1000:.1f} "
            f"| {rps / ceiling_rps:.0%} | {queries.get(name, 0)} "
            f"| {max(r['peak_mb'] for r in rs):.0f} MB "
            f"| {errors} non-2xx/3xx, {sum(r['status_5xx'] for r in rs)} 5xx{extra} |"
        )
    if not has_api and not opts.only:
        lines.append(
            "| API list | not available (no `/api/reservations/user/<id>` route) | | | | | | | |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
