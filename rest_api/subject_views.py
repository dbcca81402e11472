"""REST adapter over ``lifecycle.erasure``: ``DELETE /api/v1/ubi/subjects/{kind}/{value}`` (docs/data-lifecycle.md).

No rule lives here: the kind and value go to the service as received.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lifecycle.erasure import KINDS, erase_subject
from rest_api.openapi import problem_responses

ErasedSerializer = inline_serializer(
    "Erased",
    {
        "queries": serializers.IntegerField(min_value=0, help_text="Queries deleted."),
        "events": serializers.IntegerField(min_value=0, help_text="Events deleted."),
        "suppressed": serializers.BooleanField(help_text="Whether the person's further documents are not stored."),
    },
)


class SubjectView(APIView):
    """``/api/v1/ubi/subjects/{kind}/{value}``: erase everything tracked for one person."""

    @extend_schema(
        operation_id="erase_subject",
        tags=["User Behavior Insights"],
        summary="Erase everything tracked for a user_id, client_id or session_id",
        description="Needs insights:erase (given to nobody by default). Deletes the organisation's events whose "
        "`kind` field is `value`, the queries only those events refer to, and, for `client_id`, the queries "
        "tracked with it; answers how many went. Running it again deletes nothing and answers zeros. The audit "
        "trail keeps a keyed digest of the value, never the value. A value with `/` is sent as it is, in the "
        "rest of the path. With `suppress=true`, the organisation's further queries and events naming the person "
        "are acknowledged and not stored, until the suppression is deleted (the admin).",
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=KINDS),
            OpenApiParameter("value", OpenApiTypes.STR, OpenApiParameter.PATH, description="The person's id."),
            OpenApiParameter("suppress", OpenApiTypes.BOOL, OpenApiParameter.QUERY,
                             description="Store none of the person's documents from now on (default false)."),
        ],
        responses={status.HTTP_200_OK: ErasedSerializer, **problem_responses(400, 403)},
    )
    def delete(self, request: Request, kind: str, value: str) -> Response:
        erased = erase_subject(request.user, kind=kind, value=value, suppress=request.query_params.get("suppress"))
        return Response({"queries": erased.queries, "events": erased.events, "suppressed": erased.suppressed})
