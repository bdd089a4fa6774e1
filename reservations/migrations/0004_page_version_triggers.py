"""Keep each patient's `page_version` current, in the database itself.

Cached pages (reservations/pagecache.py) are keyed on the patient's `page_version`, so it must
change whenever anything those pages show changes, whoever writes it: the site, the admin, the API,
a management command or someone in psql. Triggers set it to a new random value (not a counter: a
restored backup or a rolled-back transaction must never bring back a number that already names
other content) when
- one of the patient's reservations is inserted, updated or deleted (old and new patient);
- a professional's profile (display name, specialty, cancellation notice) is created, changed or
  deleted, or their own name or email changes: for every patient with a reservation with them.
"""

from django.db import migrations

PG_NEW_VERSION = "floor(random() * 9007199254740991)::bigint"
PG_FORWARD = [
    f"""CREATE FUNCTION turnos_reservation_page_version() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE accounts_user SET page_version = {PG_NEW_VERSION} WHERE id = OLD.client_id;
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.client_id <> OLD.client_id) THEN
            UPDATE accounts_user SET page_version = {PG_NEW_VERSION} WHERE id = NEW.client_id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER reservation_page_version
       AFTER INSERT OR UPDATE OR DELETE ON reservations_reservation
       FOR EACH ROW EXECUTE FUNCTION turnos_reservation_page_version()""",
    f"""CREATE FUNCTION turnos_professional_page_version() RETURNS trigger AS $$
    DECLARE professional uuid;
    BEGIN
        IF TG_TABLE_NAME = 'accounts_user' THEN
            professional := NEW.id;
        ELSIF TG_OP = 'DELETE' THEN
            professional := OLD.user_id;
        ELSE
            professional := NEW.user_id;
        END IF;
        UPDATE accounts_user SET page_version = {PG_NEW_VERSION}
        WHERE id IN (SELECT client_id FROM reservations_reservation
                     WHERE professional_id = professional);
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER professional_profile_page_version
       AFTER INSERT OR UPDATE OR DELETE ON accounts_professionalprofile
       FOR EACH ROW EXECUTE FUNCTION turnos_professional_page_version()""",
    """CREATE TRIGGER professional_name_page_version
       AFTER UPDATE OF first_name, last_name, email ON accounts_user
       FOR EACH ROW WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name
                          OR OLD.last_name IS DISTINCT FROM NEW.last_name
                          OR OLD.email IS DISTINCT FROM NEW.email)
       EXECUTE FUNCTION turnos_professional_page_version()""",
]
PG_BACKWARD = [
    "DROP TRIGGER professional_name_page_version ON accounts_user",
    "DROP TRIGGER professional_profile_page_version ON accounts_professionalprofile",
    "DROP TRIGGER reservation_page_version ON reservations_reservation",
    "DROP FUNCTION turnos_professional_page_version()",
    "DROP FUNCTION turnos_reservation_page_version()",
]

SQLITE_BUMP = "UPDATE accounts_user SET page_version = random() WHERE id"
SQLITE_PATIENTS_OF = (
    "IN (SELECT client_id FROM reservations_reservation WHERE professional_id = {})"
)
SQLITE_FORWARD = [
    f"""CREATE TRIGGER reservation_page_version_insert AFTER INSERT ON reservations_reservation
        BEGIN {SQLITE_BUMP} = NEW.client_id; END""",
    f"""CREATE TRIGGER reservation_page_version_update AFTER UPDATE ON reservations_reservation
        BEGIN {SQLITE_BUMP} IN (OLD.client_id, NEW.client_id); END""",
    f"""CREATE TRIGGER reservation_page_version_delete AFTER DELETE ON reservations_reservation
        BEGIN {SQLITE_BUMP} = OLD.client_id; END""",
    f"""CREATE TRIGGER professional_profile_page_version_insert
        AFTER INSERT ON accounts_professionalprofile
        BEGIN {SQLITE_BUMP} {SQLITE_PATIENTS_OF.format("NEW.user_id")}; END""",
    f"""CREATE TRIGGER professional_profile_page_version_update
        AFTER UPDATE ON accounts_professionalprofile
        BEGIN {SQLITE_BUMP} {SQLITE_PATIENTS_OF.format("NEW.user_id")}; END""",
    f"""CREATE TRIGGER professional_profile_page_version_delete
        AFTER DELETE ON accounts_professionalprofile
        BEGIN {SQLITE_BUMP} {SQLITE_PATIENTS_OF.format("OLD.user_id")}; END""",
    f"""CREATE TRIGGER professional_name_page_version
        AFTER UPDATE OF first_name, last_name, email ON accounts_user
        WHEN OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
             OR OLD.email IS NOT NEW.email
        BEGIN {SQLITE_BUMP} {SQLITE_PATIENTS_OF.format("NEW.id")}; END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER {name}"
    for name in (
        "reservation_page_version_insert",
        "reservation_page_version_update",
        "reservation_page_version_delete",
        "professional_profile_page_version_insert",
        "professional_profile_page_version_update",
        "professional_profile_page_version_delete",
        "professional_name_page_version",
    )
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_page_version"),
        ("reservations", "0003_event_changes"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
