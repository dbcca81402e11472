"""What the OpenAPI document says beyond the views: the bearer scheme and the problem-details errors."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse

from project.conf import ubi_settings
from rest_api.serializers import EventSerializer, ProblemSerializer

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_DESCRIPTIONS = {
    400: "Bad Request: the request is malformed; `errors` names each input (`\"\"`: the request as a whole).",
    401: "Unauthorized: no, bad, expired or revoked bearer token.",
    403: "Forbidden: the token lacks the role this operation needs.",
    404: "Not Found in the caller's organisation.",
    409: "Conflict: the identifier is already tracked with different content.",
    413: "Payload Too Large: the body is larger than the server accepts.",
    415: "Unsupported Media Type: send application/json.",
}


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes ``rest_api.authentication.BearerAuthentication``; registered by importing this module."""

    target_class = "rest_api.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from POST /oauth2/token (client-credentials grant). Its `roles` "
            "claim must hold insights:write to track, insights:read to read.",
        }


class EventBatchSchema(OpenApiSerializerExtension):
    """``EventBatchSerializer`` as an array of 1 to ``MAX_EVENTS_PER_REQUEST`` events."""

    target_class = "rest_api.serializers.EventBatchSerializer"

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "array",
            "items": auto_schema.resolve_serializer(EventSerializer, direction).ref,
            "minItems": 1,
            "maxItems": ubi_settings.MAX_EVENTS_PER_REQUEST,
        }


def problem_responses(*statuses: int) -> dict:
    """``extend_schema(responses=...)`` entries: each status answered with problem details.

    401 is left out: ``document_unauthenticated`` adds it to every operation that takes a bearer token.
    """
    return {
        (status, PROBLEM_MEDIA_TYPE): OpenApiResponse(ProblemSerializer, description=PROBLEM_DESCRIPTIONS[status])
        for status in statuses
    }


def document_unauthenticated(result, generator, request, public):
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: a 401 problem response on every secured operation."""
    unauthenticated = {
        "description": PROBLEM_DESCRIPTIONS[401],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if any("bearerAuth" in requirement for requirement in operation.get("security", [])):
                operation["responses"].setdefault("401", unauthenticated)
    return result
