"""Click models: implicit relevance judgments from the impressions and clicks of a scope.

Each model is a pure function ``judgments(interactions, *, min_impressions) -> Iterator[Judgment]`` over the rows
``analytics.interactions`` defines, read through an ``Interactions`` (bound to a scope and a maximum rank by the
caller), so a model asks the database only for the rows it needs and the tests hand it rows made by hand.
``MODELS`` is the registry by the names the API and the command accept. The formulas are in docs/judgments.md.
"""

from collections.abc import Iterable
from typing import NamedTuple, Protocol


class Judgment(NamedTuple):
    """One rated (user query, object id) pair, with the impressions and clicks the rating stands on."""

    user_query: str
    object_id: str
    rating: float
    impressions: int
    clicks: int


class Interactions(Protocol):
    """The rows of ``analytics.interactions`` for one scope and maximum rank (ranks 1 to it, inclusive)."""

    def rank_counts(self) -> list:
        """``RankCount(rank, impressions, clicks)`` for every rank, zeros included."""

    def pair_rank_counts(self) -> Iterable:
        """``PairRankCount(user_query, object_id, rank, impressions, clicks)`` ordered by query, object, rank."""

    def pair_totals(self) -> Iterable:
        """``PairTotal(user_query, object_id, impressions, clicks, best_rank)`` ordered by query, object."""

    def search_results(self) -> Iterable:
        """``SearchResult(search_id, user_query, object_id, rank, clicked)`` ordered by search, rank."""


RATING_DIGITS = 3


def rating(value: float) -> float:
    """A judgment's rating: rounded to ``RATING_DIGITS`` digits, as SRW stores it."""
    return round(value, RATING_DIGITS)


from analytics.click_models import coec, pbm, sdbn  # noqa: E402 (the models import Judgment from here)

MODELS = {"coec": coec.judgments, "pbm": pbm.judgments, "sdbn": sdbn.judgments}
# The models that read pair counts (``pair_rank_counts``, ``pair_totals``): those the pair rollups serve.
PAIR_MODELS = frozenset({"coec", "pbm"})
