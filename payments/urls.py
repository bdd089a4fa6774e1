from django.urls import path

from . import views

urlpatterns = [
    # The address registered with Mercado Pago (docs/operations.md): it never moves.
    path("mercadopago/webhook", views.webhook, name="mercadopago_webhook"),
]
