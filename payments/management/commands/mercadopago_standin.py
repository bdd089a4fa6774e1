"""Runs the local Mercado Pago stand-in (payments/standin.py) until interrupted."""

from django.conf import settings
from django.core.management.base import BaseCommand

from payments.standin import StandIn


class Command(BaseCommand):
    help = "Serve a local stand-in for Mercado Pago's API and checkout (tests and the demo)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, host, port, **options):
        standin = StandIn(
            host,
            port,
            secret=settings.MERCADOPAGO_WEBHOOK_SECRET,
            token=settings.MERCADOPAGO_ACCESS_TOKEN,
        )
        self.stdout.write(
            f"Mercado Pago stand-in at {standin.url} "
            f"(set MERCADOPAGO_API_URL={standin.url} for the site). Ctrl-C stops it."
        )
        if not settings.MERCADOPAGO_WEBHOOK_SECRET:
            self.stderr.write("MERCADOPAGO_WEBHOOK_SECRET is blank: its notifications are refused.")
        try:
            standin.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            standin.server.server_close()
