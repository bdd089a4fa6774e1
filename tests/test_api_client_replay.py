"""The original web client's calls, replayed over real HTTP against a running server.

store/ReservationsStore.ts and lib/axiosClient.ts (see the seed document) do exactly this:
log in, `GET {server}/reservations/user/{client_id}` and sort by `new Date(start_time)`
(newest first), `DELETE {server}/reservations/{id}` and `GET {server}/reservations/{id}`, each
with `Authorization: Bearer <access_token>` and axios's default Accept header. `server` is /api.
"""

import json
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from reservations.models import Reservation

from .conftest import PASSWORD
from .test_api import seed_fields

pytestmark = pytest.mark.django_db(transaction=True)

AXIOS_ACCEPT = "application/json, text/plain, */*"
# What a JavaScript `new Date()` reads unambiguously: ISO 8601 with Z or an offset.
# (The original's naive strings were read as the browser's local time.)
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def call(method, url, token=None, body=None):
    headers = {"Accept": AXIOS_ACCEPT}
    if token:
        headers["Authorization"] = f"Bearer {token}"  # lib/axiosClient.ts's interceptor
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def js_sort_newest_first(reservations):
    # [...reservations].sort((a, b) => new Date(b.start_time) - new Date(a.start_time))
    return sorted(reservations, key=lambda r: datetime.fromisoformat(r["start_time"]), reverse=True)


def test_the_original_clients_calls_work_against_this_site(
    live_server, patient, other_patient, make_reservation
):
    now = timezone.now()
    past = make_reservation(patient, now - timedelta(days=14))
    upcoming = make_reservation(patient, now + timedelta(days=5))
    soon = make_reservation(patient, now + timedelta(hours=20), status="PENDING")
    later = make_reservation(patient, now + timedelta(days=12), modality="Presencial")
    someone_elses = make_reservation(other_patient, now + timedelta(days=6))
    server = f"{live_server.url}/api"

    # The login screen: the app client's login returns the user and the access token.
    status, login = call(
        "POST",
        f"{live_server.url}/_allauth/app/v1/auth/login",
        body={"email": patient.email, "password": PASSWORD},
    )
    assert status == 200
    token = login["meta"]["access_token"]
    client_id = login["data"]["user"]["id"]
    assert client_id == str(patient.pk)

    # getReservations({client_id}) then the store's sort.
    status, body = call("GET", f"{server}/reservations/user/{client_id}", token)
    assert status == 200
    assert body["message"] == (
        f"SOLICITASTE TODAS LAS RESERVAS DEL USUARIO CON EL ID: {client_id} EXITOSAMENTE"
    )
    reservations = js_sort_newest_first(body["data"])
    assert [r["id"] for r in reservations] == [
        str(later.pk),
        str(upcoming.pk),
        str(soon.pk),
        str(past.pk),
    ]
    assert reservations == body["data"]  # the server already sends them in the client's order
    for r in reservations:
        # The original's fields, as the client's Reservation type has them (it ignores the
        # ones this site adds after them).
        seed = seed_fields(r)
        assert all(isinstance(value, str) for value in seed.values()), seed
        assert seed["status"] in {"PENDING", "CONFIRMED", "CANCELLED"}
        assert seed["session_modality"] in {"Virtual", "Presencial"}
        assert r["client_id"] == client_id
        for field in ("start_time", "end_time", "created_at"):
            assert ISO_WITH_OFFSET.match(r[field]), r[field]
    assert str(someone_elses.pk) not in {r["id"] for r in reservations}

    # findOne({reservationId})
    status, body = call("GET", f"{server}/reservations/{upcoming.pk}", token)
    assert (status, body["data"]["id"]) == (200, str(upcoming.pk))

    # deleteReservation({reservationId}): a cancel, not a delete.
    status, body = call("DELETE", f"{server}/reservations/{upcoming.pk}", token)
    assert status == 200
    assert [r["id"] for r in body["data"]] == [str(upcoming.pk)]
    assert body["data"][0]["status"] == "CANCELLED"
    upcoming.refresh_from_db()
    assert upcoming.status == "CANCELLED"
    assert upcoming.cancelled_by == patient

    # Inside the 48 h notice the server refuses, and says why in Spanish (axios rejects on 409).
    status, body = call("DELETE", f"{server}/reservations/{soon.pk}", token)
    assert status == 409
    assert body["message"].startswith("Solo podés cancelar con 48 h de anticipación")
    assert Reservation.objects.get(pk=soon.pk).status == "PENDING"

    # Someone else's reservation does not exist, as far as this patient can tell.
    status, body = call("DELETE", f"{server}/reservations/{someone_elses.pk}", token)
    assert (status, body) == (404, {"status": 404, "message": body["message"]})
    assert Reservation.objects.get(pk=someone_elses.pk).status == "CONFIRMED"

    # The refreshed list still has the cancelled session, now marked CANCELLED.
    status, body = call("GET", f"{server}/reservations/user/{client_id}", token)
    statuses = {r["id"]: r["status"] for r in js_sort_newest_first(body["data"])}
    assert statuses[str(upcoming.pk)] == "CANCELLED"
    assert len(statuses) == 4

    # Without the token (a logged-out client) every call is a 401 envelope.
    status, body = call("GET", f"{server}/reservations/user/{client_id}")
    assert (status, body["status"]) == (401, 401)
