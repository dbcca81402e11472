"""COEC, clicks over expected clicks, as OpenSearch's Search Relevance Workbench defines it.

The expected clicks of a (user query, object id) pair are its impressions times the click-through rate of the best
(lowest) rank it was seen at, across all queries; its rating is its clicks over those expected clicks, 0 when none
are expected. Two defects of SRW's implementation (``CoecClickModel.java``) are absent here: every query's
judgments are produced (SRW answers its listener inside the loop over queries, so only the first query's reach
it), and the rank click-through rates cover ranks 1 to the maximum rank inclusive (SRW's loop runs from 0 to
``maxRank - 1``, so a pair first seen at the maximum rank always rates 0).
"""

from collections.abc import Iterator

from analytics.click_models import Interactions, Judgment, rating


def judgments(interactions: Interactions, *, min_impressions: int) -> Iterator[Judgment]:
    """The COEC judgment of every pair with at least ``min_impressions`` impressions, by query and object id.

    Two reads: the rank totals (a row a rank), then each pair's totals with its best rank (one aggregation)."""
    rank_ctr = {row.rank: row.clicks / row.impressions if row.impressions else 0.0
                for row in interactions.rank_counts()}
    for pair in interactions.pair_totals():
        if pair.impressions < min_impressions:
            continue
        expected_clicks = rank_ctr[pair.best_rank] * pair.impressions
        value = pair.clicks / expected_clicks if expected_clicks else 0.0
        yield Judgment(pair.user_query, pair.object_id, rating(value), pair.impressions, pair.clicks)
