"""Every REST error's problem details carries ``instance``, the path of the request that failed (RFC 9457 §3.1.5),
whichever layer answers: Django's handlers, DRF's exceptions, the domain errors."""

import pytest
import requests

from tests.support import factories


def problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/api/v1/no-such-thing", {}, 404),  # Django's 404 handler
        ("POST", "/api/v1/me", {"json": {}}, 405),  # DRF's MethodNotAllowed
        ("GET", "/api/v1/ubi/queries/no-such-query", {}, 404),  # the domain's NotFound
        ("POST", "/api/v1/ubi/queries", {"json": {"query_id": "q", "user_query": 3}}, 400),  # validation
        ("POST", "/api/v1/ubi/queries", {"data": "{", "headers": {"Content-Type": "application/json"}}, 400),  # parse
        ("POST", "/api/v1/ubi/queries", {"data": "x", "headers": {"Content-Type": "text/plain"}}, 415),
        ("GET", "/api/v1/ubi/events?page=0", {}, 400),
        ("DELETE", "/api/v1/ubi/subjects/user_id/someone", {}, 403),  # the role, insights:erase
    ],
)
def test_every_error_names_the_path_that_failed(api, method, path, kwargs, status):
    body = problem(api.request(method, path, **kwargs), status)
    assert body["instance"] == path.split("?")[0]
    assert body["status"] == status and body["title"] and body["code"]


def test_an_unauthenticated_call_names_its_path(anonymous_api):
    assert problem(anonymous_api.get("/api/v1/ubi/events"), 401)["instance"] == "/api/v1/ubi/events"


def test_a_forbidden_call_names_its_path(live_server, org):
    reader = factories.bearer_for(factories.make_client(org, roles=["insights:read"]).client)
    response = requests.post(
        f"{live_server.url}/api/v1/ubi/queries", json={"user_query": "q"}, headers={"Authorization": f"Bearer {reader}"}, timeout=30
    )
    assert problem(response, 403)["instance"] == "/api/v1/ubi/queries"
