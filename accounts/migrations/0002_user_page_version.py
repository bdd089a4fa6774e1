from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="page_version",
            field=models.BigIntegerField(default=0, db_default=0, editable=False),
        ),
    ]
