from django import template
from django.urls import reverse
from django.utils import timezone

from reservations.templatetags.turnos import long_date

from ..models import FeedToken

register = template.Library()


@register.inclusion_tag("calendars/_feed_block.html", takes_context=True)
def calendar_feed(context):
    """The preferences page's calendar block: the user's subscription link (made on first
    visit), to copy or open in a calendar app, and the form that replaces it.

    A tag of this app rather than context from accounts' view: accounts does not know about
    calendars (this app builds on accounts, never the other way round)."""
    request = context["request"]
    link = FeedToken.for_user(request.user)
    token = link.token
    url = request.build_absolute_uri(reverse("calendar_feed", args=[token])) if token else ""
    return {
        "link": link,
        "created": long_date(timezone.localtime(link.created_at).date()),
        "url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1] if url else "",
        "csrf_token": context.get("csrf_token"),
    }
