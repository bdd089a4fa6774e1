"""Accent- and case-insensitive search on people's names and emails, the same on both databases:
"fernandez" and "FERNÁNDEZ" both find "Fernández".

Django's `Unaccent` transform (django.contrib.postgres) gives `name__unaccent__icontains`, and
applies UNACCENT() to the searched term as well. PostgreSQL has the function (the extension,
reservations migration 0008); SQLite gets one of the same name, in Python, on each connection.
Installed by AccountsConfig.ready().
"""

import unicodedata

from django.contrib.postgres.lookups import Unaccent
from django.db.backends.signals import connection_created


def unaccent(text):
    """'Fernández' -> 'Fernandez', 'Muñoz' -> 'Munoz': the letters without their marks."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _sqlite_unaccent(value):
    return None if value is None else unaccent(value)


def _on_connection_created(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("unaccent", 1, _sqlite_unaccent, deterministic=True)


def install():
    from .models import ProfessionalProfile, User

    connection_created.connect(_on_connection_created, dispatch_uid="turnos-sqlite-unaccent")
    # Only on the fields reception searches.
    for field in ("email", "first_name", "last_name"):
        User._meta.get_field(field).register_lookup(Unaccent)
    ProfessionalProfile._meta.get_field("display_name").register_lookup(Unaccent)
