"""No double booking, enforced by the database itself.

A professional cannot have two non-cancelled reservations that overlap in time, and neither can a
patient. On PostgreSQL: exclusion constraints over tstzrange (btree_gist, created here; needs a
role allowed to create extensions). On SQLite: triggers; SQLite serialises writers, so the check
inside the trigger holds for concurrent writers too. Both raise errors that name
"reservation_no_overlap", which the application turns into a clear message.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE reservations_reservation ADD CONSTRAINT reservation_no_overlap_professional
       EXCLUDE USING gist (professional_id WITH =, tstzrange(start_time, end_time, '[)') WITH &&)
       WHERE (status <> 'CANCELLED')""",
    """ALTER TABLE reservations_reservation ADD CONSTRAINT reservation_no_overlap_client
       EXCLUDE USING gist (client_id WITH =, tstzrange(start_time, end_time, '[)') WITH &&)
       WHERE (status <> 'CANCELLED')""",
]
PG_BACKWARD = [
    "ALTER TABLE reservations_reservation DROP CONSTRAINT reservation_no_overlap_professional",
    "ALTER TABLE reservations_reservation DROP CONSTRAINT reservation_no_overlap_client",
]

SQLITE_CONDITION = """
    NEW.status <> 'CANCELLED' AND EXISTS (
        SELECT 1 FROM reservations_reservation r
        WHERE r.id <> NEW.id AND r.status <> 'CANCELLED'
          AND (r.professional_id = NEW.professional_id OR r.client_id = NEW.client_id)
          AND r.start_time < NEW.end_time AND NEW.start_time < r.end_time
    )"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER reservation_no_overlap_insert
        BEFORE INSERT ON reservations_reservation WHEN {SQLITE_CONDITION}
        BEGIN SELECT RAISE(ABORT, 'reservation_no_overlap'); END""",
    f"""CREATE TRIGGER reservation_no_overlap_update
        BEFORE UPDATE OF start_time, end_time, status, professional_id, client_id
        ON reservations_reservation WHEN {SQLITE_CONDITION}
        BEGIN SELECT RAISE(ABORT, 'reservation_no_overlap'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER reservation_no_overlap_insert",
    "DROP TRIGGER reservation_no_overlap_update",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("reservations", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
