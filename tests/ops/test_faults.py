"""Faults a production deployment meets, with nothing acknowledged ever lost.

Each test starts the production servers (``scripts/serve.sh``: gunicorn and ``manage.py grpcserver``) on its own
database of a throwaway PostgreSQL cluster that this module creates with ``initdb`` in a temporary folder, on a
free port: never the machine's shared server, which the database-loss test stops. Threads track events over REST
and gRPC meanwhile; every event answered 2xx / OK is then looked up in the cluster directly.

- The database goes away under load: 503 / UNAVAILABLE, never 500 / INTERNAL; once it is back the servers recover
  by themselves.
- A server process is killed with SIGKILL under load.
- SIGTERM lets in-flight HTTP and gRPC work finish, and the servers exit 0.
"""

import concurrent.futures
import http.client
import json
import os
import signal
import threading
import time

import grpc

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from tests.support.deployment import CUT_OFF, REFUSED, Deployment, Load
from tests.support.deployment import cluster, deployment  # noqa: F401 (the fixtures)
from tests.support.ubi_documents import make_event



def test_losing_the_database_answers_503_unavailable_and_the_servers_recover_by_themselves(cluster, deployment):
    with Load(deployment) as load:
        load.wait_for_acknowledged()
        time.sleep(1)  # in full flow, so that the database goes away under calls in flight
        try:
            cluster.stop("immediate")
            down = len(load.answers)
            time.sleep(3)
            while_down = load.statuses(down)
        finally:
            cluster.start()  # for the next tests too, whatever happened
        load.wait_for_acknowledged(len(load.answers))

    everything = load.statuses()
    assert set(everything) <= {
        ("rest", 201), ("rest", 503), ("grpc", grpc.StatusCode.OK), ("grpc", grpc.StatusCode.UNAVAILABLE)
    }, everything
    assert while_down[("rest", 503)] and while_down[("grpc", grpc.StatusCode.UNAVAILABLE)], while_down
    assert deployment.process.poll() is None, "serve.sh kept serving"
    assert cluster.stored_event_ids(deployment.database, load.acknowledged) == set(load.acknowledged)


def test_a_server_process_killed_under_load_loses_nothing_it_acknowledged(cluster, deployment):
    with Load(deployment) as load:
        load.wait_for_acknowledged()
        time.sleep(1)
        os.kill(deployment.server_pids()["gunicorn worker"], signal.SIGKILL)
        killed = len(load.answers)
        # gunicorn starts another worker: HTTP serves again without anyone's help.
        load.wait_for_acknowledged(killed)
        time.sleep(1)
        os.kill(deployment.server_pids()["grpcserver"], signal.SIGKILL)
        # serve.sh then stops HTTP too and exits with a failure, for its supervisor to restart the whole.
        status = deployment.process.wait(60)

    assert status != 0, deployment.output()
    # A worker killed between writing an answer's head and its body cuts that answer off: not acknowledged either.
    assert set(load.statuses()) <= {
        ("rest", 201), ("rest", REFUSED), ("rest", CUT_OFF), ("grpc", grpc.StatusCode.OK), ("grpc", REFUSED)
    }, load.statuses()
    assert cluster.stored_event_ids(deployment.database, load.acknowledged) == set(load.acknowledged)


def slow_post(deployment: Deployment, events: list[dict], started: threading.Event) -> int:
    """POST ``events`` with their body sent over about two seconds; the answer's status."""
    body = json.dumps(events).encode()
    host, port = deployment.http.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.putrequest("POST", "/api/v1/ubi/events")
    for name, value in (
        ("Authorization", f"Bearer {deployment.token}"), ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
    ):
        connection.putheader(name, value)
    connection.endheaders()
    step = len(body) // 10 + 1
    for start in range(0, len(body), step):
        connection.send(body[start : start + step])
        started.set()
        time.sleep(0.2)
    return connection.getresponse().status


def slow_stream(events: list[dict], started: threading.Event):
    """A TrackEvents stream of ``events`` over about two seconds."""
    step = len(events) // 10
    for start in range(0, len(events), step):
        yield rpc.TrackEventsRequest(events=[fill_message(ubi.Event(), event) for event in events[start : start + step]])
        started.set()
        time.sleep(0.2)


def test_sigterm_lets_http_and_grpc_calls_in_flight_finish_and_the_servers_exit_0(cluster, deployment):
    slow_events = [make_event(event_id=f"slow-http-{n}") for n in range(500)]
    stream_events = [make_event(event_id=f"slow-grpc-{n}") for n in range(500)]
    http_started, grpc_started = threading.Event(), threading.Event()
    metadata = (("authorization", f"Bearer {deployment.token}"),)
    with (
        Load(deployment) as load,
        grpc.insecure_channel(deployment.grpc) as channel,
        concurrent.futures.ThreadPoolExecutor(1) as executor,
    ):
        load.wait_for_acknowledged()
        stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        stream = stub.TrackEvents.future(slow_stream(stream_events, grpc_started), metadata=metadata, timeout=60)
        post = executor.submit(slow_post, deployment, slow_events, http_started)
        assert http_started.wait(30) and grpc_started.wait(30)
        time.sleep(0.3)
        # As a supervisor stops it: SIGTERM to serve.sh alone, which passes it on to both servers.
        deployment.process.send_signal(signal.SIGTERM)
        status = deployment.process.wait(60)
        assert post.result(60) == 201
        assert len(stream.result(60).event_ids) == len(stream_events)

    assert status == 0, deployment.output()
    assert set(load.statuses()) <= {
        ("rest", 201), ("rest", REFUSED), ("grpc", grpc.StatusCode.OK), ("grpc", REFUSED), ("grpc", grpc.StatusCode.CANCELLED)
    }, load.statuses()
    acknowledged = {event["event_id"] for event in slow_events + stream_events} | set(load.acknowledged)
    assert cluster.stored_event_ids(deployment.database, acknowledged) == acknowledged
