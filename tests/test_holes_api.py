"""The API answers in its envelope whatever a client sends: an oversized body is a 413."""

import json

import pytest

from .conftest import NOW
from .test_api import bearer_client

pytestmark = pytest.mark.django_db


def test_a_3_mb_body_is_413_in_the_envelope(patient, professional, frozen_now):
    body = json.dumps(
        {
            "professional_id": str(professional.pk),
            "start_time": NOW.isoformat(),
            "session_modality": "Virtual",
            "padding": "x" * (3 * 1024 * 1024),
        }
    )
    r = bearer_client(patient).post("/api/reservations", body, content_type="application/json")
    assert r.status_code == 413
    envelope = r.json()
    assert envelope["status"] == 413 and set(envelope) == {"status", "message"}
