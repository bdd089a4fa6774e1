"""`make messages`: the catalogs regenerated from every template and Python file of ours, then
compiled. What nothing uses any more is dropped, so the catalog holds exactly what the site says;
the translations of Django's and django-allauth's own texts that we override are kept because
reservations_site/overrides.py names them. CI runs this and fails when it changes locale/.

Needs gettext's tools (xgettext, msgmerge, msgfmt).
"""

import re
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

LANGUAGES = ["es_AR", "en"]
# Not ours, or not the site's words.
IGNORED = [".venv", "staticfiles", "media", "tests", "bench", "scripts", "docs", "*/migrations"]
# msgmerge dates the catalog each run; a catalog that did not change must not change.
CREATION_DATE = re.compile(r'^"POT-Creation-Date: .*\\n"\n', re.MULTILINE)


class Command(BaseCommand):
    help = "Regenerate locale/ from the site's templates and code, then compile it."

    def handle(self, *args, **options):
        call_command(
            "makemessages",
            locale=LANGUAGES,
            extensions=["html", "txt", "py"],
            ignore_patterns=IGNORED,
            no_obsolete=True,
            add_location="file",
            verbosity=options["verbosity"],
        )
        for language in LANGUAGES:
            path = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"
            path.write_text(CREATION_DATE.sub("", path.read_text()))
        call_command(
            "compilemessages",
            locale=LANGUAGES,
            ignore_patterns=IGNORED,
            verbosity=options["verbosity"],
        )
