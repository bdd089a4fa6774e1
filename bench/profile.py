"""Where a dashboard request's time goes, in-process, under cProfile (no server, no network).

    python -m bench.profile [--quick] [--path /dashboard/] [--requests 300] [--heavy] [--cancel]

--cancel profiles cancels through the page's endpoint (as htmx sends them) instead of GETs, each
of a different reservation, and puts them back afterwards.

Uses the benchmark database built by `make bench` (or `make bench-quick` with --quick) and one of
its logged-in patients. For the running server, py-spy gives the same picture:
    py-spy record -o profile.svg --pid <worker pid> --duration 20
"""

import argparse
import cProfile
import os
import pstats
import time

from bench.run import configure


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--path", default="/dashboard/", help="{client}: the patient's id")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--heavy", action="store_true", help="a patient with 2,000 reservations")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=35, help="how many functions to print")
    parser.add_argument("--cancel", action="store_true", help="cancels instead of GETs")
    opts = parser.parse_args()
    configure("turnos_bench_quick" if opts.quick else "turnos_bench")
    os.environ["CONN_MAX_AGE"] = "600"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.test import Client

    from bench.build_data import DOMAIN

    sessions = Session.objects.order_by("session_key")
    keys = []
    for session in sessions[:2000]:
        uid = session.get_decoded().get("_auth_user_id")
        keys.append((session.session_key, uid))
    from accounts.models import User

    heavy = set(
        str(pk)
        for pk in User.objects.filter(
            email__in=[f"patient{i}@{DOMAIN}" for i in range(20)]
        ).values_list("pk", flat=True)
    )
    if opts.heavy:
        keys = [k for k in keys if k[1] in heavy]
    client = Client()
    targets = []
    if opts.cancel:
        from bench.build_data import CSRF_TOKEN
        from bench.run import cancel_targets

        targets = cancel_targets(keys, 2 * opts.requests + 20)
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_TOKEN
    untouched = iter(targets)  # each cancel takes a reservation nobody has cancelled yet

    def one(i):
        if targets:
            key, pk, _ = next(untouched)
            client.cookies[settings.SESSION_COOKIE_NAME] = key
            headers = {"HX-Request": "true", "X-CSRFToken": CSRF_TOKEN}
            response = client.post(f"/reservations/{pk}/cancel/", headers=headers)
        else:
            key, uid = keys[i % len(keys)]
            client.cookies[settings.SESSION_COOKIE_NAME] = key
            response = client.get(opts.path.replace("{client}", uid))
        assert response.status_code == 200, response.status_code

    for i in range(20):
        one(i)
    started = time.perf_counter()
    for i in range(opts.requests):
        one(i)
    elapsed = time.perf_counter() - started
    print(f"{opts.requests / elapsed:.0f} requests/s in one process without profiling")
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(opts.requests):
        one(i)
    profiler.disable()
    if targets:
        from bench.run import check_and_reset_cancels

        check_and_reset_cancels(targets)
    pstats.Stats(profiler).sort_stats(opts.sort).print_stats(opts.lines)


if __name__ == "__main__":
    main()
