"""Payments with Mercado Pago: what a professional's session costs and how it is paid
(PaymentPolicy); booking with a payment due (booking.py: the session held while its patient pays,
checkout.py: the Checkout Pro preference); each payment and refund as Mercado Pago reports it
(Payment, Refund, rules.py); the refund an action owes, decided inside it (follow.py); the
worker's reconciliation (tasks.py); the webhook (views.py); and a local stand-in that plays
Mercado Pago in tests and the demo (standin.py)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from notifications.emails import message_context
        from notifications.models import Kind
        from reservations.actions import Action, action_finishing

        from . import ledger
        from .follow import follow

        action_finishing.connect(follow, sender=Action, dispatch_uid="payments")
        message_context.connect(ledger.message_context, sender=Kind, dispatch_uid="payments")
