from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_phone_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="reminders_enabled",
            field=models.BooleanField(
                db_default=True,
                default=True,
                help_text="Whether this patient gets an email reminding them of a session.",
                verbose_name="email reminders",
            ),
        ),
    ]
