"""What the data lifecycle tells the analytics aggregates (``analytics.rollups``) when raw rows go: the one place
that calls them, so that retention, erasure and offboarding keep the aggregates true to the rows left."""

from datetime import datetime

from analytics import rollups


def forget_before(organization_id, cutoff: datetime) -> None:
    """Retention deleted the organisation's rows before ``cutoff``: their aggregates go too (and a bucket that
    straddles the cutoff is rebuilt from the rows left)."""
    rollups.forget(organization_id, end=cutoff)


def forget_all(organization_id) -> None:
    """Offboarding: every aggregate of the organisation goes."""
    rollups.forget(organization_id)


def mark_erased(organization_id, start: datetime, end: datetime) -> None:
    """Erasure deleted rows of one person in ``[start, end)``: the searches and buckets of that span are rebuilt
    from the rows left on the next refresh."""
    rollups.mark_stale(organization_id, start=start, end=end)
