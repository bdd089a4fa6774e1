"""Where a request's time goes: cProfile, in one process, through Django's test client on the
benchmark data (no server, no network; docs/performance.md).

    python -m bench.profile [--quick] [--path /dashboard/] [--heavy | --full] [--anonymous]
                            [--cancel]
                            [--requests 300] [--sort tottime] [--lines 35]

It first times the requests without the profiler (wall and CPU time per request: the database's
waits are in the first, not in the second), then profiles as many again and prints the top
functions. Every request is a different one of 1,000 logged-in patients (with --heavy, of the
patients with 2,000 reservations). For example:

    python -m bench.profile                                      # the dashboard, rendered
    python -m bench.profile --path "/api/reservations/user/{client}"   # {client}: patient's id
    python -m bench.profile --heavy --path "/dashboard/?page=10"
    python -m bench.profile --cancel --sort cumtime              # cancels, as htmx sends them
    python -m bench.profile --path /livez --anonymous --lines 0  # time only: the ceiling
    python -m bench.profile --full --path "/book/{client}/"      # {client}: their professional

--cancel cancels a different reservation each time and puts them all back afterwards.

Uses the database built by `make bench` (or `make bench-quick`, with --quick) with the settings
the benchmark's server has, and logs its patients in with sessions of its own. For the running
server, py-spy gives the same picture: py-spy record -o profile.svg --pid <worker pid>
"""

import argparse
import cProfile
import os
import pstats
import time

from bench.run import configure, redis_ready

WARM_UP = 20


def open_bench_data(quick, heavy=False, patients=1_000, full=False):
    """Django on the benchmark database, as the benchmark's server runs it, and sessions for
    `patients` of its patients: [(session key, user id)]; with `full`, the patients of the
    professionals with a full calendar: [(session key, their professional's id)]."""
    configure("turnos_bench_quick" if quick else "turnos_bench")
    os.environ["CONN_MAX_AGE"] = "600"  # one connection for the whole run, as a server keeps it
    redis_ready()
    import django

    django.setup()
    from bench import build_data

    groups = build_data.patient_groups(build_data.QUICK if quick else build_data.FULL)
    if full:
        users = groups["full"][:patients]
        keys = build_data.log_in(users)
        return [
            (key, str(groups["full_of"][u.pk])) for (key, _), u in zip(keys, users, strict=True)
        ]
    return build_data.log_in(groups["heavy" if heavy else "all"][:patients])


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
    parser.add_argument("--cancel", action="store_true", help="cancels instead of GETs")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=35, help="functions to print; 0: no profile")
    opts = parser.parse_args()
    sessions = open_bench_data(opts.quick, opts.heavy, full=opts.full)

    from django.conf import settings
    from django.test import Client

    from bench.build_data import CSRF_TOKEN
    from bench.run import cancel_targets, check_and_reset_cancels

    client = Client()
    if not opts.anonymous:
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_TOKEN  # as a browser holds it
    targets = []
    if opts.cancel:
        passes = 2 if opts.lines else 1
        targets = cancel_targets(sessions, WARM_UP + passes * opts.requests)
    untouched = iter(targets)  # each cancel takes a reservation nobody has cancelled yet

    def one(i):
        if opts.cancel:
            key, pk, _ = next(untouched)
            client.cookies[settings.SESSION_COOKIE_NAME] = key
            headers = {"HX-Request": "true", "X-CSRFToken": CSRF_TOKEN}
            response = client.post(f"/reservations/{pk}/cancel/", headers=headers)
        else:
            key, patient = sessions[i % len(sessions)]
            if not opts.anonymous:
                client.cookies[settings.SESSION_COOKIE_NAME] = key
            response = client.get(opts.path.replace("{client}", patient))
        assert response.status_code == 200, response.status_code

    try:
        for i in range(WARM_UP):
            one(i)
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(opts.requests):
            one(i)
        if opts.requests:
            wall = (time.perf_counter() - wall) / opts.requests * 1000
            cpu = (time.process_time() - cpu) / opts.requests * 1000
            print(f"{wall:.2f} ms per request ({cpu:.2f} ms CPU), {opts.requests} requests")
        if opts.lines:
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(opts.requests):
                one(i)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(opts.sort).print_stats(opts.lines)
    finally:
        if targets:
            check_and_reset_cancels(targets)


if __name__ == "__main__":
    main()
