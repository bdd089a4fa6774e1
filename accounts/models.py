import functools
import uuid
import zoneinfo
from datetime import timedelta, tzinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .phones import PhoneField


@functools.cache
def listed_zones():
    """The zones people choose from, one per place: the tz database's Area/City ids.

    Left out: the older names outside the regions of ZONE_REGIONS ("US/Eastern", "Cuba",
    "Etc/GMT+3", "UTC" and its aliases "Universal", "Zulu"...), and the technical "localtime"
    and "Factory". A city under two ids in the regions (America/Buenos_Aires, the old alias of
    America/Argentina/Buenos_Aires; Asia/Nicosia and Europe/Nicosia) is listed once, under the
    longer id (then the first in order). Cached: the tz database does not change while we run.
    """
    listed = {}
    for zone in sorted(zoneinfo.available_timezones(), key=lambda zone: (-zone.count("/"), zone)):
        if zone_region(zone):
            listed.setdefault(zone_city(zone), zone)
    return sorted(listed.values())


def listed_zone(zone):
    """The listed zone `zone` is: itself, the listed one of its city for an old alias
    ("America/Buenos_Aires" -> "America/Argentina/Buenos_Aires"), else None."""
    if not zone or zone_region(zone) is None:
        return None
    city = zone_city(zone)
    return next((listed for listed in listed_zones() if zone_city(listed) == city), None)


def time_zone_choices():
    """The model field's choices (the admin's list): the site's zone first, then the listed.
    A callable, so migrations do not depend on the machine's tz database."""
    zones = dict.fromkeys([settings.TIME_ZONE, *listed_zones()])
    return [(zone, zone) for zone in zones]


# Defaults read from settings when a row is created, not when migrations are made: the
# migrations are then the same whatever TIME_ZONE or DEFAULT_CANCELLATION_NOTICE_HOURS say.
def default_time_zone():
    return settings.TIME_ZONE


def default_notice_hours():
    return settings.DEFAULT_CANCELLATION_NOTICE_HOURS


def zone_city(zone):
    """'America/Argentina/Buenos_Aires' -> 'Buenos Aires': how people name a zone."""
    name = getattr(zone, "key", None) or str(zone)
    return name.rsplit("/", 1)[-1].replace("_", " ")


# The regions of the tz database's own zones, America and Europe first (where our patients are).
# Other ids (US/Eastern, Etc/GMT+3, UTC, Cuba) are older aliases or technical zones: they are named
# by their whole id, since "Eastern" or "GMT+3" alone would mislead.
ZONE_REGIONS = {
    "America": _("America"),
    "Europe": _("Europe"),
    "Africa": _("Africa"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic Ocean"),
    "Australia": _("Australia"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific Ocean"),
}


def zone_region(zone):
    """'America/Argentina/Buenos_Aires' -> 'America'; None for ids outside ZONE_REGIONS."""
    name = getattr(zone, "key", None) or str(zone)
    region = name.split("/", 1)[0]
    return region if "/" in name and region in ZONE_REGIONS else None


def zone_offset(zone, at=None):
    """'GMT-3', 'GMT+5:30', 'GMT': the zone's offset from UTC at `at` (aware; now by default).

    Raises zoneinfo.ZoneInfoNotFoundError (or ValueError) for an id the machine does not know.
    """
    tz = zone if isinstance(zone, tzinfo) else zoneinfo.ZoneInfo(zone)
    offset = (at or timezone.now()).astimezone(tz).utcoffset()
    minutes = round(offset.total_seconds() / 60)
    if not minutes:
        return "GMT"
    hours, rest = divmod(abs(minutes), 60)
    return f"GMT{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(zone, at=None):
    """'Buenos Aires (GMT-3)', 'Madrid (GMT+1)', 'UTC (GMT)': a zone as people name it, with its
    offset at `at` (an aware datetime; now by default). An unknown id gives its city alone."""
    name = getattr(zone, "key", None) or str(zone)
    try:
        offset = zone_offset(zone, at)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zone_city(name)
    place = zone_city(name) if zone_region(name) else name
    return f"{place} ({offset})"


def initials(name):
    """'Lic. Carolina Gómez' -> 'CG': a picture of a person when there is no photo. Titles
    ending in a dot are skipped."""
    words = [w for w in name.split() if not w.endswith(".") and w[:1].isalpha()]
    return "".join(w[0] for w in words[:1] + words[1:][-1:]).upper()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser needs is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in: patients, professionals and staff. The email is the login."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=time_zone_choices, default=default_time_zone
    )
    # How the practice reaches a patient, and the language of what it sends them.
    phone = PhoneField(_("phone"), blank=True, default="", db_default="")
    language = models.CharField(
        _("language"), max_length=16, choices=settings.LANGUAGES, blank=True, db_default=""
    )
    # Reminders only: messages about a change (booked, moved, cancelled) always go.
    reminders_enabled = models.BooleanField(
        _("email reminders"),
        default=True,
        db_default=True,
        help_text=_("Whether this patient gets an email reminding them of a session."),
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Designates whether the user can log into the admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self):
        full_name = self.get_full_name()
        return f"{full_name} <{self.email}>" if full_name else self.email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email

    @property
    def name(self):
        """How the practice names this person: their full name, else their email."""
        return self.get_full_name() or self.email

    @property
    def zone(self):
        """The user's time zone; the site's when theirs is unknown to this machine."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def display_name(self):
        """The name patients see: the professional profile's name, else full name, else email."""
        try:
            profile = self.professional_profile
        except ProfessionalProfile.DoesNotExist:
            profile = None
        if profile and profile.display_name:
            return profile.display_name
        return self.name


REMINDER_CHOICES = [
    (0, _("No reminder")),
    (2, _("2 hours before")),
    (24, _("24 hours before")),
    (48, _("48 hours before")),
]


class ProfessionalProfile(models.Model):
    """What makes a user a professional: how patients see them and their cancellation policy."""

    user = models.OneToOneField(
        User,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="professional_profile",
        verbose_name=_("user"),
    )
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    specialty = models.CharField(_("specialty"), max_length=150, blank=True)
    photo = models.ImageField(
        _("photo"),
        upload_to="professionals/",
        blank=True,
        db_default="",
        help_text=_("Shown to patients next to the name; their initials when there is none."),
    )
    cancellation_notice_hours = models.PositiveIntegerField(
        _("cancellation notice (hours)"),
        default=default_notice_hours,
        help_text=_("How long before a session a patient may still cancel it online."),
    )
    # How patients reach them and where they meet; blank falls back to the practice's (PRACTICE_*).
    # Columns added after the first release have database defaults too, so rows written outside
    # the ORM (bench/build_data.py's COPY, tests' bulk INSERTs) need not name them.
    phone = PhoneField(_("phone"), blank=True, default="", db_default="")
    whatsapp = PhoneField(
        _("WhatsApp"),
        blank=True,
        default="",
        db_default="",
        help_text=_("A mobile number as you dial it, e.g. 011 15 5555-1234."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True, db_default="")
    address = models.CharField(
        _("address for in-person sessions"), max_length=300, blank=True, db_default=""
    )
    video_url = models.URLField(
        _("video call link"),
        blank=True,
        db_default="",
        help_text=_("Where virtual sessions happen, unless a session has its own link."),
    )
    requires_approval = models.BooleanField(
        _("bookings need approval"),
        default=True,
        db_default=True,
        help_text=_(
            "New bookings wait as pending until confirmed; otherwise they are confirmed at once."
        ),
    )
    # Messages (notifications): when patients are reminded of a session, and whether the
    # professional gets the day's agenda by email each morning.
    reminder_hours = models.PositiveSmallIntegerField(
        _("reminder before a session"),
        choices=REMINDER_CHOICES,
        default=24,
        db_default=24,
        help_text=_("When patients get an email reminding them of a confirmed session."),
    )
    booking_emails = models.BooleanField(
        _("email each new booking"),
        default=True,
        db_default=True,
        help_text=_(
            "An email when a session is booked with you and confirmed at once. Requests that "
            "wait for your confirmation are always emailed."
        ),
    )
    daily_summary = models.BooleanField(
        _("daily agenda by email"),
        default=False,
        db_default=False,
        help_text=_("An email each morning with the day's sessions."),
    )

    class Meta:
        verbose_name = _("professional profile")
        verbose_name_plural = _("professional profiles")

    def __str__(self):
        return self.display_name or str(self.user)

    def update(self, values, *, by, now=None):
        """Set `values` ({field: value}), save what changed and record it (ProfileChange).
        Returns the names of the fields that changed."""
        changed = [name for name, value in values.items() if getattr(self, name) != value]
        if not changed:
            return []
        old = {name: getattr(self, name) for name in changed}
        with transaction.atomic():
            for name in changed:
                setattr(self, name, values[name])
            self.save(update_fields=changed)
            ProfileChange.objects.create(
                profile=self,
                actor=by,
                changes={name: [_text(old[name]), _text(values[name])] for name in changed},
                at=now or timezone.now(),
            )
        return changed


def _text(value):
    # A change as JSON: files by name, the rest as they print.
    if value is None or isinstance(value, bool | int):
        return value
    return str(getattr(value, "name", value) or "")


class ProfileChange(models.Model):
    """Append-only record of changes to a professional's profile: who, when, what."""

    profile = models.ForeignKey(
        ProfessionalProfile,
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("professional profile"),
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # {"field": [old, new]}
    changes = models.JSONField(_("changes"), default=dict)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("profile change")
        verbose_name_plural = _("profile changes")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.profile} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"


class Invitation(models.Model):
    """An invitation to choose a password (accounts/invitations.py): who was invited, by whom,
    when, and whether they took it. The link names the row; it opens the account for
    `Invitation.MAX_AGE`, once, and only while it is the person's newest invitation (sending it
    again makes a new link and retires the old one)."""

    MAX_AGE = timedelta(days=7)

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        EXPIRED = "expired", _("expired")
        REPLACED = "replaced", _("replaced by a newer one")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("user")
    )
    invited_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    # The address it went to: a link for an address changed since opens nothing.
    email = models.EmailField(_("sent to"))
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # Set when a newer invitation is sent: the older link stops working at once.
    replaced_at = models.DateTimeField(_("replaced at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.email} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    @property
    def expires_at(self):
        return self.created_at + self.MAX_AGE

    def state(self, now):
        if self.accepted_at:
            return self.State.ACCEPTED
        if self.replaced_at:
            return self.State.REPLACED
        if now >= self.expires_at:
            return self.State.EXPIRED
        return self.State.PENDING

    def opens_for(self, user, now):
        """Whether the link still sets `user`'s password: pending, still their address, and the
        account active."""
        return (
            self.state(now) == self.State.PENDING
            and user.is_active
            and user.email.lower() == self.email.lower()
        )
