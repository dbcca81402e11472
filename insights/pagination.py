"""Page-number pagination, the same for REST and gRPC: ``page`` from 1, ``pageSize`` from 1 to ``MAX_PAGE_SIZE``.

The arguments are checked here, not in a view, so both protocols give the same errors (keyed ``page`` and
``pageSize``). A page past the end is an empty page, not an error.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from insights.validation import Errors
from project.conf import ubi_settings

_DIGITS = re.compile(r"[0-9]{1,18}")


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
    page_number = _positive_integer(page, 1, errors, "page", "page must be an integer of at least 1.")
    size = _positive_integer(
        page_size,
        ubi_settings.DEFAULT_PAGE_SIZE,
        errors,
        "pageSize",
        f"pageSize must be an integer from 1 to {ubi_settings.MAX_PAGE_SIZE}.",
    )
    if size is not None and size > ubi_settings.MAX_PAGE_SIZE:
        errors.add("pageSize", f"pageSize must be an integer from 1 to {ubi_settings.MAX_PAGE_SIZE}.")
    return PageRequest(page_number or 1, size or ubi_settings.DEFAULT_PAGE_SIZE)


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


def _positive_integer(value, default: int, errors: Errors, name: str, message: str) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        number = None
    if number is None or number < 1:
        errors.add(name, message)
        return None
    return number
