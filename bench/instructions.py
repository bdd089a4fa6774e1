"""Instructions and queries per request, counted by valgrind's callgrind (docs/performance.md).

    python -m bench.instructions [--quick] [--requests 100] [--only NAME ...] [--[no-]write-doc]
    python -m bench.instructions [--quick] --path /dashboard/ [--heavy | --full]   # one page

Timings on a shared machine move by 10-20% from one run to the next; callgrind's count of
instructions comes out the same for the same code and data whatever else the machine is doing,
so comparing a change needs one run before it and one after. Python's work only: what PostgreSQL
and Redis do for the request is not in it.

Five requests, each through `python -m bench.profile` (its data, settings and requests): the
floor (/livez as a logged-in patient), the dashboard, the slot page of a professional with a
full calendar, a booking through the page's form, and a cancel through the page's htmx endpoint.
For each, the queries of a few requests are counted first, without valgrind (which also stops
the run early if a request fails). Then bench.profile runs under callgrind with its
instrumentation off: it is turned on (callgrind_control) once the process is set up and warmed
up, and off after N requests, so the count is theirs alone; divided by N, one request's. A
booking must book and a cancel must cancel: bench.profile checks each in the database and undoes
them. The runs go two at a time (one per core); the booking and the cancel one after the other
(a cancel frees a slot a booking could take).

Writes its table to docs/performance.md between its own markers (not with --quick, --only or
--path) and to bench/out/instructions.md; the output of every run is kept in
bench/out/instructions/. Needs valgrind (Debian package; installed with apt-get when run as
root) and the data of `make bench` (or of `make bench-quick`, with --quick).
"""

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.profile import WARM_UP
from bench.run import (
    OUT,
    ROOT,
    TARGET_QUERIES,
    commit,
    machine,
    spell_queries,
    write_doc_block,
)

START, END = "<!-- bench:instructions -->", "<!-- /bench:instructions -->"
LOGS = OUT / "instructions"


@dataclass
class Request:
    key: str
    label: str
    args: list  # bench.profile's
    changes: bool = False  # books or cancels: not at the same time as the other one
    queries: str = ""  # per request, e.g. "5" or "5–6"
    control: str = ""  # of them, BEGIN, COMMIT, SAVEPOINT or RELEASE
    instructions: float = 0.0  # per request


def requests_measured():
    return [
        Request(
            "floor",
            "floor: /livez as a logged-in patient (the middleware, the session and the user)",
            ["--path", "/livez"],
        ),
        Request("dashboard", "dashboard, 1,000 patients in turn", ["--path", "/dashboard/"]),
        Request(
            "slot page",
            "slot page (the first week with a free slot), professionals with a full calendar",
            ["--full", "--path", "/book/{client}/"],
        ),
        Request(
            "booking",
            "booking through the page's form: a free slot, a patient with no history",
            ["--book"],
            changes=True,
        ),
        Request(
            "cancel", "cancel through the page's htmx endpoint, as its patient", ["--cancel"], True
        ),
    ]


def need_valgrind():
    if shutil.which("valgrind"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("  installing valgrind (Debian package)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=False)
        if not shutil.which("valgrind"):
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True)
    if not shutil.which("valgrind"):
        sys.exit("bench.instructions needs valgrind: apt-get install valgrind")


class Runner:
    """Runs bench.profile, keeps each output in bench/out/instructions/, and on the first
    failure interrupts the others (SIGINT: each undoes its bookings or cancels) and exits."""

    def __init__(self, quick):
        self.quick = quick
        self.running = set()
        self.lock = threading.Lock()
        self.failed = None

    def profile(self, name, args, callgrind=False):
        command = [sys.executable, "-m", "bench.profile", "--lines", "0", *args]
        command += ["--quick"] * self.quick
        if callgrind:
            command = [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                "--callgrind-out-file=/dev/null",
                *command,
                "--callgrind",
            ]
        log = LOGS / f"{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-')}.log"
        began = time.monotonic()
        with self.lock:
            if self.failed:
                raise SystemExit(self.failed)
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                # A fixed hash seed: the same dict and set layouts, so the same count, run to run.
                env=dict(os.environ, PYTHONHASHSEED="0"),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            self.running.add(process)
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("CALLGRIND "):  # bench.profile --callgrind: "on" or "off"
                control = ["callgrind_control", "--instr=" + line.split()[1], str(process.pid)]
                answer = subprocess.run(control, capture_output=True, text=True)
                lines.append(answer.stdout + answer.stderr)
                if answer.returncode or "OK." not in answer.stdout:
                    process.send_signal(signal.SIGINT)  # fails, and undoes what it changed
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.write("\n")
                    process.stdin.flush()
        process.wait()
        output = "".join(lines)
        with self.lock:
            self.running.discard(process)
        log.write_text(f"$ {' '.join(command)}\n{output}")
        if process.returncode:
            with self.lock:
                if not self.failed:
                    self.failed = f"{name} failed (bench/out/{log.relative_to(OUT)}):\n{output}"
                for other in self.running:
                    other.send_signal(signal.SIGINT)  # each undoes what it changed
            raise SystemExit(self.failed)
        print(f"  {name:<24} {time.monotonic() - began:5.0f} s", flush=True)
        return output

    def queries(self, request):
        """The request's queries, five times after the warm-up, without valgrind."""
        args = [*request.args, "--queries", "--requests", "5"]
        output = self.profile(f"{request.key} queries", args)
        request.queries = found(r"^(\S+) queries per request", output)
        request.control = found(r"queries per request \((\S+) of them", output)

    def instructions(self, request, n):
        """The instructions of `n` requests, after the setup and warm-up (not counted)."""
        args = [*request.args, "--requests", str(n)]
        output = self.profile(f"{request.key} instructions", args, callgrind=True)
        request.instructions = int(found(r"Collected : (\d+)", output)) / n


def found(pattern, output):
    match = re.search(pattern, output, re.MULTILINE)
    if not match:
        raise SystemExit(f"bench.instructions: no {pattern!r} in:\n{output}")
    return match[1]


def measure(runner, requests, n, jobs):
    """Each request's queries, then its instructions: two runs at a time, the booking's and the
    cancel's one after the other."""
    for request in requests:
        runner.queries(request)

    def lane(runs):
        for request in runs:
            runner.instructions(request, n)

    changing = [r for r in requests if r.changes]
    lanes = [changing] if changing else []  # the longest, first
    lanes += [[r] for r in requests if not r.changes]
    with ThreadPoolExecutor(jobs) as pool:
        for future in [pool.submit(lane, runs) for runs in lanes]:
            future.result()  # a failure's SystemExit, once the others are interrupted


def report(requests, n, quick, started_machine):
    floor = next((r for r in requests if r.key == "floor"), None)
    data = "the quick data (100k reservations)" if quick else "the 1M-reservation data"
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, on "
        f"{started_machine}.",
        "",
        f"Instructions per request, Python's work only (callgrind, {n} requests after "
        f"{WARM_UP} to warm up, on {data}; the same for the same code and data whatever the "
        "machine is doing), and queries per request (counted without valgrind: every statement "
        "sent, transaction control included, and in brackets how many of them that is).",
        "",
        "| request | million instructions | against the floor | queries |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in requests:
        against = f"{r.instructions / floor.instructions:.1f}×" if floor else ""
        queries = spell_queries(r.queries, r.control)
        lines.append(f"| {r.label} | {r.instructions / 1e6:.2f} | {against} | {queries} |")
    targets = []
    for r in requests:
        if r.key in TARGET_QUERIES:
            limit = TARGET_QUERIES[r.key]
            ok = max(int(q) for q in r.queries.split("–")) <= limit
            state = "met" if ok else "not met"
            queries = spell_queries(r.queries, r.control)
            targets.append(
                f"- {r.key.capitalize()} queries ≤ {limit}: {queries}, **target {state}**."
            )
    if targets:
        lines += ["", *targets]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int, default=100, help="of each kind, counted")
    parser.add_argument(
        "--only", action="append", help="only the requests whose name contains this"
    )
    parser.add_argument("--path", help="one page instead (GET; {client}: the patient's id)")
    parser.add_argument("--heavy", action="store_true", help="with --path: heavy patients")
    parser.add_argument("--full", action="store_true", help="with --path: full calendars")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="runs at once")
    parser.add_argument("--write-doc", action=argparse.BooleanOptionalAction)
    opts = parser.parse_args()
    if opts.path:
        args = ["--path", opts.path] + ["--heavy"] * opts.heavy + ["--full"] * opts.full
        requests = [Request(opts.path, f"`{opts.path}`", args)]
    else:
        requests = [
            r
            for r in requests_measured()
            if not opts.only or any(part in r.key for part in opts.only)
        ]
    write_doc = opts.write_doc if opts.write_doc is not None else not opts.quick
    write_doc = write_doc and not opts.only and not opts.path
    need_valgrind()
    LOGS.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    started_machine = machine()
    print(
        f"Instructions per request under callgrind, {opts.requests} requests each "
        f"({', '.join(r.key for r in requests)}); output in bench/out/instructions/"
    )
    measure(Runner(opts.quick), requests, opts.requests, opts.jobs)
    table = report(requests, opts.requests, opts.quick, started_machine)
    print()
    print(table)
    (OUT / ("instructions-quick.md" if opts.quick else "instructions.md")).write_text(table)
    if write_doc:
        write_doc_block(START, END, table)
    print(f"Done in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
