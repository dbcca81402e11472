"""``UserBehaviorInsightsService``: a thin adapter over ``insights.services`` and ``insights.selectors``.

Each method converts the request to the dicts a REST body would give, calls the one service or selector, and
converts the answer back. No rule lives here: validation, roles and storage are the services'. The principal comes
from ``grpc_api.interceptors``; errors become statuses there too. ``as_servicer()`` (djangogrpcframework) wraps
every call in Django's request_started/request_finished signals, so database connections are handled per call as
for an HTTP request.
"""

import re

from django.db import transaction
from django_grpc_framework.services import Service

from grpc_api import convert
from grpc_api.generated import user_behavior_insights_service_pb2 as messages
from grpc_api.interceptors import current_principal
from insights import selectors, services
from project.conf import ubi_settings
from project.errors import InvalidInput, PayloadTooLarge

# REST's filter names are Python keywords, awkward as generated attributes; the protos say from_time and to_time.
_REST_FILTER_NAMES = {"from_time": "from", "to_time": "to"}
_BATCH_INDEX = re.compile(r"^\[(\d+)\]")


class UserBehaviorInsightsService(Service):
    def TrackEvent(self, request, context):
        event_id = services.track_event(current_principal(), event=convert.message_to_dict(request.event))
        return messages.TrackEventResponse(event_id=event_id)

    def TrackQuery(self, request, context):
        query_id = services.track_query(current_principal(), query=convert.message_to_dict(request.query))
        return messages.TrackQueryResponse(query_id=query_id)

    def TrackEvents(self, request_iterator, context):
        """The whole stream, all or nothing, in batches of ``MAX_EVENTS_PER_REQUEST`` inside one transaction.

        The stream is read to its end before the first write, so a slow client never holds a write transaction.
        Every invalid event is named, by its position in the stream.
        """
        principal = current_principal()
        events = _received_events(request_iterator)
        batch_size = ubi_settings.MAX_EVENTS_PER_REQUEST
        event_ids, errors = [], {}
        with transaction.atomic():
            # At least one call, even for an empty stream: the service says what an empty batch is.
            for start in range(0, max(len(events), 1), batch_size):
                try:
                    event_ids += services.track_events(principal, events=events[start : start + batch_size])
                except InvalidInput as exc:
                    # Validated before stored, so the transaction is intact: go on, to name every invalid event.
                    errors.update(_offset_batch_errors(exc.errors, start))
            if errors:
                raise InvalidInput(errors)  # and roll back the batches stored so far
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


def _received_events(request_iterator) -> list[dict]:
    events = []
    limit = ubi_settings.MAX_EVENTS_PER_STREAM
    for message in request_iterator:
        if len(events) + len(message.events) > limit:
            raise PayloadTooLarge(f"A TrackEvents stream carries at most {limit} events.")
        events += [convert.message_to_dict(event, f"[{index}]") for index, event in enumerate(message.events, len(events))]
    return events


def _offset_batch_errors(errors: dict[str, list[str]], start: int) -> dict[str, list[str]]:
    """The service keys a batch's errors ``[i].field``; in the stream, that event is ``[start + i]``."""
    return {
        _BATCH_INDEX.sub(lambda match: f"[{start + int(match.group(1))}]", name): texts
        for name, texts in errors.items()
    }


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
