"""The professional's agenda: their own sessions, the pending requests first, and the doors onto
the rules of reservations.models (confirm, decline, cancel, attendance, notes). No rule lives
here: each view finds the session, asks the model to act, and says what happened."""

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import ProfessionalProfile
from reservations.models import Channel, Reservation, Status
from reservations.templatetags.turnos import long_date, turn_day_of, turn_time
from reservations.templating import render_fragment
from scheduling.models import TimeOff, Weekday, WorkingHours

from .forms import NotesForm, ProfileForm, TimeOffForm, WorkingHoursForm

logger = logging.getLogger("turnos.security")

# Set in the session when a professional opens their agenda, so the pages' navigation can offer
# "Agenda" without a query on every page (the patient's dashboard has a fixed query budget).
# Only a hint for the menu: every agenda view checks the profile itself.
SESSION_KEY = "agenda"

# Requests waiting longer than this many at once are not all listed; the page says so.
PENDING_LIMIT = 50

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


def _get_session_for_professional(request, pk):
    # Another professional's session and a missing one are the same 404 (and the same log line).
    try:
        return (
            Reservation.objects.with_people()
            .select_related("client")
            .get(pk=pk, professional=request.user)
        )
    except Reservation.DoesNotExist:
        logger.warning("refused access to reservation %s", pk)
        raise Http404 from None


def patient_name(user):
    return user.get_full_name() or user.email


def cancel_question(r, now):
    """What the confirmation dialog asks before the professional cancels a session."""
    return _("Cancel the session with %(name)s %(of_day)s, %(start)s? This cannot be undone.") % {
        "name": patient_name(r.client),
        "of_day": turn_day_of(r.start_time, now),
        "start": turn_time(r.start_time),
    }


def _texts(now):
    # Helpers the templates call: the Jinja environment is the patient pages' (reservations).
    return {
        "now": now,
        "patient_name": patient_name,
        "cancel_question": cancel_question,
    }


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

    @property
    def title(self):
        # Translators: "Semana del lunes 9 de marzo".
        return _("Week of %(day)s") % {
            "day": long_date(self.monday, with_year=self.monday.year != self.today.year)
        }


# The agenda page: pending requests, session, user, profile check, the week. The same five
# queries whatever the number of sessions (tests/test_agenda.py).
@never_cache
@professional_required
def agenda(request):
    now = timezone.now()
    zone = timezone.get_current_timezone()  # the professional's (accounts.middleware)
    today = timezone.localdate(now)
    week = Week(parse_day(request.GET.get("date"), today), today)
    start, end = week.bounds(zone)
    mine = Reservation.objects.filter(professional=request.user).select_related("client")
    pending = list(
        mine.filter(status=Status.PENDING, start_time__gt=now).order_by("created_at", "id")[
            : PENDING_LIMIT + 1
        ]
    )
    by_day = {d: [] for d in week.dates}
    for r in mine.filter(start_time__gte=start, start_time__lt=end).order_by("start_time", "id"):
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
    ctx = {
        **_texts(now),
        "week": week,
        "days": days,
        "pending": pending[:PENDING_LIMIT],
        "more_pending": len(pending) > PENDING_LIMIT,
    }
    return render(request, "agenda/week.html", ctx)


@never_cache
@professional_required
def session(request, pk):
    r = _get_session_for_professional(request, pk)
    now = timezone.now()
    return render(request, "agenda/session.html", _session_context(r, now, r.internal_notes))


def _session_context(r, now, notes, notes_error=""):
    day = timezone.localdate(r.start_time).isoformat()
    return {
        **_texts(now),
        "r": r,
        "events": _events(r),
        "notes": notes,
        "notes_error": notes_error,
        # Back to the week (or, on a phone, the day) this session is in.
        "back_url": reverse("agenda") + "?date=" + day,
    }


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
    ctx = {**_texts(now), "r": r, "result_message": message, "ok": not refusal}
    if shown_in == "session":
        ctx["events"] = _events(r)
        return render_fragment(request, "agenda/session.html", "result", ctx)
    # The week on screen (the form says which) shows this session too when it falls in it.
    day = parse_day(request.POST.get("date"), None)
    if day:
        start, end = Week(day, day).bounds(timezone.get_current_timezone())
        ctx["in_week"] = start <= r.start_time < end
        ctx["day"] = day.isoformat()
    ctx["in_pending"] = shown_in == "pending"
    return render_fragment(request, "agenda/week.html", "result", ctx)


def _reason_missing():
    return _("Write the reason: the patient will read it.")


@never_cache
@require_POST
@professional_required
def confirm(request, pk):
    r = _get_session_for_professional(request, pk)
    now = timezone.now()
    confirmed = r.confirm(by=request.user, channel=Channel.AGENDA, now=now)
    refusal = None if confirmed else _("This request is no longer pending")
    return _answer(request, r, now, refusal, _("Confirmed. The patient sees it as confirmed."))


@never_cache
@require_POST
@professional_required
def decline(request, pk):
    r = _get_session_for_professional(request, pk)
    now = timezone.now()
    reason = request.POST.get("reason", "")
    if not reason.strip():
        refusal = _reason_missing()
    else:
        refusal = r.decline(by=request.user, channel=Channel.AGENDA, reason=reason, now=now)
    return _answer(request, r, now, refusal, _("Declined. The patient will read your reason."))


@never_cache
@require_POST
@professional_required
def cancel(request, pk):
    r = _get_session_for_professional(request, pk)
    now = timezone.now()
    reason = request.POST.get("reason", "")
    if not reason.strip():
        refusal = _reason_missing()
    else:
        refusal = r.cancel(
            by=request.user,
            channel=Channel.AGENDA,
            reason=reason,
            now=now,
            by_professional=True,
        )
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
        refusal = r.record_attendance(attended, by=request.user, channel=Channel.AGENDA, now=now)
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
        r.change(["internal_notes"], by=request.user, channel=Channel.AGENDA)
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
    return render(request, "agenda/settings.html", {"form": form})


# Weekly hours and time off: the professional's own rows only. Another professional's id answers
# like a missing one (404); nothing of theirs is read or changed.


def _own_or_404(model, request, pk):
    try:
        return model.objects.get(pk=pk, professional=request.user)
    except model.DoesNotExist:
        logger.warning("refused access to %s %s", model._meta.model_name, pk)
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
            form.save()
            messages.success(request, _("Range added."))
            return redirect("agenda_hours")
        ctx = _hours_context(request, hours_form=form)
        return render(request, "agenda/hours.html", ctx, status=400)
    return render(request, "agenda/hours.html", _hours_context(request))


@never_cache
@require_POST
@professional_required
def hours_delete(request, pk):
    _own_or_404(WorkingHours, request, pk).delete()
    messages.success(request, _("Range deleted."))
    return redirect("agenda_hours")


@never_cache
@require_POST
@professional_required
def time_off_add(request):
    form = TimeOffForm(request.POST, professional=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, _("Time off added."))
        return redirect("agenda_hours")
    ctx = _hours_context(request, time_off_form=form)
    return render(request, "agenda/hours.html", ctx, status=400)


@never_cache
@require_POST
@professional_required
def time_off_delete(request, pk):
    _own_or_404(TimeOff, request, pk).delete()
    messages.success(request, _("Time off deleted."))
    return redirect("agenda_hours")
