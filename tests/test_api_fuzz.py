"""Property tests: schemathesis drives the API from the OpenAPI document it serves.

Every generated request (valid and invalid) must get an answer that is not a 5xx and that the
document describes: a documented status code, JSON, and a body matching that code's schema.
"""

from datetime import timedelta

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.http import JsonResponse
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.openapi.checks import JsonSchemaError

import api.api

from .conftest import NOW
from .test_api import get_token

pytestmark = pytest.mark.django_db(transaction=False)

FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def api_schema(settings, monkeypatch):
    settings.API_RATE_LIMIT = "100000/min"  # the fuzzer is one very busy user
    # The real WSGI app closes "obsolete" connections around each request, which would end the
    # test's transaction on PostgreSQL (Django's test client switches that off the same way).
    monkeypatch.setattr(connection, "close_if_unusable_or_obsolete", lambda: None)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def owned(patient, make_reservation):
    """The patient's reservations in every state the rule distinguishes."""
    return [
        make_reservation(patient, NOW + timedelta(days=7)),
        make_reservation(patient, NOW + timedelta(hours=1)),
        make_reservation(patient, NOW - timedelta(days=7)),
        make_reservation(patient, NOW + timedelta(days=9), status="CANCELLED"),
    ]


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(operation, mode, headers, examples=25, **fixed):
    """Runs `examples` generated requests (the whole file stays well under a minute)."""

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def run(case):
        response = case.call_and_validate(headers=headers)
        assert response.status_code < 500

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_documented_answers(api_schema, mode, patient, owned, frozen_now):
    headers = {"Authorization": f"Bearer {get_token(patient.email)}"}
    for operation in operations(api_schema):
        fuzz(operation, mode, headers)


def test_generated_requests_on_real_reservations_get_documented_answers(
    api_schema, patient, owned, frozen_now
):
    headers = {"Authorization": f"Bearer {get_token(patient.email)}"}
    for operation in operations(api_schema):
        if "client_id" in operation.path:
            fuzz(
                operation,
                GenerationMode.POSITIVE,
                headers,
                path_parameters={"client_id": str(patient.pk)},
            )
        else:
            for reservation in owned:
                fuzz(
                    operation,
                    GenerationMode.POSITIVE,
                    headers,
                    path_parameters={"id": str(reservation.pk)},
                )


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["none", "bad-token", "basic"],
)
def test_requests_without_valid_credentials_get_documented_401s(api_schema, headers, owned):
    for operation in operations(api_schema):
        fuzz(operation, GenerationMode.POSITIVE, headers, examples=10)


# The harness itself: it must fail when the API misbehaves, or its passing means nothing.


def test_the_fuzzer_fails_on_a_server_error(api_schema, monkeypatch, patient, owned):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api.api, "_reservation_for", broken)
    headers = {"Authorization": f"Bearer {get_token(patient.email)}"}
    get_one = api_schema["/api/reservations/{id}"]["GET"]
    with pytest.raises(FailureGroup) as failure:
        fuzz(get_one, GenerationMode.POSITIVE, headers, examples=5)
    assert failure.group_contains(ServerError)


def test_the_fuzzer_fails_on_an_answer_that_breaks_the_schema(api_schema, monkeypatch, owned):
    monkeypatch.setattr(
        api.api,
        "envelope_response",
        lambda request, status, message: JsonResponse({}, status=status),
    )
    get_one = api_schema["/api/reservations/{id}"]["GET"]
    with pytest.raises(FailureGroup) as failure:
        fuzz(get_one, GenerationMode.POSITIVE, {}, examples=5)
    assert failure.group_contains(JsonSchemaError)
