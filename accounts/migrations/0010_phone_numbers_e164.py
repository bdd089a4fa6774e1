"""Phone numbers become E.164 (accounts/phones.py).

Each stored phone and WhatsApp number is read as people in the practice's country write it
(PHONENUMBER_DEFAULT_REGION, AR: "011 15 5555-0101" -> "+5491155550101") and stored in E.164.
A value that is not a valid number is kept exactly as it was, never blanked: the migration names
each one on its output, the pages show it as written without a tel: or wa.me link, and the admin
asks for a valid number the next time the person or profile is saved. Reversing keeps E.164,
which the old fields hold as well.
"""

import sys

import phonenumbers
from django.conf import settings
from django.db import migrations

import accounts.phones

FIELDS = [("User", "phone"), ("ProfessionalProfile", "phone"), ("ProfessionalProfile", "whatsapp")]


def convert(value, region):
    """(the value to store, whether it is a valid number): E.164 for a valid number, the value
    unchanged (stripped of surrounding blanks) otherwise. '' stays ''."""
    value = (value or "").strip()
    if not value:
        return "", True
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value, False
    if not phonenumbers.is_valid_number(number):
        return value, False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True


def to_e164(apps, schema_editor):
    region = settings.PHONENUMBER_DEFAULT_REGION
    kept = []
    for model_name, field in FIELDS:
        model = apps.get_model("accounts", model_name)
        for pk, value in model.objects.exclude(**{field: ""}).values_list("pk", field):
            new, ok = convert(value, region)
            if new != value:
                model.objects.filter(pk=pk).update(**{field: new})
            if not ok:
                kept.append(f"  {model_name} {pk} {field}: {value!r}")
    if schema_editor.connection.vendor == "postgresql":
        # The updates leave deferred foreign-key checks pending, and PostgreSQL alters no table
        # with pending checks: run them now, before the AlterFields below.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    if kept:
        sys.stdout.write(
            "\n  These phone numbers are not valid numbers and were kept as written; fix them "
            "in the admin (they get no call or WhatsApp link until then):\n"
            + "\n".join(kept)
            + "\n"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_profile_booking_emails"),
    ]

    operations = [
        # First the data, while the columns are still plain text to the historical models.
        migrations.RunPython(to_e164, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="professionalprofile",
            name="phone",
            field=accounts.phones.PhoneField(
                blank=True, db_default="", default="", max_length=128, region=None,
                verbose_name="phone",
            ),
        ),
        migrations.AlterField(
            model_name="professionalprofile",
            name="whatsapp",
            field=accounts.phones.PhoneField(
                blank=True, db_default="", default="", max_length=128, region=None,
                help_text="A mobile number as you dial it, e.g. 011 15 5555-1234.",
                verbose_name="WhatsApp",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=accounts.phones.PhoneField(
                blank=True, db_default="", default="", max_length=128, region=None,
                verbose_name="phone",
            ),
        ),
    ]
