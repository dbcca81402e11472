"""Attacks on the gRPC server through a real channel, each refused: issue 16, findings 6 and 12 (``grpcserver``).

A ``TrackEvents`` stream holds one of a server process's few worker threads from its first message to its last.
These tests stream as an attacker would: without the role, past the byte limits, idling, too many at once. Each
stream that must be refused before its end stops mid-way (``held_stream``), so a server that waited for the end
would never answer, and the test would fail on its timeout.
"""

import ipaddress
import socket
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from grpc_api import convert
from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from insights.models import Event, Query
from tests.support.grpc import (
    held_stream,
    metadata_with_roles,
    rejected,
    retry_delay_seconds,
    wait_until_serving,
)
from tests.support.skips import skip_configuration
from tests.support.ubi_documents import make_event

WRITER = ("insights:write",)
# How long a test waits for an answer the fixed server gives at once (or after a test-shortened timeout).
ANSWER_SECONDS = 10


def stub_for(address: str):
    return user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(grpc.insecure_channel(address))


def message_of(*documents: dict) -> rpc.TrackEventsRequest:
    return rpc.TrackEventsRequest(events=[fill_message(ubi.Event(), document) for document in documents])


def answer(future) -> grpc.RpcError | None:
    """The error a streaming call ended with (None: it succeeded). Fails the test, by ``FutureTimeoutError``, when
    the server has not answered within ``ANSWER_SECONDS``."""
    return future.exception(timeout=ANSWER_SECONDS)


@pytest.fixture
def server_reads(monkeypatch):
    """``server_reads(name)``: an event set once the server has read an event whose ``action_name`` is ``name``.

    The servicer converts every event it reads with ``grpc_api.convert.message_to_dict``: once it has, the handler
    of that stream holds a worker thread. Ask for the event before starting the stream.
    """
    watched: dict[str, threading.Event] = {}
    convert_message = convert.message_to_dict

    def recording(message, path=""):
        document = convert_message(message, path)
        name = document.get("action_name")
        if isinstance(name, str) and name in watched:
            watched[name].set()
        return document

    monkeypatch.setattr(convert, "message_to_dict", recording)
    return lambda name: watched.setdefault(name, threading.Event())


@pytest.fixture
def release():
    """Set at the end of the test: every ``held_stream`` then ends."""
    event = threading.Event()
    yield event
    event.set()


def test_a_read_only_token_is_refused_before_the_server_reads_its_stream(start_grpc_server, org, release):
    """Issue 16, finding 6: a stream without ``insights:write`` is PERMISSION_DENIED while it is still open.

    The client sends one message, then waits: the answer comes before the stream's end, so the server read none of
    it first (a server that read the stream to its end before checking the role would never answer).
    """
    stub = stub_for(start_grpc_server())
    future = stub.TrackEvents.future(
        held_stream([message_of(make_event())], release), metadata=metadata_with_roles(org, ["insights:read"])
    )
    assert answer(future).code() == grpc.StatusCode.PERMISSION_DENIED
    assert not Event.objects.exists()


@pytest.fixture
def small_request_limit(settings):
    settings.UBI = {**settings.UBI, "MAX_REQUEST_BYTES": 4000}


def test_a_message_over_the_request_limit_is_out_of_range(small_request_limit, start_grpc_server, org, release):
    """Issue 16, finding 6: a message's bytes count against ``MAX_REQUEST_BYTES``, free-form strings and attributes
    included, in a unary call as in a stream (which ends at that message, though the client has more to send)."""
    stub, metadata = stub_for(start_grpc_server()), metadata_with_roles(org, WRITER)
    big_attribute = make_event(event_attributes={"position": {"ordinal": 1}, "note": "n" * 5000})
    big_string = make_event(user_query="q" * 5000)
    errors = [
        rejected(stub.TrackEvent, rpc.TrackEventRequest(event=fill_message(ubi.Event(), big_attribute)), metadata=metadata),
        rejected(stub.TrackQuery, rpc.TrackQueryRequest(query=ubi.Query(user_query="q" * 5000)), metadata=metadata),
        answer(stub.TrackEvents.future(held_stream([message_of(make_event()), message_of(big_string)], release), metadata=metadata)),
    ]
    assert [error.code() for error in errors] == [grpc.StatusCode.OUT_OF_RANGE] * 3
    assert all("4000 bytes" in error.details() for error in errors)
    assert not Event.objects.exists() and not Query.objects.exists()


def test_a_message_past_twice_the_request_limit_is_refused_by_grpc_unread(small_request_limit, start_grpc_server, org):
    """Issue 16, finding 6: beyond twice ``MAX_REQUEST_BYTES`` grpc itself refuses a message from its length, before
    reading it or running any code of ours, with the code it always gives (RESOURCE_EXHAUSTED). Up to there our
    own check answers, with OUT_OF_RANGE (above): the bound keeps a 400 MB message out of memory."""
    stub = stub_for(start_grpc_server())
    request = rpc.TrackEventRequest(event=fill_message(ubi.Event(), make_event(user_query="q" * 100_000)))
    error = rejected(stub.TrackEvent, request, metadata=metadata_with_roles(org, WRITER))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in error.details() and "8000" in error.details()


@pytest.mark.parametrize(
    ("limit", "value", "messages"),
    [
        # Messages of some 2,100 bytes each, well under MAX_REQUEST_BYTES: the tenth passes the stream's 20,000.
        ("MAX_STREAM_BYTES", 20_000, [message_of(make_event(message="m" * 1000, user_query="q" * 1000))] * 12),
        ("MAX_EVENTS_PER_STREAM", 5, [message_of(make_event())] * 6),
    ],
)
def test_a_stream_past_its_limit_is_refused_while_still_open(start_grpc_server, settings, org, release, limit, value, messages):
    """Issue 16, finding 6: a stream is refused OUT_OF_RANGE as it passes ``MAX_STREAM_BYTES`` or
    ``MAX_EVENTS_PER_STREAM``, without reading on to its end, and stores nothing."""
    settings.UBI = {**settings.UBI, limit: value}
    stub = stub_for(start_grpc_server())
    error = answer(stub.TrackEvents.future(held_stream(messages, release), metadata=metadata_with_roles(org, WRITER)))
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE
    assert str(value) in error.details()
    assert not Event.objects.exists()


def test_idle_streams_end_and_free_their_threads_for_another_principals_call(
    start_grpc_server, settings, org, server_reads, release
):
    """Issue 16, finding 6: streams that send nothing for ``GRPC_STREAM_IDLE_SECONDS`` end DEADLINE_EXCEEDED.

    Two principals each hold one of the server's two threads with a stream that stops after its first message; a
    third principal's call gets a thread as soon as the idle streams end (it would wait for good otherwise).
    """
    settings.UBI = {**settings.UBI, "GRPC_STREAM_IDLE_SECONDS": 0.5}
    stub = stub_for(start_grpc_server(threads=2))
    read = [server_reads(f"idle-{n}") for n in range(2)]
    idle = [
        stub.TrackEvents.future(
            held_stream([message_of(make_event(action_name=f"idle-{n}"))], release),
            metadata=metadata_with_roles(org, WRITER),
        )
        for n in range(2)
    ]
    assert all(event.wait(ANSWER_SECONDS) for event in read), "both streams hold a thread"
    response = stub.TrackQuery(
        rpc.TrackQueryRequest(query=ubi.Query(user_query="q")),
        metadata=metadata_with_roles(org, WRITER),
        timeout=ANSWER_SECONDS,
    )
    assert Query.objects.filter(query_id=response.query_id).exists()
    errors = [answer(future) for future in idle]
    assert [error.code() for error in errors] == [grpc.StatusCode.DEADLINE_EXCEEDED] * 2
    assert all("0.5 seconds" in error.details() for error in errors)
    assert not Event.objects.exists()


def test_a_stream_that_runs_too_long_ends(start_grpc_server, settings, org, release):
    """Issue 16, finding 6: a stream still open ``GRPC_STREAM_MAX_SECONDS`` after its start ends DEADLINE_EXCEEDED,
    however recently it sent a message (here well within the idle time)."""
    settings.UBI = {**settings.UBI, "GRPC_STREAM_MAX_SECONDS": 1, "GRPC_STREAM_IDLE_SECONDS": 60}
    stub = stub_for(start_grpc_server())
    future = stub.TrackEvents.future(
        held_stream([message_of(make_event())], release), metadata=metadata_with_roles(org, WRITER)
    )
    error = answer(future)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "1 seconds" in error.details()
    assert not Event.objects.exists()


@pytest.mark.parametrize(("threads", "allowed"), [(4, 2), (2, 1)])
def test_a_principals_stream_past_its_share_is_refused_while_another_principals_is_served(
    start_grpc_server, org, server_reads, release, threads, allowed
):
    """Issue 16, finding 6: a principal holds at most ``GRPC_MAX_STREAMS_PER_PRINCIPAL`` (2) streams of a process at
    once, and never all of its threads (one of two); one more is RESOURCE_EXHAUSTED with RetryInfo (a rate limit),
    and another principal streams meanwhile."""
    stub = stub_for(start_grpc_server(threads=threads))
    greedy, other = metadata_with_roles(org, WRITER), metadata_with_roles(org, WRITER)
    read = [server_reads(f"held-{n}") for n in range(allowed)]
    held = [
        stub.TrackEvents.future(held_stream([message_of(make_event(action_name=f"held-{n}"))], release), metadata=greedy)
        for n in range(allowed)
    ]
    assert all(event.wait(ANSWER_SECONDS) for event in read), "the streams allowed are being served"
    refused = rejected(stub.TrackEvents, iter([message_of(make_event())]), metadata=greedy, timeout=ANSWER_SECONDS)
    served = stub.TrackEvents(iter([message_of(make_event())]), metadata=other, timeout=ANSWER_SECONDS)
    release.set()
    assert all(len(future.result(timeout=ANSWER_SECONDS).event_ids) == 1 for future in held)
    assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert retry_delay_seconds(refused) == 1
    assert len(served.event_ids) == 1
    assert Event.objects.count() == allowed + 1


def non_loopback_address() -> str | None:
    """This machine's address on its default route, or None when it has none but loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1; a UDP connect sends nothing
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_grpcserver_listens_on_loopback_unless_told_otherwise(server_process, monkeypatch):
    """Issue 16, finding 12: ``manage.py grpcserver`` without ``--address`` (nor ``GRPC_ADDRESS``) serves this
    machine only: a caller from another machine, through this machine's own network address, is not answered."""
    address = non_loopback_address()
    if address is None:
        skip_configuration("this machine has no network address but loopback")
    if not port_is_free(50051):
        skip_configuration("port 50051, the default, is in use on this machine")
    monkeypatch.delenv("GRPC_ADDRESS", raising=False)
    server_process()
    wait_until_serving("127.0.0.1:50051")
    with grpc.insecure_channel(f"{address}:50051") as channel:
        error = rejected(health_pb2_grpc.HealthStub(channel).Check, health_pb2.HealthCheckRequest(), timeout=ANSWER_SECONDS)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
