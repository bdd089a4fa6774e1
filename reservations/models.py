import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.db.models import Exists, F, OuterRef, Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import phones

from .actions import ActionKind, Actor, Channel, Role, recording, retrying_deadlocks


class Status(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    CANCELLED = "CANCELLED", _("Cancelled")


class Modality(models.TextChoices):
    VIRTUAL = "Virtual", _("Virtual")
    IN_PERSON = "Presencial", _("In person")


class Lateness(models.TextChoices):
    """A cancel made inside the notice period, and whose side it was. Only the practice can cancel
    that late: for itself, or on the patient's behalf (the patient called)."""

    ON_TIME = "", _("On time")
    PATIENT = "patient", _("Late, by the patient")
    PRACTICE = "practice", _("Late, by the practice")


ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)

# How long after a session its attendance may still be recorded or corrected.
ATTENDANCE_WINDOW = timedelta(days=7)

# Named by the database guards against double booking (migration 0002) in their errors.
OVERLAP_MARKER = "reservation_no_overlap"
OVERLAP_MESSAGE = _(
    "This time overlaps another session of the same professional or the same patient."
)


def is_overlap_error(exc):
    return OVERLAP_MARKER in str(exc)


REASON_MAX_LENGTH = 2000


class ReasonCode(models.TextChoices):
    """Cancellation reasons the system writes, not a person (stored as the reason)."""

    # The patient moved the session to another time (the new one's rescheduled_from).
    RESCHEDULED = "rescheduled", _("Moved to another time")
    # A pending request nobody confirmed in time.
    EXPIRED = "expired", _("Nobody confirmed it in time")
    # A request to move a session, withdrawn because that session was cancelled meanwhile.
    MOVE_WITHDRAWN = "move_withdrawn", _("The session it would move was cancelled")


# A virtual session's link is offered from this long before its start until its end.
JOIN_OPENS_BEFORE = timedelta(minutes=15)


class Phase(models.TextChoices):
    """What a session is, as its patient reads it: the status, and for past sessions what
    happened. The stored status stays PENDING, CONFIRMED or CANCELLED (the API's contract)."""

    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    ABSENT = "absent", _("Absent")
    NOT_CONFIRMED = "not_confirmed", _("Not confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    LATE_CANCELLED = "late_cancelled", _("Cancelled late")
    # Cancelled, but said for what happened: its patient moved it; the practice turned down the
    # request (a request nobody confirmed in time reads NOT_CONFIRMED).
    RESCHEDULED = "rescheduled", _("Rescheduled")
    DECLINED = "declined", _("Declined")


@dataclass(frozen=True)
class Contact:
    """How a patient reaches whoever looks after a session: the professional, or else the
    practice. Each link is (kind, text, href); kinds are "phone", "whatsapp" and "email"."""

    by_practice: bool
    phone: str = ""
    whatsapp: str = ""
    email: str = ""

    @property
    def links(self):
        """Phones as the practice's country reads them, linked in E.164 (accounts.phones); a
        stored value that is not a valid number (kept from before numbers were checked) is left
        out rather than linked wrongly."""
        links = []
        if tel := phones.tel_href(self.phone):
            links.append(("phone", phones.text(self.phone), tel))
        if wa := phones.whatsapp_href(self.whatsapp):
            links.append(("whatsapp", phones.text(self.whatsapp), wa))
        if self.email:
            links.append(("email", self.email, "mailto:" + self.email))
        return links


def map_url(address):
    """A link to the address on OpenStreetMap: a link, not an embedded third-party map."""
    return "https://www.openstreetmap.org/search?query=" + quote(address)


def clean_reason(text):
    """A cancellation reason as stored: free text, so a NUL (which PostgreSQL text cannot hold)
    is dropped rather than failing the cancel, and it is kept to REASON_MAX_LENGTH."""
    return text.replace("\x00", "").strip()[:REASON_MAX_LENGTH]


@dataclass(frozen=True)
class Refusal:
    """Why a cancel was not done. `code` is for machines, `message` for the patient."""

    # "already_cancelled", "past", "in_progress", "notice", "reason_required", "not_pending"...
    code: str
    message: str

    def __str__(self):
        return str(self.message)


def professionals_of(rows):
    """Loads the professional and their profile of every row in one query for them all.

    For lists: a patient's rows share one or two professionals, and joined to every row
    (with_people) their columns were most of what a list's query selected, and most of the
    time Django took to build it (docs/performance.md)."""
    professionals = get_user_model().objects.select_related("professional_profile")
    prefetch_related_objects(rows, Prefetch("professional", queryset=professionals))
    return rows


def link_moves(rows):
    """Tells each of `rows` (a list of sessions ahead, all of one patient) its move request and
    the session a request would replace, from the list itself: no query per row. A request
    whose session is not in the list loads it when asked (Reservation.replaces)."""
    by_pk = {r.pk: r for r in rows}
    for r in rows:
        if r.status == Status.CONFIRMED:
            r.move_request = None
    for r in rows:
        old = by_pk.get(r.rescheduled_from_id)
        if old is not None:
            r.rescheduled_from = old
            if r.status == Status.PENDING and old.status == Status.CONFIRMED:
                old.move_request = r
    return rows


class ReservationQuerySet(models.QuerySet):
    def with_people(self):
        """The professional and their profile joined: for one reservation."""
        return self.select_related("professional__professional_profile")

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def overdue(self, now):
        """Pending requests whose hold has lapsed: cancelled by Reservation.expire, by the worker
        or by whoever needs their time first."""
        return self.filter(status=Status.PENDING, expires_at__lte=now)

    def upcoming_for(self, client, now):
        """The sessions not cancelled that are in progress or ahead, the nearest first.

        Ordered by end first: a patient's sessions do not overlap, so that is the same order
        as by start, and it lets the (client, end) index find the row directly. Ordered by
        start, PostgreSQL walked a long history from its oldest session (docs/performance.md).
        """
        return (
            self.filter(client=client, end_time__gt=now)
            .active()
            .order_by("end_time", "start_time", "id")
        )

    def history_for(self, client, now):
        """What is behind the patient: sessions that ended, and cancelled ones (whatever their
        date: a cancelled session is done with), newest first."""
        return (
            self.filter(client=client)
            .filter(Q(end_time__lte=now) | Q(status=Status.CANCELLED))
            .with_declined()
            .order_by("-start_time", "-id")
        )

    def with_waiting_moves(self):
        """Each row's `has_waiting_move`: whether a request to move it waits, in the same query
        (a cancel then knows there is none to withdraw without asking again)."""
        waiting = Reservation.objects.filter(rescheduled_from=OuterRef("pk"), status=Status.PENDING)
        return self.annotate(has_waiting_move=Exists(waiting))

    def with_declined(self):
        """Each row's Reservation.declined, in the same query."""
        declined = ReservationEvent.objects.filter(
            reservation=OuterRef("pk"), action=ReservationEvent.Action.DECLINED
        )
        return self.annotate(declined=Exists(declined))


class Reservation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reservations",
        verbose_name=_("patient"),
    )
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="agenda",
        verbose_name=_("professional"),
    )
    start_time = models.DateTimeField(_("start"))
    end_time = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    session_modality = models.CharField(
        _("modality"), max_length=16, choices=Modality.choices, default=Modality.VIRTUAL
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancellation_reason = models.TextField(
        _("cancellation reason"), blank=True, max_length=REASON_MAX_LENGTH
    )
    # Columns added after the first release have database defaults too, so rows written outside
    # the ORM (bench/build_data.py's COPY, tests' bulk INSERTs) need not name them.
    video_url = models.URLField(
        _("video call link"),
        blank=True,
        db_default="",
        help_text=_("For this session only; blank uses the professional's link."),
    )
    # None until the professional records it.
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    late_cancellation = models.CharField(
        _("late cancellation"),
        max_length=16,
        choices=Lateness.choices,
        blank=True,
        default="",
        db_default="",
    )
    # For the practice only: never shown to the patient nor sent by the API.
    internal_notes = models.TextField(_("internal notes"), blank=True, db_default="")
    # A pending request holds its time until then; nobody having confirmed it, it lapses
    # (Reservation.expire). None: it waits as long as it takes.
    expires_at = models.DateTimeField(_("request expires at"), null=True, blank=True)
    # The session this one replaces: its patient moved it here. When the professional approves
    # bookings and that session was confirmed, this one is a request to move it (PENDING), and
    # that session stands until the request is accepted (then it is cancelled with
    # ReasonCode.RESCHEDULED in the same transaction); else it was cancelled when this one was
    # booked. A session may have had several requests turned down, but one live move at most.
    # PENDING because its patient is paying for it (payments): it holds its time until expires_at
    # like a request, nobody but the payment confirms it, and nobody is told of it until it is
    # paid. It stays True on a hold that lapsed unpaid: the record of why it was cancelled.
    awaiting_payment = models.BooleanField(_("awaiting payment"), default=False, db_default=False)
    rescheduled_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="moves",
        verbose_name=_("rescheduled from"),
    )

    objects = ReservationQuerySet.as_manager()

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="reservation_end_after_start"
            ),
            # Two requests to move one session at once (two tabs) cannot both wait.
            models.UniqueConstraint(
                fields=["rescheduled_from"],
                condition=~Q(status=Status.CANCELLED),
                name="reservation_one_live_move",
            ),
        ]
        indexes = [
            # The patient's dashboard: history by start time, current turn by end time.
            models.Index(fields=["client", "-start_time"], name="reservation_client_start"),
            models.Index(fields=["client", "end_time"], name="reservation_client_end"),
            # The professional's agenda.
            models.Index(fields=["professional", "start_time"], name="reservation_prof_start"),
        ]

    def __str__(self):
        start = timezone.localtime(self.start_time)
        return f"{start:%Y-%m-%d %H:%M} · {self.client} · {self.get_status_display()}"

    def clean(self):
        if self.start_time and self.end_time:
            if self.end_time <= self.start_time:
                raise ValidationError({"end_time": _("The end must be after the start.")})
            if self.status != Status.CANCELLED and self.overlapping().exists():
                raise ValidationError(OVERLAP_MESSAGE, code="overlap")

    def overlapping(self):
        """Non-cancelled reservations of the same professional or patient that overlap this one."""
        return (
            Reservation.objects.exclude(pk=self.pk)
            .exclude(status=Status.CANCELLED)
            .filter(
                Q(professional_id=self.professional_id) | Q(client_id=self.client_id),
                start_time__lt=self.end_time,
                end_time__gt=self.start_time,
            )
        )

    @classmethod
    def book(cls, *, by, within=None, kind=ActionKind.BOOK, **fields):
        """Create a reservation and its "created" event, or raise ValidationError.

        clean() gives the friendly answer in the common case; the database guard decides races:
        of two overlapping bookings written at the same time, exactly one is stored.
        """
        reservation = cls(**fields)
        reservation.full_clean()
        return reservation.insert(by=by, within=within, kind=kind)

    def insert(self, *, by, changes=None, within=None, kind=ActionKind.BOOK):
        """Write this validated, new reservation with its "created" event (`changes`: what the
        event records besides, e.g. {"rescheduled_from": id}), as an action of its own (tried
        again on a deadlock: retrying_deadlocks) or as part of `within`. Raises ValidationError
        when the database's guard finds an overlap (a concurrent booking won the time)."""

        def write():
            try:
                with recording(kind, by=by, at=self.created_at, within=within) as action:
                    self.save(force_insert=True)
                    action.log(
                        ReservationEvent(
                            reservation=self,
                            action=ReservationEvent.Action.CREATED,
                            to_status=self.status,
                            changes=changes or {},
                        )
                    )
            except IntegrityError as exc:
                if is_overlap_error(exc):
                    raise ValidationError(OVERLAP_MESSAGE, code="overlap") from exc
                raise
            return self

        return write() if within is not None else retrying_deadlocks(write)

    @cached_property
    def moved_to(self):
        """The session this one was moved to (it is cancelled as rescheduled), or None."""
        if not self.moved_away:
            return None
        return self.moves.order_by("-created_at", "-pk").first()

    @cached_property
    def move_request(self):
        """The request waiting to move this session, which stands until it is accepted, or
        None. Lists find it among their rows (link_moves)."""
        if self.status != Status.CONFIRMED or not getattr(self, "has_waiting_move", True):
            return None
        return self.moves.filter(status=Status.PENDING).first()

    @property
    def replaces(self):
        """The session this pending request would move, while that one stands (a request to
        move it, accepted or turned down by the professional), else None."""
        if self.status != Status.PENDING or not self.rescheduled_from_id:
            return None
        old = self.rescheduled_from
        return old if old.status == Status.CONFIRMED else None

    @property
    def held_for_payment(self):
        """PENDING while its patient pays for it (awaiting_payment): not a request for its
        professional yet, and only the payment confirms it."""
        return self.status == Status.PENDING and self.awaiting_payment

    @property
    def duration(self):
        return self.end_time - self.start_time

    @property
    def duration_minutes(self):
        return int(self.duration.total_seconds() // 60)

    @property
    def profile(self):
        """The professional's profile, or None (a professional may not have one yet)."""
        try:
            return self.professional.professional_profile
        except models.ObjectDoesNotExist:
            return None

    @property
    def notice_period(self):
        profile = self.profile
        hours = (
            profile.cancellation_notice_hours
            if profile
            else settings.DEFAULT_CANCELLATION_NOTICE_HOURS
        )
        return timedelta(hours=hours)

    @property
    def cancel_deadline(self):
        """The last moment the patient may cancel online."""
        return self.start_time - self.notice_period

    def phase(self, now):
        """What the session is to its patient: one label for each thing that happened, the same
        in every list and on its page."""
        if self.status == Status.CANCELLED:
            if self.late_cancellation == Lateness.PATIENT:
                return Phase.LATE_CANCELLED
            if self.cancellation_reason == ReasonCode.RESCHEDULED:
                return Phase.RESCHEDULED
            if self.cancellation_reason == ReasonCode.EXPIRED:
                return Phase.NOT_CONFIRMED
            if self.declined:
                return Phase.DECLINED
            return Phase.CANCELLED
        if self.end_time <= now:
            if self.status == Status.PENDING:
                return Phase.NOT_CONFIRMED
            return Phase.ABSENT if self.attended is False else Phase.DONE
        if self.start_time <= now:
            return Phase.IN_PROGRESS
        return Phase.PENDING if self.status == Status.PENDING else Phase.CONFIRMED

    @property
    def contact(self):
        profile = self.profile
        if profile and (profile.phone or profile.whatsapp or profile.contact_email):
            return Contact(
                False,
                phones.stored(profile.phone),
                phones.stored(profile.whatsapp),
                profile.contact_email,
            )
        return Contact(
            True,
            phones.stored(settings.PRACTICE_PHONE),
            phones.stored(settings.PRACTICE_WHATSAPP),
            settings.PRACTICE_EMAIL,
        )

    @property
    def address(self):
        """Where an in-person session happens: the professional's address, else the practice's."""
        if self.session_modality != Modality.IN_PERSON:
            return ""
        profile = self.profile
        return (profile.address if profile else "") or settings.PRACTICE_ADDRESS

    @property
    def map_url(self):
        return map_url(self.address) if self.address else ""

    @property
    def video_link(self):
        """A virtual session's link: its own, else the professional's; "" when there is none."""
        if self.session_modality != Modality.VIRTUAL:
            return ""
        profile = self.profile
        return self.video_url or (profile.video_url if profile else "")

    @property
    def join_opens_at(self):
        return self.start_time - JOIN_OPENS_BEFORE

    def join_url(self, now):
        """The video link while it may be used (JOIN_OPENS_BEFORE the start until the end, and
        not cancelled), else "". Before then, patients see when it opens, not the link."""
        if self.status == Status.CANCELLED or not (self.join_opens_at <= now < self.end_time):
            return ""
        return self.video_link

    def inside_notice(self, now):
        """Whether `now` is closer to the start than the professional's notice: a patient may no
        longer cancel online, and a cancel by the practice counts as late. Exactly the notice
        before the start is still outside it."""
        return self.start_time - now < self.notice_period

    def cancel_refusal(self, now=None, role=Role.PATIENT):
        """Why this reservation may not be cancelled now by someone in `role`, or None if it may.

        The patient may cancel a PENDING or CONFIRMED reservation outside the notice: exactly
        48 h before the start is still allowed, a second later is not. The professional may
        cancel any of theirs that has not started, notice or not. Staff may cancel any PENDING or
        CONFIRMED reservation at any time.
        """
        now = now or timezone.now()
        if self.status == Status.CANCELLED:
            return Refusal("already_cancelled", _("Already cancelled"))
        if role in (Role.STAFF, Role.SYSTEM):
            return None
        if self.end_time <= now:
            return Refusal("past", _("This session has already taken place"))
        if self.start_time <= now:
            return Refusal("in_progress", _("This session is in progress"))
        if role == Role.PROFESSIONAL:
            return None
        if self.inside_notice(now):
            hours = int(self.notice_period.total_seconds() // 3600)
            return Refusal(
                "notice",
                ngettext(
                    "You can only cancel %(hours)d hour in advance — contact your professional",
                    "You can only cancel %(hours)d h in advance — contact your professional",
                    hours,
                )
                % {"hours": hours},
            )
        return None

    def patient_events(self):
        """This session's story as its patient may read it: booked, confirmed, moved, cancelled
        (by whom, and why), oldest first. Staff's other edits are not part of it."""
        what = ReservationEvent.Action
        hers = [what.CREATED, what.CONFIRMED, what.RESCHEDULED, what.CANCELLED, what.DECLINED]
        hers.append(what.EXPIRED)
        return list(self.events.filter(action__in=hers).order_by("at", "id"))

    def is_upcoming(self, now):
        """In progress or ahead and not cancelled: what ReservationQuerySet.upcoming_for selects."""
        return self.status in ACTIVE_STATUSES and self.end_time > now

    def is_cancellable(self, now=None):
        return self.cancel_refusal(now) is None

    @cached_property
    def declined(self):
        """Cancelled by the practice turning down the request (its "declined" event). Lists
        annotate it (ReservationQuerySet.with_declined); else one query, for a cancelled one."""
        return self.status == Status.CANCELLED and (
            self.events.filter(action=ReservationEvent.Action.DECLINED).exists()
        )

    @property
    def moved_away(self):
        """Cancelled because its patient moved it to another time (rescheduled_to)."""
        return self.status == Status.CANCELLED and (
            self.cancellation_reason == ReasonCode.RESCHEDULED
        )

    @property
    def reason_text(self):
        """The cancellation reason a person wrote; "" for a code the system wrote."""
        return "" if self.cancellation_reason in ReasonCode.values else self.cancellation_reason

    def cancel(self, *, by, reason="", now=None, for_patient=False, within=None):
        """Cancel, or say why not. Returns None on success, else a Refusal.

        `by` (an Actor) decides the rules: the patient cancels under the notice; the practice (a
        professional, or staff) is not bound by it, must give the reason the patient will read,
        and a cancel of theirs inside the notice is recorded as late: the practice's, or the
        patient's when made on their behalf (`for_patient`: they called). The check is repeated
        inside one conditional UPDATE, so two racing cancels (or a cancel racing the clock) leave
        exactly one cancellation: the loser sees "already cancelled".
        """
        now = now or timezone.now()
        reason = clean_reason(reason)
        refusal = self.cancel_refusal(now, by.role) or reason_refusal(by, reason)
        if refusal:
            return refusal
        late = ""
        if by.is_practice and self.inside_notice(now):
            late = Lateness.PATIENT if for_patient else Lateness.PRACTICE
        rows = Reservation.objects.filter(pk=self.pk, status__in=ACTIVE_STATUSES)
        if by.role == Role.PROFESSIONAL:
            rows = rows.filter(start_time__gt=now)
        elif by.role == Role.PATIENT:
            rows = rows.filter(start_time__gte=now + self.notice_period)
        action = ActionKind.CANCEL
        with recording(action, by=by, at=now, reason=reason, within=within) as recorded:
            was_confirmed = self.status == Status.CONFIRMED
            done = self.write_cancel(
                rows, recorded, ReservationEvent.Action.CANCELLED, reason, late, now
            )
            if done and was_confirmed and getattr(self, "has_waiting_move", True):
                self._withdraw_moves(recorded, now)
        if done:
            return None
        self.refresh_from_db(
            fields=["status", "cancelled_at", "cancelled_by", "cancellation_reason"]
        )
        return self.cancel_refusal(now, by.role) or Refusal(
            "already_cancelled", _("Already cancelled")
        )

    def write_cancel(self, rows, action, event_action, reason, late, now):
        """The cancel itself: `rows` (this reservation, narrowed to the state the rule allows)
        updated to CANCELLED, and its event logged into `action`. False when the row had changed
        meanwhile. For this model's rules only (cancel, decline, expire, a move carried out or
        withdrawn), which have checked who may."""
        old_status = self.status
        by = action.by.user
        updated = rows.update(
            status=Status.CANCELLED,
            cancelled_at=now,
            cancelled_by=by,
            cancellation_reason=reason,
            late_cancellation=late,
        )
        if not updated:
            return False
        action.log(
            ReservationEvent(
                reservation=self,
                action=event_action,
                from_status=old_status,
                to_status=Status.CANCELLED,
                changes={"late_cancellation": late} if late else {},
            ),
            reason=reason,
        )
        # What the UPDATE wrote; no need to read it back.
        self.status, self.cancelled_at = Status.CANCELLED, now
        self.cancelled_by, self.cancellation_reason = by, reason
        self.late_cancellation = late
        self.declined = event_action == ReservationEvent.Action.DECLINED
        return True

    def _withdraw_moves(self, action, now):
        """This confirmed session was just cancelled: a request to move it has nothing left to
        move, and goes with it (in the same action, so its patient hears of both at once)."""
        for request in Reservation.objects.filter(rescheduled_from=self, status=Status.PENDING):
            rows = Reservation.objects.filter(pk=request.pk, status=Status.PENDING)
            code = ReasonCode.MOVE_WITHDRAWN
            request.write_cancel(rows, action, ReservationEvent.Action.CANCELLED, code, "", now)

    def _carry_out_move(self, action, now):
        """This request to move a session was just accepted: that session is cancelled as
        rescheduled (never as late: its patient asked in time), in the same action."""
        rows = Reservation.objects.filter(pk=self.rescheduled_from_id, status=Status.CONFIRMED)
        old = self.rescheduled_from
        code = ReasonCode.RESCHEDULED
        old.write_cancel(rows, action, ReservationEvent.Action.CANCELLED, code, "", now)

    def decline(self, *, by, reason, now=None):
        """The practice turns down a PENDING request: cancelled, with the reason the patient
        reads (turning down a request is never a late cancellation). Returns None, or a Refusal
        when it is no longer pending."""
        now = now or timezone.now()
        reason = clean_reason(reason)
        if self.status != Status.PENDING:
            return Refusal("not_pending", _("This request is no longer pending"))
        refusal = reason_refusal(by, reason)
        if refusal:
            return refusal
        rows = Reservation.objects.filter(pk=self.pk, status=Status.PENDING)
        with recording(ActionKind.DECLINE, by=by, at=now, reason=reason) as action:
            done = self.write_cancel(
                rows, action, ReservationEvent.Action.DECLINED, reason, "", now
            )
        if done:
            return None
        self.refresh_from_db(fields=["status"])
        return Refusal("not_pending", _("This request is no longer pending"))

    def attendance_refusal(self, now=None):
        """Why attendance cannot be recorded now, or None: only once a session has started,
        not cancelled, and until ATTENDANCE_WINDOW after its end."""
        now = now or timezone.now()
        if self.status == Status.CANCELLED:
            return Refusal("cancelled", _("This session was cancelled"))
        if self.start_time > now:
            return Refusal("not_started", _("This session has not started yet"))
        if now > self.end_time + ATTENDANCE_WINDOW:
            return Refusal(
                "too_late", _("Attendance can only be recorded up to 7 days after the session")
            )
        return None

    def record_attendance(self, attended, *, by, now=None):
        """Record whether the patient came ("Asistió" / "Ausente"), with an event each time.
        Returns None, or a Refusal."""
        now = now or timezone.now()
        refusal = self.attendance_refusal(now)
        if refusal:
            return refusal
        with recording(ActionKind.ATTENDANCE, by=by, at=now) as action:
            old = Reservation.objects.select_for_update().get(pk=self.pk)
            if old.status == Status.CANCELLED:
                return Refusal("cancelled", _("This session was cancelled"))
            Reservation.objects.filter(pk=self.pk).update(attended=attended)
            action.log(
                ReservationEvent(
                    reservation=self,
                    action=ReservationEvent.Action.ATTENDANCE,
                    from_status=old.status,
                    to_status=old.status,
                    changes={"attended": [old.attended, attended]},
                )
            )
        self.attended = attended
        return None

    @staticmethod
    def pending_expiry(start_time, now):
        """When a request made now lapses if nobody confirms it: PENDING_EXPIRY_HOURS from now,
        or the session's start if that comes first."""
        return min(now + timedelta(hours=settings.PENDING_EXPIRY_HOURS), start_time)

    def expire(self, now=None):
        """Cancel this request if its hold has lapsed and it is still pending (reason "expired",
        by the system, an event). Returns True when this call expired it; safe to call twice."""
        now = now or timezone.now()
        code = ReasonCode.EXPIRED
        rows = Reservation.objects.overdue(now).filter(pk=self.pk)
        with recording(ActionKind.EXPIRE, by=Actor.system(), at=now, reason=code) as action:
            return self.write_cancel(rows, action, ReservationEvent.Action.EXPIRED, code, "", now)

    @classmethod
    def expire_overdue(cls, now, *conditions, **filters):
        """Expire every lapsed request matching `conditions` and `filters` (e.g. a professional's
        or their patient's, before booking that time): a late worker never blocks a slot.
        Returns how many."""
        return sum(r.expire(now) for r in cls.objects.overdue(now).filter(*conditions, **filters))

    def confirm(self, *, by, now=None, within=None):
        """PENDING becomes CONFIRMED while the session is not over and its hold has not lapsed
        (and is not waiting for its payment: the payment confirms it, payments.rules.settle); a
        request to move a session carries the move out (the old one cancelled as rescheduled),
        in one transaction. Returns True when this call confirmed it."""
        now = now or timezone.now()
        with recording(ActionKind.CONFIRM, by=by, at=now, within=within) as action:
            updated = (
                Reservation.objects.filter(pk=self.pk, status=Status.PENDING, end_time__gt=now)
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
                .filter(awaiting_payment=False)
                .update(status=Status.CONFIRMED, expires_at=None)
            )
            if updated:
                action.log(
                    ReservationEvent(
                        reservation=self,
                        action=ReservationEvent.Action.CONFIRMED,
                        from_status=Status.PENDING,
                        to_status=Status.CONFIRMED,
                    )
                )
                if self.rescheduled_from_id:
                    self._carry_out_move(action, now)
        if updated:
            self.status, self.expires_at = Status.CONFIRMED, None
        else:
            self.refresh_from_db(fields=["status", "expires_at"])
        return bool(updated)

    def change(self, fields, *, by, now=None, within=None, kind=ActionKind.CHANGE):
        """Write `fields`, as set on this instance, and record one event: "rescheduled" when the
        times are among them, else "changed", with the old and new values.

        Only these fields are written, so a cancel saved meanwhile by someone else is not undone.
        Status changes go through confirm() and cancel(). Raises ValidationError on an overlap
        that the database found (a concurrent booking won the time).
        """
        writable = {f.name for f in self._meta.concrete_fields} - {"status", "id"}
        fields = [name for name in fields if name in writable]
        if not fields:
            return
        now = now or timezone.now()
        try:
            with recording(kind, by=by, at=now, within=within) as action:
                old = Reservation.objects.select_for_update().get(pk=self.pk)
                self.save(update_fields=fields)
                event_action = (
                    ReservationEvent.Action.RESCHEDULED
                    if {"start_time", "end_time"} & set(fields)
                    else ReservationEvent.Action.CHANGED
                )
                action.log(
                    ReservationEvent(
                        reservation=self,
                        action=event_action,
                        from_status=old.status,
                        to_status=old.status,
                        changes={
                            name: [
                                _jsonable(getattr(old, attname)),
                                _jsonable(getattr(self, attname)),
                            ]
                            for name in fields
                            for attname in [self._meta.get_field(name).attname]
                        },
                    )
                )
        except IntegrityError as exc:
            if is_overlap_error(exc):
                raise ValidationError(OVERLAP_MESSAGE, code="overlap") from exc
            raise


def reason_refusal(by, reason):
    """The practice says why it cancels or declines: the patient reads it. (The patient may give
    a reason or not; the system writes a code.)"""
    if by.is_practice and not reason:
        return Refusal("reason_required", _("Write the reason: the patient will read it."))
    return None


def _jsonable(value):
    # Event changes as JSON: times in ISO 8601 UTC, ids as text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value) if value is not None else None


class Event(models.Model):
    """What every record of an action has: who, through which door, when, why, and the id of the
    action (reservations.actions.Action) it was part of. Written by Action.log only."""

    action_id = models.UUIDField(_("action"), db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    reason = models.TextField(_("reason"), blank=True)
    # For edits: {"field": [old, new]} of what changed (times as ISO 8601 UTC).
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        abstract = True

    @property
    def reason_text(self):
        """The reason a person wrote; "" for a code the system wrote."""
        return "" if self.reason in ReasonCode.values else self.reason


class ReservationEvent(Event):
    """Append-only record of what happened to a reservation. `action` says what happened to this
    session; `action_id` groups it with the rest of what the same action did."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")
        DECLINED = "declined", _("Declined")
        RESCHEDULED = "rescheduled", _("Rescheduled")
        CHANGED = "changed", _("Changed")
        ATTENDANCE = "attendance", _("Attendance recorded")
        EXPIRED = "expired", _("Request expired")
        # Money (payments): a payment approved; any other change of a payment's status (pending,
        # rejected...); money given back. Their `changes` say the amounts; the status is unchanged.
        PAID = "paid", _("Paid")
        PAYMENT = "payment", _("Payment updated")
        REFUNDED = "refunded", _("Refunded")

    reservation = models.ForeignKey(
        Reservation,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("reservation"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)

    class Meta:
        verbose_name = _("reservation event")
        verbose_name_plural = _("reservation events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["reservation", "at"], name="event_reservation_at"),
            # Lists ask of each row whether it was declined (Reservation.objects.with_declined):
            # the few declines, found without reading every event.
            models.Index(
                fields=["reservation"],
                condition=models.Q(action="declined"),
                name="event_declined",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"

    @property
    def moved_away(self):
        """The cancel of a session its patient moved to another time."""
        return self.action == self.Action.CANCELLED and self.reason == ReasonCode.RESCHEDULED
