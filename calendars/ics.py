"""Calendar entries for sessions, built with the `icalendar` library: the .ics attached to each
message, and what a calendar feed or a per-session download serves.

One reservation is one event with a stable UID for its whole life, so a calendar app updates the
entry it has instead of adding another; SEQUENCE grows with each change a calendar must show
(confirmed, moved, cancelled). Times carry the viewer's zone (TZID with its VTIMEZONE).

Texts are translated in the active language: call these inside translation.override.
"""

from email.utils import parseaddr

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress

from reservations.models import Modality, ReservationEvent, Status

# Changes that leave the calendar entry as it was (its time, place and state): they do not
# raise its SEQUENCE. A payment or a refund is money, not the session.
UNSEEN_ACTIONS = (
    ReservationEvent.Action.CREATED,
    ReservationEvent.Action.ATTENDANCE,
    ReservationEvent.Action.PAID,
    ReservationEvent.Action.PAYMENT,
    ReservationEvent.Action.REFUNDED,
)


def uid_for(reservation):
    return f"{reservation.pk}@turnos"


def sequence_for(reservation):
    """How many times this session changed as a calendar sees it (0 when just booked)."""
    return reservation.events.exclude(action__in=UNSEEN_ACTIONS).count()


def session_url(reservation):
    """The session's page, absolute (settings.SITE_URL): messages and calendars have no request."""
    path = reverse("reservation_detail", args=[reservation.pk])
    return settings.SITE_URL.rstrip("/") + path


def _status(reservation):
    if reservation.status == Status.CANCELLED:
        return "CANCELLED"
    return "TENTATIVE" if reservation.status == Status.PENDING else "CONFIRMED"


def event_for(reservation, *, viewer, sequence=None, summary=None, stamp=None):
    """The VEVENT of one session as `viewer` (its patient or its professional) sees it.

    `sequence` defaults to sequence_for(reservation) (one query); `summary` lets a feed say less
    (a professional's feed shows the patient's initials); `stamp` (DTSTAMP) defaults to now.
    """
    zone = viewer.zone
    is_professional = getattr(viewer, "pk", None) == reservation.professional_id
    if summary is None:
        if is_professional:
            other = reservation.client.name
        else:
            other = reservation.professional.display_name
        summary = _("Session with %(name)s") % {"name": other}
    url = session_url(reservation)
    where = reservation.address if reservation.session_modality == Modality.IN_PERSON else ""
    lines = [f"{settings.SITE_NAME}: {url}"]
    if reservation.session_modality == Modality.VIRTUAL and reservation.video_link:
        lines.insert(0, _("Join: %(link)s") % {"link": reservation.video_link})
    if where:
        lines.insert(0, _("Address: %(address)s") % {"address": where})
    event = Event.new(
        uid=uid_for(reservation),
        sequence=sequence_for(reservation) if sequence is None else sequence,
        stamp=stamp or timezone.now(),
        start=reservation.start_time.astimezone(zone),
        end=reservation.end_time.astimezone(zone),
        summary=summary,
        description="\n".join(lines),
        location=where or reservation.video_link or None,
        status=_status(reservation),
        url=url,
    )
    # RFC 5546: a REQUEST or CANCEL names its organizer (the practice) and attendee.
    organizer = vCalAddress("mailto:" + parseaddr(settings.DEFAULT_FROM_EMAIL)[1])
    organizer.params["CN"] = settings.SITE_NAME
    event.add("organizer", organizer)
    if getattr(viewer, "email", ""):
        attendee = vCalAddress("mailto:" + viewer.email)
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        event.add("attendee", attendee)
    return event


def calendar_for(events, method=None):
    """A VCALENDAR of `events` (from event_for) as bytes. `method` is "REQUEST" or "CANCEL" for
    an email's attachment (RFC 5546), None for a feed or a download."""
    # Calendar() rather than Calendar.new(), which would add a random UID: the same sessions give
    # the same bytes (but for DTSTAMP), which a feed's ETag can rely on.
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.SITE_NAME}//Turnos//ES")
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    for event in events:
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
