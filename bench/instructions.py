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
import re
import subprocess
import sys
import time

from bench.cpu import patient_visits


def child(quick, path, requests):
    # Redis is not emptied (the other child runs at the same time): instead every URL of this
    # process is new, so pages cached in Redis by an earlier run are never hits here.
    patients, visit = patient_visits(quick, empty_redis=False)
    run = str(time.time_ns())
    for i in range(patients):  # each patient's page once: what follows are returns
        visit(path, i, f"{run}-warm")
    for i in range(requests):
        visit(path, i, f"{run}-measured")


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
