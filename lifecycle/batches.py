"""Deleting many rows without one huge transaction: ``LIFECYCLE_BATCH_SIZE`` rows a statement, each statement its
own transaction (autocommit), so locks and the write-ahead log stay small and other writers go on meanwhile.

Each batch deletes by primary key among the rows that still match the conditions, so two runs at once delete each
row once (the second finds it gone and counts nothing) and a run stopped half-way is finished by the next one.
"""

from collections.abc import Callable

from django.db.models import QuerySet

from project.conf import ubi_settings


def delete_in_batches(rows: QuerySet, *, progress: Callable[[int], None] | None = None) -> int:
    """Delete ``rows`` (a queryset of a model that nothing refers to with a cascade) a batch at a time; the number
    deleted. ``progress`` is called with each batch's count."""
    rows = rows.order_by()
    deleted = 0
    while ids := list(rows.values_list("id", flat=True)[: ubi_settings.LIFECYCLE_BATCH_SIZE]):
        count, _ = rows.filter(id__in=ids).delete()
        deleted += count
        if progress is not None:
            progress(count)
    return deleted
