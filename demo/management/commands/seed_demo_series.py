"""The demo patient in a weekly series: her sessions with Lic. Gómez from this week on (built by
`seed_demo`, which runs first) become the occurrences of a series "Semanal · <weekday> <time>", so
her page shows what a series looks like.

Safe to run more than once: a series whose sessions are still hers and still ahead is left alone.
When `seed_demo` has rebuilt the sessions, it has deleted the old series too (demo/reset.py);
this builds it again for the new sessions.
"""

import zoneinfo
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from demo.reset import delete_series
from demo.users import PATIENT, PROFESSIONAL, STAFF
from reservations.actions import ActionKind, Actor, recording
from reservations.models import Status
from series.models import Occurrence, Series, SeriesEvent


class Command(BaseCommand):
    help = (
        "Make the demo patient's upcoming weekly sessions with Lic. Gómez a weekly series. Run "
        "after seed_demo; safe to run more than once."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        now = timezone.now()
        users = {u.email: u for u in User.objects.filter(email__in=[PATIENT, PROFESSIONAL, STAFF])}
        if len(users) < 3:
            raise CommandError("No demo users: run seed_demo first.")
        patient, gomez, staff = users[PATIENT], users[PROFESSIONAL], users[STAFF]
        existing = Series.objects.filter(client=patient, professional=gomez)
        if existing.count() == 1 and self._current(existing.get(), patient, gomez, now):
            self.stdout.write(self.style.SUCCESS("Demo series up to date."))
            return
        delete_series(existing)
        series = self._build(patient, gomez, staff, now)
        self.stdout.write(self.style.SUCCESS(f"Demo series built: {series.label()}."))

    @staticmethod
    def _current(series, patient, gomez, now):
        """Whether the series' sessions are the patient's with Lic. Gómez, one still ahead."""
        sessions = [o.reservation for o in series.occurrences.select_related("reservation")]
        return (
            bool(sessions)
            and all(r.client_id == patient.pk and r.professional_id == gomez.pk for r in sessions)
            and any(r.start_time > now for r in sessions)
        )

    @staticmethod
    def _build(patient, gomez, staff, now):
        # Her requests (the pending extra week) are her own, not the series'.
        upcoming = list(
            patient.reservations.filter(professional=gomez, start_time__gt=now)
            .exclude(status=Status.PENDING)
            .order_by("start_time")
        )
        tz = zoneinfo.ZoneInfo(gomez.time_zone)

        def slot(r):
            local = timezone.localtime(r.start_time, tz)
            return local.weekday(), local.time()

        if not upcoming:
            raise CommandError("The demo patient has no upcoming sessions: run seed_demo first.")
        # The weekly slot: the weekday and time most of them share (an extra Saturday is not).
        weekday, at = Counter(map(slot, upcoming)).most_common(1)[0][0]
        sessions = [r for r in upcoming if slot(r) == (weekday, at)]
        first = timezone.localtime(sessions[0].start_time, tz).date()
        indexed = {
            (timezone.localtime(r.start_time, tz).date() - first).days // 7: r for r in sessions
        }
        created = min(r.created_at for r in sessions)
        series = Series.build(
            client=patient,
            professional=gomez,
            weekday=weekday,
            local_time=at,
            minutes=int((sessions[0].end_time - sessions[0].start_time).total_seconds() // 60),
            session_modality=sessions[0].session_modality,
            starts_on=first,
            # Its dates end with the last of these: the worker creates no more.
            count=max(indexed) + 1,
            created_by=staff,
            created_at=created,
        )
        with recording(ActionKind.IMPORT, by=Actor.staff(staff), at=created) as action:
            series.save(force_insert=True)
            action.log(SeriesEvent(series=series, action=SeriesEvent.Action.CREATED))
        Occurrence.objects.bulk_create(
            Occurrence(series=series, reservation=r, index=i) for i, r in sorted(indexed.items())
        )
        return series
