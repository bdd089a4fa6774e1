from django.core.management.base import BaseCommand
from django.utils import timezone

from notifications.tasks import ensure_sweep, sweep_once


class Command(BaseCommand):
    help = (
        "Pick up messages a lost task or a killed worker left behind, write the daily agenda "
        "summaries, and make sure the periodic sweep is queued. Safe to run at any time (cron)."
    )

    def handle(self, *args, **options):
        enqueued = sweep_once(timezone.now())
        ensure_sweep()
        self.stdout.write(f"{len(enqueued)} message(s) enqueued")
