from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reservations", "0010_event_action_id")]

    operations = [
        migrations.AlterField(
            model_name="reservationevent",
            name="action_id",
            field=models.UUIDField(db_index=True, editable=False, verbose_name="action"),
        ),
    ]
