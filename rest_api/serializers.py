"""The shapes of the UBI endpoints, for the OpenAPI document only.

Nothing here validates a request at run time: ``insights.validation`` does, once for both protocols and cheaply.
These classes tell drf-spectacular the UBI 1.3.0 fields, with the leniencies docs/rest-api.md lists. UBI objects
accept fields the schema does not name (OpenAPI objects allow additional properties unless told otherwise).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from insights import validation


def ubi_string(max_length=None, **kwargs) -> serializers.CharField:
    """A UBI string field: optional unless told, may be empty, at most ``max_length`` characters."""
    kwargs.setdefault("required", False)
    return serializers.CharField(max_length=max_length, allow_blank=True, trim_whitespace=False, **kwargs)


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": 256}, {"type": "integer"}]})
class StringOrIntegerField(serializers.JSONField):
    pass


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.CharField):
    """ISO 8601; without an offset it is UTC. Given back exactly as sent."""


class XYSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class PositionSerializer(serializers.Serializer):
    ordinal = serializers.IntegerField(required=False, help_text="The nth result on the page.")
    xy = XYSerializer(required=False, help_text="Screen coordinates.")


class ObjectSerializer(serializers.Serializer):
    object_id = StringOrIntegerField(required=False)
    object_id_type = ubi_string(validation.OBJECT_STRINGS["object_id_type"])
    object_id_field = ubi_string(validation.OBJECT_STRINGS["object_id_field"])
    internal_id = StringOrIntegerField(required=False)


class EventAttributesSerializer(serializers.Serializer):
    object = ObjectSerializer(required=False)
    position = PositionSerializer(help_text="May be empty: {}.")


class EventSerializer(serializers.Serializer):
    event_id = ubi_string(
        validation.EVENT_STRINGS["event_id"],
        help_text="Not a UBI field: choose it to make retries safe; a UUID is generated otherwise.",
    )
    application = ubi_string(validation.EVENT_STRINGS["application"])
    action_name = ubi_string(validation.EVENT_STRINGS["action_name"], required=True)
    query_id = ubi_string(validation.EVENT_STRINGS["query_id"])
    session_id = ubi_string(validation.EVENT_STRINGS["session_id"])
    client_id = ubi_string(validation.EVENT_STRINGS["client_id"])
    user_id = ubi_string(validation.EVENT_STRINGS["user_id"])
    timestamp = TimestampField()
    message_type = ubi_string(validation.EVENT_STRINGS["message_type"])
    message = ubi_string(validation.EVENT_STRINGS["message"])
    user_query = ubi_string()
    event_attributes = EventAttributesSerializer(required=False)


class EventBatchSerializer(serializers.Serializer):
    """An array of events; ``rest_api.openapi.EventBatchSchema`` gives its schema, with its bounds."""


class QuerySerializer(serializers.Serializer):
    query_id = ubi_string(validation.QUERY_STRINGS["query_id"], help_text="Generated (a UUID) when absent.")
    application = ubi_string(validation.QUERY_STRINGS["application"])
    client_id = ubi_string(validation.QUERY_STRINGS["client_id"])
    user_query = ubi_string(required=True)
    query_attributes = serializers.DictField(required=False)
    object_id_field = ubi_string(validation.QUERY_STRINGS["object_id_field"])
    timestamp = TimestampField(required=False, help_text="ISO 8601; the time of receipt files a query without one.")
    query_response_id = ubi_string()
    query_response_hit_ids = serializers.ListField(child=ubi_string(), required=False)


class QueryWithEventsSerializer(QuerySerializer):
    events = EventSerializer(many=True, help_text="The query's events, oldest first (at most 1000).")


class TrackedQuerySerializer(serializers.Serializer):
    query_id = serializers.CharField()


class TrackedEventSerializer(serializers.Serializer):
    event_id = serializers.CharField()


class TrackedEventsSerializer(serializers.Serializer):
    event_ids = serializers.ListField(child=serializers.CharField(), help_text="In the order of the request.")


def page_serializer(item_serializer: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The envelope of a list answer: ``items`` plus the page numbers."""
    fields = {
        "items": item_serializer(many=True),
        "page": serializers.IntegerField(min_value=1),
        "pageSize": serializers.IntegerField(min_value=1),
        "totalItems": serializers.IntegerField(min_value=0),
        "totalPages": serializers.IntegerField(min_value=0),
    }
    return type(name, (serializers.Serializer,), fields)


QueryPageSerializer = page_serializer(QuerySerializer, "QueryPageSerializer")
EventPageSerializer = page_serializer(EventSerializer, "EventPageSerializer")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, the body of every error."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    instance = serializers.CharField(help_text="The path of the request that failed.")
    code = serializers.CharField(
        help_text='The error\'s stable code ("invalid_input", "not_found", "rate_limited", ...), the reason gRPC '
        "gives in google.rpc.ErrorInfo."
    )
    requestId = serializers.CharField(
        help_text="The request's id, as in its X-Request-ID response header and its log line: the caller's "
        "X-Request-ID when it sent a sane one (1 to 128 letters, digits or ._:-), else one made for it."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Validation messages by input name ("[3].action_name"); "" for the request as a whole.',
    )


class MeSerializer(serializers.Serializer):
    """What ``GET /api/v1/me`` answers: a principal as its token proves it."""

    type = serializers.ChoiceField(source="kind", choices=["client", "user"])
    id = serializers.CharField(help_text="The client_id of an app client, the id of a user.")
    organization = serializers.UUIDField(source="org_id")
    client_id = serializers.CharField(help_text="The client the token was issued to.")
    roles = serializers.SerializerMethodField()
    scope = serializers.CharField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_roles(self, principal) -> list[str]:
        return sorted(principal.roles)

