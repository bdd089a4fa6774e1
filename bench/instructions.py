"""Instructions per request, counted by valgrind's callgrind (docs/performance.md).

    python -m bench.instructions [--quick] [--path /dashboard/] [--heavy] [--requests 200]

Timings on a shared machine move by 10-20% from one run to the next; callgrind's count of
instructions comes out the same for the same code and data whatever else the machine is doing,
so comparing a change needs one run before it and one after. Python's work only: what PostgreSQL
and Redis do for the request is not in it.

Runs `python -m bench.profile --lines 0` (the same requests, data and settings) under callgrind
twice at once, with 0 and with N requests after the same warm-up, and divides the difference by
N. `{client}` in the path is the patient's id. Needs valgrind (Debian package) and the data of
`make bench` (or of `make bench-quick`, with --quick); about two minutes for 200 dashboards.
"""

import argparse
import re
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--path", default="/dashboard/")
    parser.add_argument("--heavy", action="store_true", help="patients with 2,000 reservations")
    parser.add_argument("--requests", type=int, default=200)
    opts = parser.parse_args()
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += ["-m", "bench.profile", "--lines", "0", "--path", opts.path]
    command += ["--quick"] * opts.quick + ["--heavy"] * opts.heavy
    runs = [
        subprocess.Popen(
            [*command, "--requests", str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in (0, opts.requests)
    ]
    totals = []
    for process in runs:
        output = process.communicate()[0]
        found = re.search(r"Collected : (\d+)", output)
        if process.returncode or not found:
            sys.exit(output)
        totals.append(int(found.group(1)))
    per_request = (totals[1] - totals[0]) / opts.requests
    print(f"{opts.path}: {per_request / 1e6:.2f} million instructions per request")


if __name__ == "__main__":
    main()
