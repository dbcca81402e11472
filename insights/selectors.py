"""Reads: list and fetch the UBI queries and events of the principal's organisation.

Every function checks ``insights:read`` first and starts from rows of ``principal.org_id`` only, so another
organisation's data is never seen, counted or guessed: a foreign identifier is ``NotFound``, like a missing one.
Filters and pagination are checked here, not in a view, so REST and gRPC give the same errors: ``InvalidInput``
keyed by the parameter (``page``, ``pageSize``, ``from``, ``application``, ...).
"""

from django.db.models import QuerySet

from insights import parameters, validation
from insights.models import Event, Query
from insights.pagination import Page, clean_page_request, paginate
from oauth.principals import Principal, require_role
from project.conf import ubi_settings
from project.errors import NotFound

__all__ = ["Page", "event_list", "query_get", "query_list"]

READ_ROLE = "insights:read"
# Filters that match a column exactly; "from" (inclusive) and "to" (exclusive) bound the timestamp.
QUERY_FILTERS = ("application", "client_id", "user_query")
EVENT_FILTERS = ("application", "action_name", "query_id", "session_id", "client_id", "user_id")
TIME_FILTERS = ("from", "to")


def query_list(principal: Principal, *, filters: dict, page: int | str | None, page_size: int | str | None) -> Page:
    """The organisation's queries, newest first, as tracked (UBI query documents).

    ``filters`` may hold ``application``, ``client_id``, ``user_query`` (exact match) and ``from``/``to`` (ISO 8601;
    ``from`` inclusive, ``to`` exclusive); a ``None`` or empty value filters nothing. ``page`` counts from 1,
    ``page_size`` from 1 to ``MAX_PAGE_SIZE`` (default ``DEFAULT_PAGE_SIZE``); both may be digit strings. Raises
    ``PermissionDenied`` without ``insights:read`` and ``InvalidInput`` for an unknown filter or a bad value.
    """
    require_role(principal, READ_ROLE)
    rows = Query.objects.filter(organization_id=principal.org_id)
    return _page(rows, QUERY_FILTERS, filters, page, page_size)


def query_get(principal: Principal, *, query_id: str) -> dict:
    """One query of the organisation as tracked, with an ``"events"`` list: its events, oldest first.

    At most ``MAX_PAGE_SIZE`` events are included; ``event_list`` with a ``query_id`` filter pages through all of
    them. Raises ``PermissionDenied`` without ``insights:read`` and ``NotFound`` for an unknown ``query_id`` and
    for one of another organisation alike.
    """
    require_role(principal, READ_ROLE)
    if not isinstance(query_id, str) or validation.storage_problem(query_id):
        raise NotFound()  # cannot have been stored, and some databases refuse to even look it up
    query = Query.objects.filter(organization_id=principal.org_id, query_id=query_id).first()
    if query is None:
        raise NotFound(f"No query {query_id!r}.")
    events = Event.objects.filter(organization_id=principal.org_id, query_id=query_id).order_by("timestamp", "id")
    return {**query.to_document(), "events": [event.to_document() for event in events[: ubi_settings.MAX_PAGE_SIZE]]}


def event_list(principal: Principal, *, filters: dict, page: int | str | None, page_size: int | str | None) -> Page:
    """The organisation's events, newest first, as tracked (UBI event documents with their ``event_id``).

    ``filters`` may hold ``application``, ``action_name``, ``query_id``, ``session_id``, ``client_id``,
    ``user_id`` (exact match) and ``from``/``to``; pagination and errors as for ``query_list``.
    """
    require_role(principal, READ_ROLE)
    rows = Event.objects.filter(organization_id=principal.org_id)
    return _page(rows, EVENT_FILTERS, filters, page, page_size)


def _page(rows: QuerySet, names: tuple[str, ...], filters: dict, page, page_size) -> Page:
    errors = validation.Errors()
    rows = _filtered(rows, names, filters, errors)
    request = clean_page_request(page, page_size, errors)
    errors.raise_if_any()
    return paginate(rows.order_by("-timestamp", "-id"), request, lambda row: row.to_document())


def _filtered(rows: QuerySet, names: tuple[str, ...], filters: dict, errors: validation.Errors) -> QuerySet:
    for name, value in filters.items():
        if value is None or value == "":
            continue
        if name in TIME_FILTERS:
            moment = parameters.clean_moment(filters, name, errors)
            if moment is not None:
                rows = rows.filter(timestamp__gte=moment) if name == "from" else rows.filter(timestamp__lt=moment)
        elif name not in names:
            errors.add(name, f"Unknown filter; the filters are {', '.join(names + TIME_FILTERS)}.")
        elif (text := parameters.clean_text(filters, name, errors)) is not None:
            rows = rows.filter(**{name: text})
    return rows
