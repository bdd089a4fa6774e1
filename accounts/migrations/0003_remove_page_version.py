import accounts.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_page_version"),
        # The triggers that wrote the column go first.
        ("reservations", "0005_drop_page_version_triggers"),
    ]

    operations = [
        migrations.RemoveField(model_name="user", name="page_version"),
        migrations.AlterField(
            model_name="user",
            name="time_zone",
            field=models.CharField(
                choices=accounts.models.time_zone_choices,
                default=accounts.models.default_time_zone,
                max_length=64,
                verbose_name="time zone",
            ),
        ),
        migrations.AlterField(
            model_name="professionalprofile",
            name="cancellation_notice_hours",
            field=models.PositiveIntegerField(
                default=accounts.models.default_notice_hours,
                help_text="How long before a session a patient may still cancel it online.",
                verbose_name="cancellation notice (hours)",
            ),
        ),
    ]
