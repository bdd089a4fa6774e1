"""Backups restore: dump the database, restore it into a fresh one, find everything."""

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone

from reservations.actions import Actor
from reservations.models import Channel, Reservation, ReservationEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
RESTORE_DB = "turnos_restore_check"


def _url(name):
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def test_a_backup_restores_every_reservation_and_event(patient, make_reservation, tmp_path):
    now = timezone.now()
    made = [make_reservation(patient, now + timedelta(days=i + 3)) for i in range(5)]
    made[0].cancel(by=Actor.patient(patient, Channel.PAGE), reason="viaje")
    expected = (Reservation.objects.count(), ReservationEvent.objects.count())

    env = {**os.environ, "DATABASE_URL": _url(settings.DATABASES["default"]["NAME"])}
    dump = tmp_path / "turnos.dump"
    subprocess.run(
        ["scripts/backup.sh", str(dump)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )

    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{RESTORE_DB}"')
        admin.execute(f'CREATE DATABASE "{RESTORE_DB}"')
    try:
        out = subprocess.run(
            ["scripts/restore.sh", str(dump)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TARGET_DATABASE_URL": _url(RESTORE_DB)},
        ).stdout
        assert f"reservations {expected[0]}" in out
        assert f"events {expected[1]}" in out
        with psycopg.connect(_url(RESTORE_DB)) as restored:
            row = restored.execute(
                "SELECT status, cancellation_reason FROM reservations_reservation WHERE id = %s",
                [made[0].pk],
            ).fetchone()
            assert row == ("CANCELLED", "viaje")
            constraints = {
                name
                for (name,) in restored.execute(
                    "SELECT conname FROM pg_constraint WHERE conname LIKE 'reservation_%'"
                )
            }
            assert "reservation_no_overlap_professional" in constraints
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{RESTORE_DB}"')
