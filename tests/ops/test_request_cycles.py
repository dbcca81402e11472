"""A served request's objects are freed by reference counting, not left to the cyclic collector
(``runtime.request_cycles``): on the paths where the volume is, tracking and tokens, nothing is left in a cycle.

The live server runs in this process, so the collector seen here is the one that serves the requests. With
``DEBUG_SAVEALL`` the collector keeps what it finds unreachable in ``gc.garbage`` instead of freeing it.
"""

import gc
import json

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponseBase, StreamingHttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from runtime.request_cycles import RequestCyclesMiddleware

REQUESTS = 20
REQUEST_OBJECTS = (WSGIRequest, Request, HttpResponseBase, APIView)
EVENT = {
    "application": "shop",
    "action_name": "click",
    "query_id": "0b5c6c1e-95a4-4c1b-9d1f-6f2d4f7e8a90",
    "client_id": "browser-1",
    "timestamp": "2024-05-16T12:34:56Z",
    "message_type": "CONVERSION",
    "event_attributes": {"object": {"object_id": "sku-1", "object_id_field": "sku"}, "position": {"ordinal": 1}},
}


@pytest.fixture
def left_in_cycles():
    """Call the returned function after serving requests: it returns the request objects they left to the collector."""
    gc.collect()  # what earlier tests left behind is not this test's
    gc.set_debug(gc.DEBUG_SAVEALL)

    def collected():
        gc.collect()
        return [type(found).__name__ for found in gc.garbage if isinstance(found, REQUEST_OBJECTS)]

    yield collected
    gc.set_debug(0)
    gc.garbage.clear()
    gc.collect()


@pytest.mark.parametrize("body", [EVENT, [EVENT] * 10], ids=["one event", "a batch"])
def test_tracking_events_leaves_no_request_in_a_cycle(api, left_in_cycles, body):
    for _ in range(REQUESTS):
        answer = api.post("/api/v1/ubi/events", json=body)
        assert answer.status_code == 201, answer.text

    assert left_in_cycles() == []


def test_reading_events_leaves_no_request_in_a_cycle(api, left_in_cycles):
    for _ in range(REQUESTS):
        assert api.get("/api/v1/ubi/events", params={"pageSize": 5}).status_code == 200

    assert left_in_cycles() == []


def test_issuing_tokens_leaves_no_request_in_a_cycle(anonymous_api, app_client, left_in_cycles):
    form = {
        "grant_type": "client_credentials",
        "client_id": app_client.client.client_id,
        "client_secret": app_client.client_secret,
    }
    for _ in range(REQUESTS):
        assert anonymous_api.post("/oauth2/token", data=form).status_code == 200

    assert left_in_cycles() == []


def test_a_streaming_response_keeps_its_request(rf):
    """Its content is made while it is sent, after the middleware: the request's user must still be there."""
    request = rf.get("/")
    request.user = "someone"
    response = RequestCyclesMiddleware(lambda r: StreamingHttpResponse(iter([json.dumps(r.user).encode()])))(request)

    assert b"".join(response.streaming_content) == b'"someone"'
    assert request.user == "someone"
