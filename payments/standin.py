"""A local stand-in for Mercado Pago: a small real HTTP server of our own, for tests and the demo.

It answers the few API calls we make, as Mercado Pago's API does:
- `POST /checkout/preferences`: a Checkout Pro preference; its `init_point` is our checkout page;
- `GET /v1/payments/{id}` and `GET /v1/payments/search?external_reference=…`;
- `POST /v1/payments/{id}/refunds`: honouring `X-Idempotency-Key` (the same key answers the same
  refund, made once);
and plays the payer's side: `GET /checkout/{preference id}` is a page with Approve and Reject
buttons; either creates the payment, then POSTs a notification *signed* with the webhook secret
to the preference's notification_url (as Mercado Pago does), then sends the payer to the
preference's back_urls.

Its state is in memory and goes with the process. `manage.py mercadopago_standin --port N` runs
one; tests start one on a free port (StandIn(...).start()). Point the site at it with
MERCADOPAGO_API_URL=http://127.0.0.1:N.
"""

import html
import itertools
import json
import logging
import re
import threading
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import signature

log = logging.getLogger(__name__)

PAYMENT = re.compile(r"^/v1/payments/(\d+)$")
REFUNDS = re.compile(r"^/v1/payments/(\d+)/refunds$")
CHECKOUT = re.compile(r"^/checkout/([\w-]+)$")
PAY = re.compile(r"^/checkout/([\w-]+)/(approve|reject)$")


def _number(value):
    # JSON numbers on the wire, as Mercado Pago writes them.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{value!r} is not JSON")


def _now():
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class StandIn:
    """The server and its state. `secret` signs the notifications it sends; `token`, when given,
    is the only access token it accepts."""

    def __init__(self, host="127.0.0.1", port=0, secret="", token=""):
        self.secret = secret
        self.token = token
        self.preferences = {}
        self.payments = {}
        self.refunds_by_key = {}
        # What it sent, and what it got back: [(url, status)].
        self.notifications = []
        self.lock = threading.Lock()
        self._ids = itertools.count(1_000_000_001)
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread = None

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # The state, for the handler and for tests.

    def create_preference(self, body):
        pref_id = f"{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:12]}"
        preference = dict(body, id=pref_id, init_point=f"{self.url}/checkout/{pref_id}")
        preference["sandbox_init_point"] = preference["init_point"]
        preference["date_created"] = _now()
        with self.lock:
            self.preferences[pref_id] = preference
        return preference

    def pay(self, pref_id, status="approved"):
        """The payer paying `pref_id` (approved or rejected): the payment, as the API shows it."""
        preference = self.preferences[pref_id]
        item = preference["items"][0]
        with self.lock:
            payment_id = next(self._ids)
            payment = {
                "id": payment_id,
                "status": status,
                "status_detail": "accredited" if status == "approved" else "cc_rejected",
                "transaction_amount": Decimal(str(item["unit_price"])) * item.get("quantity", 1),
                "transaction_amount_refunded": Decimal("0"),
                "currency_id": item.get("currency_id", "ARS"),
                "external_reference": preference.get("external_reference", ""),
                "description": item.get("title", ""),
                "preference_id": pref_id,
                "metadata": dict(preference.get("metadata") or {}),
                "date_created": _now(),
                "date_approved": _now() if status == "approved" else None,
                "refunds": [],
            }
            self.payments[payment_id] = payment
        return payment

    def set_status(self, payment_id, status):
        with self.lock:
            self.payments[payment_id]["status"] = status

    def refund(self, payment_id, amount, key):
        """(status, body): a refund of `amount` (None: what is left), once per key."""
        with self.lock:
            if key in self.refunds_by_key:
                return 201, self.refunds_by_key[key]
            payment = self.payments.get(payment_id)
            if payment is None:
                return 404, {"message": "Payment not found", "status": 404}
            left = payment["transaction_amount"] - payment["transaction_amount_refunded"]
            amount = left if amount is None else amount
            if payment["status"] not in ("approved", "refunded") or not 0 < amount <= left:
                return 400, {"message": "Invalid refund amount or payment status", "status": 400}
            refund = {
                "id": next(self._ids),
                "payment_id": payment_id,
                "amount": amount,
                "status": "approved",
                "date_created": _now(),
            }
            payment["refunds"].append(refund)
            payment["transaction_amount_refunded"] += amount
            if payment["transaction_amount_refunded"] == payment["transaction_amount"]:
                payment["status"] = "refunded"
            self.refunds_by_key[key] = refund
            return 201, refund

    def notify(self, payment_id, url=None, at=None):
        """POST the signed notification of `payment_id` to its preference's notification_url
        (or `url`), as Mercado Pago does; returns the HTTP status it got (0: none)."""
        payment = self.payments[payment_id]
        url = url or self.preferences[payment["preference_id"]].get("notification_url")
        if not url:
            return 0
        data_id = str(payment_id)
        request_id = str(uuid.uuid4())
        body = json.dumps(
            {"action": "payment.updated", "type": "payment", "data": {"id": data_id}}
        ).encode()
        sep = "&" if urlsplit(url).query else "?"
        target = f"{url}{sep}{urlencode({'data.id': data_id, 'type': 'payment'})}"
        request = urllib.request.Request(  # noqa: S310 (the preference's own http(s) URL)
            target,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "x-request-id": request_id,
                "x-signature": signature.header(
                    self.secret, data_id, request_id, at or datetime.now(UTC)
                ),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            log.warning("stand-in: nobody answered the notification at %s", url)
            status = 0
        self.notifications.append((url, status))
        return status

    def search(self, external_reference):
        found = [
            p
            for p in self.payments.values()
            if str(p["external_reference"]) == str(external_reference)
        ]
        found.sort(key=lambda p: p["id"], reverse=True)
        return {
            "results": found,
            "paging": {"total": len(found), "limit": 30, "offset": 0},
        }

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 (the stdlib's name)
                log.debug("stand-in: " + format, *args)

            def send(self, status, body=None, content_type="application/json", headers=()):
                data = b""
                if body is not None:
                    data = (
                        json.dumps(body, default=_number).encode()
                        if content_type == "application/json"
                        else body.encode()
                    )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return raw

            def authorized(self):
                given = self.headers.get("Authorization", "").strip()
                wanted = f"Bearer {standin.token}"
                if not given.startswith("Bearer") or (standin.token and given != wanted):
                    self.send(401, {"message": "invalid access token", "status": 401})
                    return False
                return True

            def do_GET(self):
                parts = urlsplit(self.path)
                if m := CHECKOUT.match(parts.path):
                    return self.checkout_page(m.group(1))
                if not self.authorized():
                    return None
                if parts.path == "/v1/payments/search":
                    query = parse_qs(parts.query)
                    reference = query.get("external_reference", [""])[0]
                    return self.send(200, standin.search(reference))
                if m := PAYMENT.match(parts.path):
                    payment = standin.payments.get(int(m.group(1)))
                    if payment is None:
                        return self.send(404, {"message": "Payment not found", "status": 404})
                    return self.send(200, payment)
                return self.send(404, {"message": "not found", "status": 404})

            def do_POST(self):
                parts = urlsplit(self.path)
                if m := PAY.match(parts.path):
                    return self.checkout_pay(m.group(1), m.group(2))
                raw = self.body()
                if not self.authorized():
                    return None
                try:
                    body = json.loads(raw or b"{}", parse_float=Decimal)
                except ValueError:
                    return self.send(400, {"message": "invalid JSON", "status": 400})
                if parts.path == "/checkout/preferences":
                    return self.send(201, standin.create_preference(body))
                if m := REFUNDS.match(parts.path):
                    key = self.headers.get("X-Idempotency-Key", "")
                    if not key:
                        return self.send(400, {"message": "X-Idempotency-Key", "status": 400})
                    amount = body.get("amount") if isinstance(body, dict) else None
                    amount = None if amount is None else Decimal(str(amount))
                    status, answer = standin.refund(int(m.group(1)), amount, key)
                    return self.send(status, answer)
                return self.send(404, {"message": "not found", "status": 404})

            def checkout_page(self, pref_id):
                preference = standin.preferences.get(pref_id)
                if preference is None:
                    return self.send(404, "No such preference.", "text/plain; charset=utf-8")
                item = preference["items"][0]
                page = CHECKOUT_PAGE.format(
                    title=html.escape(item.get("title", "")),
                    amount=html.escape(f"{Decimal(str(item['unit_price'])):.2f}"),
                    currency=html.escape(item.get("currency_id", "ARS")),
                    approve=f"/checkout/{pref_id}/approve",
                    reject=f"/checkout/{pref_id}/reject",
                )
                return self.send(200, page, "text/html; charset=utf-8")

            def checkout_pay(self, pref_id, choice):
                self.body()
                if pref_id not in standin.preferences:
                    return self.send(404, "No such preference.", "text/plain; charset=utf-8")
                status = "approved" if choice == "approve" else "rejected"
                payment = standin.pay(pref_id, status)
                standin.notify(payment["id"])
                back = standin.preferences[pref_id].get("back_urls") or {}
                target = back.get("success" if status == "approved" else "failure")
                if not target:
                    page = f"<p>Payment {payment['id']}: {status}.</p>"
                    return self.send(200, page, "text/html; charset=utf-8")
                query = urlencode(
                    {
                        "collection_id": payment["id"],
                        "payment_id": payment["id"],
                        "status": status,
                        "external_reference": payment["external_reference"],
                        "preference_id": pref_id,
                    }
                )
                sep = "&" if urlsplit(target).query else "?"
                return self.send(303, headers=[("Location", f"{target}{sep}{query}")])

        return Handler


# The payer's side: what Checkout Pro shows, reduced to its choice.
CHECKOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mercado Pago (local stand-in)</title>
<link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1rem;margin:.25rem 0;width:100%}}</style></head>
<body><main>
<h1>Mercado Pago (local stand-in)</h1>
<p>{title}</p>
<p><strong>{currency} {amount}</strong></p>
<form method="post" action="{approve}"><button type="submit">Approve payment</button></form>
<form method="post" action="{reject}"><button type="submit">Reject payment</button></form>
<p><small>Not Mercado Pago: a local stand-in for tests and the demo.
No card is asked for.</small></p>
</main></body></html>
"""
