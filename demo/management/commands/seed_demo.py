"""Demo users and sessions, placed relative to now at hours a practice keeps.

Every run checks that the demo patient still shows every state the demo is for (a session too
close to cancel online, one that can be cancelled, a pending one, ...). When time has made one
of them go away, the demo users' sessions are built again; otherwise they are left alone, so
what someone did during a demo (cancelling a session) survives a restart. `--reset` always
rebuilds.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import ProfessionalProfile, User
from demo.reset import delete_sessions
from demo.users import (
    DEMO_PASSWORD,
    OTHER_PATIENT,
    PATIENT,
    PROFESSIONAL,
    RECEPTION,
    SECOND_PROFESSIONAL,
    STAFF,
)
from payments.models import Collect, LateKeeps, PaymentPolicy
from reservations.actions import ActionKind, Actor, recording
from reservations.models import ACTIVE_STATUSES, Channel, Modality, Reservation, Status
from scheduling.models import WorkingHours

PROFILES = {
    PROFESSIONAL: {
        "display_name": "Lic. Carolina Gómez",
        "specialty": "Psicología clínica",
        "cancellation_notice_hours": 48,
        # As a practice writes them; stored in E.164 (+541145550101, +5491155550101).
        "phone": "011 4555-0101",
        "whatsapp": "011 15 5555-0101",
        "contact_email": "consultorio.gomez@turnos.example",
        "address": "Av. Corrientes 1234, piso 3, C1043 CABA",
        "video_url": "https://meet.jit.si/turnos-demo-gomez",
    },
    # No phone: the patient sees another notice and another way to get in touch.
    SECOND_PROFESSIONAL: {
        "display_name": "Dr. Andrés Ruiz",
        "specialty": "Psiquiatría",
        "cancellation_notice_hours": 24,
        "phone": "",
        "whatsapp": "",
        "contact_email": "dr.ruiz.consultas@turnos.example",
        "address": "",
        "video_url": "https://meet.jit.si/turnos-demo-ruiz",
        # His bookings are confirmed at once; Lic. Gómez approves each one.
        "requires_approval": False,
    },
}

# What Lic. Gómez charges, and the deposit she asks for online when booking (paid at the local
# Mercado Pago stand-in that `make run` starts; README, "Payments"). Dr. Ruiz is paid at his
# practice: nothing online. Set once; changes made in the admin are kept.
POLICIES = {
    PROFESSIONAL: {
        "price": Decimal("20000.00"),
        "collect": Collect.DEPOSIT,
        "deposit_percent": 30,
        "late_keeps": LateKeeps.DEPOSIT,
    },
}

# When patients may book them online (scheduling): weekday, from, until, modality, then the
# session and the break in minutes. Set once; changes made in the admin are kept.
HOURS = {
    PROFESSIONAL: [
        *[(day, time(9), time(13), "both", 45, 15) for day in range(5)],
        *[(day, time(15), time(19), "both", 45, 15) for day in range(4)],
    ],
    SECOND_PROFESSIONAL: [
        (1, time(10), time(14), "Virtual", 30, 0),
        (3, time(16), time(20), "Virtual", 30, 0),
    ],
}

# Sessions start on the hour or half hour, from OPENS to LAST_START in the site's zone,
# Monday to Friday; Saturday mornings only when the week leaves nothing else.
OPENS, LAST_START, LAST_SATURDAY_START = time(9), time(19), time(12)
# An in-progress session is shown only when one could have started this recently.
IN_PROGRESS_WITHIN = timedelta(minutes=20)
HISTORY_WEEKS = 30

GOMEZ_MINUTES, RUIZ_MINUTES = 45, 30


def _user(email, **fields):
    user, created = User.objects.get_or_create(email=email, defaults=fields)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _local(day, at):
    return datetime.combine(day, at, tzinfo=timezone.get_default_timezone())


def _slots(day):
    """The start times a practice offers on `day`, in order."""
    if day.weekday() == 6:
        return []
    last = LAST_SATURDAY_START if day.weekday() == 5 else LAST_START
    minutes = range(OPENS.hour * 60, last.hour * 60 + last.minute + 1, 30)
    return [_local(day, time(m // 60, m % 60)) for m in minutes]


def _around(day, at):
    """The day's start times, the nearest to `at` first."""
    target = at.hour * 60 + at.minute
    return sorted(_slots(day), key=lambda s: abs(s.hour * 60 + s.minute - target))


def _weekday_on_or_before(day):
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _weekday_on_or_after(day):
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _weeks_from(start, weeks):
    """The same local time `weeks` weeks later (or earlier): wall-clock time, so a DST change
    in the site's zone does not move a weekly session by an hour."""
    local = timezone.localtime(start, timezone.get_default_timezone())
    return _local(local.date() + timedelta(weeks=weeks), local.time())


def demo_states(patient, now):
    """The states the demo patient's sessions show at `now`, by name."""
    states = set()
    past = 0
    for r in patient.reservations.with_people().select_related("cancelled_by"):
        active = r.status in ACTIVE_STATUSES
        if r.status == Status.CANCELLED:
            if r.cancelled_by_id == patient.pk and r.cancellation_reason:
                states.add("cancelled_by_patient")
            elif r.cancelled_by and r.cancelled_by.is_staff and r.cancellation_reason:
                states.add("cancelled_by_practice")
        elif r.end_time <= now:
            past += 1
            if r.attended is True:
                states.add("attended")
            elif r.attended is False:
                states.add("absent")
        elif r.start_time <= now:
            states.add("in_progress")
        elif r.inside_notice(now):
            states.add("within_notice")
        else:
            states.add("beyond_notice")
        if active and r.end_time > now:
            states.add(r.session_modality)
            if r.status == Status.PENDING:
                states.add("pending")
    if past >= HISTORY_WEEKS // 2:
        states.add("history")
    return states


# What a refresh keeps on show. "in_progress" is not among them: it lasts under an hour and
# depends on the clock, so asking for it would rebuild the demo on nearly every run.
REQUIRED_STATES = frozenset(
    {
        "within_notice",
        "beyond_notice",
        "pending",
        "cancelled_by_patient",
        "cancelled_by_practice",
        "attended",
        "absent",
        "history",
        Modality.VIRTUAL,
        Modality.IN_PERSON,
    }
)


class Command(BaseCommand):
    help = (
        "Create the demo users and sessions, or refresh the sessions when time has made them "
        "stale. Safe to run more than once; --reset rebuilds the sessions."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo users' sessions and build them again for now; their "
            "two-step verification too.",
        )

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        self.now = timezone.now()
        self.patient = _user(PATIENT, first_name="Lucía", last_name="Fernández")
        self.other = _user(OTHER_PATIENT, first_name="Martín", last_name="Sosa")
        self.gomez = _user(PROFESSIONAL, first_name="Carolina", last_name="Gómez")
        self.ruiz = _user(SECOND_PROFESSIONAL, first_name="Andrés", last_name="Ruiz")
        self.staff = self._receptionist()
        if reset:
            # Two-step verification too: the next login sets it up again, as a first one does.
            demo_users = [self.patient, self.other, self.gomez, self.ruiz, self.staff]
            Authenticator.objects.filter(user__in=demo_users).delete()
        for user in (self.gomez, self.ruiz):
            ProfessionalProfile.objects.update_or_create(user=user, defaults=PROFILES[user.email])
            if not user.working_hours.exists():
                WorkingHours.objects.bulk_create(
                    WorkingHours(
                        professional=user,
                        weekday=day,
                        start_time=start,
                        end_time=end,
                        modality=modality,
                        session_minutes=session,
                        buffer_minutes=pause,
                    )
                    for day, start, end, modality, session, pause in HOURS[user.email]
                )
            if user.email in POLICIES:
                PaymentPolicy.objects.get_or_create(
                    professional=user, defaults=POLICIES[user.email]
                )

        missing = REQUIRED_STATES - demo_states(self.patient, self.now)
        if reset or missing:
            # The demo's own sessions, rebuilt for a new day; the receptionist has none.
            delete_sessions([self.patient, self.other, self.gomez, self.ruiz])
            self._build()
            done = "rebuilt" if reset else "built for now"
        else:
            done = "up to date"

        self.stdout.write(self.style.SUCCESS(f"Demo data {done}. Log in with:"))
        for email, role in [
            (PATIENT, "patient: upcoming (one within 48 h), cancelled and past sessions"),
            (PROFESSIONAL, "professional (48 h notice; a 30% deposit paid online to book)"),
            (SECOND_PROFESSIONAL, "professional (24 h notice)"),
            (STAFF, f"reception (staff in the group {RECEPTION}, not a superuser), /admin/"),
        ]:
            self.stdout.write(f"  {email:32} {DEMO_PASSWORD}   {role}")
        self.stdout.write(
            "Staff and professionals set up two-step verification (an authenticator app) at "
            "their first login."
        )

    def _receptionist(self):
        """Staff in the reception group, as a practice's front desk should be: not a superuser,
        even in a database seeded when the demo's receptionist was one."""
        try:
            group = Group.objects.get(name=RECEPTION)
        except Group.DoesNotExist:
            raise CommandError(
                f"The group {RECEPTION!r} does not exist yet: run `manage.py migrate` first."
            ) from None
        user = _user(STAFF, first_name="Recepción", is_staff=True)
        if not user.is_staff or user.is_superuser:
            user.is_staff, user.is_superuser = True, False
            user.save(update_fields=["is_staff", "is_superuser"])
        user.groups.add(group)
        return user

    # Building ------------------------------------------------------------------------------

    def _build(self):
        self.planned = []
        self._build_patient_with_gomez()
        self._build_patient_with_ruiz()
        self._build_other_patient()

    def _free(self, client, pro, start, minutes):
        end = start + timedelta(minutes=minutes)
        return not any(
            (c == client or p == pro) and s < end and start < e for c, p, s, e in self.planned
        )

    def _pick(self, candidates, client, pro, minutes):
        for start in candidates:
            if self._free(client, pro, start, minutes):
                return start
        raise CommandError("No free time for a demo session; the plan needs another slot.")

    def _book(self, client, pro, start, minutes, *, status=Status.CONFIRMED, created=None, **kw):
        if not self._free(client, pro, start, minutes):
            raise CommandError(f"Demo sessions overlap at {start}.")
        end = start + timedelta(minutes=minutes)
        self.planned.append((client, pro, start, end))
        try:
            return Reservation.book(
                by=Actor.system(),
                kind=ActionKind.IMPORT,
                client=client,
                professional=pro,
                start_time=start,
                end_time=end,
                status=status,
                created_at=min(created or start - timedelta(days=14), self.now),
                **kw,
            )
        except ValidationError as exc:
            raise CommandError(f"Demo session at {start}: {exc}") from exc

    def _cancel(self, reservation, *, by, reason, at):
        actor = Actor.staff(by) if by.is_staff else Actor.patient(by, Channel.PAGE)
        # Written as the demo's history, not as news: nobody is told.
        with recording(ActionKind.IMPORT, by=actor, at=at) as action:
            refusal = reservation.cancel(by=actor, reason=reason, now=at, within=action)
        if refusal:
            raise CommandError(f"Demo cancel refused: {refusal}")

    def _next_within_notice(self):
        """The start of the patient's next session with Lic. Gómez: inside her notice, so it
        cannot be cancelled online, yet on the last day that allows, so it stays in the future
        as long as it can; late afternoon if that day allows. A weekday when there is one,
        else a Saturday morning."""
        notice = timedelta(hours=PROFILES[PROFESSIONAL]["cancellation_notice_hours"])
        earliest, latest = self.now + timedelta(hours=1), self.now + notice - timedelta(hours=2)
        today = timezone.localtime(self.now, timezone.get_default_timezone()).date()
        days = [today + timedelta(days=n) for n in range(notice.days + 2)]
        fits = [s for day in days for s in _slots(day) if earliest <= s <= latest]
        fits = [s for s in fits if s.weekday() < 5] or fits
        last_day = fits[-1].date()
        return next(s for s in _around(last_day, time(18)) if s in fits)

    def _in_progress_start(self):
        """A start on the hour or half hour at most IN_PROGRESS_WITHIN ago, on a weekday
        within opening hours; None when the clock allows none."""
        local = timezone.localtime(self.now, timezone.get_default_timezone())
        start = _local(local.date(), time(local.hour, 30 if local.minute >= 30 else 0))
        if start.weekday() >= 5 or not OPENS <= start.time() <= LAST_START:
            return None
        return start if self.now - start <= IN_PROGRESS_WITHIN else None

    def _build_patient_with_gomez(self):
        """Weekly sessions on one weekday and time: HISTORY_WEEKS back and five ahead."""
        patient, gomez, now = self.patient, self.gomez, self.now
        first = self._next_within_notice()
        # The series keeps to a weekday: a Saturday session is an extra one before it.
        anchor = _local(_weekday_on_or_after(first.date()), first.time())
        if anchor != first:
            self._book(
                patient,
                gomez,
                first,
                GOMEZ_MINUTES,
                created=now - timedelta(days=3),
                session_modality=Modality.IN_PERSON,
            )
        first = anchor
        series_booked = now - timedelta(weeks=HISTORY_WEEKS + 2)

        def weekly(weeks, **kw):
            kw.setdefault(
                "session_modality", Modality.IN_PERSON if weeks % 2 == 0 else Modality.VIRTUAL
            )
            start = _weeks_from(first, weeks)
            return self._book(patient, gomez, start, GOMEZ_MINUTES, **kw)

        for weeks in range(-HISTORY_WEEKS, 0):
            start = _weeks_from(first, weeks)
            if weeks == -1:
                r = weekly(weeks, created=series_booked)
                self._cancel(
                    r,
                    by=self.staff,
                    reason="La profesional está enferma. Te escribimos para reprogramar.",
                    at=start - timedelta(hours=20),
                )
            elif weeks in (-9, -22):
                r = weekly(weeks, created=series_booked)
                reason = "Tengo un turno médico a esa hora." if weeks == -9 else "Estoy de viaje."
                self._cancel(r, by=patient, reason=reason, at=start - timedelta(days=4))
            else:
                weekly(weeks, created=series_booked, attended=weeks not in (-3, -17))

        series_booked = now - timedelta(days=20)
        # Inside the 48 h notice (unless the Saturday one is): the patient is told to get in
        # touch instead of cancelling.
        weekly(0, created=series_booked, session_modality=Modality.IN_PERSON)
        # Can be cancelled online; a session of its own in another video room.
        weekly(
            1,
            created=series_booked,
            session_modality=Modality.VIRTUAL,
            video_url="https://meet.jit.si/turnos-demo-gomez-sala-2",
        )
        r = weekly(2, created=series_booked)
        self._cancel(
            r,
            by=patient,
            reason="Tengo un viaje de trabajo esa semana.",
            at=now - timedelta(days=2),
        )
        weekly(3, created=series_booked)
        # An extra week the patient asked for and the practice has not confirmed yet.
        weekly(4, status=Status.PENDING, created=now - timedelta(days=1))

    def _build_patient_with_ruiz(self):
        """Monthly psychiatry check-ups, all by video: one in progress when the clock allows,
        one requested and pending, one in the past that was never confirmed."""
        patient, ruiz, now = self.patient, self.ruiz, self.now
        today = timezone.localtime(now, timezone.get_default_timezone()).date()
        virtual = {"session_modality": Modality.VIRTUAL}

        start = self._in_progress_start()
        if start is not None:
            self._book(patient, ruiz, start, RUIZ_MINUTES, **virtual)

        # Beyond his 24 h notice, not confirmed yet.
        day = _weekday_on_or_after(today + timedelta(days=5))
        start = self._pick(_around(day, time(17, 30)), patient, ruiz, RUIZ_MINUTES)
        self._book(
            patient,
            ruiz,
            start,
            RUIZ_MINUTES,
            status=Status.PENDING,
            created=now - timedelta(days=2),
            **virtual,
        )

        for months in range(1, 7):
            day = _weekday_on_or_before(today - timedelta(days=3 + 28 * months))
            start = self._pick(_around(day, time(17, 30)), patient, ruiz, RUIZ_MINUTES)
            if months == 2:
                # Requested, never confirmed, and its day went by.
                self._book(patient, ruiz, start, RUIZ_MINUTES, status=Status.PENDING, **virtual)
            else:
                self._book(patient, ruiz, start, RUIZ_MINUTES, attended=True, **virtual)

    def _build_other_patient(self):
        """Another patient of Lic. Gómez, so her agenda has more than one person in it:
        weekly sessions, and requests waiting for her to confirm."""
        other, gomez, now = self.other, self.gomez, self.now
        today = timezone.localtime(now, timezone.get_default_timezone()).date()
        base = _weekday_on_or_after(today + timedelta(days=1))
        for weeks in range(-8, 3):
            day = base + timedelta(weeks=weeks)
            start = self._pick(_around(day, time(11)), other, gomez, GOMEZ_MINUTES)
            past = start + timedelta(minutes=GOMEZ_MINUTES) <= now
            # The last week's session is left for Lic. Gómez to mark in her agenda.
            recent = now - start < timedelta(days=7)
            self._book(
                other,
                gomez,
                start,
                GOMEZ_MINUTES,
                created=now - timedelta(weeks=10),
                attended=True if past and not recent else None,
                session_modality=Modality.IN_PERSON,
            )
        for days, at in ((3, time(10)), (6, time(15, 30))):
            day = _weekday_on_or_after(today + timedelta(days=days))
            start = self._pick(_around(day, at), other, gomez, GOMEZ_MINUTES)
            self._book(
                other,
                gomez,
                start,
                GOMEZ_MINUTES,
                status=Status.PENDING,
                created=now - timedelta(hours=5),
                session_modality=Modality.VIRTUAL,
            )
