"""Protobuf fuzzing through a real channel: whatever bytes arrive, every RPC answers a clean status, never INTERNAL
or UNKNOWN (a fault of ours), and the server keeps serving.

The channel sends raw bytes (no serializer), so the server's own parsing sees what an attacker or a broken client
would send: random bytes, and valid requests with bytes flipped, inserted, dropped or cut off. Hypothesis draws them
deterministically (``derandomize``) with a bounded number of examples, so CI sees the same inputs every run.

The UBI validators themselves are fuzzed from the published JSON Schemas in ``tests/ubi/test_schema_properties.py``.
"""

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grpc_api import convert
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.interceptors import SERVICE_NAME
from tests.support import factories
from tests.support.grpc import bearer_metadata
from tests.support.ubi_documents import make_event, make_query

SERVICE = rpc.DESCRIPTOR.services_by_name["UserBehaviorInsightsService"]
ROLES = ["insights:read", "insights:write"]
# What a mutated or random request may answer: success (a mutation can leave a valid request) or a status of the
# public error table that blames the request. A valid request is answered OK alone (the seeds' test).
CLEAN = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# One valid request per RPC, the seed of the mutations.
VALID_REQUESTS = {
    "TrackQuery": rpc.TrackQueryRequest(query=convert.fill_message(ubi.Query(), make_query(query_id="fuzz-q"))),
    "TrackEvent": rpc.TrackEventRequest(
        event=convert.fill_message(ubi.Event(), make_event(event_id="fuzz-e", query_id="fuzz-q", message="m"))
    ),
    "TrackEvents": rpc.TrackEventsRequest(
        events=[convert.fill_message(ubi.Event(), make_event(event_id=f"fuzz-{n}", query_id="fuzz-q")) for n in (1, 2)]
    ),
    "ListQueries": rpc.ListQueriesRequest(page=1, page_size=10, application="shop", user_query="toner"),
    "GetQuery": rpc.GetQueryRequest(query_id="fuzz-q"),
    "ListEvents": rpc.ListEventsRequest(page=2, page_size=5, action_name="click", query_id="fuzz-q"),
}


@st.composite
def mutated(draw, valid: bytes) -> bytes:
    """``valid`` with a few bytes flipped, inserted or dropped, or cut short: mostly still near-protobuf."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        edit = draw(st.sampled_from(["flip", "insert", "drop", "cut"]))
        if edit == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif edit == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "drop" and data:
            del data[position]
        elif edit == "cut":
            del data[position:]
    return bytes(data)


def payloads(name: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=512), mutated(VALID_REQUESTS[name].SerializeToString()))


def raw_call(channel, method):
    """The RPC as a callable of bytes: ``(payloads, metadata) -> (status, response bytes)``."""
    path = f"/{SERVICE_NAME}/{method.name}"
    if method.client_streaming:
        multi = channel.stream_unary(path, request_serializer=None, response_deserializer=None)
    else:
        multi = channel.unary_unary(path, request_serializer=None, response_deserializer=None)

    def call(messages: list[bytes], metadata) -> grpc.StatusCode:
        request = iter(messages) if method.client_streaming else messages[0]
        try:
            multi(request, metadata=metadata, timeout=30)
        except grpc.RpcError as error:
            return error.code(), error.details()
        return grpc.StatusCode.OK, ""

    return call


@pytest.fixture
def metadata(transactional_db):
    return bearer_metadata(factories.bearer_for(factories.make_client(factories.make_org(), roles=ROLES).client))


def test_every_rpc_is_fuzzed():
    assert set(VALID_REQUESTS) == {method.name for method in SERVICE.methods}


@pytest.fixture
def seeded(grpc_channel, metadata):
    """The seed query ``fuzz-q`` stored, so that every seed names what exists: ``GetQuery`` finds it."""
    track_query = raw_call(grpc_channel, SERVICE.methods_by_name["TrackQuery"])
    assert track_query([VALID_REQUESTS["TrackQuery"].SerializeToString()], metadata) == (grpc.StatusCode.OK, "")


@pytest.mark.parametrize("method", list(SERVICE.methods), ids=lambda method: method.name)
def test_the_valid_seed_is_answered_ok(grpc_channel, metadata, seeded, method):
    """Each seed is a valid request of a client with both roles, about data that exists: OK and nothing else (a
    refusal here would be a fault of ours, and a mutation of the seed would prove less)."""
    payload = VALID_REQUESTS[method.name].SerializeToString()
    assert raw_call(grpc_channel, method)([payload], metadata) == (grpc.StatusCode.OK, "")


@pytest.mark.parametrize("method", list(SERVICE.methods), ids=lambda method: method.name)
def test_any_bytes_get_a_clean_status_and_the_server_keeps_serving(grpc_channel, metadata, seeded, method):
    call = raw_call(grpc_channel, method)
    strategy = st.lists(payloads(method.name), min_size=1, max_size=3) if method.client_streaming else payloads(method.name).map(lambda payload: [payload])

    @FUZZ_SETTINGS
    @given(messages=strategy, authenticated=st.booleans())
    def answered_cleanly(messages, authenticated):
        status, details = call(messages, metadata if authenticated else ())
        assert status in CLEAN, (status, details, messages)
        if not authenticated:
            assert status == grpc.StatusCode.UNAUTHENTICATED

    answered_cleanly()
    valid = VALID_REQUESTS["GetQuery"].SerializeToString()
    assert raw_call(grpc_channel, SERVICE.methods_by_name["GetQuery"])([valid], metadata) == (grpc.StatusCode.OK, "")
