"""A token revoked through one process of a deployment is refused at once by every other: ``scripts/serve.sh``
with two gunicorn workers and a separate ``grpcserver``, sharing revocations through Redis, or through the file
cache in VAR_DIR without it. The deployment runs on a throwaway PostgreSQL cluster (``tests.test_faults``)."""

import grpc
import requests

from tests.support.deployment import (  # noqa: F401 (the fixtures)
    cluster,
    grpc_code,
    redis_server,
    rest_statuses,
    shared_state_deployment,
)


def test_a_token_revoked_through_one_process_is_refused_at_once_by_the_others(shared_state_deployment):
    deployment = shared_state_deployment
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
