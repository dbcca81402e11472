"""The OpenAPI document (/api/v1/openapi.json) and the API reference page (/api/v1/docs).

The document validates, describes every operation with the bearer scheme and problem-details errors, and the live
server answers as it says (schemathesis over every operation, and over sequences of calls chained by the links it
infers). The page works offline with DEBUG off.
"""

import re
from urllib.parse import urljoin

import pytest
import requests
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode

OPENAPI = "/api/v1/openapi.json"
UBI_OPERATIONS = {
    ("/api/v1/ubi/queries", "post"),
    ("/api/v1/ubi/queries", "get"),
    ("/api/v1/ubi/queries/{query_id}", "get"),
    ("/api/v1/ubi/events", "post"),
    ("/api/v1/ubi/events", "get"),
    ("/api/v1/ubi/subjects/{kind}/{value}", "delete"),
}


@pytest.fixture
def document(anonymous_api):
    response = anonymous_api.get(OPENAPI)
    assert response.status_code == 200
    return response.json()


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_drf_spectacular_describes_every_view_without_guessing(tmp_path):
    """A view it cannot describe (no serializer to read) would be left out of the document, with an error logged."""
    call_command("spectacular", "--format", "openapi-json", "--file", str(tmp_path / "openapi.json"), "--fail-on-warn")


def test_me_is_described_with_its_answer(document):
    answer = document["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    me = document["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
    assert set(me["properties"]) == {"type", "id", "organization", "client_id", "roles", "scope"}


def test_the_document_describes_every_ubi_operation_with_the_bearer_scheme(document):
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert UBI_OPERATIONS <= operations
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, method in UBI_OPERATIONS:
        assert document["paths"][path][method]["security"] == [{"bearerAuth": []}]


@pytest.mark.parametrize(("path", "method"), sorted(UBI_OPERATIONS))
def test_every_error_is_documented_as_problem_details(document, path, method):
    responses = document["paths"][path][method]["responses"]
    errors = {status: response for status, response in responses.items() if status >= "400"}
    assert {"401", "403"} <= set(errors)
    for response in errors.values():
        assert response["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_the_reference_page_and_its_assets_are_served_by_the_project_with_debug_off(anonymous_api, settings):
    assert settings.DEBUG is False
    page = anonymous_api.get("/api/v1/docs")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/"), f"{asset} would need the internet"
        assert anonymous_api.get(urljoin("/", asset)).status_code == 200, asset
    assert OPENAPI in page.text  # where the page loads the document from


@pytest.fixture
def live_openapi(live_server):
    """The served document as schemathesis sees it, calling the live server."""
    loaded = schemathesis.openapi.from_dict(requests.get(live_server.url + OPENAPI, timeout=30).json())
    loaded.config.update(base_url=live_server.url)
    return loaded


# What every answer is held to. positive_data_acceptance is left out: a few schema-valid documents are refused on
# purpose (README, "Leniencies": field names with U+0000 or lone surrogates cannot be stored).
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
# Bounded, so the suite stays fast: enough to reach each operation's edges without sweeping them.
BOUNDED = settings(
    max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


# schemathesis's own pytest integration does not run under pytest 9, so its strategies are driven here.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_operation_answers_as_documented(live_openapi, token, mode):
    operations = [result.ok() for result in live_openapi.get_all_operations()]
    assert {(operation.path, operation.method) for operation in operations} >= UBI_OPERATIONS

    for operation in operations:
        @BOUNDED
        @given(case=operation.as_strategy(mode))
        def answers_as_documented(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        answers_as_documented()


def test_call_sequences_answer_as_documented(live_openapi, token):
    """Stateful: schemathesis chains calls through the links it infers from the document (a tracked query_id is
    fetched back, listed, tracked again) and checks, besides every answer, that what was created is then there."""

    class Sequences(live_openapi.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            checks = [*CHECKS, schemathesis.checks.ensure_resource_availability]
            case.validate_response(response, checks=checks, recorder=self.recorder, transport_kwargs=kwargs or None)

    assert "POST /api/v1/ubi/queries -> 201" in Sequences.bundles, "no link inferred: the sequences would not chain"
    Sequences.run(settings=settings(BOUNDED, max_examples=25, stateful_step_count=6))
