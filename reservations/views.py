import logging
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import ProfessionalProfile

from .models import Channel, Reservation, professionals_of
from .templating import render_fragment

HISTORY_PAGE_SIZE = 10
# A weekly patient books a few months ahead at most; beyond this many, the page says so.
UPCOMING_LIMIT = 20
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
        return (
            Reservation.objects.with_people()
            .select_related("occurrence__series")
            .get(pk=pk, client=request.user)
        )
    except Reservation.DoesNotExist:
        logger.warning("refused access to reservation %s", pk)
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
    return rows[:UPCOMING_LIMIT], len(rows) > UPCOMING_LIMIT


# Pages with a patient's sessions are health data: never stored by a browser or a proxy.
@never_cache
@vary_on_headers("HX-Request")  # a block for htmx, the whole page otherwise
@login_required
def dashboard(request):
    now = timezone.now()
    ctx = {"now": now, "page": HistoryPage.of(request.user, request.GET.get("page"), now)}
    if request.htmx and request.htmx.target == "history":
        professionals_of(ctx["page"].rows)
        return render_fragment(request, "reservations/dashboard.html", "history", ctx)
    ctx["upcoming"], ctx["more_upcoming"] = _upcoming(request.user, now)
    professionals_of(ctx["upcoming"] + ctx["page"].rows)
    return render(request, "reservations/dashboard.html", ctx)


@never_cache
@require_POST
@login_required
def cancel(request, pk):
    reservation = _get_reservation_for_client(request, pk)
    now = timezone.now()
    reason = request.POST.get("reason", "")
    refusal = reservation.cancel(by=request.user, channel=Channel.PAGE, reason=reason, now=now)
    message = str(refusal) if refusal else _("Your session was cancelled.")
    # Only this reservation's own page is honoured as `next`: no redirect elsewhere.
    detail_url = reverse("reservation_detail", args=[pk])
    from_detail = request.POST.get("next") == detail_url
    if not request.htmx:
        messages.add_message(request, messages.ERROR if refusal else messages.SUCCESS, message)
        return redirect(detail_url if from_detail else "dashboard")
    # The session is shown again where it was, in its new state: the page does not move.
    ctx = {"now": now, "r": reservation, "result_message": message, "ok": not refusal}
    template = "reservations/detail.html" if from_detail else "reservations/dashboard.html"
    return render_fragment(request, template, "cancel_result", ctx)


@never_cache
@login_required
def reservation_detail(request, pk):
    reservation = _get_reservation_for_client(request, pk)
    ctx = {"r": reservation, "now": timezone.now(), "events": reservation.patient_events()}
    return render(request, "reservations/detail.html", ctx)


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
