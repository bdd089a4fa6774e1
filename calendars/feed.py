"""What a calendar feed and a session's download contain, built on calendars/ics.py.

The feed says less than an email: a subscription URL is polled and stored by calendar services
(Google fetches it from its own servers), may end up in a shared calendar, and lives until it is
revoked. So a feed event has the time, "Session with Lic. Gómez" (a professional's feed: the
patient's initials), the modality, an in-person session's address (the practice's, public
anyway) and a link to the session's page, which asks to log in. It has no video call link (the
key to the room: the session's page gives it from 15 minutes before), no email addresses, no
notes. The download a patient asks for on the session's page is what the emails attach.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _
from icalendar import Calendar, vDuration

from accounts.models import initials
from reservations.models import Modality, Reservation, Status

from .ics import UNSEEN_ACTIONS, calendar_for, event_for, session_url

# Sessions that ended this long ago still show; a cancelled one shows (as cancelled) this long
# after its cancel, so subscribed calendars strike it out and then drop it.
FEED_PAST = timedelta(days=30)
# What a subscribed calendar is asked to wait between polls (RFC 7986 and Apple/Outlook's own).
REFRESH = timedelta(hours=1)


def feed_reservations(user, now):
    """The user's sessions in the feed, as patient or as professional, with each one's SEQUENCE
    and last change: one query, however many sessions."""
    since = now - FEED_PAST
    return (
        Reservation.objects.filter(Q(client=user) | Q(professional=user))
        .filter(
            Q(~Q(status=Status.CANCELLED), end_time__gte=since)
            | Q(status=Status.CANCELLED, cancelled_at__gte=since)
        )
        .select_related("client", "professional__professional_profile")
        .annotate(
            # As calendars.ics.sequence_for counts them, for all the sessions at once.
            sequence=Count("events", filter=~Q(events__action__in=UNSEEN_ACTIONS)),
            changed_at=Max("events__at"),
        )
        .order_by("start_time", "id")
    )


def patient_initials(user):
    """'Lucía Pérez' -> 'L. P.'; an email's first letter when the practice has no name."""
    letters = initials(user.get_full_name()) or user.email[:1].upper()
    return " ".join(f"{letter}." for letter in letters)


def feed_event(reservation, viewer):
    """One session as `viewer`'s feed shows it (see the module's docstring)."""
    as_professional = reservation.professional_id == viewer.pk
    summary = None  # event_for's: "Session with <the professional's name>"
    if as_professional:
        summary = _("Session with %(name)s") % {"name": patient_initials(reservation.client)}
    # DTSTAMP: when the session last changed (RFC 5545 for a calendar without METHOD). Not now:
    # the same sessions then give the same bytes, which the feed's ETag relies on.
    changed = [reservation.created_at, reservation.cancelled_at, reservation.changed_at]
    event = event_for(
        reservation,
        viewer=viewer,
        sequence=reservation.sequence,
        summary=summary,
        stamp=max(t for t in changed if t),
    )
    for name in ("DESCRIPTION", "LOCATION", "ORGANIZER", "ATTENDEE", "URL"):
        event.pop(name, None)
    lines = [
        _("Modality: %(modality)s") % {"modality": Modality(reservation.session_modality).label}
    ]
    in_person = reservation.session_modality == Modality.IN_PERSON
    if in_person and reservation.address:
        # Where to go; a virtual session has no place (its room is on the session's page).
        event.add("location", reservation.address)
        lines.append(_("Address: %(address)s") % {"address": reservation.address})
    if not as_professional:
        # The patient's own page (a professional has none for this session on this site).
        url = session_url(reservation)
        if in_person:
            lines.append(_("Details: %(url)s") % {"url": url})
        else:
            lines.append(_("Details and how to join: %(url)s") % {"url": url})
        event.add("url", url)
    event.add("description", "\n".join(lines))
    return event


def feed_name(user):
    """What a calendar app calls the feed: a professional's is their agenda, named, so it
    stands apart from a calendar of their own sessions as someone's patient."""
    if hasattr(user, "professional_profile"):  # FeedToken.find fetched it with the user
        return _("%(site)s: %(name)s's agenda") % {
            "site": settings.SITE_NAME,
            "name": user.display_name,
        }
    return _("%(site)s: my sessions") % {"site": settings.SITE_NAME}


def feed_calendar(user, reservations):
    """The VCALENDAR of a feed, as bytes. Named, and with a refresh interval, which
    calendars.ics.calendar_for (an email's attachment) has no use for."""
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.SITE_NAME}//Turnos//ES")
    calendar.add("version", "2.0")
    name = feed_name(user)
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    # Both are DURATIONs (RFC 7986's REFRESH-INTERVAL; X-PUBLISHED-TTL as Outlook reads it):
    # icalendar knows only the first, and would write the other as the text "1:00:00".
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for reservation in reservations:
        calendar.add_component(feed_event(reservation, user))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def download_calendar(reservation, viewer):
    """One session's .ics, as the page's "Add to calendar" gives it: the event its emails
    attach (with the join link or the address), without the invitation's organizer and
    attendee, so a calendar app files it as the user's own event."""
    event = event_for(reservation, viewer=viewer)
    for name in ("ORGANIZER", "ATTENDEE"):
        event.pop(name, None)
    return calendar_for([event])
