"""A signing-key rotation made by ``manage.py rotate_signing_key`` in a process of its own reaches every server
process of a deployment without a restart: ``scripts/serve.sh`` with two gunicorn workers and a separate
``grpcserver``, sharing the key generation through Redis, or through the file cache in VAR_DIR without it. The
deployment runs on a throwaway PostgreSQL cluster (``tests.support.deployment``). The schedule itself (publication
ahead, the switch, retirement after the overlap) is ``tests/oauth/test_signing_key_rotation.py``."""

import uuid

import grpc
import jwt
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
    return {
        requests.get(
            f"http://{deployment.http}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code
        for _ in range(REQUESTS)
    }


def published(deployment: Deployment) -> set[frozenset[str]]:
    """The access-token kids of the JWKS, as each of ``REQUESTS`` answers gave them."""
    return {
        frozenset(
            key["kid"]
            for key in requests.get(f"http://{deployment.http}/.well-known/jwks.json", timeout=30).json()["keys"]
            if key["alg"] == "ES256"
        )
        for _ in range(REQUESTS)
    }


def issued_kids(deployment: Deployment) -> set[str]:
    """The kids of tokens issued on new connections: half of ``REQUESTS``, under the token rate limit (20/s)."""
    return {jwt.get_unverified_header(deployment.new_token())["kid"] for _ in range(REQUESTS // 2)}


def grpc_code(deployment: Deployment, token: str) -> grpc.StatusCode:
    with grpc.insecure_channel(deployment.grpc) as channel:
        stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        try:
            stub.TrackQuery(
                rpc.TrackQueryRequest(query=ubi.Query(user_query="key rotation")),
                metadata=(("authorization", f"Bearer {token}"),), timeout=30,
            )
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def new_kid(output: str) -> str:
    return output.split()[1].rstrip(":")  # "Added KID: in the JWKS now, ..."


@pytest.fixture(params=["redis", "file cache"])
def deployment(request, cluster, tmp_path):  # noqa: F811 (module fixture of the same name in tests.test_faults)
    redis_url = request.getfixturevalue("redis_server").url if request.param == "redis" else ""
    deployment = Deployment(cluster, f"ubi_{uuid.uuid4().hex[:12]}", tmp_path, redis_url=redis_url, workers=2)
    yield deployment
    deployment.stop()


def test_a_rotation_by_the_command_reaches_every_server_process_without_a_restart(deployment):
    old = deployment.token
    old_kid = jwt.get_unverified_header(old)["kid"]
    assert rest_statuses(deployment, old) == {200}
    assert grpc_code(deployment, old) == grpc.StatusCode.OK
    assert published(deployment) == {frozenset({old_kid})}

    # Published ahead (the default lead time): every process lists it, none signs with it yet.
    upcoming = new_kid(deployment.manage("rotate_signing_key"))
    assert published(deployment) == {frozenset({old_kid, upcoming})}
    assert issued_kids(deployment) == {old_kid}

    # Signing at once: the upcoming key would never sign and leaves; tokens of both keys work everywhere.
    current = new_kid(deployment.manage("rotate_signing_key", "--publish-ahead", "0"))
    assert published(deployment) == {frozenset({old_kid, current})}
    assert issued_kids(deployment) == {current}
    new = deployment.new_token()
    for token in (old, new):
        assert rest_statuses(deployment, token) == {200}
        assert grpc_code(deployment, token) == grpc.StatusCode.OK

    # Retired at once: its tokens are refused by every process at its next request.
    deployment.manage("rotate_signing_key", f"--retire-now={old_kid}")  # a kid may begin with "-"
    assert rest_statuses(deployment, old) == {401}
    assert grpc_code(deployment, old) == grpc.StatusCode.UNAUTHENTICATED
    assert published(deployment) == {frozenset({current})}
    assert rest_statuses(deployment, new) == {200}
    assert grpc_code(deployment, new) == grpc.StatusCode.OK
