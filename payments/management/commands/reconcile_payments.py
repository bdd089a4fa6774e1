from django.core.management.base import BaseCommand
from django.utils import timezone

from payments.tasks import ensure_reconciling, reconcile_once


class Command(BaseCommand):
    help = (
        "Ask Mercado Pago about every session held for payment and every refund in progress, "
        "apply what it says, and make sure the worker's periodic reconciliation is queued. Safe "
        "to run at any time (cron)."
    )

    def handle(self, *args, **options):
        asked = reconcile_once(timezone.now())
        ensure_reconciling()
        self.stdout.write(f"{asked} session(s) and refund(s) reconciled")
