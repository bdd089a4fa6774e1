"""PostgreSQL's unaccent extension, for the admin's search: "fernandez" finds "Fernández".

On SQLite the admin registers a function of the same name on each connection
(reservations/admin.py); CreateExtension does nothing there. Needs a role allowed to create
extensions, like btree_gist in 0002.
"""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reservations", "0007_lateness_and_internal_notes")]

    operations = [UnaccentExtension()]
