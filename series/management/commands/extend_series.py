from django.core.management.base import BaseCommand

from series.services import extend_all_series
from series.tasks import ensure_scheduled


class Command(BaseCommand):
    help = (
        "Create the weekly series' sessions up to the horizon (SERIES_HORIZON_WEEKS) now, and "
        "make sure the worker's daily run is scheduled. Safe to run any time, and twice."
    )

    def handle(self, *args, **options):
        created = extend_all_series()
        ensure_scheduled()
        self.stdout.write(f"{created} session(s) created.")
