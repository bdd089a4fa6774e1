"""The few calls we make to Mercado Pago's API, through its official SDK.

The SDK's API root is fixed (https://api.mercadopago.com); `mercadopago.SDK` takes an
`http_client` for the transport, and `StandInAwareClient` (below) is ours: it sends each call to
MERCADOPAGO_API_URL instead when that is set (the local stand-in, payments/standin.py, in tests
and the demo), and reads every answer's numbers as Decimals. No monkeypatching: the SDK documents
the hook (`SDK(access_token, http_client=...)`).

Each function returns the answer's body (a dict) or raises MercadoPagoError: the callers decide
what a failure means (the webhook answers 503 so that Mercado Pago tries again).
"""

import json
from decimal import Decimal

import mercadopago
import requests
from django.conf import settings
from mercadopago.config import RequestOptions
from mercadopago.http import HttpClient

# The root the SDK builds every URL on (mercadopago/config/config.py).
API_ROOT = "https://api.mercadopago.com"
# Seconds; the SDK's default is 60, longer than a webhook delivery waits for our answer.
TIMEOUT = 10.0


class MercadoPagoError(Exception):
    """A call that did not get a 2xx answer (or got none): `status` is 0 when nothing came."""

    def __init__(self, status, body=None):
        super().__init__(f"Mercado Pago answered {status}")
        self.status = status
        self.body = body


class StandInAwareClient(HttpClient):
    """The SDK's transport with two changes: a call to API_ROOT goes to `api_url` when one is
    given (the stand-in), and JSON numbers with a fraction are read as Decimals, never floats."""

    def __init__(self, api_url=""):
        super().__init__()
        self.api_url = api_url.rstrip("/")

    def request(self, method, url, maxretries=None, retry_on=None, backoff_factor=None, **kwargs):
        if self.api_url and url.startswith(API_ROOT):
            url = self.api_url + url[len(API_ROOT) :]
        # The SDK's own retries are for its HTTPS adapter; ours are the webhook's redeliveries and
        # the reconciliation, so one attempt per call.
        try:
            with requests.Session() as session:
                answer = session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise MercadoPagoError(0) from exc
        body = None
        if answer.status_code != 204 and answer.content:
            try:
                body = json.loads(answer.content, parse_float=Decimal)
            except ValueError:
                body = None
        return {"status": answer.status_code, "response": body}


def options(**headers):
    return RequestOptions(
        access_token=settings.MERCADOPAGO_ACCESS_TOKEN,
        connection_timeout=TIMEOUT,
        custom_headers=headers or None,
    )


def sdk():
    return mercadopago.SDK(
        settings.MERCADOPAGO_ACCESS_TOKEN,
        http_client=StandInAwareClient(settings.MERCADOPAGO_API_URL),
        request_options=options(),
    )


def _body(result):
    if not 200 <= result["status"] < 300 or not isinstance(result["response"], dict):
        raise MercadoPagoError(result["status"], result["response"])
    return result["response"]


def wire_amount(amount):
    """An amount as the API's JSON takes it: a number. Only here does a Decimal become a float,
    to be written out (two places survive the round trip); nothing computes with it."""
    return float(amount)


def create_preference(reservation, amount, description, notification_url, back_urls, expires_at):
    """A Checkout Pro preference for paying `amount` (a Decimal, ARS) for `reservation`, open
    until `expires_at`. Returns its body: `id`, and `init_point` (where the payer is sent)."""
    preference = {
        "items": [
            {
                "id": str(reservation.pk),
                "title": description,
                "quantity": 1,
                "currency_id": "ARS",
                "unit_price": wire_amount(amount),
            }
        ],
        "external_reference": str(reservation.pk),
        # Copied by Mercado Pago onto the payment: whose session it was made for, checked when
        # the payment is applied (rules.apply), so a reference rewritten to another patient's
        # session is not believed.
        "metadata": {
            "reservation_id": str(reservation.pk),
            "patient_id": str(reservation.client_id),
        },
        "notification_url": notification_url,
        "back_urls": back_urls,
        "auto_return": "approved",
        "expires": True,
        "expiration_date_to": expires_at.isoformat(timespec="milliseconds"),
        "date_of_expiration": expires_at.isoformat(timespec="milliseconds"),
    }
    return _body(sdk().preference().create(preference))


def get_payment(payment_id):
    """The payment as Mercado Pago knows it: the only account of a payment we trust."""
    return _body(sdk().payment().get(payment_id))


def search_payments(external_reference):
    """The payments made for one of our reservations (its id as `external_reference`), newest
    first: how a payment whose notification never came is found."""
    filters = {
        "external_reference": external_reference,
        "sort": "date_created",
        "criteria": "desc",
    }
    return _body(sdk().payment().search(filters)).get("results", [])


def refund(payment_id, amount, idempotency_key):
    """Refund `amount` (a Decimal; None: all that is left) of a payment. The same
    `idempotency_key` asked again refunds once and answers the same refund."""
    # The SDK sends a fresh random key under this exact name on every call; ours replaces it.
    key = options(**{"x-idempotency-key": idempotency_key})
    body = None if amount is None else {"amount": wire_amount(amount)}
    return _body(sdk().refund().create(payment_id, body, request_options=key))
