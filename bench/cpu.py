"""CPU per request, in one process, for the requests the benchmark loads (docs/performance.md).

    python -m bench.cpu [--quick] [--requests 2000] [--rounds 2]

Uses the benchmark database (`make bench` or, with --quick, `make bench-quick`) and, like
production, Redis for sessions and cached pages (BENCH_REDIS). CPU time, not wall time, so the
database's and Redis's waits are left out; this machine is noisy, so it runs several rounds.
"""

import argparse
import os
import time

from bench.run import configure, redis_ready


def patient_visits(quick, empty_redis):
    """Django, set up on the benchmark data as production runs it, and `visit(path, i, tag,
    logged_in=True)`: one GET of `path` as the i-th of 100 patients, asserting a 200. In the
    path, `{client}` is the patient's id and `{n}` a value new for each (tag, i): a page no cache
    has seen. `empty_redis` empties the benchmark's Redis database first."""
    configure("turnos_bench_quick" if quick else "turnos_bench")
    os.environ["CONN_MAX_AGE"] = "600"
    if empty_redis:
        redis_ready()
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from bench import build_data

    size = build_data.QUICK if quick else build_data.FULL
    patients = build_data.make_sessions(size)["mixed"][:100]
    client = Client()
    client.cookies[settings.CSRF_COOKIE_NAME] = build_data.CSRF_TOKEN

    def visit(path, i, tag, logged_in=True):
        key, patient = patients[i % len(patients)]
        if logged_in:
            client.cookies[settings.SESSION_COOKIE_NAME] = key
        else:
            client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
        url = path.replace("{client}", patient).replace("{n}", f"{tag}-{i}")
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return len(patients), visit


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    opts = parser.parse_args()
    patients, visit = patient_visits(opts.quick, empty_redis=True)

    def cpu_ms(path, logged_in, n, tag):
        for i in range(patients):  # each patient's page once: what follows are returns
            visit(path, i, tag + "-first", logged_in)
        started = time.process_time()
        for i in range(n):
            visit(path, i, tag, logged_in)
        return (time.process_time() - started) / n * 1000

    scenarios = [
        ("anonymous /livez (the ceiling)", "/livez", False, opts.requests),
        ("logged-in /livez", "/livez", True, opts.requests),
        ("dashboard, cached", "/dashboard/", True, opts.requests),
        ("API list, cached", "/api/reservations/user/{client}", True, opts.requests),
        # A new query string on every request: no visit finds a cached page.
        ("dashboard, rendered", "/dashboard/?visit={n}", True, opts.requests // 10),
    ]
    for round_ in range(1, opts.rounds + 1):
        for name, path, logged_in, n in scenarios:
            ms = cpu_ms(path, logged_in, n, f"r{round_}-{time.time_ns()}")
            print(f"round {round_}  {name:<32} {ms:6.2f} ms CPU per request")


if __name__ == "__main__":
    main()
