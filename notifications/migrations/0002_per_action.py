from django.db import migrations, models

BATCH = 2000


def action_of_event(apps, schema_editor):
    """A message written for an event belongs to that event's action."""
    Outbox = apps.get_model("notifications", "Outbox")
    while True:
        batch = list(
            Outbox.objects.filter(action_id__isnull=True, event__isnull=False)
            .exclude(kind="reminder")
            .select_related("event")[:BATCH]
        )
        if not batch:
            break
        for row in batch:
            row.action_id = row.event.action_id
        Outbox.objects.bulk_update(batch, ["action_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_outbox"),
        ("reservations", "0011_event_action_id_required"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outbox",
            name="kind",
            field=models.CharField(
                choices=[
                    ("booked", "Session booked"),
                    ("confirmed", "Session confirmed"),
                    ("declined", "Request declined"),
                    ("cancelled", "Session cancelled by the practice"),
                    ("you_cancelled", "Cancel confirmed to the patient"),
                    ("rescheduled", "Session moved"),
                    ("changed", "Session details changed"),
                    ("expired", "Request expired"),
                    ("reminder", "Reminder"),
                    ("account", "Account message"),
                    ("new_request", "New request"),
                    ("new_booking", "New booking"),
                    ("patient_cancelled", "Cancelled by the patient"),
                    ("patient_rescheduled", "Moved by the patient"),
                    ("daily_summary", "Daily agenda"),
                ],
                max_length=24,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="outbox",
            name="to",
            field=models.EmailField(blank=True, max_length=254, verbose_name="sent to"),
        ),
        migrations.RemoveConstraint(model_name="outbox", name="outbox_once_per_session"),
        migrations.AddField(
            model_name="outbox",
            name="action_id",
            field=models.UUIDField(blank=True, editable=False, null=True, verbose_name="action"),
        ),
        migrations.RunPython(action_of_event, migrations.RunPython.noop),
        migrations.RemoveField(model_name="outbox", name="event"),
        migrations.AddConstraint(
            model_name="outbox",
            constraint=models.UniqueConstraint(
                condition=models.Q(("action_id__isnull", False)),
                fields=("action_id", "kind", "recipient", "channel"),
                name="outbox_once_per_action",
            ),
        ),
        migrations.AddConstraint(
            model_name="outbox",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "reminder"), ("status", "pending")),
                fields=("reservation", "recipient", "channel"),
                name="outbox_one_reminder_waiting",
            ),
        ),
    ]
