"""Production's setup, Redis included, under faults (``tests.test_faults`` has the deployment and the load).

Redis going down and coming back: it holds the revocation generation, rate-limit counters and caches, none of them
a record (revocations are rows of the database). While it is down every call needing it is refused 503 /
UNAVAILABLE with a time to retry, a revoked token included, so nothing is acknowledged unstored and no revoked token
is let through; once it is back, empty, the servers use it again by themselves and the revocation still holds.
"""

import uuid

import grpc
import pytest
import requests

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from tests.support.deployment import Deployment, Load
from tests.support.deployment import cluster, redis_server  # noqa: F401 (the fixtures)
from tests.support.ubi_documents import make_event

UNAVAILABLE_OR_REFUSED = {("rest", 503), ("grpc", grpc.StatusCode.UNAVAILABLE)}


@pytest.fixture
def deployment(cluster, redis_server, tmp_path):  # noqa: F811 (module fixtures of tests.test_faults)
    deployment = Deployment(cluster, f"ubi_{uuid.uuid4().hex[:12]}", tmp_path, redis_url=redis_server.url, workers=2)
    yield deployment
    deployment.stop()


def track_with(deployment: Deployment, token: str) -> tuple[int, grpc.StatusCode]:
    """One event tracked with ``token`` over each protocol: the REST status and the gRPC code."""
    rest = requests.post(
        f"http://{deployment.http}/api/v1/ubi/events", json=make_event(),
        headers={"Authorization": f"Bearer {token}"}, timeout=30,
    )
    with grpc.insecure_channel(deployment.grpc) as channel:
        stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        try:
            stub.TrackEvent(
                rpc.TrackEventRequest(event=fill_message(ubi.Event(), make_event())),
                metadata=(("authorization", f"Bearer {token}"),), timeout=30,
            )
            code = grpc.StatusCode.OK
        except grpc.RpcError as error:
            code = error.code()
    return rest.status_code, code


def test_redis_going_down_and_coming_back_loses_nothing_acknowledged_and_revocations_hold(
    cluster, redis_server, deployment  # noqa: F811
):
    revoked = deployment.new_token()
    answer = requests.post(
        f"http://{deployment.http}/oauth2/revoke", data={"token": revoked, **deployment.credentials}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert track_with(deployment, revoked) == (401, grpc.StatusCode.UNAUTHENTICATED)

    with Load(deployment) as load:
        load.wait_for_acknowledged()
        redis_server.kill()
        down = len(load.answers)
        load.wait_for(UNAVAILABLE_OR_REFUSED, after=down)
        while_down = track_with(deployment, revoked)
        redis_server.start()  # empty: no dump, no append-only file
        back = len(load.answers)
        load.wait_for_acknowledged(back)
        after = track_with(deployment, revoked)

    everything = load.statuses()
    assert set(everything) <= {("rest", 201), ("grpc", grpc.StatusCode.OK)} | UNAVAILABLE_OR_REFUSED, everything
    assert while_down == (503, grpc.StatusCode.UNAVAILABLE)
    assert after == (401, grpc.StatusCode.UNAUTHENTICATED)
    assert deployment.process.poll() is None, "serve.sh kept serving"
    assert cluster.stored_event_ids(deployment.database, load.acknowledged) == set(load.acknowledged)
