"""``DomainError.code`` reaches the caller over both protocols: the problem details' ``code`` member over REST, a
``google.rpc.ErrorInfo`` detail (``reason`` = the code, ``domain`` = ``"ubi"``) over gRPC."""

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from tests.support.grpc import rejected


def test_a_problem_details_body_carries_the_error_code(api, anonymous_api):
    missing = api.get("/api/v1/ubi/queries/no-such-query")
    invalid = api.post("/api/v1/ubi/queries", json={})
    unauthenticated = anonymous_api.get("/api/v1/ubi/queries")

    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (invalid.status_code, invalid.json()["code"]) == (400, "invalid_input")
    assert (unauthenticated.status_code, unauthenticated.json()["code"]) == (401, "unauthenticated")


def test_a_grpc_error_status_carries_the_error_code_in_error_info(ubi_stub, auth):
    error = rejected(ubi_stub.GetQuery, rpc.GetQueryRequest(query_id="no-such-query"), metadata=auth, timeout=30)

    assert error.code() == grpc.StatusCode.NOT_FOUND
    error_info = error_details_pb2.ErrorInfo()
    assert [detail.Unpack(error_info) for detail in rpc_status.from_call(error).details] == [True]
    assert (error_info.reason, error_info.domain) == ("not_found", "ubi")
