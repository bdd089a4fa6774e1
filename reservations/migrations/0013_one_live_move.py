"""A session may have had several requests to move it (turned down, lapsed), one live at most.

Altering the column rebuilds the table on SQLite, dropping its no-overlap triggers: they are
created again afterwards (0006)."""

from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

restore_sqlite_guard = import_module(
    "reservations.migrations.0006_video_url_attended"
).restore_sqlite_guard


class Migration(migrations.Migration):

    dependencies = [
        ('reservations', '0012_event_declined_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='reservation',
            name='rescheduled_from',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='moves', to='reservations.reservation', verbose_name='rescheduled from'),
        ),
        migrations.AddConstraint(
            model_name='reservation',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'CANCELLED'), _negated=True), fields=('rescheduled_from',), name='reservation_one_live_move'),
        ),
        migrations.RunPython(restore_sqlite_guard, migrations.RunPython.noop),
    ]
