"""Reads of an organisation's judgment lists: their summaries, one list with its judgments, a list's rows streamed.

Role ``insights:read``; every read is scoped to the principal's organisation, and a list of another organisation is
``NotFound`` like a missing one (not guessable). The shapes are the API's, camelCase, shared by REST and the
dashboard.
"""

import uuid
from collections.abc import Iterator
from datetime import datetime

from analytics.click_models import Judgment
from analytics.models import Judgment as JudgmentRow
from analytics.models import JudgmentList
from insights.validation import Errors, format_timestamp
from oauth.principals import Principal, require_role
from project.errors import NotFound

READ_ROLE = "insights:read"
# Judgments read from the database at a time by the streamed reads.
CHUNK_SIZE = 2000


def judgment_lists(principal: Principal, *, filters: dict | None = None) -> list[dict]:
    """The summaries of the organisation's judgment lists, newest first. ``filters`` may hold ``model``."""
    require_role(principal, READ_ROLE)
    lists = JudgmentList.objects.filter(organization_id=principal.org_id).order_by("-created_at", "-pk")
    if model := (filters or {}).get("model"):
        if model not in JudgmentList.Model.values:
            errors = Errors()
            errors.add("model", f"model must be one of {', '.join(JudgmentList.Model.values)}.")
            errors.raise_if_any()
        lists = lists.filter(model=model)
    return [list_summary(judgment_list) for judgment_list in lists]


def judgment_list_summary(principal: Principal, *, list_id) -> dict:
    """One list's summary, without its judgments (``judgment_rows`` streams them)."""
    return list_summary(owned_list(principal, list_id, READ_ROLE))


def judgment_list_get(principal: Principal, *, list_id) -> dict:
    """One list's summary with its ``judgments`` (``query``, ``docId``, ``rating``, ``impressions``, ``clicks``)."""
    judgment_list = owned_list(principal, list_id, READ_ROLE)
    return {
        **list_summary(judgment_list),
        "judgments": [
            {
                "query": row.user_query,
                "docId": row.object_id,
                "rating": row.rating,
                "impressions": row.impressions,
                "clicks": row.clicks,
            }
            for row in _rows(judgment_list)
        ],
    }


def judgment_rows(principal: Principal, *, list_id) -> Iterator[Judgment]:
    """A list's judgments, streamed in stored order (each query's together). The list is checked before the first
    row is asked for, so a missing or foreign list raises ``NotFound`` at the call, not at the first ``next``."""
    return _rows(owned_list(principal, list_id, READ_ROLE))


def list_summary(judgment_list: JudgmentList) -> dict:
    return {
        "id": str(judgment_list.pk),
        "name": judgment_list.name,
        "model": judgment_list.model,
        "parameters": judgment_list.parameters,
        "createdAt": iso_utc(judgment_list.created_at),
        "createdBy": judgment_list.created_by,
        "judgmentCount": judgment_list.judgment_count,
        "queryCount": judgment_list.query_count,
    }


def iso_utc(moment: datetime | None) -> str | None:
    """An aware UTC datetime as ISO 8601 with ``Z``, as the API writes moments."""
    return format_timestamp(moment) if moment else None


def owned_list(principal: Principal, list_id, role: str) -> JudgmentList:
    """The organisation's list ``list_id`` after checking ``role``; ``NotFound`` for a missing, foreign or
    malformed id alike."""
    require_role(principal, role)
    try:
        key = uuid.UUID(str(list_id))
    except ValueError:
        raise NotFound("No such judgment list.") from None
    found = JudgmentList.objects.filter(organization_id=principal.org_id, pk=key).first()
    if found is None:
        raise NotFound("No such judgment list.")
    return found


def _rows(judgment_list: JudgmentList) -> Iterator[Judgment]:
    rows = (
        JudgmentRow.objects.filter(judgment_list=judgment_list)
        .order_by("id")
        .values_list("user_query", "object_id", "rating", "impressions", "clicks")
    )
    return (Judgment(*row) for row in rows.iterator(chunk_size=CHUNK_SIZE))
