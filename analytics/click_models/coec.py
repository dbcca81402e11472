"""COEC, clicks over expected clicks, as OpenSearch's Search Relevance Workbench defines it.

The expected clicks of a (user query, object id) pair are its impressions times the click-through rate of the best
(lowest) rank it was seen at, across all queries; its rating is its clicks over those expected clicks, 0 when none
are expected. Two defects of SRW's implementation (``CoecClickModel.java``) are absent here: every query's
judgments are produced (SRW answers its listener inside the loop over queries, so only the first query's reach
it), and the rank click-through rates cover ranks 1 to the maximum rank inclusive (SRW's loop runs from 0 to
``maxRank - 1``, so a pair first seen at the maximum rank always rates 0).
"""

from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter

from analytics.click_models import Interactions, Judgment, rating

_PAIR = itemgetter(0, 1)  # (user_query, object_id) of a PairRankCount


def judgments(interactions: Interactions, *, min_impressions: int) -> Iterator[Judgment]:
    """The COEC judgment of every pair with at least ``min_impressions`` impressions, by query and object id.

    One pass: each row carries its rank's totals, so the click-through rate of a pair's best rank is on that row."""
    for (user_query, object_id), rows in groupby(interactions.ranked_pair_counts(), key=_PAIR):
        impressions = clicks = 0
        best = None
        for row in rows:
            impressions += row.impressions
            clicks += row.clicks
            if best is None and (row.impressions or row.clicks):
                best = row  # rows come by rank: the first one seen is the best
        if impressions < min_impressions or best is None:
            continue
        rank_ctr = best.rank_clicks / best.rank_impressions if best.rank_impressions else 0.0
        expected_clicks = rank_ctr * impressions
        value = clicks / expected_clicks if expected_clicks else 0.0
        yield Judgment(user_query, object_id, rating(value), impressions, clicks)
