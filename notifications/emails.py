"""A message as it is sent: rendered when it is sent, in the recipient's language and time zone
(their settings then, not when the change happened), from one template per kind
(notifications/templates/notifications/email/<kind>.html) that gives the subject, the text and
the HTML part; with the session's .ics attached.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.dispatch import Signal
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from calendars import ics
from reservations.models import Modality, ReasonCode, Reservation, ReservationEvent, Status
from reservations.texts import long_date, turn_time
from series.models import SeriesEvent

from .models import Kind
from .rules import CANCEL_KINDS, EVENTS_OF_KIND, reminder_due, reminder_hours

# Messages to the professional of the sessions they tell of (the others go to the patient).
PROFESSIONAL_KINDS = (
    Kind.NEW_REQUEST,
    Kind.NEW_BOOKING,
    Kind.PATIENT_CANCELLED,
    Kind.PATIENT_RESCHEDULED,
)

# A move's events that tell of the session it replaces: asked (or made), accepted, turned
# down, lapsed.
MOVE_EVENTS = (
    ReservationEvent.Action.CREATED,
    ReservationEvent.Action.CONFIRMED,
    ReservationEvent.Action.DECLINED,
    ReservationEvent.Action.EXPIRED,
)

# Kinds whose message is about a session the patient should have on their calendar.
NO_CALENDAR = (Kind.ACCOUNT, Kind.DAILY_SUMMARY, Kind.REFUNDED)

# Sent while a message to a patient about a session is rendered, with `reservation` and `row`: a
# capability built over this one adds to what the message says (payments: what was paid and
# what comes back) by returning a dict of context, without this app knowing of it.
message_context = Signal()


def skip_reason(row, now):
    """Why this message should not go out any more, or "" — checked when it fires."""
    if row.kind == Kind.DAILY_SUMMARY:
        return "" if _day_sessions(row).exists() else "no sessions that day"
    if row.kind != Kind.REMINDER:
        return ""  # a change happened: it is told, whatever came after
    r = Reservation.objects.select_related("professional__professional_profile").get(
        pk=row.reservation_id
    )
    if r.status != Status.CONFIRMED:
        return "session no longer confirmed"
    if r.start_time != row.session_start:
        return "session moved"
    if r.start_time <= now:
        return "session already started"
    if reminder_due(r) is None:
        return "reminders turned off by the professional"
    if not getattr(row.recipient, "reminders_enabled", True):
        return "reminders turned off by the patient"
    return ""


def sender():
    """From: the practice's name (SITE_NAME), at DEFAULT_FROM_EMAIL's address."""
    return formataddr((settings.SITE_NAME, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


def build(row):
    """The EmailMultiAlternatives for this row."""
    if row.kind == Kind.ACCOUNT:
        message = EmailMultiAlternatives(row.subject, row.body, sender(), [row.to])
        if row.html:
            message.attach_alternative(row.html, "text/html")
        return message
    user = row.recipient
    to = user.email or row.to
    with (
        translation.override(user.language or settings.LANGUAGE_CODE),
        timezone.override(user.zone),
    ):
        sessions = told(row)
        context = _context(row, sessions)
        template = get_template(f"notifications/email/{row.kind}.html", using="django").template
        # The subject and the text part are plain text: rendered without HTML escaping.
        subject = " ".join(
            template.render(Context({**context, "part": "subject"}, autoescape=False)).split()
        )
        text = template.render(Context({**context, "part": "text"}, autoescape=False)).strip()
        html = template.render(Context({**context, "part": "html"}))
        message = EmailMultiAlternatives(subject, text + "\n", sender(), [to])
        message.attach_alternative(html, "text/html")
        if row.kind not in NO_CALENDAR:
            for name, method, payload in _calendars(row, user, sessions):
                message.attach(name, payload, f"text/calendar; method={method}; charset=utf-8")
    return message


@dataclass
class Told:
    """One session a message tells of: the reservation, when it is (as of the action) and, for a
    move, when it was; the event that says what happened to it (None for a reminder)."""

    reservation: object
    start: datetime
    end: datetime
    event: object = None
    old_start: datetime = None
    old_end: datetime = None
    # A patient's move: the session it replaces, and whether this message is about a request to
    # move it (asked, or turned down, or lapsed) while that session stands.
    old: object = None
    stands: bool = False


def told(row):
    """The sessions `row` tells of, the earliest first: those of its action's events of the kind
    the message is about and of its recipient (as patient, or as professional); for a reminder,
    its session at the time it was written for."""
    if row.kind == Kind.DAILY_SUMMARY:
        return []
    if not row.action_id:
        r = row.reservation
        return [Told(r, row.session_start, row.session_start + r.duration)]
    whose = "professional" if row.kind in PROFESSIONAL_KINDS else "client"
    events = (
        ReservationEvent.objects.filter(
            action_id=row.action_id,
            action__in=EVENTS_OF_KIND[row.kind],
            **{f"reservation__{whose}_id": row.recipient_id},
        )
        .select_related(
            "reservation__client",
            "reservation__professional__professional_profile",
            "reservation__rescheduled_from",
        )
        .order_by("reservation__start_time", "id")
    )
    found = []
    for event in events:
        r = event.reservation
        item = Told(r, r.start_time, r.end_time, event)
        moved = event.changes.get("start_time")
        if moved:  # the practice moved it: the times as the action left them
            item.old_start, item.start = map(datetime.fromisoformat, moved)
            ends = event.changes.get("end_time")
            if ends:
                item.old_end, item.end = map(datetime.fromisoformat, ends)
            else:
                item.old_end, item.end = item.old_start + r.duration, item.start + r.duration
        elif r.rescheduled_from_id and event.action in MOVE_EVENTS:
            old = r.rescheduled_from  # the patient moved it: the session it replaces
            item.old, item.old_start, item.old_end = old, old.start_time, old.end_time
            if event.action == ReservationEvent.Action.CREATED:
                item.stands = bool(event.changes.get("request"))
            elif event.action != ReservationEvent.Action.CONFIRMED:
                item.stands = old.status == Status.CONFIRMED
        found.append(item)
    return found


def _calendars(row, user, sessions):
    """The .ics attachments: every session told of, as one calendar (a REQUEST, or a CANCEL for
    sessions that are off), and for a patient's move the sessions it replaced, cancelled."""
    if not sessions:
        return []
    cancelled = row.kind in CANCEL_KINDS
    events = []
    for item in sessions:
        event = ics.event_for(item.reservation, viewer=user)
        if cancelled or item.reservation.status == Status.CANCELLED:
            event["STATUS"] = "CANCELLED"
        events.append(event)
    method = "CANCEL" if cancelled else "REQUEST"
    found = [("turno.ics", method, ics.calendar_for(events, method))]
    if row.kind in (Kind.RESCHEDULED, Kind.PATIENT_RESCHEDULED, Kind.CONFIRMED) and row.action_id:
        gone = []
        for old in _moved_away(row):
            # The session a move replaced leaves the calendar (another UID: another reservation):
            # the one moved, or a request to move it that a new request replaced.
            event = ics.event_for(old, viewer=user)
            event["STATUS"] = "CANCELLED"
            gone.append(event)
        if gone:
            found.append(("turno-anterior.ics", "CANCEL", ics.calendar_for(gone, "CANCEL")))
    return found


def _moved_away(row):
    """The sessions of `row`'s recipient that its action cancelled because they were moved."""
    whose = "professional" if row.kind in PROFESSIONAL_KINDS else "client"
    events = ReservationEvent.objects.filter(
        action_id=row.action_id,
        action=ReservationEvent.Action.CANCELLED,
        reason=ReasonCode.RESCHEDULED,
        **{f"reservation__{whose}_id": row.recipient_id},
    ).select_related("reservation__client", "reservation__professional__professional_profile")
    return [e.reservation for e in events.order_by("reservation__start_time", "id")]


def when(start, end):
    """'martes 17 de marzo, 14:00 – 14:45 (45 min)': a day in full, not 'mañana' (a message is
    read later), in the active zone and language; the year when it is not this year's."""
    local = timezone.localtime(start)
    day = long_date(local.date(), with_year=local.year != timezone.localtime().year)
    return _("%(day)s, %(start)s – %(end)s (%(minutes)s min)") % {
        "day": day,
        "start": turn_time(start),
        "end": turn_time(end),
        "minutes": int((end - start).total_seconds() // 60),
    }


def _link(row, sessions):
    """Where the recipient acts on it: the patient's page of the session (their dashboard for
    several); for the professional, the session in their agenda (the agenda itself for a
    message about a day or about several sessions)."""
    site = settings.SITE_URL.rstrip("/")
    if row.kind in PROFESSIONAL_KINDS or row.kind == Kind.DAILY_SUMMARY:
        if len(sessions) == 1:
            return site + reverse("agenda_session", args=[sessions[0].reservation.pk])
        return site + reverse("agenda")
    if len(sessions) == 1:
        return ics.session_url(sessions[0].reservation)
    return site + reverse("dashboard")


def _day_sessions(row):
    day = row.session_start
    return (
        Reservation.objects.active()
        .filter(professional=row.recipient, start_time__gte=day)
        .filter(start_time__lt=day + timedelta(days=1))
        .exclude(awaiting_payment=True)  # held while its patient pays: not a session yet
        .select_related("client")
        .order_by("start_time")
    )


def _series_action(row):
    """('Semanal · martes 18:00', what happened to the series) when the action was about a
    weekly series (made, moved or ended from a session on), else ("", "")."""
    event = SeriesEvent.objects.filter(action_id=row.action_id).select_related("series").first()
    return (event.series.label(), event.action) if event else ("", "")


def _context(row, sessions):
    for_patient = row.kind not in PROFESSIONAL_KINDS and row.kind != Kind.DAILY_SUMMARY
    context = {
        "site_name": settings.SITE_NAME,
        "name": _name(row.recipient),
        "url": _link(row, sessions),
        "action": _("See the session")
        if for_patient and len(sessions) == 1
        else _("Open %(site)s") % {"site": settings.SITE_NAME},
        "LANGUAGE_CODE": translation.get_language(),
    }
    if row.kind == Kind.DAILY_SUMMARY:
        day = timezone.localtime(row.session_start).date()
        context["day"] = long_date(day, with_year=False)
        context["sessions"] = [
            {
                "time": when(s.start_time, s.end_time),
                "patient": s.client.name,
                "modality": s.get_session_modality_display(),
                "pending": s.status == Status.PENDING,
            }
            for s in _day_sessions(row)
        ]
        return context
    context["series"], context["series_action"] = _series_action(row)
    first = sessions[0]
    r = first.reservation
    event = first.event
    context.update(
        {
            "professional": r.professional.display_name,
            "patient": r.client.name,
            "when": when(first.start, first.end),
            "old_when": when(first.old_start, first.old_end) if first.old_start else "",
            "old_day": _day(first.old_start) if first.old_start else "",
            "stands": first.stands,
            # A session held for its payment that lapsed unpaid (payments).
            "unpaid": r.awaiting_payment and r.status == Status.CANCELLED,
            "sessions": [
                {
                    "when": when(s.start, s.end),
                    "old_when": when(s.old_start, s.old_end) if s.old_start else "",
                }
                for s in sessions
            ],
            "count": len(sessions),
            "reason": event.reason_text if event is not None else "",
            "pending": (event.to_status if event is not None else r.status) == Status.PENDING,
            "virtual": r.session_modality == Modality.VIRTUAL,
            "modality": Modality(r.session_modality).label,
            "video_link": r.video_link,
            "address": r.address,
            "map_url": r.map_url,
            "hours": reminder_hours(r),
        }
    )
    if for_patient:
        for _receiver, extra in message_context.send(sender=Kind, reservation=r, row=row):
            context.update(extra or {})
    return context


def _day(start):
    """'el martes 15': the day of a session, for a subject."""
    local = timezone.localtime(start)
    return long_date(local.date(), with_year=local.year != timezone.localtime().year)


def _name(user):
    return user.first_name or user.name
