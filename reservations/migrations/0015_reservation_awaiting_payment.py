"""A session held while its patient pays for it.

Adding the column rebuilds the table on SQLite, dropping its no-overlap triggers: they are
created again afterwards (0006)."""

from importlib import import_module

from django.db import migrations, models

restore_sqlite_guard = import_module(
    "reservations.migrations.0006_video_url_attended"
).restore_sqlite_guard


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0014_event_payment_actions"),
    ]

    operations = [
        migrations.AddField(
            model_name="reservation",
            name="awaiting_payment",
            field=models.BooleanField(
                db_default=False, default=False, verbose_name="awaiting payment"
            ),
        ),
        migrations.RunPython(restore_sqlite_guard, migrations.RunPython.noop),
    ]
