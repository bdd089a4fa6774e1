"""Instructions per request, counted by valgrind's callgrind (docs/performance.md).

    python -m bench.instructions [--quick] [--path "/dashboard/?visit={n}"] [--requests 200]

Timings on this machine move by 10-20% from one run to the next; callgrind's count of the
server process's instructions comes out the same for the same code and data whatever else the
machine is doing, so comparing a change needs one run before and one after. It counts Python's
work only: what PostgreSQL and Redis do for the request is not in it.

Runs itself under callgrind twice at once, with 0 and with N requests after the same warm-up,
and divides the difference by N. `{client}` in the path is the patient's id, `{n}` a new value on
every request (a page no cache has seen). Needs valgrind (Debian package) and the benchmark data
of `make bench` (or `make bench-quick` with --quick); about two minutes for 200 rendered pages.
"""

import argparse
import os
import re
import subprocess
import sys
import time

from bench.run import configure


def child(quick, path, requests):
    configure("turnos_bench_quick" if quick else "turnos_bench")
    os.environ["CONN_MAX_AGE"] = "600"
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from bench import build_data

    size = build_data.QUICK if quick else build_data.FULL
    patients = build_data.make_sessions(size)["mixed"][:100]
    client = Client()
    client.cookies[settings.CSRF_COOKIE_NAME] = build_data.CSRF_TOKEN
    # Unique per process: pages cached in Redis by an earlier run must not be hits here.
    run = str(time.time_ns())

    def visit(i, tag):
        key, patient = patients[i % len(patients)]
        client.cookies[settings.SESSION_COOKIE_NAME] = key
        url = path.replace("{client}", patient).replace("{n}", f"{run}-{tag}-{i}")
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    for i in range(len(patients)):  # each patient's page once: what follows are returns
        visit(i, "warm")
    for i in range(requests):
        visit(i, "measured")


def count(quick, path, requests):
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, "-m", "bench.instructions", "--child", "--path", path]
    command += ["--requests"]
    runs = [
        subprocess.Popen(
            [*command, str(n), *(["--quick"] if quick else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in (0, requests)
    ]
    totals = []
    for process in runs:
        output = process.communicate()[0]
        found = re.search(r"Collected : (\d+)", output)
        if process.returncode or not found:
            sys.exit(output)
        totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / requests


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--path", default="/dashboard/?visit={n}")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts.quick, opts.path, opts.requests)
        return
    per_request = count(opts.quick, opts.path, opts.requests)
    print(f"{opts.path}: {per_request / 1e6:.2f} million instructions per request")


if __name__ == "__main__":
    main()
