import logging
from datetime import datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from . import pagecache
from .models import Channel, Reservation

HISTORY_PAGE_SIZE = 20
logger = logging.getLogger("turnos.security")


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


def _get_reservation_for_client(request, pk):
    # Someone else's reservation and a missing one are the same 404 (and the same log line).
    try:
        return Reservation.objects.with_people().get(pk=pk, client=request.user)
    except Reservation.DoesNotExist:
        logger.warning("refused access to reservation %s", pk)
        raise Http404 from None


class _HistoryPaginator(Paginator):
    """Pages over the history's ids, then loads only the page's rows with their professionals.

    A deep page (OFFSET 180 for page 10) then walks the (client, start) index for ids alone
    instead of joining every skipped row to its professional first, so a patient with 2,000
    reservations pages as fast as one with 5 (docs/performance.md). The first page skips
    nothing: it is the history itself, limited, which PostgreSQL plans and runs in about two
    thirds of the time of the ids subquery.
    """

    def __init__(self, history, per_page):
        super().__init__(history.values_list("pk", flat=True), per_page)
        self.history = history

    def _get_page(self, ids, number, paginator):
        if number == 1:
            rows = self.history[: self.per_page]
        else:
            rows = Reservation.objects.with_people().filter(pk__in=ids)
            rows = rows.order_by("-start_time", "-id")
        return super()._get_page(rows, number, paginator)


def _history_page(request):
    history = Reservation.objects.history_for(request.user)
    return _HistoryPaginator(history, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))


def _valid_until(now, reservations):
    """When a dashboard rendered at `now` stops being true by the clock alone: at the viewer's next
    midnight ("tomorrow" becomes "today"), or before, when a session it shows starts, ends or
    passes its cancellation deadline."""
    tomorrow = timezone.localtime(now).date() + timedelta(days=1)
    midnight = timezone.make_aware(datetime.combine(tomorrow, time.min))
    changes = (r.refusal_changes_at(now) for r in reservations)
    return min([midnight, *(moment for moment in changes if moment is not None)])


@login_required
def dashboard(request):
    now = timezone.now()
    fragment = bool(request.htmx and request.htmx.target == "history")
    # A page that carries a one-time message is rendered (and the message consumed), not cached.
    cache_key = None
    if not len(messages.get_messages(request)):
        # The forms' CSRF tokens are valid for this browser's secret only. (Reading the secret,
        # not get_token(), which would mask a new token a hit never shows: a tenth of its cost.)
        if "CSRF_COOKIE" not in request.META:
            get_token(request)  # a browser without a secret yet gets one, as rendering would
        variant = "history" if fragment else "page"
        cache_key = pagecache.key(request, "dashboard", variant, request.META["CSRF_COOKIE"])
        body = pagecache.get(cache_key, now)
        if body is not None:
            return HttpResponse(body)

    ctx = {"now": now, "page": _history_page(request)}
    shown = list(ctx["page"].object_list)
    if fragment:
        response = render(request, "reservations/dashboard.html#history", ctx)
    else:
        ctx["current"] = Reservation.objects.current_for(request.user, now)
        shown.append(ctx["current"])
        response = render(request, "reservations/dashboard.html", ctx)
    if cache_key:
        valid_until = _valid_until(now, [r for r in shown if r is not None])
        pagecache.put(cache_key, response.content, now, valid_until)
    return response


@require_POST
@login_required
def cancel(request, pk):
    now = timezone.now()
    # A cancel from the reservation's own page goes back there (and, with htmx, updates that
    # page's card). Only this reservation's page is honoured, so `next` cannot redirect elsewhere.
    detail_url = reverse("reservation_detail", args=[pk])
    from_detail = request.POST.get("next") == detail_url
    on_dashboard = request.htmx and not from_detail

    # The dashboard's current-turn card shows the first of these; if that one is cancelled, the
    # second. Read before the cancel, they also tell whether this cancel changes the card at all.
    # (Reading this reservation in the same query made PostgreSQL filter all of a patient's rows.)
    upcoming = []
    if on_dashboard:
        upcoming = list(Reservation.objects.upcoming_for(request.user, now).with_people()[:2])
    reservation = next((r for r in upcoming if r.pk == pk), None)
    reservation = reservation or _get_reservation_for_client(request, pk)
    was_upcoming = reservation.is_upcoming(now)
    reason = request.POST.get("reason", "")
    refusal = reservation.cancel(by=request.user, channel=Channel.PAGE, reason=reason, now=now)
    if refusal:
        message, level = str(refusal), messages.ERROR
    else:
        message, level = _("Your session was cancelled."), messages.SUCCESS

    if not request.htmx:
        messages.add_message(request, level, message)
        return redirect(detail_url if from_detail else "dashboard")

    ctx = {
        "now": now,
        "reservation": reservation,
        "result_message": message,
        "result_ok": refusal is None,
    }
    if from_detail:
        ctx["next_url"] = detail_url
        ctx["deadline"] = reservation.start_time - reservation.notice_period
        return render(request, "reservations/detail.html#cancel-result", ctx)
    # Everything the dashboard shows of this reservation is swapped out-of-band: its history row,
    # the announcement and, when it changes, the current-turn card.
    remaining = [r for r in upcoming if r.is_upcoming(now)]
    current = remaining[0] if remaining else None
    shown = request.POST.get("card")  # the id on the page's card ("": none), from static/js/app.js
    if shown is not None:
        # The card changes if it is this reservation's (cancelled, or refused: no button now) or
        # not the current turn any more (booked, cancelled or ended since the page was loaded).
        changed = shown == str(pk) or shown != (str(current.pk) if current else "")
    else:
        # Without it (a page from before app.js sent it), the card is assumed to show the
        # current turn as it was before this cancel.
        changed = not (was_upcoming and upcoming and upcoming[0] is not reservation)
    if changed:
        ctx["card"] = True
        ctx["current"] = current
    return render(request, "reservations/dashboard.html#cancel-result", ctx)


@login_required
def reservation_detail(request, pk):
    reservation = _get_reservation_for_client(request, pk)
    ctx = {
        "r": reservation,
        "now": timezone.now(),
        "next_url": request.path,
        "deadline": reservation.start_time - reservation.notice_period,
    }
    return render(request, "reservations/detail.html", ctx)
