"""SDBN, the simplified dynamic Bayesian network (Chapelle and Zhang, WWW 2009; the "Simplified DBN" sections of
Chuklin, Markov and de Rijke, *Click Models for Web Search*, 2015).

The user scans a search's results from the top and stops at the last click, satisfied: the results up to and
including the last clicked one are examined, the rest are not, and a search without any click examines nothing.
Over every search of a (query, object) pair:

    attractiveness = clicks / examinations          (0 when never examined)
    satisfaction   = last clicks / clicks           (0 when never clicked)
    rating         = attractiveness × satisfaction

Both are the maximum-likelihood estimates, counted in one pass over the searches.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from analytics.click_models import Interactions, Judgment, rating


@dataclass(slots=True)
class PairCounts:
    impressions: int = 0
    clicks: int = 0
    examinations: int = 0  # every click is examined: it is at or above its search's last click
    last_clicks: int = 0

    def rating(self) -> float:
        attractiveness = self.clicks / self.examinations if self.examinations else 0.0
        satisfaction = self.last_clicks / self.clicks if self.clicks else 0.0
        return attractiveness * satisfaction


def judgments(interactions: Interactions, *, min_impressions: int) -> Iterator[Judgment]:
    """The SDBN judgment of every pair with at least ``min_impressions`` impressions, by query and object id."""
    counts: dict[tuple[str, str], PairCounts] = defaultdict(PairCounts)
    for _, results in groupby(interactions.search_results(), key=attrgetter("search_id")):
        _count_search(list(results), counts)
    for (user_query, object_id), pair in sorted(counts.items()):
        if pair.impressions >= min_impressions:
            yield Judgment(user_query, object_id, rating(pair.rating()), pair.impressions, pair.clicks)


def _count_search(results: list, counts: dict[tuple[str, str], PairCounts]) -> None:
    """Add one search's results (ordered by rank) to the counts of their pairs."""
    last_click = max((result.rank for result in results if result.clicked), default=0)
    for result in results:
        pair = counts[result.user_query, result.object_id]
        pair.impressions += 1
        pair.clicks += result.clicked
        if result.rank <= last_click:
            pair.examinations += 1
            pair.last_clicks += result.rank == last_click
