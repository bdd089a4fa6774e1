"""The patient books a session (/book/) or moves one (/reservations/<id>/reschedule/): a
professional, a week of free slots, the modality, confirm. Plain links and forms; htmx only
swaps the week when moving between weeks. The rules are scheduling/booking.py's."""

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_ratelimit.decorators import ratelimit

from reservations.models import Channel, Modality, Reservation, Status
from reservations.templatetags.turnos import long_date, turn_day
from reservations.templating import render_fragment
from reservations.views import _get_reservation_for_client, login_required
from reservations_site.views import too_many_requests

from . import booking
from .models import WorkingHours
from .slots import free_slots, parse_day, slot_at, week_start


def _rate(group, request):
    # Read on each request, so a changed setting applies at once (tests change it).
    return settings.BOOKING_RATE_LIMIT


# Bookings and reschedules of one patient, counted together (only POSTs: browsing is free).
throttled = ratelimit(group="booking", key="user", rate=_rate, method="POST", block=False)


def _professional(request, pk):
    professional = booking.bookable_professional(request.user, pk)
    if professional is None:
        raise Http404
    return professional


def _slot_param(start):
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _parse_start(text):
    try:
        start = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


def _horizon(professional, now):
    weeks = WorkingHours.objects.filter(professional=professional).aggregate(
        weeks=Max("horizon_weeks")
    )["weeks"]
    return now + timedelta(weeks=weeks or 0)


def _week_context(request, professional, now, *, week=None, moving=None):
    """A week of `professional`'s free slots for the viewer, days in the viewer's zone: the week
    asked for (?week=), else the one with the first free slot."""
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now).date()
    exclude = moving.pk if moving is not None else None
    patient = request.user
    asked = parse_day(request.GET.get("week"), None) if week is None else week
    if asked is None:
        # The first week with a free slot: one computation up to the horizon.
        slots = free_slots(
            professional,
            today,
            today + timedelta(days=366),
            now=now,
            patient=patient,
            zone=zone,
            exclude=exclude,
        )
        week = week_start(timezone.localtime(slots[0].start).date() if slots else today)
        slots = [s for s in slots if timezone.localtime(s.start).date() < week + timedelta(7)]
    else:
        week = week_start(max(asked, week_start(today)))
        slots = free_slots(
            professional,
            week,
            week + timedelta(days=6),
            now=now,
            patient=patient,
            zone=zone,
            exclude=exclude,
        )
    by_day = {}
    for slot in slots:
        by_day.setdefault(timezone.localtime(slot.start).date(), []).append(slot)
    days = []
    for offset in range(7):
        day = week + timedelta(days=offset)
        if day < today:  # days gone by are not offered, nor shown
            continue
        noon = datetime.combine(day, time(12), tzinfo=zone)
        days.append({"date": day, "label": turn_day(noon, now), "slots": by_day.get(day, [])})
    last_day = timezone.localtime(_horizon(professional, now)).date()
    here = (
        reverse("reschedule", args=[moving.pk])
        if moving is not None
        else reverse("book_professional", args=[professional.pk])
    )
    return {
        "now": now,
        "professional": professional,
        "moving": moving,
        "week": week,
        "week_label": long_date(week, with_year=week.year != today.year),
        "days": days,
        "has_slots": bool(slots),
        "here": here,
        "previous_url": (
            f"{here}?week={week - timedelta(days=7)}" if week > week_start(today) else None
        ),
        "next_url": f"{here}?week={week + timedelta(days=7)}"
        if week + timedelta(7) <= last_day
        else None,
        "confirm_url": (
            reverse("reschedule_confirm", args=[moving.pk])
            if moving is not None
            else reverse("book_confirm", args=[professional.pk])
        ),
        "slot_param": _slot_param,
        "modality_labels": dict(Modality.choices),
    }


def _render_week(request, ctx, status=200):
    if request.htmx and request.htmx.target == "week":
        return render_fragment(request, "scheduling/week.html", "week", ctx)
    return render(request, "scheduling/week.html", ctx, status=status)


def _refused(request, professional, now, refusal, start=None, moving=None):
    """The refreshed week of the time asked for, saying why it was refused (409)."""
    week = week_start(timezone.localtime(start).date()) if start else None
    ctx = _week_context(request, professional, now, week=week, moving=moving)
    ctx["refusal"] = refusal
    return render(request, "scheduling/week.html", ctx, status=409)


@never_cache
@login_required
def choose_professional(request):
    professionals = booking.bookable_professionals(request.user)
    return render(request, "scheduling/professionals.html", {"professionals": professionals})


@never_cache
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@login_required
@throttled
def book(request, pk):
    """GET: a week of the professional's free slots. POST (start, modality): book one."""
    professional = _professional(request, pk)
    now = timezone.now()
    if request.method == "GET":
        return _render_week(request, _week_context(request, professional, now))
    if request.limited:
        return too_many_requests(request)
    start = _parse_start(request.POST.get("start"))
    modality = request.POST.get("modality")
    if start is None or modality not in Modality.values:
        return _refused(request, professional, now, booking.unavailable())
    result = booking.request_booking(
        request.user, professional, start, modality, now=now, channel=Channel.PAGE
    )
    if not isinstance(result, Reservation):
        return _refused(request, professional, now, result, start)
    messages.success(request, _booked_message(result))
    return redirect("reservation_detail", result.pk)


def _booked_message(reservation):
    if reservation.status == Status.PENDING:
        return _("Your request was sent. Your professional will confirm it.")
    return _("Your session is booked.")


def _moved_message(reservation):
    if reservation.status == Status.PENDING:
        return _("Your session was moved. Your professional will confirm the new time.")
    return _("Your session was moved.")


def _confirm_page(request, professional, now, moving=None):
    start = _parse_start(request.GET.get("start"))
    slot = start and slot_at(
        professional,
        start,
        now=now,
        patient=request.user,
        exclude=moving.pk if moving is not None else None,
    )
    if not slot:
        ctx = _week_context(request, professional, now, moving=moving)
        ctx["refusal"] = booking.unavailable()
        return render(request, "scheduling/week.html", ctx)
    preview = Reservation(professional=professional, start_time=slot.start, end_time=slot.end)
    chosen = moving.session_modality if moving is not None else None
    back = reverse(
        "reschedule" if moving else "book_professional", args=[(moving or professional).pk]
    )
    ctx = {
        "now": now,
        "professional": professional,
        "moving": moving,
        "slot": slot,
        "start_param": _slot_param(slot.start),
        "preview": preview,
        "chosen": chosen if chosen in slot.modalities else slot.modalities[0],
        "needs_approval": booking._needs_approval(professional),
        "modality_labels": dict(Modality.choices),
        "action": (
            reverse("reschedule", args=[moving.pk])
            if moving is not None
            else reverse("book_professional", args=[professional.pk])
        ),
        "back_url": back
        + "?"
        + urlencode({"week": week_start(timezone.localtime(slot.start).date())}),
    }
    return render(request, "scheduling/confirm.html", ctx)


@never_cache
@login_required
def book_confirm(request, pk):
    """The slot picked: its modality (when it offers both), then confirm."""
    professional = _professional(request, pk)
    return _confirm_page(request, professional, timezone.now())


def _notice_page(request, reservation, now, refusal, status=200):
    """Inside the notice (or started, or past): no slots, why, and whom to contact."""
    ctx = {"now": now, "r": reservation, "refusal": refusal}
    return render(request, "scheduling/reschedule_refused.html", ctx, status=status)


@never_cache
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@login_required
@throttled
def reschedule(request, pk):
    """GET: the professional's free slots to move this session to. POST (start, modality): move
    it, in one transaction (scheduling.booking.reschedule)."""
    reservation = _get_reservation_for_client(request, pk)
    now = timezone.now()
    refusal = booking.reschedule_refusal(reservation, now)
    if refusal:
        return _notice_page(
            request, reservation, now, refusal, 200 if request.method == "GET" else 409
        )
    professional = reservation.professional
    if request.method == "GET":
        return _render_week(request, _week_context(request, professional, now, moving=reservation))
    if request.limited:
        return too_many_requests(request)
    start = _parse_start(request.POST.get("start"))
    modality = request.POST.get("modality") or None
    if start is None or (modality is not None and modality not in Modality.values):
        return _refused(request, professional, now, booking.unavailable(), moving=reservation)
    result = booking.reschedule(
        reservation, start, modality, by=request.user, channel=Channel.PAGE, now=now
    )
    if isinstance(result, Reservation):
        messages.success(request, _moved_message(result))
        return redirect("reservation_detail", result.pk)
    if result.code in ("notice", "in_progress", "past", "already_cancelled"):
        return _notice_page(request, reservation, now, result, 409)
    return _refused(request, professional, now, result, start, moving=reservation)


@never_cache
@login_required
def reschedule_confirm(request, pk):
    reservation = _get_reservation_for_client(request, pk)
    now = timezone.now()
    refusal = booking.reschedule_refusal(reservation, now)
    if refusal:
        return _notice_page(request, reservation, now, refusal)
    return _confirm_page(request, reservation.professional, now, moving=reservation)
