"""A signing-key rotation made by ``manage.py rotate_signing_key`` in a process of its own reaches every server
process of a deployment without a restart: ``scripts/serve.sh`` with two gunicorn workers and a separate
``grpcserver``, sharing the key generation through Redis, or through the file cache in VAR_DIR without it. The
deployment runs on a throwaway PostgreSQL cluster (``tests.support.deployment``). The schedule itself (publication
ahead, the switch, retirement after the overlap) is ``tests/oauth/test_signing_key_rotation.py``."""

import grpc
import jwt
import requests

from tests.support.deployment import REQUESTS_ON_NEW_CONNECTIONS as REQUESTS
from tests.support.deployment import Deployment, grpc_code, rest_statuses
from tests.support.deployment import cluster, redis_server, shared_state_deployment  # noqa: F401 (the fixtures)


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
    """The kids of tokens issued on new connections, half of ``REQUESTS`` of them."""
    return {jwt.get_unverified_header(deployment.new_token())["kid"] for _ in range(REQUESTS // 2)}


def new_kid(output: str) -> str:
    return output.split()[1].rstrip(":")  # "Added KID: in the JWKS now, ..."


def test_a_rotation_by_the_command_reaches_every_server_process_without_a_restart(shared_state_deployment):
    deployment = shared_state_deployment
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
