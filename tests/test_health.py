from unittest import mock

import pytest
from django.db.utils import OperationalError


@pytest.mark.django_db
def test_livez_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        r = client.get("/livez")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_reports_the_database_up(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"
    assert "no-cache" in r["Cache-Control"]


@pytest.mark.django_db
def test_healthz_reports_the_database_down(client):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=OperationalError("connection refused"),
    ):
        r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["database"] == "down"
    assert r["Retry-After"] == "30"
