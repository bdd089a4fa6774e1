"""The outbox: one row per message to send, written when the action that causes it has committed
(notifications/rules.py), sent by the worker (notifications.tasks.send_message).

A message about an action is keyed by (action, kind, recipient): however many sessions the action
touched, each person gets one message of each kind, and a second look at the same action never
makes a second row. A reminder is keyed by (reservation, recipient, the session's start): a
session moved to a new time gets a new reminder without the old one in the way.

States: pending (waiting for its time, `next_attempt_at`) -> sending (claimed by one worker
with a conditional UPDATE) -> sent (with `sent_at` and `to`); or, when sending fails, pending
again with a later `next_attempt_at` (backoff), and failed after the last attempt; skipped when
the message no longer applies when its time comes (a reminder for a session cancelled or moved
since, a patient who turned reminders off).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reservations.models import Reservation

# Waits before the 2nd, 3rd, … attempt; after the last one the row is failed (the admin's
# "retry" starts it again). 1 min + 5 min + 30 min + 2 h + 6 h: a mail server down for most of
# a working day loses nothing.
BACKOFF = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
]
MAX_ATTEMPTS = len(BACKOFF) + 1

# A row in "sending" for longer than this was claimed by a worker that died mid-send (killed,
# machine lost): the sweep makes it pending again. Longer than any send may take
# (EMAIL_TIMEOUT, 20 s by default).
LEASE = timedelta(minutes=10)


class Kind(models.TextChoices):
    # To the patient (each about one session or several: a weekly series is one message).
    BOOKED = "booked", _("Session booked")
    # The practice (reception, the professional) booked it for the patient: "we booked".
    BOOKED_FOR_YOU = "booked_for_you", _("Session booked by the practice")
    CONFIRMED = "confirmed", _("Session confirmed")
    DECLINED = "declined", _("Request declined")
    CANCELLED = "cancelled", _("Session cancelled by the practice")
    YOU_CANCELLED = "you_cancelled", _("Cancel confirmed to the patient")
    RESCHEDULED = "rescheduled", _("Session moved")
    CHANGED = "changed", _("Session details changed")
    EXPIRED = "expired", _("Request expired")
    # Money given back (payments): how much, and why.
    REFUNDED = "refunded", _("Refund")
    REMINDER = "reminder", _("Reminder")
    # Allauth's messages (the invitation to set a password, a password reset), rendered when
    # asked for and kept whole on the row.
    ACCOUNT = "account", _("Account message")
    # To the professional.
    NEW_REQUEST = "new_request", _("New request")
    NEW_BOOKING = "new_booking", _("New booking")
    PATIENT_CANCELLED = "patient_cancelled", _("Cancelled by the patient")
    PATIENT_RESCHEDULED = "patient_rescheduled", _("Moved by the patient")
    DAILY_SUMMARY = "daily_summary", _("Daily agenda")


class State(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    # Later: "whatsapp", "sms" — a row per channel, the same key plus the channel.


class OutboxQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=State.PENDING, next_attempt_at__lte=now)

    def stuck(self, now):
        """Claimed by a worker that never finished (killed mid-send)."""
        return self.filter(status=State.SENDING, claimed_at__lt=now - LEASE)


class Outbox(models.Model):
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    channel = models.CharField(
        _("channel"), max_length=16, choices=MessageChannel.choices, default=MessageChannel.EMAIL
    )
    # The session it is about; for a message about several (a series), the first of them.
    # Reservations are never deleted (PROTECT elsewhere); only the demo's reset deletes its own
    # sessions, and their messages with them.
    reservation = models.ForeignKey(
        Reservation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("reservation"),
    )
    # The action that caused it (reservations.actions): its events say which sessions, who, why
    # and the old times of a move. None for reminders, account messages and daily summaries.
    action_id = models.UUIDField(_("action"), null=True, blank=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient"),
    )
    # The session's start this message is about (a daily summary: the day's local midnight).
    session_start = models.DateTimeField(_("session start"), null=True, blank=True)
    # The address it went to: the recipient's when it is sent (an email changed meanwhile is the
    # one used). Account messages carry theirs from the start: it may be an address with no user.
    to = models.EmailField(_("sent to"), blank=True)
    # Account messages only: what allauth rendered, sent as it is, and wiped once sent (it holds
    # a link that opens the account; the admin never shows it). Session messages are rendered
    # when sent, in the recipient's language and zone then, from notifications/templates/.
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        constraints = [
            # An action's message to one person exists once.
            models.UniqueConstraint(
                fields=["action_id", "kind", "recipient", "channel"],
                condition=Q(action_id__isnull=False),
                name="outbox_once_per_action",
            ),
            # A session has one reminder waiting at a time (a change skips it and writes anew).
            models.UniqueConstraint(
                fields=["reservation", "recipient", "channel"],
                condition=Q(kind="reminder", status="pending"),
                name="outbox_one_reminder_waiting",
            ),
            # A daily summary exists once per professional and day.
            models.UniqueConstraint(
                fields=["kind", "recipient", "session_start", "channel"],
                condition=Q(reservation__isnull=True, kind="daily_summary"),
                name="outbox_once_per_day",
            ),
        ]
        indexes = [
            # The sweep: due pending rows, stuck sending rows.
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.to}"

    def claim(self, now):
        """Take this row for sending: pending and due -> sending, by one conditional UPDATE, so
        of two workers (or a retry and the sweep) exactly one gets it. True if this call did."""
        claimed = (
            Outbox.objects.due(now)
            .filter(pk=self.pk)
            .update(status=State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        )
        if claimed:
            self.refresh_from_db()
        return bool(claimed)

    def _finish(self, **fields):
        # Only the claim that is still ours: a row the sweep gave to another worker meanwhile
        # (lease expired) is not overwritten.
        return bool(
            Outbox.objects.filter(
                pk=self.pk, status=State.SENDING, claimed_at=self.claimed_at
            ).update(**fields)
        )

    def mark_sent(self, now, to):
        # A link that opens an account lives in the database only until it is sent.
        wipe = {"body": "", "html": ""} if self.carries_secret else {}
        return self._finish(status=State.SENT, sent_at=now, to=to, last_error="", **wipe)

    def mark_skipped(self, why):
        return self._finish(status=State.SKIPPED, last_error=why)

    def mark_failed_attempt(self, now, error):
        """A failed try: pending again after the backoff, or failed after MAX_ATTEMPTS. Returns
        when to try again, or None."""
        error = error[:2000]
        if self.attempts >= MAX_ATTEMPTS:
            self._finish(status=State.FAILED, last_error=error)
            return None
        retry_at = now + BACKOFF[self.attempts - 1]
        self._finish(status=State.PENDING, next_attempt_at=retry_at, last_error=error)
        return retry_at

    @property
    def carries_secret(self):
        """Account messages carry a link that opens the account (a password reset, the
        invitation to set a password): nobody reads them in the admin, and the text is wiped
        once sent (retries need it until then)."""
        return self.kind == Kind.ACCOUNT

    @classmethod
    def queue_rendered(cls, message, *, recipient=None):
        """Queue a message rendered elsewhere (allauth's password reset, the invitation to set a
        password), kept whole until sent. The worker sends it at once, never the request: a
        mail server that hangs must not hold a page. The task row is written in the same
        transaction as the message, so the worker finds both or neither."""
        from .tasks import send_message

        html = next((body for body, kind in message.alternatives if kind == "text/html"), "")
        now = timezone.now()
        row = cls.objects.create(
            kind=Kind.ACCOUNT,
            recipient=recipient if getattr(recipient, "pk", None) else None,
            to=message.to[0],
            subject=message.subject[:300],
            body=message.body,
            html=html,
            next_attempt_at=now,
            created_at=now,
        )
        send_message.enqueue(row.pk)
        return row

    @classmethod
    def retry(cls, rows, now):
        """The admin's action: failed rows start again, with a full set of attempts."""
        with transaction.atomic():
            ids = list(rows.filter(status=State.FAILED).values_list("pk", flat=True))
            cls.objects.filter(pk__in=ids, status=State.FAILED).update(
                status=State.PENDING, attempts=0, next_attempt_at=now
            )
        return ids
