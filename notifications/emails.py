"""A message as it is sent: rendered when it is sent, in the recipient's language and time zone
(their settings then, not when the change happened), from one template per kind
(notifications/templates/notifications/email/<kind>.html) that gives the subject, the text and
the HTML part; with the session's .ics attached.
"""

from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from calendars import ics
from reservations.models import Modality, Reservation, Status
from reservations.texts import long_date, turn_time

from .models import Kind
from .rules import CANCEL_KINDS, reminder_due, reminder_hours

# Kinds whose message is about a session the patient should have on their calendar.
NO_CALENDAR = (Kind.ACCOUNT, Kind.DAILY_SUMMARY)


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
        context = _context(row)
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
            for name, method, payload in _calendars(row, user):
                message.attach(name, payload, f"text/calendar; method={method}; charset=utf-8")
    return message


def _calendars(row, user):
    r = row.reservation
    sequence = ics.sequence_for(r)
    cancelled = r.status == Status.CANCELLED or row.kind in CANCEL_KINDS
    method = "CANCEL" if cancelled else "REQUEST"
    event = ics.event_for(r, viewer=user, sequence=sequence)
    if cancelled:
        event["STATUS"] = "CANCELLED"
    found = [("turno.ics", method, ics.calendar_for([event], method))]
    old = r.rescheduled_from
    if row.kind in (Kind.RESCHEDULED, Kind.PATIENT_RESCHEDULED) and old is not None:
        # The session it replaced leaves the calendar (another UID: another reservation).
        gone = ics.event_for(old, viewer=user, sequence=ics.sequence_for(old))
        gone["STATUS"] = "CANCELLED"
        found.append(("turno-anterior.ics", "CANCEL", ics.calendar_for([gone], "CANCEL")))
    return found


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


def _name(user):
    return user.first_name or user.get_full_name() or user.email


def _link(row):
    """The patient's page of the session; for the professional, the session in their agenda
    (or the agenda itself, for a message about a day)."""
    site = settings.SITE_URL.rstrip("/")
    if not row.reservation_id:
        return site + reverse("agenda")
    if row.recipient_id == row.reservation.client_id:
        return ics.session_url(row.reservation)
    return site + reverse("agenda_session", args=[row.reservation_id])


def _day_sessions(row):
    day = row.session_start
    return (
        Reservation.objects.active()
        .filter(professional=row.recipient, start_time__gte=day)
        .filter(start_time__lt=day + timedelta(days=1))
        .select_related("client")
        .order_by("start_time")
    )


def _context(row):
    for_patient = row.reservation_id and row.recipient_id == row.reservation.client_id
    context = {
        "site_name": settings.SITE_NAME,
        "name": _name(row.recipient),
        "url": _link(row),
        "action": _("See the session")
        if for_patient
        else _("Open %(site)s") % {"site": settings.SITE_NAME},
        "LANGUAGE_CODE": translation.get_language(),
    }
    if row.kind == Kind.DAILY_SUMMARY:
        day = timezone.localtime(row.session_start).date()
        context["day"] = long_date(day, with_year=False)
        context["sessions"] = [
            {
                "time": when(s.start_time, s.end_time),
                "patient": s.client.get_full_name() or s.client.email,
                "modality": s.get_session_modality_display(),
                "pending": s.status == Status.PENDING,
            }
            for s in _day_sessions(row)
        ]
        return context
    r = row.reservation
    start = row.session_start
    end = start + r.duration
    event = row.event
    reason = event.reason if event is not None else ""
    if reason in ("expired", "rescheduled"):
        reason = ""  # codes, not words someone wrote
    old_when = ""
    if row.kind in (Kind.RESCHEDULED, Kind.PATIENT_RESCHEDULED):
        if r.rescheduled_from_id:
            old = r.rescheduled_from
            old_when = when(old.start_time, old.end_time)
        elif event is not None and "start_time" in event.changes:
            old_start = datetime.fromisoformat(event.changes["start_time"][0])
            old_end = event.changes.get("end_time", [None])[0]
            old_end = datetime.fromisoformat(old_end) if old_end else old_start + r.duration
            old_when = when(old_start, old_end)
    context.update(
        {
            "professional": r.professional.display_name,
            "patient": r.client.get_full_name() or r.client.email,
            "when": when(start, end),
            "old_when": old_when,
            "reason": reason,
            "pending": r.status == Status.PENDING,
            "virtual": r.session_modality == Modality.VIRTUAL,
            "video_link": r.video_link,
            "address": r.address,
            "map_url": r.map_url,
            "hours": reminder_hours(r),
        }
    )
    return context
