"""The patient's door: the dashboard, a session's page and its cancel, booking and moving a
session, preferences and the calendar links. Each view finds what is the user's own (anything else
is the same 404 as a missing id) and asks the core and the capabilities to act; no rule lives here.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Max, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import (
    conditional_page,
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_ratelimit.decorators import ratelimit

from accounts.forms import PreferencesForm
from accounts.models import ProfessionalProfile, zone_city
from audit.log import refused
from calendars.feed import download_calendar, feed_calendar, feed_reservations
from calendars.models import FeedToken
from payments import booking as paid_booking
from payments import follow as payment_follow
from payments import ledger as payment_ledger
from payments import mercadopago
from payments import rules as payment_rules
from privacy import export as privacy_export
from privacy import responses as privacy_responses
from privacy.models import BUSINESS_DAYS_TO_ACT, DeletionRequest
from reservations.actions import Actor, Channel
from reservations.models import Modality, Reservation, Status, link_moves, professionals_of
from reservations.texts import long_date, turn_day
from scheduling import booking
from scheduling.closures import absent_days, closed_days
from scheduling.models import MAX_HORIZON_WEEKS, WorkingHours
from scheduling.slots import free_slots, parse_day, slot_at, week_start

HISTORY_PAGE_SIZE = 10
MAX_HISTORY_PAGE = 10_000
# A weekly patient books a few months ahead at most; beyond this many, the page says so.
UPCOMING_LIMIT = 20
logger = logging.getLogger("turnos.security")


def too_many_requests(request):
    """The site's 429 page, for a limit this door counts itself (bookings and moves)."""
    return render(request, "errors/429.html", {"site_name": settings.SITE_NAME}, status=429)


def login_required(view):
    """Like Django's, but an htmx request is sent to the login page as a whole page,
    not answered with a login form swapped into a table row."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            login_url = reverse("account_login") + "?next=" + reverse("dashboard")
            return HttpResponseClientRedirect(login_url)
        return redirect_to_login(request.get_full_path())

    return wrapper


def _as_patient(request):
    """Who acts on this door: the logged-in user, as the patient of their own sessions."""
    return Actor.patient(request.user, Channel.PAGE)


def _get_reservation_for_client(request, pk):
    # Someone else's reservation and a missing one are the same 404 (and the same log line).
    try:
        rows = Reservation.objects.with_people().with_waiting_moves()
        return (
            payment_follow.with_payments(rows)
            .select_related("occurrence__series")
            .get(pk=pk, client=request.user)
        )
    except Reservation.DoesNotExist:
        logger.warning("refused access to reservation %s", pk)
        refused(request, Reservation, pk, owner="client", where="portal: session")
        raise Http404 from None


@dataclass
class HistoryPage:
    """One page of a patient's history, newest first, and whether there are older sessions.

    No total is counted: reading one row more than the page shows tells whether an "Older" link
    is needed, and the patient's whole history is not counted on every visit."""

    number: int
    rows: list
    has_next: bool

    @classmethod
    def of(cls, patient, number, now):
        try:
            number = max(1, int(number or 1))
        except ValueError:
            number = 1
        # A page past any history is empty; one past the database's integers would be a 500.
        number = min(number, MAX_HISTORY_PAGE)
        start = (number - 1) * HISTORY_PAGE_SIZE
        history = Reservation.objects.history_for(patient, now)
        rows = list(history[start : start + HISTORY_PAGE_SIZE + 1])
        return cls(number, rows[:HISTORY_PAGE_SIZE], len(rows) > HISTORY_PAGE_SIZE)

    @property
    def has_previous(self):
        return self.number > 1


def _upcoming(patient, now):
    """The sessions ahead (the first one is the current or next), and whether there are more."""
    # With the weekly series a session belongs to (the series app's reverse relation), for its
    # "Semanal · martes 18:00": in the same query.
    rows = list(
        Reservation.objects.upcoming_for(patient, now).select_related("occurrence__series")[
            : UPCOMING_LIMIT + 1
        ]
    )
    return link_moves(rows[:UPCOMING_LIMIT]), len(rows) > UPCOMING_LIMIT


# Pages with a patient's sessions are health data: never stored by a browser or a proxy.
@never_cache
@vary_on_headers("HX-Request")  # a block for htmx, the whole page otherwise
@login_required
def dashboard(request):
    now = timezone.now()
    ctx = {"now": now, "page": HistoryPage.of(request.user, request.GET.get("page"), now)}
    if request.htmx and request.htmx.target == "history":
        professionals_of(ctx["page"].rows)
        return render(request, "portal/dashboard.html#history", ctx)
    ctx["upcoming"], ctx["more_upcoming"] = _upcoming(request.user, now)
    professionals_of(ctx["upcoming"] + ctx["page"].rows)
    return render(request, "portal/dashboard.html", ctx)


@never_cache
@require_POST
@login_required
def cancel(request, pk):
    reservation = _get_reservation_for_client(request, pk)
    now = timezone.now()
    reason = request.POST.get("reason", "")
    refusal = reservation.cancel(by=_as_patient(request), reason=reason, now=now)
    message = str(refusal) if refusal else _("Your session was cancelled.")
    # Only this reservation's own page is honoured as `next`: no redirect elsewhere.
    detail_url = reverse("reservation_detail", args=[pk])
    from_detail = request.POST.get("next") == detail_url
    if not request.htmx:
        messages.add_message(request, messages.ERROR if refusal else messages.SUCCESS, message)
        return redirect(detail_url if from_detail else "dashboard")
    # The session is shown again where it was, in its new state: the page does not move.
    ctx = {"now": now, "r": reservation, "result_message": message, "ok": not refusal}
    if from_detail:  # its page shows the session's money: what comes back now
        ctx["account"] = payment_ledger.ledger(reservation, now)
    template = "portal/detail.html" if from_detail else "portal/dashboard.html"
    return render(request, template + "#cancel-result", ctx)


@never_cache
@login_required
def reservation_detail(request, pk):
    reservation = _get_reservation_for_client(request, pk)
    now = timezone.now()
    ctx = {
        "r": reservation,
        "now": now,
        "events": reservation.patient_events(),
        "account": payment_ledger.ledger(reservation, now),
    }
    return render(request, "portal/detail.html", ctx)


@login_required
def professional_photo(request, pk):
    """A professional's photo, for their patients (and themselves and staff): 404 otherwise,
    like a missing one. Served from Django's storage, whatever backend that is."""
    user = request.user
    profile = ProfessionalProfile.objects.filter(user_id=pk).exclude(photo="").first()
    allowed = profile and (
        user.pk == profile.user_id
        or user.is_staff
        or Reservation.objects.filter(client=user, professional_id=pk).exists()
    )
    if not allowed:
        raise Http404
    response = FileResponse(profile.photo.open("rb"))
    # Private: it is only for logged-in patients, but it may be kept an hour.
    patch_cache_control(response, private=True, max_age=3600)
    return response


# Booking and moving a session (the rules are scheduling/booking.py's)


def _rate(group, request):
    # Read on each request, so a changed setting applies at once (tests change it).
    return settings.BOOKING_RATE_LIMIT


# Bookings and reschedules of one patient, counted together (only POSTs: browsing is free).
throttled = ratelimit(group="booking", key="user", rate=_rate, method="POST", block=False)


def _professional(request, pk):
    professional = booking.bookable_professional(request.user, pk, related=paid_booking.POLICY)
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
    # The years a slot can be in (slot_at bounds it to the horizon): far from them, converting
    # to a zone overflows.
    if start.tzinfo is None or not 2000 <= start.year <= 2200:
        return None
    return start


def _horizon(professional, now):
    weeks = WorkingHours.objects.filter(professional=professional).aggregate(
        weeks=Max("horizon_weeks")
    )["weeks"]
    return now + timedelta(weeks=weeks or 0)


def _week_context(request, professional, now, *, week=None, moving=None):
    """A week of `professional`'s free slots for the viewer, days in the viewer's zone: the week
    asked for (?week=), else the session's own when moving one, else the one with the first
    free slot."""
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now).date()
    exclude = booking.moving_exclude(moving)
    patient = request.user
    asked = parse_day(request.GET.get("week"), None) if week is None else week
    if asked is None and moving is not None:
        # A move starts from the session's own week: its patient looks around that time first.
        asked = timezone.localtime(moving.start_time).date()
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
        # From this week to the longest horizon a professional may set: nothing lies beyond.
        last = today + timedelta(weeks=MAX_HORIZON_WEEKS)
        week = week_start(min(max(asked, week_start(today)), last))
        slots = free_slots(
            professional,
            week,
            week + timedelta(days=6),
            now=now,
            patient=patient,
            zone=zone,
            exclude=exclude,
        )
    confirm_url = (
        reverse("reschedule_confirm", args=[moving.pk])
        if moving is not None
        else reverse("book_confirm", args=[professional.pk])
    )
    if moving is not None:
        # The session's own time is free of everything but itself: no move to offer there.
        slots = [slot for slot in slots if slot.start != moving.start_time]
    # What refuses her whatever time she picks is said before she picks: the times are shown,
    # but not as links.
    policy = paid_booking.policy_of(professional) if moving is None else None
    holding = moving is None and paid_booking.asks_payment(professional)
    blocked = (
        booking.booking_refusal(patient, professional, now, holding=holding)
        if moving is None
        else None
    )
    # Each free slot with the link that picks it.
    by_day = {}
    for slot in slots:
        link = None if blocked else f"{confirm_url}?start={_slot_param(slot.start)}"
        by_day.setdefault(timezone.localtime(slot.start).date(), []).append((slot, link))
    # Days the practice is closed or the professional away are shaded, with why when it is the
    # practice's (a holiday, a closure): an absence's reason is the professional's own.
    closed = closed_days(professional, week, week + timedelta(days=6))
    away = absent_days(professional, week, week + timedelta(days=6), zone)
    days = []
    for offset in range(7):
        day = week + timedelta(days=offset)
        if day < today:  # days gone by are not offered, nor shown
            continue
        noon = datetime.combine(day, time(12), tzinfo=zone)
        days.append(
            {
                "date": day,
                "label": turn_day(noon, now),
                "slots": by_day.get(day, []),
                "closed": closed.get(day, ""),
                "away": day in away,
            }
        )
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
        "blocked": blocked,
        "move_request": moving is not None and booking.is_move_request(moving),
        # What it costs and how it is paid, said before she picks a time.
        "price_lines": payment_ledger.policy_lines(policy, _notice_hours(professional)),
        "week": week,
        "week_label": long_date(week, with_year=week.year != today.year),
        "days": days,
        "has_slots": bool(slots),
        "shaded": bool(closed or away),
        "here": here,
        "previous_url": (
            f"{here}?week={week - timedelta(days=7)}" if week > week_start(today) else None
        ),
        "next_url": f"{here}?week={week + timedelta(days=7)}"
        if week + timedelta(7) <= last_day
        else None,
    }


def _render_week(request, ctx, status=200):
    if request.htmx and request.htmx.target == "week":
        return render(request, "portal/book_week.html#week", ctx)
    return render(request, "portal/book_week.html", ctx, status=status)


def _refused(request, professional, now, refusal, start=None, moving=None):
    """The refreshed week of the time asked for, saying why it was refused (409)."""
    week = week_start(timezone.localtime(start).date()) if start else None
    ctx = _week_context(request, professional, now, week=week, moving=moving)
    ctx["refusal"] = refusal
    return render(request, "portal/book_week.html", ctx, status=409)


@never_cache
@login_required
def choose_professional(request):
    professionals = booking.bookable_professionals(request.user)
    return render(request, "portal/book_professionals.html", {"professionals": professionals})


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
    result = paid_booking.book(
        request.user, professional, start, modality, now=now, channel=Channel.PAGE
    )
    if not isinstance(result, Reservation):
        return _refused(request, professional, now, result, start)
    if result.awaiting_payment:
        return _to_checkout(request, result, now)
    messages.success(request, _booked_message(result))
    return redirect("reservation_detail", result.pk)


def _notice_hours(professional):
    # Reservation.notice_period's rule, on the profile that came joined with the professional.
    return int(Reservation(professional=professional).notice_period.total_seconds() // 3600)


def _to_checkout(request, reservation, now):
    """Send the patient to pay for `reservation` on Mercado Pago; back to its page, saying why,
    when it cannot be paid now."""
    try:
        url = paid_booking.checkout_url(reservation, now)
    except mercadopago.MercadoPagoError:
        messages.error(
            request,
            _("We could not reach Mercado Pago. Your time is held: try “Pay” again in a moment."),
        )
        return redirect("reservation_detail", reservation.pk)
    if url is None:
        messages.error(request, _("This session can no longer be paid for."))
        return redirect("reservation_detail", reservation.pk)
    return redirect(url)


@require_POST
@login_required
def pay(request, pk):
    """The session's "Pay" button: to Mercado Pago's checkout."""
    reservation = _get_reservation_for_client(request, pk)
    return _to_checkout(request, reservation, timezone.now())


@never_cache
@login_required
def payment_return(request, pk):
    """Where Mercado Pago sends the payer back. What it says in the address is not believed: the
    page says what our database knows, after asking Mercado Pago itself when we have not heard
    yet. Asked by htmx every few seconds while it waits (the "status" partial)."""
    reservation = _get_reservation_for_client(request, pk)
    now = timezone.now()
    if reservation.held_for_payment:
        # Mercado Pago down: the webhook or the worker tells us later.
        with contextlib.suppress(mercadopago.MercadoPagoError):
            payment_rules.reconcile(reservation, now=now)
        reservation = _get_reservation_for_client(request, pk)
    account = payment_ledger.ledger(reservation, now)
    waiting = reservation.held_for_payment
    ctx = {
        "r": reservation,
        "now": now,
        "account": account,
        "waiting": waiting,
        "paid": bool(account.payments),
        "payable": paid_booking.payable(reservation, now),
    }
    template = "portal/payment_return.html"
    if request.htmx:
        template += "#status"
    return render(request, template, ctx)


def _booked_message(reservation):
    if reservation.status == Status.PENDING:
        return _("Your request was sent. Your professional will confirm it.")
    return _("Your session is booked.")


def _moved_message(reservation):
    if reservation.replaces is not None:
        return _("We sent your request. Your session stands until your professional accepts it.")
    if reservation.status == Status.PENDING:
        return _("Your session was moved. Your professional will confirm the new time.")
    return _("Your session was moved.")


def _confirm_page(request, professional, now, moving=None):
    start = _parse_start(request.GET.get("start"))
    slot = start and slot_at(
        professional, start, now=now, patient=request.user, exclude=booking.moving_exclude(moving)
    )
    blocked = booking.booking_refusal(request.user, professional, now) if moving is None else None
    if not slot or blocked:
        ctx = _week_context(request, professional, now, moving=moving)
        if not blocked:
            ctx["refusal"] = booking.unavailable()
        return render(request, "portal/book_week.html", ctx)
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
        "needs_approval": booking.needs_approval(professional),
        "move_request": moving is not None and booking.is_move_request(moving),
        # Booking asks for a payment (a move never does: what was paid goes with the session).
        "pays": moving is None and paid_booking.asks_payment(professional),
        "hold_minutes": settings.PAYMENT_HOLD_MINUTES,
        "price_lines": payment_ledger.policy_lines(
            paid_booking.policy_of(professional) if moving is None else None,
            _notice_hours(professional),
        ),
        "action": (
            reverse("reschedule", args=[moving.pk])
            if moving is not None
            else reverse("book_professional", args=[professional.pk])
        ),
        "back_url": back
        + "?"
        + urlencode({"week": week_start(timezone.localtime(slot.start).date())}),
    }
    return render(request, "portal/book_confirm.html", ctx)


@never_cache
@login_required
def book_confirm(request, pk):
    """The slot picked: its modality (when it offers both), then confirm."""
    professional = _professional(request, pk)
    return _confirm_page(request, professional, timezone.now())


def _notice_page(request, reservation, now, refusal, status=200):
    """Inside the notice (or started, or past): no slots, why, and whom to contact."""
    ctx = {"now": now, "r": reservation, "refusal": refusal}
    return render(request, "portal/reschedule_refused.html", ctx, status=status)


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
    result = booking.reschedule(reservation, start, modality, by=_as_patient(request), now=now)
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


# Preferences


@never_cache
@login_required
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()  # user.language among the rest: what the practice sends them speaks it
        # Chosen on this form (a form without the field leaves the language as it was).
        language = form.cleaned_data["language"] if form.data.get("language") else ""
        if language:
            # The confirmation already speaks the language just chosen.
            translation.activate(language)
        messages.success(
            request,
            _("Saved. Times are now shown in %(city)s time.")
            % {"city": zone_city(form.instance.time_zone)},
        )
        response = redirect("preferences")
        if language:
            _remember_language(response, language)
        return response
    return render(request, "portal/preferences.html", {"form": form, **_calendar_link(request)})


def _remember_language(response, language):
    # Also the cookie LocaleMiddleware reads, set as django.views.i18n.set_language (the
    # footer's switcher) sets it: after logging out, this browser keeps the language.
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


# Calendars: the private feed, a session's .ics, a new link

ICS = "text/calendar; charset=utf-8"
# Per link: a calendar app polls every few minutes at most; a person checking it adds a few.
# Not per address: Google's (or a company's) servers fetch many people's feeds from one.
FEED_RATE = "20/10m"


def _feed_key(group, request):
    return request.resolver_match.kwargs["token"]


@require_safe
@ratelimit(group="calendars.feed", key=_feed_key, rate=FEED_RATE, block=False)
def feed(request, token):
    """A user's sessions as a calendar to subscribe to. No login (calendar apps have none): the
    link is the key. Unknown and revoked links answer 404 alike."""
    if request.limited:
        return HttpResponse(
            _("Too many requests for this calendar. Try again in a few minutes."),
            status=429,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": "600"},
        )
    return _feed(request, token)


# conditional_page is ConditionalGetMiddleware for this view alone: an ETag from the body's hash
# and a 304 when it matches If-None-Match. The body is still built (two queries and the
# iCalendar text, a few milliseconds); what a 304 saves is sending it. A fingerprint cheaper
# than the body would have to list everything an event shows (names, addresses, the user's zone
# and language...), and would go stale the day someone adds a field to it.
@conditional_page
@cache_control(private=True, no_cache=True)
def _feed(request, token):
    link = FeedToken.find(token)
    if link is None:
        raise Http404
    user = link.user
    # In the language the practice writes to the user in (the site's by default), whatever the
    # calendar app's Accept-Language says.
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        body = feed_calendar(user, feed_reservations(user, timezone.now()))
    return HttpResponse(body, content_type=ICS, headers={"Content-Language": language})


@require_GET
@login_required
@never_cache
def download(request, pk):
    """One session's .ics: its patient's or its professional's; anyone else's is a 404."""
    user = request.user
    try:
        reservation = (
            Reservation.objects.with_people()
            .select_related("client")
            .filter(Q(client=user) | Q(professional=user))
            .get(pk=pk)
        )
    except Reservation.DoesNotExist:
        refused(request, Reservation, pk, owner="client", where="portal: session .ics")
        raise Http404 from None
    start = timezone.localtime(reservation.start_time)
    filename = f"{slugify(_('session'))}-{start:%Y-%m-%d-%H%M}.ics"
    return HttpResponse(
        download_calendar(reservation, user),
        content_type=ICS,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@require_POST
@login_required
def regenerate(request):
    """A new calendar link; the old one answers 404 from now on."""
    FeedToken.issue(request.user)
    messages.success(
        request,
        _(
            "Your calendar has a new link. The old one no longer works: subscribe your "
            "calendar apps to the new one."
        ),
    )
    return redirect(reverse("preferences") + "#calendar")


def _calendar_link(request):
    """The preferences page's calendar block: the user's subscription link (made on first visit),
    to copy or open in a calendar app."""
    link = FeedToken.for_user(request.user)
    token = link.token
    url = request.build_absolute_uri(reverse("calendar_feed", args=[token])) if token else ""
    return {
        "feed_created": long_date(timezone.localtime(link.created_at).date()),
        "feed_url": url,
        "feed_webcal_url": "webcal://" + url.split("://", 1)[1] if url else "",
    }


# Your data (Ley 25.326 arts. 14 and 16): a copy of it, and asking for it to be deleted. What a
# copy holds and what a deletion removes and keeps are privacy's (export.py, erase.py). The
# patient's own copy is not written to the access log: that log is of others opening their data.


@require_GET
@login_required
@reauthentication_required
def data_export(request):
    """Everything of the patient's as a JSON file, after asking for the password again."""
    return privacy_responses.json_file(request.user, privacy_export.build(request.user))


@require_GET
@login_required
@reauthentication_required
def data_page(request):
    """The same, readable and printable, in the patient's language."""
    return privacy_responses.page(
        request,
        request.user,
        privacy_export.build(request.user),
        back_url=reverse("preferences"),
        json_url=reverse("data_export"),
    )


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
@reauthentication_required(allow_get=True)
def data_deletion(request):
    """What a deletion removes and keeps, and the patient's request: made on POST (one open at a
    time; a second POST finds the first), its status on GET."""
    if request.method == "POST":
        made = DeletionRequest.ask(request.user)[1]
        if made:
            messages.success(
                request,
                _("We received your request. The practice will answer within 5 business days."),
            )
        return redirect("data_deletion")
    requests = DeletionRequest.objects.filter(patient=request.user).order_by("-requested_at")
    latest = requests.first()
    return render(
        request,
        "portal/data_deletion.html",
        {
            "latest": latest,
            "open": latest if latest and latest.is_open else None,
            "days": BUSINESS_DAYS_TO_ACT,
        },
    )
