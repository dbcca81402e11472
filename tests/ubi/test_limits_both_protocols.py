"""Issue 17, item 1: every ingestion limit holds over REST and gRPC alike, with an answer of the same class.

One test, run over both protocols: a request within a limit is stored, one past it is refused and stores nothing.
Every refusal is of the error table's row for a malformed request, 400 (and 413, too large, which the table does
not list) with INVALID_ARGUMENT or OUT_OF_RANGE: what validation refuses is 400 / INVALID_ARGUMENT; more bytes
than a request may carry is 413 / OUT_OF_RANGE; more events than a call may carry is 400 naming ``""`` over REST
(``MAX_EVENTS_PER_REQUEST``) and OUT_OF_RANGE over gRPC (``MAX_EVENTS_PER_STREAM``, a stream being the call). A
request is a REST body or a gRPC message: one event (``TrackEvent``), or a batch (a ``TrackEvents`` stream of one
message).
"""

import grpc
import pytest

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from insights.models import Event
from tests.support.api import Api
from tests.support.grpc import bearer_metadata
from tests.support.ubi_documents import EVENTS, make_event


def nested(depth: int):
    """A JSON value whose containers nest ``depth`` levels."""
    value = "leaf"
    for _ in range(depth):
        value = {"next": value}
    return value


def with_note(length: int) -> dict:
    """An event whose free-form attributes carry a note of ``length`` characters."""
    return make_event(event_attributes={"position": {"ordinal": 1}, "note": "n" * length})


ACCEPTED = {"rest": 201, "grpc": grpc.StatusCode.OK}
# name: (settings.UBI, a request within the limit, one past it, the answer to that one over each protocol)
LIMITS = {
    "bytes of an event": (
        {"MAX_REQUEST_BYTES": 4000},
        make_event(user_query="q" * 3000),
        make_event(user_query="q" * 5000),
        {"rest": 413, "grpc": grpc.StatusCode.OUT_OF_RANGE},
    ),
    "bytes of a batch, free-form attributes": (
        {"MAX_REQUEST_BYTES": 4000},
        [with_note(1500)] * 2,
        [with_note(1500)] * 3,
        {"rest": 413, "grpc": grpc.StatusCode.OUT_OF_RANGE},
    ),
    "events per call": (
        {"MAX_EVENTS_PER_REQUEST": 3, "MAX_EVENTS_PER_STREAM": 3},
        [make_event()] * 3,
        [make_event()] * 4,
        {"rest": 400, "grpc": grpc.StatusCode.OUT_OF_RANGE},
    ),
    "JSON depth": (
        {},
        make_event(deep=nested(31)),  # the event itself is the first of MAX_JSON_DEPTH's 32 levels
        make_event(deep=nested(32)),
        {"rest": 400, "grpc": grpc.StatusCode.INVALID_ARGUMENT},
    ),
}


def rest_tracker(live_server, token):
    api = Api(live_server.url, token)
    return lambda request: api.post(EVENTS, json=request).status_code


def grpc_tracker(stub, token):
    metadata = bearer_metadata(token)

    def track(request):
        try:
            if isinstance(request, list):
                message = rpc.TrackEventsRequest(events=[fill_message(ubi.Event(), event) for event in request])
                stub.TrackEvents(iter([message]), metadata=metadata, timeout=30)
            else:
                stub.TrackEvent(rpc.TrackEventRequest(event=fill_message(ubi.Event(), request)), metadata=metadata, timeout=30)
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    return track


@pytest.fixture(params=["rest", "grpc"])
def protocol(request):
    return request.param


@pytest.fixture
def track(request, protocol, transactional_db, token):
    """``track(request)``: the answer to one event (dict) or batch (list) over ``protocol``: an HTTP status or a gRPC
    status code. The servers' threads see the test's rows: ``transactional_db``, before ``token`` makes any."""
    if protocol == "rest":
        return rest_tracker(request.getfixturevalue("live_server"), token)
    return grpc_tracker(request.getfixturevalue("ubi_stub"), token)


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_a_limit_holds_over_both_protocols_with_the_same_answer(track, protocol, settings, limit):
    overrides, within, beyond, refusal = LIMITS[limit]
    settings.UBI = {**settings.UBI, **overrides}
    assert track(within) == ACCEPTED[protocol]
    stored = Event.objects.count()
    assert stored == (len(within) if isinstance(within, list) else 1)
    assert track(beyond) == refusal[protocol]
    assert Event.objects.count() == stored
