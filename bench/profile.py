"""Where a request's time goes: cProfile, in one process, through Django's test client on the
benchmark data (no server, no network; docs/performance.md).

    python -m bench.profile [--quick] [--path /dashboard/] [--heavy | --full] [--anonymous]
                            [--cancel | --book] [--queries] [--callgrind]
                            [--requests 300] [--sort tottime] [--lines 35]

It first times the requests without the profiler (wall and CPU time per request: the database's
waits are in the first, not in the second), then profiles as many again and prints the top
functions. Every request is a different one of 1,000 logged-in patients (with --heavy, of the
patients with 2,000 reservations). For example:

    python -m bench.profile                                      # the dashboard, rendered
    python -m bench.profile --path "/api/reservations/user/{client}"   # {client}: patient's id
    python -m bench.profile --heavy --path "/dashboard/?page=10"
    python -m bench.profile --cancel --sort cumtime              # cancels, as htmx sends them
    python -m bench.profile --book --sort cumtime                # bookings, the page's form
    python -m bench.profile --path /livez --anonymous --lines 0  # time only: the ceiling
    python -m bench.profile --full --path "/book/{client}/"      # {client}: their professional
    python -m bench.profile --book --queries --lines 0           # queries per booking

--cancel cancels a different reservation each time (the page's htmx endpoint, as its own
patient), --book books a different free slot each time through the booking page's form, each
as a patient with no history (as `make bench` does). Each must do its work: a refused cancel or
booking stops the run, and at the end the database must hold exactly one cancellation or one
booking per request (then they are all undone). --queries counts each timed request's queries
instead of timing them; --callgrind is bench.instructions' (it says when the timed requests
start and end, and waits for an answer each time).

Uses the database built by `make bench` (or `make bench-quick`, with --quick) with the settings
the benchmark's server has, and logs its patients in with sessions of its own (deleted at the
end), seen "in a day" so that no request rewrites them: how many did would otherwise depend on
how fast the machine was (build_data.log_in). For the running server, py-spy gives the same
picture: py-spy record -o profile.svg --pid <worker pid>
"""

import argparse
import cProfile
import gc
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.run import configure, redis_ready, transaction_control

WARM_UP = 20
PATIENTS = 1_000
# Booking's free slots are taken from this many professionals (round-robin, the nearest first):
# over a thousand slots, whatever the number of bookings.
BOOKING_PROFESSIONALS = 20


def open_bench_data(quick):
    """Django on the benchmark database, as the benchmark's server runs it: the data set's
    groups of users (build_data.patient_groups)."""
    configure("turnos_bench_quick" if quick else "turnos_bench")
    os.environ["CONN_MAX_AGE"] = "600"  # one connection for the whole run, as a server keeps it
    redis_ready()
    import django

    django.setup()
    from django.db import OperationalError

    from bench import build_data

    size = build_data.QUICK if quick else build_data.FULL
    try:
        built = build_data.current_marker() == build_data.marker(size)
    except OperationalError:
        built = False
    if not built:
        sys.exit(f"No benchmark data: run `make bench{'-quick' if quick else ''}` first")
    from django.conf import settings
    from django.core.management import call_command

    if not Path(settings.STATIC_ROOT, "staticfiles.json").exists():  # pages need the manifest
        call_command("collectstatic", interactive=False, verbosity=0)
    return build_data.patient_groups(size)


def fail(message):
    raise SystemExit(f"bench.profile: {message}")


def spread(numbers):
    """ "5", or "5–6" when they differ."""
    low, high = min(numbers), max(numbers)
    return f"{low}" if low == high else f"{low}–{high}"


def handshake(state):
    """--callgrind: bench.instructions runs this process under callgrind with instrumentation
    off; it turns it on (callgrind_control -i on) when told the requests to count start, and off
    when they end, then answers with a line."""
    print(f"CALLGRIND {state}", flush=True)
    if not sys.stdin.readline():
        fail("--callgrind: nobody answered (it is for bench.instructions)")


class Gets:
    """GET `path` as a different patient each time ({client} in the path: the patient's id, or
    with --full their professional's)."""

    def __init__(self, client, groups, opts):
        from bench import build_data

        self.client, self.path, self.anonymous = client, opts.path, opts.anonymous
        if opts.full:
            users = groups["full"][:PATIENTS]
            keys = build_data.log_in(users, seen_ahead=True)
            self.sessions = [
                (key, str(groups["full_of"][u.pk])) for (key, _), u in zip(keys, users, strict=True)
            ]
        else:
            self.sessions = build_data.log_in(
                groups["heavy" if opts.heavy else "all"][:PATIENTS], seen_ahead=True
            )

    def __call__(self, i):
        from django.conf import settings

        key, patient = self.sessions[i % len(self.sessions)]
        if not self.anonymous:
            self.client.cookies[settings.SESSION_COOKIE_NAME] = key
        response = self.client.get(self.path.replace("{client}", patient))
        if response.status_code != 200:
            fail(f"GET {self.path} answered {response.status_code}")

    def finish(self, done):
        pass

    def undo(self):
        pass


class Cancels:
    """Cancel a different reservation each time, through the page's endpoint as htmx sends it,
    as its own patient. The patients are not the dashboard's (the last 1,000 of the data set),
    so that bench.instructions may measure both at once."""

    def __init__(self, client, groups, prepare):
        from bench import build_data
        from bench.run import cancel_targets

        self.client = client
        self.sessions = build_data.log_in(groups["all"][-PATIENTS:], seen_ahead=True)
        self.targets = cancel_targets(self.sessions, prepare)
        if len(self.targets) < prepare:
            fail(f"only {len(self.targets)} reservations to cancel, {prepare} needed")
        self.used = 0

    def __call__(self, i):
        from django.conf import settings

        from bench.build_data import CSRF_TOKEN

        key, pk, _ = self.targets[self.used]
        self.used += 1
        self.client.cookies[settings.SESSION_COOKIE_NAME] = key
        headers = {"HX-Request": "true", "X-CSRFToken": CSRF_TOKEN}
        response = self.client.post(f"/reservations/{pk}/cancel/", headers=headers)
        # A refused cancel answers 200 too (saying why): finish() checks the database.
        if response.status_code != 200:
            fail(f"the cancel of {pk} answered {response.status_code}")

    def finish(self, done):
        """Every request cancelled its reservation, exactly once; then they are put back."""
        from bench.run import check_and_reset_cancels

        cancelled, doubled, lost = check_and_reset_cancels(self.targets[: self.used])
        print(f"{cancelled} cancelled ({doubled} doubled, {lost} lost), {done} sent; put back")
        if (cancelled, doubled, lost) != (done, 0, 0):
            fail("not every request cancelled its reservation, once")

    def undo(self):
        from bench.run import check_and_reset_cancels

        check_and_reset_cancels(self.targets[: self.used])


class Bookings:
    """Book a different free slot each time through the booking page's form (POST start and
    modality, answered with a redirect to the new session), each as a patient with no history,
    as `make bench` does: no limit on a patient's bookings or requests refuses them."""

    def __init__(self, client, groups, prepare):
        from bench import build_data
        from bench.run import open_slots, reset_bookings

        self.client = client
        self.sessions = build_data.log_in(groups["bookers"][:prepare], seen_ahead=True)
        if len(self.sessions) < prepare:
            fail(f"only {len(self.sessions)} patients to book, {prepare} needed")
        reset_bookings(self.sessions)  # what an interrupted run left
        slots = open_slots(groups["open_professionals"][:BOOKING_PROFESSIONALS])
        if len(slots) < prepare:
            fail(f"only {len(slots)} free slots, {prepare} needed")
        self.targets = [
            (
                key,
                pro.pk,
                {"start": f"{slot.start:%Y-%m-%dT%H:%MZ}", "modality": slot.modalities[0]},
            )
            for (key, _), (pro, slot) in zip(self.sessions, slots, strict=False)
        ]
        self.used = 0

    def __call__(self, i):
        from django.conf import settings

        from bench.build_data import CSRF_TOKEN

        key, pro, form = self.targets[self.used]
        self.used += 1
        self.client.cookies[settings.SESSION_COOKIE_NAME] = key
        response = self.client.post(
            f"/book/{pro}/",
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
            headers={"X-CSRFToken": CSRF_TOKEN},
        )
        # Booked: a redirect to the new session's page (a refusal is a 409 with the week).
        if response.status_code != 302 or not response["Location"].startswith("/reservations/"):
            fail(f"a booking of {form['start']} answered {response.status_code}")

    def finish(self, done):
        """Every request booked its slot, with its "created" event; then they are deleted."""
        from bench.run import check_and_reset_bookings

        made, doubled, lost = check_and_reset_bookings(self.sessions, done)
        print(f"{made} booked ({doubled} doubled, {lost} lost), {done} sent; deleted")
        if (made, doubled, lost) != (done, 0, 0):
            fail("not every request booked its slot, once")

    def undo(self):
        from bench.run import reset_bookings

        reset_bookings(self.sessions)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--path", default="/dashboard/", help="{client}: the patient's id")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--heavy", action="store_true", help="patients with 2,000 reservations")
    parser.add_argument(
        "--full", action="store_true", help="patients of professionals with a full calendar"
    )
    parser.add_argument("--anonymous", action="store_true", help="no session cookie")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--cancel", action="store_true", help="cancels instead of GETs")
    action.add_argument("--book", action="store_true", help="bookings instead of GETs")
    parser.add_argument("--queries", action="store_true", help="count queries, not time")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=35, help="functions to print; 0: no profile")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="for bench.instructions: say when the requests to count start and end, and wait",
    )
    opts = parser.parse_args()
    groups = open_bench_data(opts.quick)

    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.build_data import CSRF_TOKEN

    # CSRF checked, as the server does (the test client skips it otherwise).
    client = Client(enforce_csrf_checks=True)
    if not opts.anonymous:
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_TOKEN  # as a browser holds it
    prepare = WARM_UP + (2 if opts.lines else 1) * opts.requests
    if opts.cancel:
        one = Cancels(client, groups, prepare)
    elif opts.book:
        one = Bookings(client, groups, prepare)
    else:
        one = Gets(client, groups, opts)
    done = 0
    try:
        for i in range(WARM_UP):
            one(i)
        done += WARM_UP
        if opts.callgrind:
            gc.collect()  # every run starts counting from the same heap
            handshake("on")
        wall, cpu = time.perf_counter(), time.process_time()
        counts, controls = [], []
        for i in range(opts.requests):
            if opts.queries:
                with CaptureQueriesContext(connection) as ctx:
                    one(i)
                counts.append(len(ctx.captured_queries))
                controls.append(transaction_control(ctx.captured_queries))
            else:
                one(i)
        if opts.callgrind:
            handshake("off")
        done += opts.requests
        if counts:
            print(
                f"{spread(counts)} queries per request ({spread(controls)} of them BEGIN, "
                f"COMMIT, SAVEPOINT or RELEASE), {opts.requests} requests"
            )
        elif opts.requests:
            wall = (time.perf_counter() - wall) / opts.requests * 1000
            cpu = (time.process_time() - cpu) / opts.requests * 1000
            print(f"{wall:.2f} ms per request ({cpu:.2f} ms CPU), {opts.requests} requests")
        if opts.lines:
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(opts.requests):
                one(i)
            profiler.disable()
            done += opts.requests
            pstats.Stats(profiler).sort_stats(opts.sort).print_stats(opts.lines)
        one.finish(done)
    except BaseException:
        one.undo()
        raise
    finally:
        Session.objects.filter(session_key__in=[key for key, _ in one.sessions]).delete()


if __name__ == "__main__":
    main()
