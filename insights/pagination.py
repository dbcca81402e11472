"""Page-number pagination, the same for REST and gRPC: ``page`` from 1, ``pageSize`` from 1 to ``MAX_PAGE_SIZE``.

The arguments are checked here, not in a view, so both protocols give the same errors (keyed ``page`` and
``pageSize``). A page past the end is an empty page, not an error.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from insights.parameters import clean_integer
from insights.validation import Errors
from project.conf import ubi_settings


@dataclass(frozen=True)
class Page:
    items: list[dict]
    page: int
    page_size: int
    total_items: int
    total_pages: int


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int


def clean_page_request(page, page_size, errors: Errors) -> PageRequest:
    """``page`` and ``page_size`` as integers (``None`` or ``""``: the defaults); problems go into ``errors``."""
    arguments = {"page": page, "pageSize": page_size}
    return PageRequest(
        clean_integer(arguments, "page", default=1, maximum=None, errors=errors),
        clean_integer(
            arguments, "pageSize", default=ubi_settings.DEFAULT_PAGE_SIZE, maximum=ubi_settings.MAX_PAGE_SIZE,
            errors=errors,
        ),
    )


def paginate(queryset: QuerySet, request: PageRequest, item: Callable[[object], dict]) -> Page:
    """One page of an ordered ``queryset``, each row turned into a dict by ``item``. Two queries: count, rows."""
    total_items = queryset.count()
    total_pages = -(-total_items // request.page_size)
    if request.page > total_pages:
        # Past the end: no row query, which also keeps a huge page number from overflowing the database's OFFSET.
        rows = []
    else:
        start = (request.page - 1) * request.page_size
        rows = queryset[start : start + request.page_size]
    return Page(
        items=[item(row) for row in rows],
        page=request.page,
        page_size=request.page_size,
        total_items=total_items,
        total_pages=total_pages,
    )
