"""A patient's data, as one dict: what the JSON download holds and what the readable page shows.

    build(patient)                              everything of theirs (their own download)
    build(patient, practice=True)               the same made by reception, with internal notes
    build(patient, professional=p, practice=True)   what concerns their sessions with p

What is in it: the profile (name, email, phone, language, zone, preferences); every session with
its events; their weekly series with theirs; the messages sent to them (what, when, to which
address: never a body, since account messages can carry a one-time link and session messages
are written when sent and not kept); their calendar links (that one exists, since when, whether
live: never the link itself, which would open the feed to whoever finds the file); their
deletion requests. Nothing of anyone else: who acted on a session is said as a role ("you",
"your professional", "the practice", "the system"), never as another person's name or email.

Internal notes are the practice's (no door shows them to the patient): the patient's own
download leaves them out; a copy made by the practice (Ley 26.529: the patient may ask for their
record) has them, for the practice to hand over.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone, translation

from calendars.models import FeedToken
from notifications.models import Kind, Outbox
from reservations.models import Reservation, ReservationEvent
from series.models import Series

from .models import DeletionRequest

FORMAT = "turnos-export/1"
# Free text only the practice reads: in a practice's copy only.
PRACTICE_ONLY = ("internal_notes",)


def _by(actor_id, patient, professional_id):
    if actor_id is None:
        return "system"
    if actor_id == patient.pk:
        return "patient"
    if actor_id == professional_id:
        return "professional"
    return "practice"


def _event(event, patient, professional_id, practice):
    changes = {
        name: value
        for name, value in (event.changes or {}).items()
        if practice or name not in PRACTICE_ONLY
    }
    return {
        "at": event.at,
        "action": event.action,
        "action_label": str(event.get_action_display()),
        "by": _by(event.actor_id, patient, professional_id),
        "channel": event.channel,
        "reason": event.reason_text,
        "changes": changes,
    }


def _session(r, patient, practice):
    occurrence = getattr(r, "occurrence", None)  # None: not part of a series
    events = []
    for event in sorted(r.events.all(), key=lambda e: (e.at, e.pk)):
        item = _event(event, patient, r.professional_id, practice)
        # A change that touched only the practice's notes is not the patient's to read.
        if item["changes"] or event.action != ReservationEvent.Action.CHANGED:
            events.append(item)
    data = {
        "id": str(r.pk),
        "professional": r.professional.display_name,
        "start": r.start_time,
        "end": r.end_time,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "modality": r.session_modality,
        "modality_label": str(r.get_session_modality_display()),
        "created_at": r.created_at,
        "cancelled_at": r.cancelled_at,
        "cancelled_by": _by(r.cancelled_by_id, patient, r.professional_id)
        if r.cancelled_at
        else None,
        "cancellation_reason": r.reason_text,
        "late_cancellation": r.late_cancellation,
        "attended": r.attended,
        "rescheduled_from": str(r.rescheduled_from_id) if r.rescheduled_from_id else None,
        "series": str(occurrence.series_id) if occurrence else None,
        "events": events,
        # What was paid for it and given back: ids and amounts (no card data ever reaches us).
        "payments": [_payment(p) for p in sorted(r.payments.all(), key=lambda p: p.pk)],
    }
    if practice:
        data["internal_notes"] = r.internal_notes
    return data


def _payment(p):
    return {
        "paid_by": p.method,
        "mercadopago_payment_id": p.mp_payment_id,
        "status": p.status,
        "amount": str(p.amount),
        "currency": p.currency,
        "refunded": str(p.amount_refunded),
        "created_at": p.created_at,
        "refunds": [
            {"amount": str(f.amount), "status": f.status, "created_at": f.created_at}
            for f in sorted(p.refunds.all(), key=lambda f: f.pk)
        ],
    }


def _series(s, patient):
    return {
        "id": str(s.pk),
        "professional": s.professional.display_name,
        "label": s.label(),
        "weekday": s.weekday,
        "time": s.local_time.isoformat(timespec="minutes"),
        "time_zone": s.time_zone,
        "minutes": s.minutes,
        "modality": s.session_modality,
        "every_weeks": s.interval_weeks,
        "starts_on": s.starts_on,
        "ends_on": s.ends_on,
        "count": s.count,
        "created_at": s.created_at,
        "ended_at": s.ended_at,
        "end_reason": s.end_reason,
        "events": [
            {
                "at": e.at,
                "action": e.action,
                "action_label": str(e.get_action_display()),
                "by": _by(e.actor_id, patient, s.professional_id),
                "from_session": e.from_index + 1 if e.from_index is not None else None,
                "reason": e.reason_text,
            }
            for e in s.events.order_by("at", "id")
        ],
        # Dates left out for a clash: when, not with what (it may be someone else's session).
        "skipped": [{"start": k.start, "end": k.end, "action": k.action} for k in s.skipped.all()],
    }


def _messages(patient, professional):
    rows = Outbox.objects.filter(Q(recipient=patient) | Q(kind=Kind.ACCOUNT, to=patient.email))
    if professional is not None:
        rows = rows.filter(reservation__professional=professional)
    return [
        {
            "kind": m.kind,
            "kind_label": str(m.get_kind_display()),
            # An account message's subject ("Password reset"): never its body or its link.
            "subject": m.subject,
            "session": str(m.reservation_id) if m.reservation_id else None,
            "to": m.to,
            "status": m.status,
            "created_at": m.created_at,
            "sent_at": m.sent_at,
        }
        for m in rows.order_by("created_at", "id")
    ]


def build(patient, *, professional=None, practice=False, now=None):
    """The patient's data as a dict of plain values (datetimes aware, in UTC; labels in the
    patient's language): see the module's docstring. `professional`: only what concerns the
    sessions with them."""
    language = patient.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(patient.zone):
        return _build(patient, professional, practice, now or timezone.now())


def _build(patient, professional, practice, now):
    sessions = (
        Reservation.objects.filter(client=patient)
        .select_related("professional__professional_profile", "occurrence")
        .prefetch_related("events", "payments__refunds")
        .order_by("start_time", "id")
    )
    series = Series.objects.filter(client=patient).select_related(
        "professional__professional_profile"
    )
    if professional is not None:
        sessions = sessions.filter(professional=professional)
        series = series.filter(professional=professional)
    data = {
        "format": FORMAT,
        "site": settings.SITE_NAME,
        "exported_at": now,
        "scope": "professional" if professional is not None else "all",
        "made_by": "practice" if practice else "patient",
        "profile": {
            "id": str(patient.pk),
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "email": patient.email,
            "phone": str(patient.phone or ""),  # E.164
            "language": patient.language,
            "time_zone": patient.time_zone,
            "email_reminders": patient.reminders_enabled,
            "joined": patient.date_joined,
        },
        "sessions": [_session(r, patient, practice) for r in sessions],
        "series": [_series(s, patient) for s in series.order_by("created_at", "id")],
        "messages": _messages(patient, professional),
    }
    if professional is not None:
        data["professional"] = professional.display_name
        return data
    data["calendar_links"] = [
        {"created_at": f.created_at, "revoked_at": f.revoked_at, "live": f.revoked_at is None}
        for f in FeedToken.objects.filter(user=patient).order_by("created_at", "id")
    ]
    data["deletion_requests"] = [
        {
            "requested_at": d.requested_at,
            "due_by": d.due_by,
            "status": d.status,
            "status_label": str(d.get_status_display()),
            "decided_at": d.decided_at,
            "reason": d.reason,
        }
        for d in DeletionRequest.objects.filter(patient=patient).order_by("requested_at")
    ]
    return data


def as_json(data):
    """The JSON file: times in ISO 8601 (UTC), indented to be read."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def filename(patient, now=None):
    day = timezone.localdate(now or timezone.now())
    return f"turnos-data-{day:%Y-%m-%d}-{str(patient.pk)[:8]}.json"
