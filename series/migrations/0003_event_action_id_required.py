from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("series", "0002_event_action_id")]

    operations = [
        migrations.AlterField(
            model_name="seriesevent",
            name="action_id",
            field=models.UUIDField(db_index=True, editable=False, verbose_name="action"),
        ),
    ]
