"""Writes of the analytics: computing a judgment list with a click model, and deleting one.

Role ``insights:write``; every write is the principal's organisation's. Parameters are validated all at once,
errors keyed by the parameter's name (``InvalidInput``), before anything is read.
"""

from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from itertools import islice

from django.db import transaction

from analytics import aggregates, interactions, rollups
from analytics.click_models import MODELS, PAIR_MODELS, Judgment
from analytics.judgment_selectors import iso_utc, list_summary, owned_list
from analytics.models import Judgment as JudgmentRow
from analytics.models import JudgmentList
from analytics.parameters import clean_max_rank
from analytics.scope import Scope, clean_scope
from insights.parameters import clean_integer
from insights.validation import Errors, storage_problem
from oauth.principals import Principal, require_role

WRITE_ROLE = "insights:write"
NAME_MAX_LENGTH = 200
# SRW's judgment import refuses a name with any of these (its TextValidationUtil): a list's name must survive the
# import of its SRW download.
NAME_FORBIDDEN = '"\\<>'
DEFAULT_MIN_IMPRESSIONS = 1
MAX_MIN_IMPRESSIONS = 999_999_999
# Judgments written per INSERT.
BATCH_SIZE = 1000


@dataclass(frozen=True)
class ScopedInteractions:
    """``analytics.interactions`` bound to one scope and maximum rank: the ``Interactions`` a click model reads.
    The counts come from the rollups (``analytics.aggregates``), a search's results from the raw rows."""

    scope: Scope
    max_rank: int

    def rank_counts(self):
        return aggregates.rank_counts(self.scope, max_rank=self.max_rank)

    def pair_rank_counts(self):
        return aggregates.pair_rank_counts(self.scope, max_rank=self.max_rank)

    def pair_totals(self):
        return aggregates.pair_totals(self.scope, max_rank=self.max_rank)

    def search_results(self):
        return interactions.search_results(self.scope, max_rank=self.max_rank)


def compute_judgment_list(
    principal: Principal, *, name, model, filters: dict, progress: Callable[[int], None] | None = None
) -> dict:
    """Compute and store a judgment list of the organisation's interactions; return its summary.

    ``model`` is ``coec``, ``pbm`` or ``sdbn``; ``filters`` holds ``maxRank`` (default 20), ``minImpressions``
    (default 1), ``from``, ``to`` and ``application``. ``progress`` is called with the number of judgments of
    each batch stored. The list and its judgments are stored in one transaction: all or nothing.
    Raises ``PermissionDenied`` without ``insights:write``, ``InvalidInput`` keyed by parameter.
    """
    require_role(principal, WRITE_ROLE)
    errors = Errors()
    name = _clean_name(name, errors)
    model = _clean_model(model, errors)
    max_rank = clean_max_rank(filters, errors)
    min_impressions = clean_integer(
        filters, "minImpressions", default=DEFAULT_MIN_IMPRESSIONS, maximum=MAX_MIN_IMPRESSIONS, errors=errors
    )
    scope = clean_scope(principal.org_id, filters, errors)
    errors.raise_if_any()
    rollups.refresh(pairs=model in PAIR_MODELS)
    judgments = MODELS[model](ScopedInteractions(scope, max_rank), min_impressions=min_impressions)
    # Closed inside the transaction, whatever happens: a server-side cursor left to the garbage collector would
    # be closed after the rollback, in a later statement's transaction.
    with transaction.atomic(), closing(judgments):
        judgment_list = JudgmentList.objects.create(
            organization_id=principal.org_id,
            name=name,
            model=model,
            parameters=_parameters(scope, max_rank=max_rank, min_impressions=min_impressions),
            created_by=principal.pk,
        )
        judgment_list.judgment_count = _store(judgment_list, judgments, progress)
        judgment_list.query_count = judgment_list.judgments.values("user_query").distinct().count()
        judgment_list.save(update_fields=["judgment_count", "query_count"])
    return list_summary(judgment_list)


def delete_judgment_list(principal: Principal, *, list_id) -> None:
    """Delete one of the organisation's lists with its judgments. Raises ``NotFound`` for a missing or foreign one,
    ``PermissionDenied`` without ``insights:write``."""
    owned_list(principal, list_id, WRITE_ROLE).delete()


def _store(judgment_list: JudgmentList, judgments: Iterable[Judgment], progress) -> int:
    """Insert the judgments ``BATCH_SIZE`` at a time, in the order the model gives them; their number."""
    stored = 0
    judgments = iter(judgments)
    while batch := list(islice(judgments, BATCH_SIZE)):
        JudgmentRow.objects.bulk_create(JudgmentRow(judgment_list=judgment_list, **row._asdict()) for row in batch)
        stored += len(batch)
        if progress is not None:
            progress(len(batch))
    return stored


def _parameters(scope: Scope, *, max_rank: int, min_impressions: int) -> dict:
    """What the list was computed with, as the API names it."""
    return {
        "maxRank": max_rank,
        "minImpressions": min_impressions,
        "from": iso_utc(scope.start),
        "to": iso_utc(scope.end),
        "application": scope.application,
    }


def _clean_name(value, errors: Errors) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.add("name", "name is required: a non-empty string.")
        return ""
    value = value.strip()
    if len(value) > NAME_MAX_LENGTH:
        errors.add("name", f"name must be at most {NAME_MAX_LENGTH} characters long.")
    elif any(character in NAME_FORBIDDEN for character in value) or storage_problem(value):
        errors.add("name", "name must not contain quotes, backslashes, < or > (SRW refuses them), nor U+0000.")
    return value


def _clean_model(value, errors: Errors) -> str:
    if not isinstance(value, str) or value not in MODELS:
        errors.add("model", f"model must be one of {', '.join(MODELS)}.")
    return value
