"""The collector endpoints: ``POST /collect/<key>/ubi_events`` and ``/ubi_queries``, and their preflights.

What a page posts to, with the UBI project's ``ubi.js`` (``new UbiClient(collector_url)``) or the platform's own
script. Each request goes: the per-address rate (before the key is looked up), the key (``collector.keys``: 404
``unknown_key`` for one that is not active), the origin (``collector.cors``: 403 ``origin_not_allowed``), the key's
rate, then the body (``LimitedJSONParser``, or ``BeaconParser`` for ``text/plain``) and the same service functions
as the API, the key acting as a principal with ``insights:write`` for its one application. No rule lives here.
No session, cookie or CSRF token is used: a key is no credential of a person.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collector import cors
from collector.keys import grant_for
from collector.parsers import BeaconParser
from insights import services
from oauth.throttling import limit_collector_address, limit_principal
from rest_api.parsers import LimitedJSONParser


@extend_schema(exclude=True)
class CollectorView(APIView):
    """What both endpoints share: the key and origin checks, the rates, the CORS headers.

    Left out of the OpenAPI document, which describes the API under ``/api/v1`` and its bearer tokens: these two
    URLs are what ``ubi.js`` and the platform's script post to, described in docs/collector.md.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    parser_classes = [LimitedJSONParser, BeaconParser]
    origin: str | None = None

    def initial(self, request: Request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        limit_collector_address(request)
        self.grant = grant_for(kwargs["key"])
        self.origin = cors.check_origin(request, self.grant.origins)
        if request.method != "OPTIONS":
            limit_principal(self.grant.principal)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "OPTIONS" and response.status_code == status.HTTP_204_NO_CONTENT:
            cors.preflight(response, self.origin)
        else:
            cors.allow(response, self.origin)
        return response

    def options(self, request: Request, *args, **kwargs) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollectEventsView(CollectorView):
    """``POST /collect/<key>/ubi_events``: one event or an array, as ``POST /api/v1/ubi/events``."""

    def post(self, request: Request, key: str) -> Response:
        principal = self.grant.principal
        if isinstance(request.data, list):
            body = {"event_ids": services.track_events(principal, events=request.data)}
        else:
            body = {"event_id": services.track_event(principal, event=request.data)}
        return Response(body, status=status.HTTP_201_CREATED)


class CollectQueriesView(CollectorView):
    """``POST /collect/<key>/ubi_queries``: one query or an array (``ubi.js`` sends an array of one)."""

    def post(self, request: Request, key: str) -> Response:
        principal = self.grant.principal
        if isinstance(request.data, list):
            body = {"query_ids": services.track_queries(principal, queries=request.data)}
        else:
            body = {"query_id": services.track_query(principal, query=request.data)}
        return Response(body, status=status.HTTP_201_CREATED)
