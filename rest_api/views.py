"""REST adapters over ``insights.services`` and ``insights.selectors``: parse the request, call, shape the answer;
``/api/v1/me``, the caller's principal; and ``/api/v1/protos/``, the gRPC API's ``.proto`` files for download.

No rule lives here. The principal is ``request.user`` (``rest_api.authentication.BearerAuthentication``).
"""

from functools import cache
from pathlib import Path

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from insights import selectors, services
from insights.pagination import Page
from insights.selectors import EVENT_FILTERS, QUERY_FILTERS
from project.conf import ubi_settings
from project.paths import PROTOS_DIR
from rest_api import serializers
from rest_api.openapi import problem_responses
from rest_api.parsers import LimitedJSONParser

PAGE_PARAMETERS = ("page", "pageSize")
TAGS = ["User Behavior Insights"]


def list_parameters(filters: tuple[str, ...]) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "page", {"type": "integer", "minimum": 1}, description="From 1 (default 1). Past the end: an empty page."
        ),
        OpenApiParameter(
            "pageSize",
            {"type": "integer", "minimum": 1, "maximum": ubi_settings.MAX_PAGE_SIZE},
            description=f"From 1 to {ubi_settings.MAX_PAGE_SIZE} (default {ubi_settings.DEFAULT_PAGE_SIZE}).",
        ),
        *(OpenApiParameter(name, str, description="Exact match.") for name in filters),
        OpenApiParameter("from", OpenApiTypes.DATETIME, description="ISO 8601: only items at or after it."),
        OpenApiParameter("to", OpenApiTypes.DATETIME, description="ISO 8601: only items before it."),
    ]


def track_operation(operation_id: str, summary: str, retries: str, *, request, tracked):
    """The OpenAPI description of a tracking endpoint: 201 with the identifiers, or problem details."""
    return extend_schema(
        operation_id=operation_id,
        tags=TAGS,
        summary=summary,
        description=f"Needs insights:write. {retries}",
        request=request,
        responses={status.HTTP_201_CREATED: tracked, **problem_responses(400, 403, 409, 413, 415)},
    )


def list_operation(operation_id: str, summary: str, filters: tuple[str, ...], page_serializer):
    """The OpenAPI description of a list endpoint, the same for queries and events."""
    return extend_schema(
        operation_id=operation_id,
        tags=TAGS,
        summary=summary,
        description="Needs insights:read.",
        parameters=list_parameters(filters),
        responses={status.HTTP_200_OK: page_serializer, **problem_responses(400, 403)},
    )


def page_body(page: Page) -> dict:
    return {
        "items": page.items,
        "page": page.page,
        "pageSize": page.page_size,
        "totalItems": page.total_items,
        "totalPages": page.total_pages,
    }


def list_arguments(request: Request) -> dict:
    """The selector arguments of a list request: every query parameter but the page ones is a filter."""
    parameters = request.query_params
    return {
        "filters": {name: value for name, value in parameters.items() if name not in PAGE_PARAMETERS},
        "page": parameters.get("page"),
        "page_size": parameters.get("pageSize"),
    }


class QueriesView(APIView):
    """``/api/v1/ubi/queries``: track a query; list queries."""

    parser_classes = [LimitedJSONParser]

    @track_operation(
        "track_query",
        "Track a query",
        "Tracking the same query_id again with the same content succeeds and stores nothing; with different "
        "content it is 409.",
        request=serializers.QuerySerializer,
        tracked=serializers.TrackedQuerySerializer,
    )
    def post(self, request: Request) -> Response:
        query_id = services.track_query(request.user, query=request.data)
        return Response({"query_id": query_id}, status=status.HTTP_201_CREATED)

    @list_operation("list_queries", "List queries, newest first", QUERY_FILTERS, serializers.QueryPageSerializer)
    def get(self, request: Request) -> Response:
        return Response(page_body(selectors.query_list(request.user, **list_arguments(request))))


class QueryView(APIView):
    """``/api/v1/ubi/queries/{query_id}``: one query with its events."""

    @extend_schema(
        operation_id="get_query",
        tags=TAGS,
        summary="Get a query with its events",
        description="Needs insights:read. A query of another organisation is 404, like a missing one.",
        responses={status.HTTP_200_OK: serializers.QueryWithEventsSerializer, **problem_responses(403, 404)},
    )
    def get(self, request: Request, query_id: str) -> Response:
        return Response(selectors.query_get(request.user, query_id=query_id))


class EventsView(APIView):
    """``/api/v1/ubi/events``: track one event or a batch; list events."""

    parser_classes = [LimitedJSONParser]

    @track_operation(
        "track_events",
        "Track an event, or an array of events",
        f"An array holds at most {ubi_settings.MAX_EVENTS_PER_REQUEST} events and is stored all or nothing: errors "
        "name the invalid ones as `[i].field`. An event_id tracked again with the same content succeeds and stores "
        "nothing; with different content it is 409.",
        request=PolymorphicProxySerializer(
            component_name="EventOrEvents",
            serializers=[serializers.EventSerializer, serializers.EventBatchSerializer()],
            resource_type_field_name=None,
        ),
        tracked=PolymorphicProxySerializer(
            component_name="TrackedEventOrEvents",
            serializers=[serializers.TrackedEventSerializer, serializers.TrackedEventsSerializer],
            resource_type_field_name=None,
        ),
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.data, list):
            body = {"event_ids": services.track_events(request.user, events=request.data)}
        else:
            body = {"event_id": services.track_event(request.user, event=request.data)}
        return Response(body, status=status.HTTP_201_CREATED)

    @list_operation("list_events", "List events, newest first", EVENT_FILTERS, serializers.EventPageSerializer)
    def get(self, request: Request) -> Response:
        return Response(page_body(selectors.event_list(request.user, **list_arguments(request))))


class MeView(APIView):
    """``GET /api/v1/me``: the caller's principal, as its bearer token proves it."""

    @extend_schema(
        operation_id="me",
        summary="Who the bearer token speaks for",
        description="Any valid bearer token: its principal, organisation, roles and scope.",
        responses={200: serializers.MeSerializer},
    )
    def get(self, request):
        return Response(serializers.MeSerializer(request.user).data)


@cache
def proto_files() -> dict[str, Path]:
    """The downloadable ``.proto`` files by name. Only these names are served: no part of a request's path
    reaches the file system."""
    return {path.name: path for path in sorted(PROTOS_DIR.glob("*.proto"))}


class ProtoIndexView(APIView):
    """``GET /api/v1/protos/``: the gRPC API's ``.proto`` files, each with its download address. No token needed."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)  # a download beside the API, named in the document's description
    def get(self, request):
        protos = [
            {"name": name, "url": request.build_absolute_uri(f"{request.path.rstrip('/')}/{name}")}
            for name in proto_files()
        ]
        return Response({"protos": protos})


class ProtoFileView(APIView):
    """``GET /api/v1/protos/<name>``: one ``.proto`` file as ``text/plain``. No token needed."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request, name):
        path = proto_files().get(name)
        if path is None:
            raise Http404(name)
        return HttpResponse(path.read_bytes(), content_type="text/plain; charset=utf-8")
