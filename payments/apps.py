"""Payments with Mercado Pago (issue 26): what a professional's session costs and how it is paid
(PaymentPolicy), each payment and refund as Mercado Pago reports it (Payment, Refund), the client
that talks to its API (mercadopago.py), the webhook that hears from it (views.py) and a local
stand-in that plays it in tests and the demo (standin.py). A capability over the core: the doors
will call it; booking does not ask for payment yet."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")
    default_auto_field = "django.db.models.BigAutoField"
