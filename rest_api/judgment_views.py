"""REST adapters over the judgment lists (``analytics.services``, ``analytics.judgment_selectors``,
``analytics.formats``): ``/api/v1/judgments`` and ``/api/v1/judgments/{id}`` (docs/judgments.md).

No rule lives here: a body or query parameters go to the service or selector as received.
"""


from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import formats, judgment_selectors, services
from analytics.click_models import MODELS
from analytics.parameters import DEFAULT_MAX_RANK
from insights.validation import Errors
from project.conf import ubi_settings
from rest_api.openapi import problem_responses
from rest_api.parsers import LimitedJSONParser

TAGS = ["Judgment lists"]
JSON_FORMAT = "json"
MODEL_CHOICES = tuple(MODELS)

class JudgmentListParametersSerializer(serializers.Serializer):
    maxRank = serializers.IntegerField(min_value=1)
    minImpressions = serializers.IntegerField(min_value=1)
    to = serializers.DateTimeField(allow_null=True)
    application = serializers.CharField(allow_null=True)

    def get_fields(self):
        return {"from": serializers.DateTimeField(allow_null=True), **super().get_fields()}


class JudgmentListSummarySerializer(serializers.Serializer):
    """The OpenAPI description of a judgment list's summary (``judgment_selectors.list_summary``)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    model = serializers.ChoiceField(MODEL_CHOICES)
    parameters = JudgmentListParametersSerializer(help_text="What the list was computed with.")
    createdAt = serializers.DateTimeField()
    createdBy = serializers.CharField(help_text="The principal that computed it: client:ID, user:ID, command:NAME.")
    judgmentCount = serializers.IntegerField(min_value=0)
    queryCount = serializers.IntegerField(min_value=0, help_text="Distinct user queries with a judgment.")


class JudgmentSerializer(serializers.Serializer):
    query = serializers.CharField()
    docId = serializers.CharField()
    rating = serializers.FloatField()
    impressions = serializers.IntegerField(min_value=0)
    clicks = serializers.IntegerField(min_value=0)


class JudgmentListSerializer(JudgmentListSummarySerializer):
    """A judgment list with its judgments (``judgment_selectors.judgment_list_get``)."""

    judgments = JudgmentSerializer(many=True)


ComputeSerializer = inline_serializer(
    "ComputeJudgmentList",
    {
        "name": serializers.CharField(max_length=services.NAME_MAX_LENGTH, help_text="No quotes, backslashes, < or >."),
        "model": serializers.ChoiceField(MODEL_CHOICES),
        "maxRank": serializers.IntegerField(
            required=False, min_value=1, max_value=ubi_settings.ANALYTICS_MAX_RANK,
            help_text=f"The last rank counted (default {DEFAULT_MAX_RANK}).",
        ),
        "minImpressions": serializers.IntegerField(
            required=False, min_value=1, help_text=f"Pairs with fewer impressions are left out (default "
            f"{services.DEFAULT_MIN_IMPRESSIONS}).",
        ),
        "from": serializers.DateTimeField(required=False, help_text="Only interactions at or after it."),
        "to": serializers.DateTimeField(required=False, help_text="Only interactions before it."),
        "application": serializers.CharField(required=False, help_text="Only this application's interactions."),
    },
)


class FormatIsTheDownload(DefaultContentNegotiation):
    """``?format=`` names the download (``analytics.formats``) here, not one of DRF's renderers: JSON always."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class JudgmentListsView(APIView):
    """``/api/v1/judgments``: compute a judgment list; list the organisation's lists."""

    parser_classes = [LimitedJSONParser]

    @extend_schema(
        operation_id="compute_judgment_list",
        tags=TAGS,
        summary="Compute a judgment list with a click model",
        description="Needs insights:write. Reads the organisation's impressions and clicks of the time range and "
        "application, rates every (query, document) pair with the model and stores the list. Bad parameters are "
        "400 with `errors` keyed by the parameter's name.",
        request=ComputeSerializer,
        responses={status.HTTP_201_CREATED: JudgmentListSummarySerializer, **problem_responses(400, 403, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            errors = Errors()
            errors.add("", "Expected a JSON object.")
            errors.raise_if_any()
        summary = services.compute_judgment_list(
            request.user, name=body.get("name"), model=body.get("model"), filters=body
        )
        return Response(summary, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="list_judgment_lists",
        tags=TAGS,
        summary="List the judgment lists, newest first",
        description="Needs insights:read.",
        parameters=[OpenApiParameter("model", str, enum=MODEL_CHOICES, description="Only lists of this model.")],
        responses={status.HTTP_200_OK: JudgmentListSummarySerializer(many=True), **problem_responses(400, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(judgment_selectors.judgment_lists(request.user, filters=dict(request.query_params.items())))


class JudgmentListView(APIView):
    """``/api/v1/judgments/{id}``: one list, as JSON or a download; delete it."""

    content_negotiation_class = FormatIsTheDownload

    @extend_schema(
        operation_id="get_judgment_list",
        tags=TAGS,
        summary="Get a judgment list, or download it",
        description="Needs insights:read. `format`: `json` (default) the list with its judgments; `csv` "
        "`query,docid,rating` (Quepid's import); `trec` TREC qrels, the query id being the query's number in the "
        "list; `trec-queries` that number and the query text, tab-separated; `srw` the body of OpenSearch Search "
        "Relevance Workbench's judgment import. A list of another organisation is 404, like a missing one.",
        parameters=[
            OpenApiParameter("list_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
            OpenApiParameter("format", str, enum=(JSON_FORMAT, *formats.MEDIA_TYPES), description="Default json."),
        ],
        responses={
            (status.HTTP_200_OK, "application/json"): JudgmentListSerializer,
            **{
                (status.HTTP_200_OK, media_type.split(";")[0]): OpenApiResponse(
                    OpenApiTypes.BINARY, description=f"format={name}: an attachment, {name} file."
                )
                for name, (media_type, _) in formats.MEDIA_TYPES.items()
                if name != "srw"
            },
            **problem_responses(400, 403, 404),
        },
    )
    def get(self, request: Request, list_id: str):
        format_name = formats.clean_format(request.query_params.get("format"), default=JSON_FORMAT)
        if format_name == JSON_FORMAT:
            return Response(judgment_selectors.judgment_list_get(request.user, list_id=list_id))
        summary = judgment_selectors.judgment_list_summary(request.user, list_id=list_id)
        rows = judgment_selectors.judgment_rows(request.user, list_id=list_id)
        media_type, extension = formats.MEDIA_TYPES[format_name]
        response = StreamingHttpResponse(formats.write(format_name, summary, rows), content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="{formats.file_name(summary, extension)}"'
        return response

    @extend_schema(
        operation_id="delete_judgment_list",
        tags=TAGS,
        summary="Delete a judgment list",
        description="Needs insights:write. Deletes the list and its judgments.",
        parameters=[OpenApiParameter("list_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={status.HTTP_204_NO_CONTENT: None, **problem_responses(403, 404)},
    )
    def delete(self, request: Request, list_id: str) -> Response:
        services.delete_judgment_list(request.user, list_id=list_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
