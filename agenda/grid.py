"""The agenda's week as a desktop sees it: days as columns, hours as rows, each session a block as
long as it lasts, time off shaded with its label.

Laid out here as a table whose cells say how many rows they span (rowspan): the page needs no
script and no inline style (the Content-Security-Policy forbids both), and a screen reader reads
a table with its headers. Everything is wall-clock time in the viewer's zone, like the rest of the
agenda: a session at 9:00 sits on the 9:00 row on both sides of a daylight-saving change.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from math import gcd

from django.utils import timezone

# The hours shown when nothing says which: no working hours and no session this week.
DEFAULT_HOURS = (8, 20)
# Times are placed to the nearest 5 minutes: a row per minute would make a page of a thousand
# rows for one session at 10:07. The block's text still says the exact time.
STEP = 5
DAY = 24 * 60


@dataclass(frozen=True)
class Shade:
    """A stretch of time the grid shades, and what it is ("Time off: congress")."""

    start: datetime
    end: datetime
    label: str


@dataclass
class Cell:
    kind: str  # "session", "off" (shaded), "closed" (outside working hours) or "free"
    rows: int
    hour: bool  # begins on the hour, so it draws the hour's line
    today: bool
    session: object = None
    label: str = ""


@dataclass
class Row:
    time: str  # "09:30"
    hour_rows: int  # on an hour's first row, how many rows its header spans; else 0
    cells: list  # the cells that begin on this row, in the days' order


@dataclass
class Grid:
    slot: int  # minutes a row stands for: 60, 30, 15, 10 or 5
    rows: list


def _round(minutes):
    return (minutes + STEP // 2) // STEP * STEP


def _minutes(value, day, zone):
    """Wall-clock minutes of `value` since `day`'s midnight, within that day."""
    local = timezone.localtime(value, zone)
    if local.date() < day:
        return 0
    if local.date() > day:
        return DAY
    return local.hour * 60 + local.minute


def _of(value):
    return value.hour * 60 + value.minute


def build(days, sessions, hours, shades, zone):
    """The grid of `days` (the week's Day rows, Monday first). `sessions`: the week's sessions to
    draw, by start; `hours`: (weekday, start, end) of every working range; `shades`: Shade rows.

    The rows run from the earliest start of a working range or session to the latest end, in
    whole hours; a row is as long as the times on the page need (every range and session at :00
    or :30 gives half hours). Sessions never overlap (the database refuses it), so each day is
    one column of cells that never collide."""
    by_day = {d.day: [] for d in days}
    for r in sessions:
        day = timezone.localtime(r.start_time, zone).date()
        if day in by_day:
            by_day[day].append(
                (r, _minutes(r.start_time, day, zone), _minutes(r.end_time, day, zone))
            )
    worked = {}
    for weekday, start, end in hours:
        worked.setdefault(weekday, []).append((_of(start), _of(end)))
    off = {}
    for d in days:
        midnight = datetime.combine(d.day, time.min, tzinfo=zone)
        off[d.day] = [
            (_minutes(s.start, d.day, zone), _minutes(s.end, d.day, zone), s.label)
            for s in shades
            if s.start < midnight + timedelta(days=1) and s.end > midnight
        ]

    edges = [m for ranges in worked.values() for span in ranges for m in span]
    edges += [m for spans in by_day.values() for _r, start, end in spans for m in (start, end)]
    if edges:
        first, last = min(edges) // 60 * 60, -(-max(edges) // 60) * 60
    else:
        first, last = DEFAULT_HOURS[0] * 60, DEFAULT_HOURS[1] * 60

    def clip(m):
        return min(max(_round(m), first), last)

    slot = 60
    for m in edges + [m for spans in off.values() for a, b, _label in spans for m in (a, b)]:
        slot = gcd(slot, clip(m) % 60)
    count = (last - first) // slot

    def row(m):
        return (clip(m) - first) // slot

    def on_hour(i):
        return (first + i * slot) % 60 == 0

    columns = []
    for d in days:
        # Without any working hours (sessions made by hand, a series) no time is outside them.
        kind = [("closed" if worked else "free", "")] * count
        for start, end in worked.get(d.day.weekday(), []):
            kind[row(start) : row(end)] = [("free", "")] * (row(end) - row(start))
        for start, end, label in off[d.day]:
            kind[row(start) : row(end)] = [("off", label)] * (row(end) - row(start))
        blocks, floor = {}, 0
        for r, start, end in by_day[d.day]:
            # Two sessions 3 minutes apart round onto one row: the later one starts below.
            top = max(row(start), floor)
            bottom = min(max(row(end), top + 1), count)
            if top < count:
                blocks[top] = (r, bottom - top)
                floor = bottom
        cells, i = {}, 0
        while i < count:
            if i in blocks:
                r, span = blocks[i]
                cells[i] = Cell("session", span, on_hour(i), d.today, session=r)
                i += span
                continue
            # A stretch of one kind, one cell; a shaded one stays whole so its label is read
            # once, the others end at each hour so the hours' lines run across the week.
            j = i + 1
            while (
                j < count
                and j not in blocks
                and kind[j] == kind[i]
                and (kind[i][0] == "off" or not on_hour(j))
            ):
                j += 1
            cells[i] = Cell(kind[i][0], j - i, on_hour(i), d.today, label=kind[i][1])
            i = j
        columns.append(cells)

    per_hour = 60 // slot
    rows = []
    for i in range(count):
        m = first + i * slot
        rows.append(
            Row(
                f"{m // 60:02d}:{m % 60:02d}",
                per_hour if m % 60 == 0 else 0,
                [cells[i] for cells in columns if i in cells],
            )
        )
    return Grid(slot, rows)
