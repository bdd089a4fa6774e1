from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import conditional_page, require_GET, require_POST, require_safe
from django_ratelimit.decorators import ratelimit

from reservations.models import Reservation

from .feed import download_calendar, feed_calendar, feed_reservations
from .models import FeedToken

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
def download(request, pk):
    """One session's .ics: its patient's or its professional's; anyone else's is a 404."""
    user = request.user
    reservation = get_object_or_404(
        Reservation.objects.with_people()
        .select_related("client")
        .filter(Q(client=user) | Q(professional=user)),
        pk=pk,
    )
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
