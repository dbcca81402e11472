"""A token revoked through one process of a deployment is refused at once by every other: ``scripts/serve.sh``
with two gunicorn workers and a separate ``grpcserver``, sharing revocations through Redis, or through the file
cache in VAR_DIR without it. The deployment runs on a throwaway PostgreSQL cluster (``tests.test_faults``)."""

import uuid

import grpc
import pytest
import requests

from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from tests.support.deployment import Deployment
from tests.support.deployment import cluster, redis_server  # noqa: F401 (the fixtures)

# Requests on new connections, each taken by whichever worker accepts first: with two workers, 1 in 2**20 that
# the same worker takes them all.
REQUESTS = 20


def rest_statuses(deployment: Deployment, token: str) -> set[int]:
    """The answers to ``REQUESTS`` reads with ``token``, each on a new connection."""
    return {
        requests.get(
            f"http://{deployment.http}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code
        for _ in range(REQUESTS)
    }


def grpc_code(deployment: Deployment, token: str) -> grpc.StatusCode:
    with grpc.insecure_channel(deployment.grpc) as channel:
        stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        try:
            stub.TrackQuery(
                rpc.TrackQueryRequest(query=ubi.Query(user_query="after revocation")),
                metadata=(("authorization", f"Bearer {token}"),), timeout=30,
            )
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.fixture(params=["redis", "file cache"])
def deployment(request, cluster, tmp_path):  # noqa: F811 (module fixture of the same name in tests.test_faults)
    redis_url = request.getfixturevalue("redis_server").url if request.param == "redis" else ""
    deployment = Deployment(cluster, f"ubi_{uuid.uuid4().hex[:12]}", tmp_path, redis_url=redis_url, workers=2)
    yield deployment
    deployment.stop()


def test_a_token_revoked_through_one_process_is_refused_at_once_by_the_others(deployment):
    token = deployment.new_token()
    # Every process has taken the token for live (and read the revocations under the current generation).
    assert rest_statuses(deployment, token) == {200}
    assert grpc_code(deployment, token) == grpc.StatusCode.OK

    revoked = requests.post(
        f"http://{deployment.http}/oauth2/revoke", data={"token": token, **deployment.credentials}, timeout=30
    )
    assert revoked.status_code == 200, revoked.text

    # No wait: the revocation has committed before its answer, and each process checks it at the next request.
    assert rest_statuses(deployment, token) == {401}
    assert grpc_code(deployment, token) == grpc.StatusCode.UNAUTHENTICATED
    assert rest_statuses(deployment, deployment.token) == {200}  # the client's other token is not affected
