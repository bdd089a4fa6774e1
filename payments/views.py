"""Mercado Pago's notifications of payments.

A notification is a hint, not a fact: it is believed to come from Mercado Pago only when its
signature says so (signature.py), and even then only its payment id is used: the payment is read
back from the API and that answer alone is applied (rules.apply).

Answers: 400 to a notification whose signature is wrong, missing or stale (nothing is read or
written); 503 when Mercado Pago's API could not be asked (it delivers again later); 200 to every
other one, including those we ignore (not about a payment, a payment of no reservation of ours,
an amount that is not what was asked): they are logged, and a 4xx would only have Mercado Pago
deliver them again and again.
"""

import json
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import mercadopago, rules
from .signature import BadSignature, verify

log = logging.getLogger(__name__)


def _topic(request):
    """ "payment" for a notification about a payment: the query's `type` (or the older `topic`),
    else the body's."""
    topic = request.GET.get("type") or request.GET.get("topic")
    if topic:
        return topic
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return ""
    return body.get("type", "") if isinstance(body, dict) else ""


# Mercado Pago's servers post without a CSRF token; the signature is what guards this view.
@csrf_exempt
@require_POST
def webhook(request):
    data_id = request.GET.get("data.id", "")
    request_id = request.headers.get("x-request-id", "")
    try:
        verify(
            settings.MERCADOPAGO_WEBHOOK_SECRET,
            request.headers.get("x-signature", ""),
            request_id,
            data_id,
            timezone.now(),
        )
    except BadSignature as exc:
        log.warning("Mercado Pago notification refused (request %s): %s", request_id, exc)
        return HttpResponseBadRequest("Bad signature.", content_type="text/plain")
    if _topic(request) != "payment":
        return HttpResponse("Ignored.", content_type="text/plain")
    try:
        found = mercadopago.get_payment(data_id)
    except mercadopago.MercadoPagoError as exc:
        if exc.status == 404:
            log.warning("Mercado Pago notification of payment %s, which it does not know", data_id)
            return HttpResponse("Ignored.", content_type="text/plain")
        log.warning("Mercado Pago's API failed (%s) reading payment %s", exc.status, data_id)
        return HttpResponse("Try again later.", status=503, content_type="text/plain")
    outcome = rules.apply(found)
    log.info("Mercado Pago payment %s: %s", data_id, outcome.result)
    return HttpResponse("Ignored." if outcome.refused else "OK.", content_type="text/plain")
