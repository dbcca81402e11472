"""``UserBehaviorInsightsService``: a thin adapter over ``insights.services`` and ``insights.selectors``.

Each method converts the request to the dicts a REST body would give, calls the one service or selector, and
converts the answer back. No rule lives here: validation, roles and storage are the services'. The principal comes
from ``grpc_api.interceptors``; errors become statuses there too. ``as_servicer()`` (djangogrpcframework) wraps
every call in Django's request_started/request_finished signals, so database connections are handled per call as
for an HTTP request.
"""

import itertools
from collections.abc import Iterator

from django_grpc_framework.services import Service

from grpc_api import convert
from grpc_api.generated import user_behavior_insights_service_pb2 as messages
from grpc_api.interceptors import current_principal
from insights import selectors, services

# REST's filter names are Python keywords, awkward as generated attributes; the protos say from_time and to_time.
_REST_FILTER_NAMES = {"from_time": "from", "to_time": "to"}


class UserBehaviorInsightsService(Service):
    def TrackEvent(self, request, context):
        event_id = services.track_event(current_principal(), event=convert.message_to_dict(request.event))
        return messages.TrackEventResponse(event_id=event_id)

    def TrackQuery(self, request, context):
        query_id = services.track_query(current_principal(), query=convert.message_to_dict(request.query))
        return messages.TrackQueryResponse(query_id=query_id)

    def TrackEvents(self, request_iterator, context):
        event_ids = services.track_event_stream(current_principal(), events=_stream_events(request_iterator))
        return messages.TrackEventsResponse(event_ids=event_ids)

    def ListQueries(self, request, context):
        page = selectors.query_list(current_principal(), **_list_arguments(request))
        return _page_response(messages.ListQueriesResponse(), page)

    def GetQuery(self, request, context):
        document = selectors.query_get(current_principal(), query_id=request.query_id)
        response = messages.GetQueryResponse()
        for event in document.pop("events"):
            convert.fill_message(response.events.add(), event)
        convert.fill_message(response.query, document)
        return response

    def ListEvents(self, request, context):
        page = selectors.event_list(current_principal(), **_list_arguments(request))
        return _page_response(messages.ListEventsResponse(), page)


def _stream_events(request_iterator) -> Iterator[dict]:
    """The events of a TrackEvents stream, converted as the service takes them; a conversion error names the event
    by its position in the stream."""
    events = itertools.chain.from_iterable(message.events for message in request_iterator)
    return (convert.message_to_dict(event, f"[{index}]") for index, event in enumerate(events))


def _list_arguments(request) -> dict:
    """The selector arguments of a list request; 0 (unset) page fields take the defaults, as absent ones do in REST."""
    fields = convert.message_to_dict(request)
    page, page_size = fields.pop("page", None), fields.pop("page_size", None)
    filters = {_REST_FILTER_NAMES.get(name, name): value for name, value in fields.items()}
    return {"filters": filters, "page": page, "page_size": page_size}


def _page_response(response, page: selectors.Page):
    for item in page.items:
        convert.fill_message(response.items.add(), item)
    response.page, response.page_size = page.page, page.page_size
    response.total_items, response.total_pages = page.total_items, page.total_pages
    return response
