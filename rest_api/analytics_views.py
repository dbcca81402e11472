"""REST adapters over ``analytics.metrics``: ``/api/v1/analytics/...``, the search metrics of the caller's
organisation (docs/analytics.md). Every query parameter goes to the selector as received; no rule lives here."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import metrics
from analytics.parameters import DEFAULT_MAX_RANK
from project.conf import ubi_settings
from rest_api.openapi import problem_responses

TAGS = ["Relevance analytics"]
RATE = {"min_value": 0, "max_value": 1}

SCOPE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="ISO 8601: only searches at or after it."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="ISO 8601: only searches before it."),
    OpenApiParameter("application", str, description="Only this application's searches (exact match)."),
]


def metric_operation(operation_id: str, summary: str, description: str, response, *parameters: OpenApiParameter):
    """The OpenAPI description of a metric: the scope's parameters and its own, 200 or problem details."""
    return extend_schema(
        operation_id=operation_id,
        tags=TAGS,
        summary=summary,
        description=f"Needs insights:read. {description}",
        parameters=[*SCOPE_PARAMETERS, *parameters],
        responses={status.HTTP_200_OK: response, **problem_responses(400, 403)},
    )


def filters_of(request: Request) -> dict:
    return dict(request.query_params.items())


class SummaryView(APIView):
    """``GET /api/v1/analytics/summary``: the headline figures."""

    @metric_operation(
        "analytics_summary",
        "Headline search metrics",
        "Rates are from 0 to 1, and 0 when there is no search.",
        inline_serializer(
            "AnalyticsSummary",
            {
                "searches": serializers.IntegerField(),
                "distinctQueries": serializers.IntegerField(),
                "ctr": serializers.FloatField(**RATE),
                "zeroResultRate": serializers.FloatField(**RATE),
                "zeroClickRate": serializers.FloatField(**RATE),
                "meanReciprocalRank": serializers.FloatField(**RATE),
                "abandonmentRate": serializers.FloatField(**RATE),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(metrics.summary(request.user, filters=filters_of(request)))


class CtrByRankView(APIView):
    """``GET /api/v1/analytics/ctr-by-rank``: impressions, clicks and CTR at each rank."""

    @metric_operation(
        "analytics_ctr_by_rank",
        "Click-through rate by rank",
        "One entry per rank from 1 to maxRank, ranks without impressions included.",
        inline_serializer(
            "CtrByRank",
            {
                "ranks": inline_serializer(
                    "RankCtr",
                    {
                        "rank": serializers.IntegerField(min_value=1),
                        "impressions": serializers.IntegerField(),
                        "clicks": serializers.IntegerField(),
                        "ctr": serializers.FloatField(min_value=0),
                    },
                    many=True,
                )
            },
        ),
        OpenApiParameter(
            "maxRank",
            {"type": "integer", "minimum": 1, "maximum": ubi_settings.ANALYTICS_MAX_RANK},
            description=f"The last rank (default {DEFAULT_MAX_RANK}).",
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(metrics.ctr_by_rank(request.user, filters=filters_of(request)))


class QueryTableView(APIView):
    """``GET /api/v1/analytics/queries``: the top, zero-result or zero-click user queries."""

    @metric_operation(
        "analytics_queries",
        "Top, zero-result and zero-click queries",
        "The user queries with the most searches of the kind, most first; searches, clicks and ctr count those "
        "searches only.",
        inline_serializer(
            "QueryTable",
            {
                "kind": serializers.ChoiceField(choices=metrics.QUERY_TABLE_KINDS),
                "queries": inline_serializer(
                    "QueryRow",
                    {
                        "query": serializers.CharField(),
                        "searches": serializers.IntegerField(),
                        "clicks": serializers.IntegerField(),
                        "ctr": serializers.FloatField(**RATE),
                    },
                    many=True,
                ),
            },
        ),
        OpenApiParameter("kind", str, enum=list(metrics.QUERY_TABLE_KINDS), description="Default top."),
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": ubi_settings.ANALYTICS_MAX_QUERY_ROWS},
            description=f"The most rows (default {metrics.DEFAULT_QUERY_ROWS}).",
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(metrics.query_table(request.user, filters=filters_of(request)))


class SearchesOverTimeView(APIView):
    """``GET /api/v1/analytics/searches-over-time``: searches per hour, day or week."""

    @metric_operation(
        "analytics_searches_over_time",
        "Searches over time",
        "Searches per UTC bucket (weeks start on Monday), oldest first, every bucket from the one holding from to "
        "the one holding the last instant before to (without them, from the first bucket with a search to the "
        "last), empty buckets included.",
        inline_serializer(
            "SearchesOverTime",
            {
                "bucket": serializers.ChoiceField(choices=list(metrics.BUCKETS)),
                "points": inline_serializer(
                    "SearchesPoint",
                    {"start": serializers.DateTimeField(), "searches": serializers.IntegerField()},
                    many=True,
                ),
            },
        ),
        OpenApiParameter("bucket", str, enum=list(metrics.BUCKETS), description="Default day."),
    )
    def get(self, request: Request) -> Response:
        return Response(metrics.searches_over_time(request.user, filters=filters_of(request)))
