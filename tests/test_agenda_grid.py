"""The agenda's week as a grid of hours (a desktop's; agenda/grid.py), through HTTP: each session in
its day's column, from its start's row for as many rows as it lasts; cancelled ones left out of
the grid and listed below it; time off shaded with its label; another professional's sessions
never; the same queries for 1 session as for 30. And the count of pending requests, swapped out
of band when one is confirmed or declined."""

import re
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ProfessionalProfile
from reservations.models import Reservation
from scheduling.models import TimeOff, WorkingHours

from .conftest import csrf_client, make_user
from .test_agenda import html_of, post

pytestmark = pytest.mark.django_db

ART = ZoneInfo("America/Argentina/Buenos_Aires")
MONDAY = datetime(2026, 3, 9).date()  # the week of NOW (Tuesday 10 March, 12:00 here)


def at(day, hour, minute=0, zone=ART):
    """A time in the week of NOW: day 0 is Monday 9 March."""
    return datetime.combine(MONDAY + timedelta(days=day), time(hour, minute), tzinfo=zone)


class _Table(HTMLParser):
    """The grid's cells as a browser places them: each cell in the first column its row has free
    (rowspans above take theirs), with its rows, text and the ids inside it."""

    def __init__(self):
        super().__init__()
        self.slot = None
        self.head, self.body = [], []
        self.section = self.cell = None
        self.done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.done:
            return
        if tag == "table" and "agenda-grid" in (attrs.get("class") or "").split():
            self.slot = int(re.search(r"agenda-grid--slot-(\d+)", attrs["class"]).group(1))
        elif self.slot is None:
            return
        elif tag in ("thead", "tbody"):
            self.section = self.head if tag == "thead" else self.body
        elif tag == "tr" and self.section is not None:
            self.section.append([])
        elif tag in ("td", "th") and self.section is not None:
            classes = (attrs.get("class") or "").split()
            self.cell = {"tag": tag, "rows": int(attrs.get("rowspan", 1)), "classes": classes}
            self.cell.update(text="", ids=[])
            self.section[-1].append(self.cell)
        elif self.cell is not None and attrs.get("id"):
            self.cell["ids"].append(attrs["id"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cell = None
        elif tag == "table" and self.slot is not None:
            self.done = True  # one grid per page

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data


class Grid:
    def __init__(self, html):
        table = _Table()
        table.feed(html)
        assert table.slot, "no grid on the page"
        self.slot = table.slot
        self.days = [" ".join(c["text"].split()) for c in table.head[0][1:]]
        taken = set()
        self.cells = []
        for i, row in enumerate(table.body):
            column = 0
            for cell in row:
                while (i, column) in taken:
                    column += 1
                taken.update((i + k, column) for k in range(cell["rows"]))
                cell.update(row=i, column=column)
                self.cells.append(cell)
        first = table.body[0][0]
        assert first["tag"] == "th"
        self.first = datetime.strptime(first["text"].strip(), "%H:%M").time()
        self.rows = len(table.body)
        # Every row has one cell in each of the 8 columns (the hours and 7 days), no more.
        assert len(taken) == self.rows * 8 and max(c for _r, c in taken) == 7

    def block(self, r):
        (cell,) = [c for c in self.cells if f"grid-{r.pk}" in c["ids"]]
        return cell

    def when(self, cell):
        """(weekday, "HH:MM" of the cell's first row, minutes it spans)."""
        minutes = self.first.hour * 60 + self.first.minute + cell["row"] * self.slot
        return (
            cell["column"] - 1,
            f"{minutes // 60:02d}:{minutes % 60:02d}",
            cell["rows"] * self.slot,
        )

    def of_kind(self, kind, weekday):
        return [
            c
            for c in self.cells
            if f"agenda-grid__cell--{kind}" in c["classes"] and c["column"] == weekday + 1
        ]


@pytest.fixture
def pro(professional):
    return csrf_client(professional)


@pytest.fixture
def hours(professional):
    """Monday to Friday, 9 to 13 and 14 to 18."""
    for weekday in range(5):
        for start, end in ((9, 13), (14, 18)):
            WorkingHours.objects.create(
                professional=professional,
                weekday=weekday,
                start_time=time(start),
                end_time=time(end),
            )


def test_each_session_sits_in_its_day_from_its_start_for_its_length(
    pro, professional, patient, other_patient, make_reservation, hours, frozen_now
):
    monday = make_reservation(patient, at(0, 9), minutes=50)  # attended
    Reservation.objects.filter(pk=monday.pk).update(attended=True)
    wednesday = make_reservation(other_patient, at(2, 14, 30), minutes=50, status="PENDING")
    friday = make_reservation(patient, at(4, 17, 30), minutes=60, modality="Presencial")
    # Outside the working hours: it widens the grid to 20:00.
    sunday_night = make_reservation(other_patient, at(6, 19), minutes=60)
    cancelled = make_reservation(patient, at(3, 10), status="CANCELLED")
    ruiz = make_user("ruiz@example.com", first_name="Ruiz")
    ProfessionalProfile.objects.create(user=ruiz)
    theirs = make_reservation(patient, at(1, 10), pro=ruiz)

    html = html_of(pro.get("/agenda/"))
    grid = Grid(html)
    assert grid.days[0].startswith("lun 9") and grid.days[6].startswith("dom 15")
    assert "Hoy" in grid.days[1]  # Tuesday 10
    # From the earliest start (the hours' 9:00) to the latest end (Sunday's 20:00); rows of 10
    # minutes, since sessions end at 09:50 and 15:20.
    assert (grid.first, grid.rows * grid.slot) == (time(9), 11 * 60)
    assert grid.slot == 10
    assert grid.when(grid.block(monday)) == (0, "09:00", 50)
    assert grid.when(grid.block(wednesday)) == (2, "14:30", 50)
    assert grid.when(grid.block(friday)) == (4, "17:30", 60)
    assert grid.when(grid.block(sunday_night)) == (6, "19:00", 60)
    # Each block says its time, patient, state (in words, not only its colour) and modality.
    text = " ".join(grid.block(monday)["text"].split())
    assert "09:00–09:50 Lucía" in text and "Asistió · Virtual" in text
    assert "Pendiente · Virtual" in grid.block(wednesday)["text"]
    assert "Presencial" in grid.block(friday)["text"]
    assert f'href="/agenda/{monday.pk}/"' in html  # a block opens the session
    # A cancelled session frees its time: out of the grid, listed below it.
    assert f"grid-{cancelled.pk}" not in html
    listed = html[html.index("Cancelados esta semana") :]
    assert f'href="/agenda/{cancelled.pk}/"' in listed
    assert str(theirs.pk) not in html  # another professional's session, never
    # Outside the working hours is shaded: the lunch hour, and the weekend all day.
    (lunch,) = [c for c in grid.of_kind("closed", 0) if grid.when(c)[1] == "13:00"]
    assert grid.when(lunch) == (0, "13:00", 60)
    assert not grid.of_kind("free", 5) and not grid.of_kind("free", 6)


def test_time_off_is_shaded_with_its_label(
    pro, professional, patient, make_reservation, hours, frozen_now
):
    TimeOff.objects.create(
        professional=professional, start=at(3, 11), end=at(4, 10), reason="Congreso"
    )
    TimeOff.objects.create(professional=professional, start=at(0, 16), end=at(0, 17))
    inside = make_reservation(patient, at(3, 15))  # booked before the congress was set
    other_week = TimeOff.objects.create(
        professional=professional, start=at(8, 9), end=at(8, 18), reason="Vacaciones"
    )
    html = html_of(pro.get("/agenda/"))
    grid = Grid(html)
    assert grid.slot == 15
    shaded = [(grid.when(c), c["text"]) for c in grid.of_kind("off", 3)]
    # Thursday from 11 to the end of the day, around the session inside it; Friday until 10.
    assert shaded == [
        ((3, "11:00", 240), "Ausencia: Congreso"),
        ((3, "15:45", 135), "Ausencia: Congreso"),
    ]
    assert grid.when(grid.block(inside)) == (3, "15:00", 45)
    assert [(grid.when(c), c["text"]) for c in grid.of_kind("off", 4)] == [
        ((4, "09:00", 60), "Ausencia: Congreso")
    ]
    assert [(grid.when(c), c["text"]) for c in grid.of_kind("off", 0)] == [
        ((0, "16:00", 60), "Ausencia")
    ]
    assert other_week.reason not in html
    # Another professional's time off is theirs.
    ruiz = make_user("ruiz@example.com", first_name="Ruiz")
    TimeOff.objects.create(professional=ruiz, start=at(1, 9), end=at(1, 18), reason="Viaje")
    assert "Viaje" not in html_of(pro.get("/agenda/"))


def test_without_hours_or_sessions_the_grid_shows_a_day_from_8_to_20(pro, frozen_now):
    grid = Grid(html_of(pro.get("/agenda/?date=2026-03-11")))
    assert (grid.first, grid.rows * grid.slot, grid.slot) == (time(8), 12 * 60, 60)
    assert not any("agenda-grid__cell--closed" in c["classes"] for c in grid.cells)


def test_odd_minutes_round_to_five_and_never_overlap(
    pro, patient, other_patient, make_reservation, frozen_now
):
    first = make_reservation(patient, at(0, 10, 7), minutes=41)  # 10:07–10:48
    second = make_reservation(other_patient, at(0, 10, 49), minutes=30)  # 10:49–11:19
    grid = Grid(html_of(pro.get("/agenda/")))
    assert grid.slot == 5
    assert grid.when(grid.block(first)) == (0, "10:05", 45)
    # 10:49 rounds to 10:50, under the first block's end: it starts there.
    assert grid.when(grid.block(second)) == (0, "10:50", 30)


def test_the_grid_is_the_professionals_wall_clock_across_a_daylight_saving_change(
    professional, patient, make_reservation
):
    professional.time_zone = "Europe/Madrid"
    professional.save()
    madrid = ZoneInfo("Europe/Madrid")
    # Clocks go forward on Sunday 29 March 2026: 9:00 is 9:00 on both sides.
    saturday = make_reservation(patient, datetime(2026, 3, 28, 9, tzinfo=madrid))
    sunday = make_reservation(patient, datetime(2026, 3, 29, 9, tzinfo=madrid))
    grid = Grid(html_of(csrf_client(professional).get("/agenda/?date=2026-03-28")))
    assert grid.when(grid.block(saturday)) == (5, "09:00", 45)
    assert grid.when(grid.block(sunday)) == (6, "09:00", 45)


def test_the_grid_queries_do_not_grow_with_the_sessions(
    pro, professional, patient, other_patient, hours, frozen_now
):
    TimeOff.objects.create(professional=professional, start=at(2, 9), end=at(2, 13), reason="X")

    def week_of(count):
        Reservation.objects.all().delete()
        Reservation.objects.bulk_create(
            Reservation(
                client=(patient, other_patient)[i % 2],
                professional=professional,
                start_time=at(i % 7, 8 + i // 7),
                end_time=at(i % 7, 8 + i // 7, 45),
                status=("CONFIRMED", "PENDING", "CANCELLED")[i % 3],
            )
            for i in range(count)
        )
        with CaptureQueriesContext(connection) as ctx:
            html = html_of(pro.get("/agenda/"))
        return len(ctx.captured_queries), html.count('<a id="grid-')

    pro.get("/agenda/")  # the first visit also marks the session (the menu's "Agenda")
    one, drawn = week_of(1)
    assert drawn == 1
    thirty, drawn = week_of(30)
    assert drawn == 20  # the cancelled ones are listed, not drawn
    # session, user, professional profile, their second factor, pending requests, the week, its
    # working hours, the practice's closures, its time off, the payments of the sessions listed
    assert one == thirty == 10


# The count of pending requests


@pytest.fixture
def three_requests(patient, other_patient, make_reservation, frozen_now):
    return [
        make_reservation(client, at(day, 10), status="PENDING")
        for client, day in ((patient, 2), (other_patient, 3), (patient, 4))
    ]


def count_of(html):
    match = re.search(
        r'<span id="pending-count" class="count"( hx-swap-oob="true")?>(.*?)</span>', html
    )
    assert match, "no count"
    return match.group(2), bool(match.group(1))


def test_confirm_and_decline_answer_the_count_out_of_band(pro, three_requests):
    assert count_of(html_of(pro.get("/agenda/"))) == ("(3)", False)
    first, second, third = three_requests

    html = html_of(
        post(pro, f"/agenda/{first.pk}/confirm/", htmx=True, date="2026-03-10", shown_in="pending")
    )
    assert count_of(html) == ("(2)", True)
    first.refresh_from_db()
    assert first.status == "CONFIRMED"
    # Its block in the grid, confirmed, in place.
    block = re.search(rf'<a id="grid-{first.pk}"[^>]*hx-swap-oob="true">.*?</a>', html, re.S)
    assert block and "Confirmado" in block.group(0)

    html = html_of(
        post(
            pro,
            f"/agenda/{second.pk}/decline/",
            htmx=True,
            date="2026-03-10",
            shown_in="pending",
            reason="Ese día no atiendo",
        )
    )
    assert count_of(html) == ("(1)", True)
    second.refresh_from_db()
    assert (second.status, second.cancellation_reason) == ("CANCELLED", "Ese día no atiendo")

    # Refused (a reason is needed): the count stays, the request too.
    html = html_of(
        post(pro, f"/agenda/{third.pk}/decline/", htmx=True, date="2026-03-10", shown_in="pending")
    )
    assert count_of(html) == ("(1)", True)
    third.refresh_from_db()
    assert third.status == "PENDING"

    html = html_of(
        post(pro, f"/agenda/{third.pk}/confirm/", htmx=True, date="2026-03-10", shown_in="pending")
    )
    assert count_of(html) == ("", True)  # none left: the count goes away
    assert count_of(html_of(pro.get("/agenda/"))) == ("", False)
    assert "No tenés pedidos esperando respuesta." in html_of(pro.get("/agenda/"))


def test_the_count_is_of_the_professionals_own_requests(
    pro, patient, make_reservation, three_requests
):
    ruiz = make_user("ruiz@example.com", first_name="Ruiz")
    ProfessionalProfile.objects.create(user=ruiz)
    make_reservation(patient, at(5, 10), status="PENDING", pro=ruiz)
    html = html_of(
        post(
            pro,
            f"/agenda/{three_requests[0].pk}/confirm/",
            htmx=True,
            date="2026-03-10",
            shown_in="pending",
        )
    )
    assert count_of(html) == ("(2)", True)


def test_a_closed_day_is_shaded_whole_with_its_name(pro, hours, settings, frozen_now):
    from scheduling.models import Closure

    day = at(2, 9).date()
    Closure.objects.create(name="Mudanza del consultorio", first_day=day, last_day=day)
    grid = Grid(html_of(pro.get("/agenda/")))
    shaded = grid.of_kind("off", 2)
    assert shaded and all(c["text"] == "Mudanza del consultorio" for c in shaded)
    assert not grid.of_kind("off", 1)
