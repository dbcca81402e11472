"""The gRPC server as operators and tools meet it: reflection, health, TLS, the grpcserver command and SIGTERM."""

import os
import re
import socket
import subprocess
import sys
import threading
import time

import grpc
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from grpc_api.interceptors import SERVICE_NAME
from grpc_api.server import create_server
from insights.models import Event, Query
from tests.grpc_helpers import PROJECT, bearer_metadata, rejected, self_signed_certificate, wait_until_serving
from tests.ubi_documents import make_event, make_query


def test_reflection_lists_the_service_and_resolves_its_message_types(grpc_channel):
    database = ProtoReflectionDescriptorDatabase(grpc_channel)
    assert {SERVICE_NAME, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= set(
        database.get_services()
    )
    pool = descriptor_pool.DescriptorPool(database)
    methods = pool.FindServiceByName(SERVICE_NAME).methods_by_name
    assert set(methods) == {"TrackEvent", "TrackQuery", "TrackEvents", "ListQueries", "GetQuery", "ListEvents"}
    assert methods["TrackQuery"].input_type.fields_by_name["query"].message_type.full_name == "user_behavior_insights.v1.Query"
    assert list(methods["TrackQuery"].output_type.fields_by_name) == ["query_id"]
    event = methods["TrackEvent"].input_type.fields_by_name["event"].message_type
    assert event.fields_by_name["timestamp"].message_type.full_name == "google.protobuf.Timestamp"
    assert event.fields_by_name["event_attributes"].message_type.fields_by_name["position"].message_type.name == "Position"
    assert list(methods["TrackEvent"].output_type.fields_by_name) == ["event_id"]
    assert methods["TrackEvents"].client_streaming and not methods["TrackEvents"].server_streaming


def test_reflection_answers_as_v1_too_and_describes_itself(grpc_channel):
    # The v1 messages are v1alpha's under a new package: the same bytes on the wire.
    info = grpc_channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="grpc.reflection.v1.ServerReflection"),
    ]
    listed, described = info(iter(requests))
    assert {SERVICE_NAME, "grpc.reflection.v1.ServerReflection"} <= {s.name for s in listed.list_services_response.service}
    file = descriptor_pb2.FileDescriptorProto.FromString(described.file_descriptor_response.file_descriptor_proto[0])
    assert (file.package, file.service[0].method[0].input_type) == (
        "grpc.reflection.v1",
        ".grpc.reflection.v1.ServerReflectionRequest",
    )


def test_tls_serves_callers_that_trust_the_certificate(transactional_db, token):
    certificate, key = self_signed_certificate()
    server, port = create_server("127.0.0.1:0", certificate_chain=certificate, private_key=key)
    server.start()
    try:
        # The standard access-token call credentials put "authorization: Bearer <token>" in the metadata.
        credentials = grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(root_certificates=certificate), grpc.access_token_call_credentials(token)
        )
        with grpc.secure_channel(f"localhost:{port}", credentials) as channel:
            stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
            response = stub.TrackQuery(rpc.TrackQueryRequest(query=ubi.Query(user_query="over tls")))
        assert Query.objects.get(query_id=response.query_id).user_query == "over tls"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as plaintext:
            stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(plaintext)
            error = rejected(stub.TrackQuery, rpc.TrackQueryRequest(), metadata=bearer_metadata(token), timeout=5)
        assert error.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(None)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tls-cert", "cert.pem"], "go together"),
        (["--processes", "2", "--address", "127.0.0.1:0"], "port other than 0"),
        (["--threads", "0"], "at least 1"),
        (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], "Cannot read"),
    ],
)
def test_grpcserver_refuses_bad_arguments(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("grpcserver", *arguments)


def test_grpcserver_threads_default_comes_from_the_environment():
    read = "from project.conf import ubi_settings; print(ubi_settings.GRPC_THREADS)"
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", read],
        cwd=PROJECT,
        env={**os.environ, "GRPC_THREADS": "3"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "3"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def query_stub(target: str):
    return user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(grpc.insecure_channel(target))


def test_sigterm_lets_calls_in_flight_finish_and_every_answered_call_is_stored(server_process, token):
    target = f"127.0.0.1:{free_port()}"
    server = server_process("--address", target, "--grace", "20", "--threads", "4")
    wait_until_serving(target)
    stub, metadata = query_stub(target), bearer_metadata(token)
    slow_stream_started = threading.Event()

    def slow_stream():
        """1500 events over about a second: in flight when SIGTERM arrives."""
        for batch in range(10):
            yield rpc.TrackEventsRequest(
                events=[fill_message(ubi.Event(), make_event(event_id=f"slow-{batch}-{n}")) for n in range(150)]
            )
            slow_stream_started.set()
            time.sleep(0.1)

    in_flight = stub.TrackEvents.future(slow_stream(), metadata=metadata)
    sent, answered = [], []

    def track_queries_until_refused():
        while True:
            query = make_query()
            sent.append(query)
            try:
                stub.TrackQuery(rpc.TrackQueryRequest(query=fill_message(ubi.Query(), query)), metadata=metadata, timeout=20)
            except grpc.RpcError as error:
                # Refused, never started: UNAVAILABLE, or CANCELLED when it reached the server as it shut down.
                assert error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED), error
                return
            answered.append(query)

    caller = threading.Thread(target=track_queries_until_refused)
    caller.start()
    assert slow_stream_started.wait(10)
    time.sleep(0.2)
    server.terminate()

    assert len(in_flight.result(timeout=30).event_ids) == 1500
    caller.join(30)
    status, output = server.wait(30)
    assert status == 0, output
    assert answered, "some calls were answered before the signal"
    assert Event.objects.count() == 1500
    stored = {row.query_id: row.to_document() for row in Query.objects.all()}
    assert stored == {query["query_id"]: query for query in answered}


def test_several_processes_share_one_port_and_all_stop_on_sigterm(server_process, token):
    target = f"127.0.0.1:{free_port()}"
    server = server_process("--address", target, "--processes", "2", "--grace", "5")
    wait_until_serving(target)
    for _ in range(6):
        # A new channel each time: new connections are spread over the processes by the kernel.
        with grpc.insecure_channel(target) as channel:
            stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
            stub.TrackQuery(rpc.TrackQueryRequest(query=ubi.Query(user_query="q")), metadata=bearer_metadata(token))
    assert Query.objects.count() == 6
    server.terminate()
    status, output = server.wait(30)
    assert status == 0, output
    assert len(set(re.findall(r"gRPC server \(pid (\d+)\) serving", output))) == 2, output


@pytest.mark.parametrize("processes", ["1", "2"])
def test_stop_signals_arriving_while_the_first_is_handled_still_stop_the_server(server_process, processes):
    # A supervisor's SIGTERM, then serve.sh's: when the first one's handler set a threading.Event, a second that
    # arrived inside set() deadlocked the process on the event's lock in about one round of three.
    for _ in range(5):
        target = f"127.0.0.1:{free_port()}"
        server = server_process("--address", target, "--processes", processes, "--grace", "5")
        wait_until_serving(target)
        deadline = time.monotonic() + 30
        while server.process.poll() is None and time.monotonic() < deadline:
            server.terminate()
            time.sleep(0.0001)
        status, output = server.wait(5)
        assert status == 0, output
