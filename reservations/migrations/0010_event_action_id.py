import uuid

from django.db import migrations, models

BATCH = 2000


def one_action_each(apps, schema_editor):
    """Events written before actions had ids were each an action of their own."""
    model = apps.get_model("reservations", "ReservationEvent")
    while True:
        batch = list(model.objects.filter(action_id__isnull=True).only("pk")[:BATCH])
        if not batch:
            break
        for event in batch:
            event.action_id = uuid.uuid4()
        model.objects.bulk_update(batch, ["action_id"])


class Migration(migrations.Migration):
    dependencies = [("reservations", "0009_merge")]

    operations = [
        migrations.AddField(
            model_name="reservationevent",
            name="action_id",
            field=models.UUIDField(null=True, editable=False, verbose_name="action"),
        ),
        migrations.RunPython(one_action_each, migrations.RunPython.noop),
    ]
