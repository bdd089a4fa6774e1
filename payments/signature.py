"""A Mercado Pago notification's signature, as Mercado Pago documents it.

The `x-signature` header is `ts=<timestamp>,v1=<hex>`: v1 is the HMAC-SHA256, with the secret of
the integration's webhooks (MERCADOPAGO_WEBHOOK_SECRET), of the manifest
`id:{data.id};request-id:{x-request-id};ts:{ts};`, where data.id is the query string's (lowercased
when alphanumeric) and x-request-id is the request's header. A signature is compared in constant
time, and one older than MAX_AGE is refused: a recorded delivery cannot be replayed later.

The timestamp is in milliseconds (what Mercado Pago sends); one of ten digits or fewer is read as
seconds, which the SDK's own validator assumes.
"""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

MAX_AGE = timedelta(minutes=5)
# A timestamp of ten digits or fewer is in seconds (until the year 2286).
SECONDS_UP_TO = 10**10


class BadSignature(Exception):
    """Why a notification was refused: for the log, never for the sender."""


def manifest(data_id, request_id, ts):
    return f"id:{data_id};request-id:{request_id};ts:{ts};"


def normal_id(data_id):
    """data.id as it is signed: lowercased when it is letters and digits only."""
    return data_id.lower() if data_id.isalnum() else data_id


def sign(secret, data_id, request_id, ts):
    """The v1 hash: what Mercado Pago (and our stand-in) puts in the header."""
    message = manifest(normal_id(data_id), request_id, ts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret, data_id, request_id, at):
    """The whole `x-signature` header for a notification sent at `at` (a datetime)."""
    ts = str(int(at.timestamp() * 1000))
    return f"ts={ts},v1={sign(secret, data_id, request_id, ts)}"


def parse(value):
    """(ts, v1) from the header; BadSignature when either is missing."""
    parts = {}
    for part in value.split(","):
        key, sep, found = part.partition("=")
        if sep:
            parts[key.strip().lower()] = found.strip()
    ts, v1 = parts.get("ts", ""), parts.get("v1", "")
    if not ts:
        raise BadSignature("no ts")
    if not ts.isdigit():
        raise BadSignature("ts is not a number")
    if not v1:
        raise BadSignature("no v1")
    return ts, v1


def verify(secret, signature, request_id, data_id, now):
    """Return quietly when `signature` (the x-signature header) signs this notification with
    `secret` and is not older than MAX_AGE at `now`; raise BadSignature otherwise."""
    if not secret:
        raise BadSignature("no MERCADOPAGO_WEBHOOK_SECRET: nothing can be verified")
    if not signature or not request_id or not data_id:
        raise BadSignature("x-signature, x-request-id or data.id missing")
    ts, v1 = parse(signature)
    if not hmac.compare_digest(sign(secret, data_id, request_id, ts), v1.lower()):
        raise BadSignature("signature mismatch")
    stamp = int(ts)
    seconds = stamp if stamp < SECONDS_UP_TO else stamp / 1000
    sent = datetime.fromtimestamp(seconds, tz=UTC)
    # A little ahead is a clock's drift; far ahead is as suspect as far behind.
    if abs(now - sent) > MAX_AGE:
        raise BadSignature("ts too old (or too far ahead)")
