"""The professional's agenda: their own sessions, the pending requests first, and the doors onto
the rules of reservations.models (confirm, decline, cancel, attendance, notes). No rule lives
here: each view finds the session, asks the model to act, and says what happened."""

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import ProfessionalProfile, ProfileChange
from audit.log import record, refused, viewed
from audit.models import AccessLog
from privacy import export as privacy_export
from privacy import responses as privacy_responses
from reservations.actions import Actor, Channel
from reservations.models import Reservation, Status
from reservations.texts import long_date, turn_time
from scheduling import closures
from scheduling.absences import SessionsInside, cancelled_text
from scheduling.models import TimeOff, Weekday, WorkingHours, delete_schedule, save_schedule
from series import flow, texts
from series.models import SkippedOccurrence
from series.planning import ClashKind
from series.services import create_series, preview_series

from . import grid, money
from .forms import (
    NotesForm,
    PaymentPolicyForm,
    ProfileForm,
    SeriesForm,
    SeriesMoveForm,
    TimeOffForm,
    WorkingHoursForm,
)

logger = logging.getLogger("turnos.security")

# Set in the session when a professional opens their agenda, so the pages' navigation can offer
# "Agenda" without a query on every page (the patient's dashboard has a fixed query budget).
# Only a hint for the menu: every agenda view checks the profile itself.
SESSION_KEY = "agenda"

# Requests waiting longer than this many at once are not all listed; the page says so.
PENDING_LIMIT = 50

# A session held for its patient's payment is not a request: neither confirmed nor declined from
# here (cancelled, if need be, like any session of theirs).
WAITING_FOR_PAYMENT = gettext_noop(
    "This session is waiting for its patient's payment: until it is paid there is nothing to "
    "confirm or decline. To free its time, cancel it."
)

# ?date= outside these years is a typo, not a week anyone plans (and keeps the date arithmetic
# far from datetime's limits).
YEARS = range(1900, 2201)
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def professional_required(view):
    """Logged in (else the login page) and a professional (else the site's 403)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            if request.htmx:
                login_url = reverse("account_login") + "?next=" + reverse("agenda")
                return HttpResponseClientRedirect(login_url)
            # After logging in, a POST's URL would answer 405: come back to the agenda instead.
            back = request.get_full_path() if request.method == "GET" else reverse("agenda")
            return redirect_to_login(back)
        if not hasattr(user, "professional_profile"):
            request.session.pop(SESSION_KEY, None)
            raise PermissionDenied
        if not request.session.get(SESSION_KEY):
            request.session[SESSION_KEY] = True
        return view(request, *args, **kwargs)

    return wrapper


def _as_professional(request):
    """Who acts on this door: the logged-in professional, in their agenda."""
    return Actor.professional(request.user, Channel.AGENDA)


def _get_session_for_professional(request, pk):
    # Another professional's session and a missing one are the same 404 (and the same log line).
    try:
        return (
            Reservation.objects.with_people()
            # With the weekly series it belongs to, if any (the series app's reverse relation).
            .select_related("client", "occurrence__series")
            .get(pk=pk, professional=request.user)
        )
    except Reservation.DoesNotExist:
        logger.warning("refused access to reservation %s", pk)
        refused(request, Reservation, pk, owner="client", where="agenda: session")
        raise Http404 from None


def parse_day(value, today):
    """The day ?date=YYYY-MM-DD names; today when it names none (missing, malformed, absurd)."""
    # fromisoformat also reads "20260310" and week dates; only the plain form is a link of ours.
    if not DATE_RE.fullmatch(value or ""):
        return today
    try:
        day = date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return today
    return day if day.year in YEARS else today


@dataclass
class Day:
    day: date
    label: str  # "martes 10 de marzo"
    abbr: str  # "mar"
    rows: list
    selected: bool
    today: bool

    @property
    def iso(self):
        return self.day.isoformat()


@dataclass
class Week:
    """The week (Monday to Sunday, in the viewer's zone) around the chosen day."""

    day: date
    today: date

    @property
    def monday(self):
        return self.day - timedelta(days=self.day.weekday())

    @property
    def dates(self):
        return [self.monday + timedelta(days=n) for n in range(7)]

    def bounds(self, zone):
        """The week's first and last instants as aware datetimes: a day of a daylight-saving
        change has 23 or 25 hours, so each end is midnight in the zone, not 7 × 24 h."""
        start = datetime.combine(self.monday, time.min, tzinfo=zone)
        end = datetime.combine(self.monday + timedelta(days=7), time.min, tzinfo=zone)
        return start, end

    def link(self, days):
        return "?date=" + (self.day + timedelta(days=days)).isoformat()

    # The navigation's links, for the template (which cannot pass link() its argument).

    @property
    def previous_week(self):
        return self.link(-7)

    @property
    def next_week(self):
        return self.link(7)

    @property
    def previous_day(self):
        return self.link(-1)

    @property
    def next_day(self):
        return self.link(1)

    @property
    def title(self):
        # Translators: "Semana del lunes 9 de marzo".
        return _("Week of %(day)s") % {
            "day": long_date(self.monday, with_year=self.monday.year != self.today.year)
        }


def _pending(professional, now):
    """The requests waiting for the professional's answer: pending, not yet started. A session
    held for its patient's payment is not one: nobody but the payment confirms it, and only once
    paid is it theirs to answer (confirmed, or a request when they approve bookings). It shows in
    the week, marked as waiting for payment."""
    return Reservation.objects.filter(
        professional=professional, status=Status.PENDING, start_time__gt=now
    ).exclude(awaiting_payment=True)


def _shaded(professional, first, last):
    """What the week's grid shades from day `first` to day `last` (both included), each with the
    label it shows: the days the practice is closed (holidays, closures: from one midnight to the
    next) and the professional's time off."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    closed = [
        grid.Shade(
            datetime.combine(day, time.min, tzinfo=zone),
            datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
            name,
        )
        for day, name in sorted(closures.closed_days(professional, first, last).items())
    ]
    away = [
        grid.Shade(
            t.start,
            t.end,
            _("Time off: %(reason)s") % {"reason": t.reason} if t.reason else _("Time off"),
        )
        for t in closures.absences(professional, start, end)
    ]
    return closed + away


# The agenda page: pending requests, session, user, profile check, the week, its working hours
# and time off, and the payments of the sessions listed. The same queries whatever the number of
# sessions (tests/test_agenda.py, tests/test_agenda_payments.py).
@never_cache
@professional_required
def agenda(request):
    now = timezone.now()
    zone = timezone.get_current_timezone()  # the professional's (accounts.middleware)
    today = timezone.localdate(now)
    week = Week(parse_day(request.GET.get("date"), today), today)
    start, end = week.bounds(zone)
    pending = list(
        _pending(request.user, now)
        # With the session each request to move one would replace (Reservation.replaces).
        .select_related("client", "rescheduled_from", *money.WITH_MONEY)
        .order_by("created_at", "id")[: PENDING_LIMIT + 1]
    )
    sessions = list(
        Reservation.objects.filter(
            professional=request.user, start_time__gte=start, start_time__lt=end
        )
        .select_related("client", *money.WITH_MONEY)
        .order_by("start_time", "id")
    )
    money.attach(pending + sessions, now)
    by_day = {d: [] for d in week.dates}
    for r in sessions:
        by_day[timezone.localdate(r.start_time)].append(r)
    days = [
        Day(
            d,
            long_date(d, with_year=d.year != today.year),
            str(WEEKDAYS_ABBR[d.weekday()]),
            rows,
            d == week.day,
            d == today,
        )
        for d, rows in by_day.items()
    ]
    # A desktop sees the week as a grid of hours (a phone, the list of each day, from the same
    # page: CSS picks one). A cancelled session frees its time, so the grid leaves it out and
    # lists it below.
    hours = WorkingHours.objects.filter(professional=request.user)
    ctx = {
        "now": now,
        "week": week,
        "days": days,
        "grid": grid.build(
            days,
            [r for r in sessions if r.status != Status.CANCELLED],
            hours.values_list("weekday", "start_time", "end_time"),
            _shaded(request.user, week.dates[0], week.dates[-1]),
            zone,
        ),
        "cancelled": [r for r in sessions if r.status == Status.CANCELLED],
        "pending": pending[:PENDING_LIMIT],
        "pending_count": min(len(pending), PENDING_LIMIT),
        "more_pending": len(pending) > PENDING_LIMIT,
    }
    return render(request, "agenda/week.html", ctx)


@never_cache
@professional_required
def session(request, pk):
    r = _get_session_for_professional(request, pk)
    viewed(request, r.client_id, r, where="agenda: session")
    now = timezone.now()
    return render(request, "agenda/session.html", _session_context(r, now, r.internal_notes))


def _session_context(r, now, notes, notes_error=""):
    day = timezone.localdate(r.start_time).isoformat()
    return {
        "now": now,
        "r": r,
        "money_details": money.details(money.attach_one(r, now)),
        "events": _events(r),
        "notes": notes,
        "notes_error": notes_error,
        "skipped": _skipped_ahead(r, now),
        # Back to the week (or, on a phone, the day) this session is in.
        "back_url": reverse("agenda") + "?date=" + day,
    }


def _skipped_ahead(r, now):
    """The dates ahead of this session's series that were left out for a clash: weeks the patient
    has no session. (text, the id of who agreed to skip it: None when the worker met the clash
    while extending the series and nobody has looked at it.)"""
    occurrence = getattr(r, "occurrence", None)
    if occurrence is None:
        return []
    today = timezone.localdate(now)
    rows = occurrence.series.skipped.filter(
        action=SkippedOccurrence.Action.CREATE, start__gte=now
    ).order_by("start")
    return [(_when(s.start, today), s.consented_by_id) for s in rows]


def _events(r):
    """Everything that happened to the session, oldest first: the professional reads it all."""
    return list(r.events.select_related("actor").order_by("at", "id"))


def _answer(request, r, now, refusal, done):
    """What an action answers. Without JavaScript: back where the form was, with a message.
    With htmx: the announcement (a live region) and the session again where it was, in its new
    state, so the page does not move."""
    message = str(refusal) if refusal else done
    shown_in = request.POST.get("from")
    if not request.htmx:
        messages.add_message(request, messages.ERROR if refusal else messages.SUCCESS, message)
        if shown_in == "session":
            return redirect("agenda_session", r.pk)
        day = parse_day(request.POST.get("date"), None)
        return redirect(reverse("agenda") + (f"?date={day.isoformat()}" if day else ""))
    ctx = {"now": now, "r": r, "result_message": message, "ok": not refusal}
    # The session drawn again says its money as the page did.
    account = money.attach_one(r, now)
    if shown_in == "session":
        ctx["events"] = _events(r)
        ctx["money_details"] = money.details(account)
        return render(request, "agenda/session.html#result", ctx)
    # The week on screen (the form says which) shows this session too when it falls in it.
    day = parse_day(request.POST.get("date"), None)
    if day:
        start, end = Week(day, day).bounds(timezone.get_current_timezone())
        ctx["in_week"] = start <= r.start_time < end
        ctx["day"] = day.isoformat()
    ctx["in_pending"] = shown_in == "pending"
    # The heading's count of requests goes down with each one answered.
    waiting = _pending(request.user, now)[: PENDING_LIMIT + 1].count()
    ctx["pending_count"] = min(waiting, PENDING_LIMIT)
    ctx["more_pending"] = waiting > PENDING_LIMIT
    return render(request, "agenda/week.html#result", ctx)


@never_cache
@require_POST
@professional_required
def confirm(request, pk):
    r = _get_session_for_professional(request, pk)
    now = timezone.now()
    if r.held_for_payment:
        # Reservation.confirm refuses it too; this says why.
        return _answer(request, r, now, _(WAITING_FOR_PAYMENT), "")
    confirmed = r.confirm(by=_as_professional(request), now=now)
    refusal = None if confirmed else _("This request is no longer pending")
    return _answer(request, r, now, refusal, _("Confirmed. The patient sees it as confirmed."))


@never_cache
@require_POST
@professional_required
def decline(request, pk):
    r = _get_session_for_professional(request, pk)
    now = timezone.now()
    if r.held_for_payment:
        return _answer(request, r, now, _(WAITING_FOR_PAYMENT), "")
    reason = request.POST.get("reason", "")
    refusal = r.decline(by=_as_professional(request), reason=reason, now=now)
    return _answer(request, r, now, refusal, _("Declined. The patient will read your reason."))


@never_cache
@require_POST
@professional_required
def cancel(request, pk):
    r = _get_session_for_professional(request, pk)
    now = timezone.now()
    reason = request.POST.get("reason", "")
    refusal = r.cancel(by=_as_professional(request), reason=reason, now=now)
    if r.late_cancellation:
        done = _(
            "Cancelled. Inside the notice, so it counts as a late cancellation by the practice."
        )
    else:
        done = _("Cancelled. The patient will read your reason.")
    return _answer(request, r, now, refusal, done)


@never_cache
@require_POST
@professional_required
def attendance(request, pk):
    r = _get_session_for_professional(request, pk)
    now = timezone.now()
    attended = {"yes": True, "no": False}.get(request.POST.get("attended"))
    if attended is None:
        refusal = _("Choose whether the patient attended.")
    else:
        refusal = r.record_attendance(attended, by=_as_professional(request), now=now)
    done = _("Marked as attended.") if attended else _("Marked as absent.")
    return _answer(request, r, now, refusal, done)


@never_cache
@require_POST
@professional_required
def notes(request, pk):
    r = _get_session_for_professional(request, pk)
    form = NotesForm(request.POST)
    if not form.is_valid():
        now = timezone.now()
        notes = form.data.get("notes", "").replace("\x00", "")
        ctx = _session_context(r, now, notes, form.errors["notes"][0])
        return render(request, "agenda/session.html", ctx, status=400)
    text = form.cleaned_data["notes"]
    if text != r.internal_notes:
        r.internal_notes = text
        r.change(["internal_notes"], by=_as_professional(request))
    messages.success(request, _("Notes saved."))
    return redirect("agenda_session", r.pk)


@never_cache
@professional_required
def settings_page(request):
    profile = request.user.professional_profile
    # The form writes into its instance while validating; update() must compare with what is
    # stored, so the form gets a copy of its own.
    form = ProfileForm(
        request.POST or None, instance=ProfessionalProfile.objects.get(pk=profile.pk)
    )
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in ProfileForm.Meta.fields}
        changed = profile.update(values, by=request.user)
        messages.success(request, _("Saved.") if changed else _("Nothing to save: no changes."))
        return redirect("agenda_settings")
    return render(request, "agenda/settings.html", _settings_context(request, form))


def _settings_context(request, form=None, policy_form=None):
    """The settings page: the profile, the payment policy (each form posts on its own; the one
    refused comes back bound) and what this month's sessions were paid."""
    if form is None:
        form = ProfileForm(instance=request.user.professional_profile)
    if policy_form is None:
        policy_form = PaymentPolicyForm(professional=request.user)
    return {
        "form": form,
        "policy_form": policy_form,
        "month": money.month_total(request.user, timezone.now()),
    }


@never_cache
@require_POST
@professional_required
def payment_policy(request):
    """The professional's own price and payment policy (payments.models.PaymentPolicy), made the
    first time it is saved. Whose it is comes from who is signed in, never from the form; the
    model's clean() refuses what does not add up, and then nothing is saved."""
    profile = request.user.professional_profile
    form = PaymentPolicyForm(request.POST, professional=request.user)
    if not form.is_valid():
        ctx = _settings_context(request, policy_form=form)
        return render(request, "agenda/settings.html", ctx, status=400)
    changes = form.changes()
    if changes:
        with transaction.atomic():
            form.save()
            # Recorded with the profile's changes: who changed what patients pay, and when.
            ProfileChange.objects.create(profile=profile, actor=request.user, changes=changes)
    messages.success(request, _("Saved.") if changes else _("Nothing to save: no changes."))
    return redirect(reverse("agenda_settings") + "#payments")


# Weekly hours and time off: the professional's own rows only. Another professional's id answers
# like a missing one (404); nothing of theirs is read or changed.


def _own_or_404(model, request, pk):
    try:
        return model.objects.get(pk=pk, professional=request.user)
    except model.DoesNotExist:
        logger.warning("refused access to %s %s", model._meta.model_name, pk)
        refused(request, model, pk, owner="professional", where="agenda: hours")
        raise Http404 from None


def _when(value, today):
    local = timezone.localtime(value)
    day = long_date(local.date(), with_year=local.year != today.year)
    return f"{day}, {turn_time(local)}"


def _hours_context(request, hours_form=None, time_off_form=None):
    now = timezone.now()
    today = timezone.localdate(now)
    pro = request.user
    ranges = {}
    for h in WorkingHours.objects.filter(professional=pro).order_by("weekday", "start_time"):
        ranges.setdefault(h.weekday, []).append(h)
    days = [(label, ranges.get(value, [])) for value, label in Weekday.choices]
    time_off = [
        (t, _when(t.start, today), _when(t.end, today))
        for t in TimeOff.objects.filter(professional=pro, end__gt=now).order_by("start", "id")
    ]
    return {
        "days": days,
        "time_off": time_off,
        "hours_form": hours_form or WorkingHoursForm(professional=pro),
        "time_off_form": time_off_form or TimeOffForm(professional=pro),
    }


@never_cache
@professional_required
def hours(request):
    """GET: the week's ranges and the time off ahead. POST: adds a range."""
    if request.method == "POST":
        form = WorkingHoursForm(request.POST, professional=request.user)
        if form.is_valid():
            save_schedule(form.save(commit=False), by=_as_professional(request))
            messages.success(request, _("Range added."))
            return redirect("agenda_hours")
        ctx = _hours_context(request, hours_form=form)
        return render(request, "agenda/hours.html", ctx, status=400)
    return render(request, "agenda/hours.html", _hours_context(request))


@never_cache
@require_POST
@professional_required
def hours_delete(request, pk):
    delete_schedule(_own_or_404(WorkingHours, request, pk), by=_as_professional(request))
    messages.success(request, _("Range deleted."))
    return redirect("agenda_hours")


@never_cache
@require_POST
@professional_required
def time_off_add(request):
    """Adds an absence. Sessions inside it are listed first (the form comes back with them); the
    next post, with the professional's decision, cancels them (each patient told why) or keeps
    them (scheduling/absences.py)."""
    form = TimeOffForm(request.POST, professional=request.user)
    if form.is_valid():
        try:
            cancelled = form.save_absence(by=_as_professional(request))
        except SessionsInside as exc:  # booked or cancelled since the list was drawn
            form.show(exc.sessions)
        else:
            messages.success(request, _("Time off added."))
            if cancelled:
                messages.info(request, cancelled_text(cancelled))
            return redirect("agenda_hours")
    ctx = _hours_context(request, time_off_form=form)
    return render(request, "agenda/hours.html", ctx, status=400)


@never_cache
@require_POST
@professional_required
def time_off_delete(request, pk):
    delete_schedule(_own_or_404(TimeOff, request, pk), by=_as_professional(request))
    messages.success(request, _("Time off deleted."))
    return redirect("agenda_hours")


# Weekly series, made and changed from the agenda with the series' own functions
# (series/services.py, Series.plan_move, Series.move_from, Series.cancel_from), as the admin does.
# Each change is shown first: every date with what it clashes with. A clashing date is skipped
# only when the professional ticks it, and the confirmation carries the digest of the plan they
# saw, so a plan that changed meanwhile is shown again, never saved.


def _clash_text(clash, professional):
    """A clash as the professional reads it: their own sessions and time off as theirs. The
    patient's session with another professional is the patient's to tell: the agenda says there is
    one, not with whom."""
    if clash.kind == ClashKind.PATIENT and clash.obj.professional_id != professional.pk:
        return _("The patient has another session then")
    if clash.kind in (ClashKind.PATIENT, ClashKind.PROFESSIONAL):
        return _("Your session with %(patient)s, %(when)s") % {
            "patient": clash.obj.client.name,
            "when": clash.when,
        }
    if clash.kind == ClashKind.TIME_OFF:
        return _("Your time off (%(reason)s), %(when)s") % {
            "reason": clash.obj.reason or _("no reason given"),
            "when": clash.when,
        }
    return str(clash)


def _plan_rows(plan, professional, now, current=None):
    """What a preview lists for each date: (planned, its span, the clashes' texts, where the
    session is now when it is being moved)."""
    today = timezone.localdate(now)
    current = current or {}
    return [
        (
            p,
            f"{_when(p.start, today)} – {turn_time(p.end)}",
            [_clash_text(c, professional) for c in p.clashes],
            _when(current[p.index], today) if p.index in current else None,
        )
        for p in plan
    ]


def _prefill_from(request, pk):
    """A series like this session (one of theirs): same patient, weekday, time, length and
    modality, from the week after (the session itself stays as it is, outside the series)."""
    r = _get_session_for_professional(request, pk)
    start = timezone.localtime(r.start_time)
    return {
        "client": r.client_id,
        "weekday": start.weekday(),
        "local_time": start.time().replace(second=0, microsecond=0),
        "minutes": r.duration_minutes,
        "session_modality": r.session_modality,
        "interval_weeks": 1,
        "starts_on": start.date() + timedelta(days=7),
    }


@never_cache
@professional_required
def series_new(request):
    """GET: the form (prefilled from ?session=, a session of theirs). POST: the preview of every
    date up to the horizon with its clashes; POST with `_confirm`: the series, created."""
    now = timezone.now()
    session_id = request.GET.get("session")
    if session_id:
        try:
            initial = _prefill_from(request, uuid.UUID(session_id))
        except ValueError:
            raise Http404 from None
    else:
        initial = {"interval_weeks": 1, "starts_on": timezone.localdate(now)}
    data = request.POST if request.method == "POST" else None
    form = SeriesForm(data, initial=initial, professional=request.user)
    step = None
    if form.is_bound and form.is_valid():
        fields = form.series_fields()
        try:
            _series, plan = preview_series(now=now, **fields)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            by = _as_professional(request)
            step = flow.step(
                request.POST,
                plan,
                lambda skip: create_series(**fields, by=by, skip_clashes=skip, now=now),
                confirming="_confirm" in request.POST,
            )
            if step.done is not None:
                series = step.done
                messages.success(request, texts.created(series.occurrences.count()))
                return redirect(reverse("agenda") + f"?date={series.anchor_date.isoformat()}")
    ctx = {"form": form, **_plan_context(step, request.user, now)}
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "agenda/series_new.html", ctx, status=status)


def _plan_context(step, professional, now, current=None):
    """What the plan's partial shows of a step of the series flow (nothing before a preview)."""
    if step is None:
        return {"rows": None}
    return {
        "rows": _plan_rows(step.plan, professional, now, current),
        "clashing": len(step.clashing),
        "digest": step.digest,
        "error": step.error,
        "ticked": step.ticked,
    }


def _get_occurrence_for_professional(request, pk):
    """The session (one of theirs) and its place in a series; a session of theirs outside any
    series is the same 404 as a missing one."""
    r = _get_session_for_professional(request, pk)
    occurrence = getattr(r, "occurrence", None)
    if occurrence is None:
        raise Http404
    return r, occurrence


@never_cache
@professional_required
def series_cancel(request, pk):
    """GET: the sessions "cancel this and later" would cancel. POST (with a reason the patient
    reads): cancels them, as the professional, and ends the series."""
    r, occurrence = _get_occurrence_for_professional(request, pk)
    series = occurrence.series
    if request.method == "GET":
        viewed(request, r.client_id, series, where="agenda: series cancel")
    now = timezone.now()
    reason_error = ""
    if request.method == "POST":
        result = series.cancel_from(
            occurrence.index,
            by=_as_professional(request),
            reason=request.POST.get("reason", ""),
            now=now,
        )
        if result.refusal is None:
            messages.success(request, texts.cancelled(len(result.cancelled)))
            return redirect("agenda_session", r.pk)
        reason_error = str(result.refusal)
    today = timezone.localdate(now)
    sessions = [
        (o.reservation, _when(o.reservation.start_time, today))
        for o in series.upcoming_from(occurrence.index, now)
    ]
    ctx = {
        "now": now,
        "r": r,
        "series": series,
        "sessions": sessions,
        "reason": request.POST.get("reason", ""),
        "reason_error": reason_error,
    }
    return render(request, "agenda/series_cancel.html", ctx, status=400 if reason_error else 200)


@never_cache
@professional_required
def series_move(request, pk):
    """GET: the series' weekday, time and length to change. POST: each session from this one on
    at its new time, with its clashes; POST with `_confirm`: moved."""
    r, occurrence = _get_occurrence_for_professional(request, pk)
    series = occurrence.series
    if request.method == "GET":
        viewed(request, r.client_id, series, where="agenda: series move")
    now = timezone.now()
    data = request.POST if request.method == "POST" else None
    form = SeriesMoveForm(data, initial=SeriesMoveForm.initial_for(series))
    step, current = None, None
    if form.is_bound and form.is_valid():
        rule = (form.cleaned_data["weekday"], form.cleaned_data["local_time"])
        minutes = form.cleaned_data["minutes"]
        _moved, pairs = series.plan_move(occurrence.index, *rule, now, minutes)
        # Each date beside where its session is now.
        current = {o.index: o.reservation.start_time for o, _ in pairs}

        def move(skip):
            return series.move_from(
                occurrence.index,
                *rule,
                by=_as_professional(request),
                now=now,
                skip_clashes=skip,
                minutes=minutes,
            )

        try:
            step = flow.step(
                request.POST, [p for _, p in pairs], move, confirming="_confirm" in request.POST
            )
        except ValidationError as exc:  # the series ended meanwhile
            step = flow.Step(plan=[p for _, p in pairs], digest="", ticked=set())
            step.error = " ".join(exc.messages)
        if step.done is not None:
            messages.success(request, texts.moved(len(step.done)))
            return redirect("agenda_session", r.pk)
    ctx = {
        "now": now,
        "r": r,
        "series": series,
        "form": form,
        **_plan_context(step, request.user, now, current),
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "agenda/series_move.html", ctx, status=status)


# A patient's data, when they ask their professional for it (Ley 25.326 art. 14, Ley 26.529):
# what concerns their sessions with this professional (privacy/export.py), as the JSON file or
# (?as=page) the readable page to print. Only one of their own patients (anyone with a session
# with them); anyone else is the same 404 as a missing id. Written to the access log.


@professional_required
@reauthentication_required
def patient_export(request, pk):
    patient = (
        get_user_model()
        .objects.filter(pk=pk, reservations__professional=request.user)
        .distinct()
        .first()
    )
    if patient is None:
        logger.warning("refused export of patient %s", pk)
        raise Http404
    data = privacy_export.build(patient, professional=request.user, practice=True)
    record(request, AccessLog.Kind.EXPORT, subject=patient, obj=patient, where="agenda: export")
    url = reverse("agenda_patient_export", args=[patient.pk])
    if request.GET.get("as") == "page":
        back = request.GET.get("back", "")
        if not back.startswith("/agenda/"):
            back = reverse("agenda")
        return privacy_responses.page(request, patient, data, back_url=back, json_url=url)
    return privacy_responses.json_file(patient, data)
