"""Prepare the chaos test's own database: migrate, the rate-limit table, patients with sessions
and sessions to cancel. Run with DATABASE_URL pointing at it; prints one JSON object."""

import json
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reservations_site.settings")

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import ProfessionalProfile, User  # noqa: E402
from reservations.models import Reservation  # noqa: E402

PASSWORD = "chaos-test-password-42"

call_command("migrate", verbosity=0)
call_command("createcachetable", verbosity=0)
professional = User.objects.create_user("pro@chaos.example", PASSWORD, first_name="Pro")
ProfessionalProfile.objects.create(user=professional, display_name="Lic. Chaos")
start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
patients = []
for p in range(40):
    patient = User.objects.create_user(f"p{p}@chaos.example", PASSWORD, first_name=f"P{p}")
    EmailAddress.objects.create(user=patient, email=patient.email, verified=True, primary=True)
    rows = [
        Reservation(
            client=patient,
            professional=professional,
            start_time=start + timedelta(hours=p * 30 + i, days=-20 if i < 5 else 0),
            end_time=start + timedelta(hours=p * 30 + i, minutes=45, days=-20 if i < 5 else 0),
            status="CONFIRMED",
        )
        for i in range(25)
    ]
    Reservation.objects.bulk_create(rows)
    client = Client()
    client.force_login(patient)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    upcoming = [str(r.pk) for r in rows if r.start_time > start]
    patients.append(
        {"id": str(patient.pk), "email": patient.email, "session": session, "targets": upcoming}
    )
print(
    json.dumps(
        {
            "password": PASSWORD,
            "patients": patients,
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "csrf_cookie": settings.CSRF_COOKIE_NAME,
        }
    )
)
