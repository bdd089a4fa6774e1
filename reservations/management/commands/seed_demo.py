from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import ProfessionalProfile, User
from reservations.models import Channel, Modality, Reservation, Status

DEMO_PASSWORD = "turnos-demo-2026"
PATIENT = "paciente@turnos.example"
OTHER_PATIENT = "otra.paciente@turnos.example"
PROFESSIONAL = "lic.gomez@turnos.example"
STAFF = "recepcion@turnos.example"


def _user(email, **fields):
    user, created = User.objects.get_or_create(email=email, defaults=fields)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


class Command(BaseCommand):
    help = "Create demo users and reservations. Safe to run more than once."

    @transaction.atomic
    def handle(self, *args, **options):
        patient = _user(PATIENT, first_name="Lucía", last_name="Fernández")
        other = _user(OTHER_PATIENT, first_name="Martín", last_name="Sosa")
        professional = _user(PROFESSIONAL, first_name="Carolina", last_name="Gómez")
        ProfessionalProfile.objects.get_or_create(
            user=professional,
            defaults={"display_name": "Lic. Carolina Gómez", "specialty": "Psicología clínica"},
        )
        second_pro = _user("dr.ruiz@turnos.example", first_name="Andrés", last_name="Ruiz")
        ProfessionalProfile.objects.get_or_create(
            user=second_pro,
            defaults={
                "display_name": "Dr. Andrés Ruiz",
                "specialty": "Psiquiatría",
                "cancellation_notice_hours": 24,
            },
        )
        _user(STAFF, first_name="Recepción", is_staff=True, is_superuser=True)

        if not patient.reservations.exists():
            self._create_history(patient, professional, second_pro)
        if not other.reservations.exists():
            now = timezone.now().replace(minute=0, second=0, microsecond=0)
            self._book(other, professional, now + timedelta(days=5, hours=3), Status.CONFIRMED)

        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in with:"))
        for email, role in [
            (PATIENT, "patient (past, upcoming, cancelled, one within 48 h)"),
            (PROFESSIONAL, "professional"),
            (STAFF, "staff, /admin/"),
        ]:
            self.stdout.write(f"  {email:32} {DEMO_PASSWORD}   {role}")

    def _book(self, client, professional, start, status, minutes=45, modality=Modality.VIRTUAL):
        return Reservation.book(
            by=None,
            channel=Channel.SYSTEM,
            client=client,
            professional=professional,
            start_time=start,
            end_time=start + timedelta(minutes=minutes),
            status=status,
            session_modality=modality,
            created_at=min(start - timedelta(days=10), timezone.now()),
        )

    def _create_history(self, patient, professional, second_pro):
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        # Weekly sessions for the past half year, a few of them cancelled.
        for week in range(1, 27):
            start = now - timedelta(weeks=week, hours=2)
            status = Status.CANCELLED if week in (3, 11, 19) else Status.CONFIRMED
            r = self._book(
                patient,
                professional,
                start,
                Status.CONFIRMED,
                modality=Modality.IN_PERSON if week % 2 else Modality.VIRTUAL,
            )
            if status == Status.CANCELLED:
                r.cancel(
                    by=patient, channel=Channel.SYSTEM, now=start - timedelta(days=3), reason=""
                )
        # Upcoming: one within 48 h (not cancellable online), then more.
        self._book(patient, professional, now + timedelta(hours=26), Status.CONFIRMED)
        self._book(
            patient,
            second_pro,
            now + timedelta(days=4, hours=1),
            Status.PENDING,
            minutes=30,
            modality=Modality.IN_PERSON,
        )
        self._book(patient, professional, now + timedelta(days=8), Status.CONFIRMED)
        cancelled = self._book(patient, professional, now + timedelta(days=15), Status.CONFIRMED)
        cancelled.cancel(by=patient, channel=Channel.PAGE, now=now - timedelta(days=1))
