"""The click models against computations written here, on data made by hand.

Each expectation is computed in the test from the raw interactions (one tuple per impression or click), apart from
the models' code: the aggregation the database does is redone naively, then the formula of the issue applied.
"""

from collections import defaultdict
from dataclasses import dataclass

import pytest

from analytics.click_models import MODELS, Judgment, coec, pbm, sdbn
from analytics.interactions import PairRankCount, PairTotal, RankCount, SearchResult
from analytics.models import JudgmentList


@dataclass
class Rows:
    """An ``Interactions`` over rows given by the test."""

    ranks: list
    pairs: list
    searches: list = ()

    def rank_counts(self):
        return self.ranks

    def pair_rank_counts(self):
        return iter(self.pairs)

    def pair_totals(self):
        totals = {}
        for row in self.pairs:  # by pair, then rank: a pair's first row is at its best rank
            impressions, clicks, best_rank = totals.get((row.user_query, row.object_id), (0, 0, row.rank))
            totals[row.user_query, row.object_id] = (impressions + row.impressions, clicks + row.clicks, best_rank)
        return iter([PairTotal(*pair, *counts) for pair, counts in totals.items()])

    def search_results(self):
        return iter(self.searches)


def rows_from_events(events, *, max_rank) -> Rows:
    """``events``: (user query, object id, rank, "impression" | "click") tuples, counted the way the database does."""
    by_rank = defaultdict(lambda: [0, 0])
    by_cell = defaultdict(lambda: [0, 0])
    for user_query, object_id, rank, action in events:
        column = 0 if action == "impression" else 1
        by_rank[rank][column] += 1
        by_cell[user_query, object_id, rank][column] += 1
    ranks = [RankCount(rank, *by_rank[rank]) for rank in range(1, max_rank + 1)]
    pairs = [PairRankCount(*cell, *by_cell[cell]) for cell in sorted(by_cell)]
    return Rows(ranks, pairs)


def independent_coec(events, *, max_rank, min_impressions=0) -> dict:
    """The issue's COEC, straight from the events: {(query, object): (rating, impressions, clicks)}."""
    rank_ctr = {}
    for rank in range(1, max_rank + 1):
        shown = sum(1 for event in events if event[2] == rank and event[3] == "impression")
        clicked = sum(1 for event in events if event[2] == rank and event[3] == "click")
        rank_ctr[rank] = clicked / shown if shown else 0.0
    expected = {}
    for pair in {(event[0], event[1]) for event in events}:
        own = [event for event in events if (event[0], event[1]) == pair]
        impressions = sum(1 for event in own if event[3] == "impression")
        clicks = sum(1 for event in own if event[3] == "click")
        best_rank = min(event[2] for event in own)
        denominator = rank_ctr[best_rank] * impressions
        if impressions >= min_impressions:
            expected[pair] = (round(clicks / denominator, 3) if denominator else 0.0, impressions, clicks)
    return expected


def as_dict(judgments) -> dict:
    return {(j.user_query, j.object_id): (j.rating, j.impressions, j.clicks) for j in judgments}


def events_of(spec):
    """{(query, object, rank): (impressions, clicks)} as one tuple per event."""
    events = []
    for (user_query, object_id, rank), (impressions, clicks) in spec.items():
        events += [(user_query, object_id, rank, "impression")] * impressions
        events += [(user_query, object_id, rank, "click")] * clicks
    return events


HAND_MADE = events_of({
    ("laptop", "L1", 1): (10, 4),
    ("laptop", "L2", 2): (10, 2),
    ("laptop", "L2", 3): (5, 1),  # best rank 2
    ("laptop", "L3", 3): (8, 2),  # first seen at the maximum rank
    ("phone", "P1", 1): (6, 3),
    ("phone", "P2", 2): (6, 0),
    ("phone", "P3", 3): (4, 2),
    ("tablet", "T1", 1): (3, 1),
    ("tablet", "T2", 2): (1, 0),
})


def test_coec_matches_the_definition_for_every_query_including_the_maximum_rank():
    judgments = list(coec.judgments(rows_from_events(HAND_MADE, max_rank=3), min_impressions=0))

    assert as_dict(judgments) == independent_coec(HAND_MADE, max_rank=3)
    assert {j.user_query for j in judgments} == {"laptop", "phone", "tablet"}
    # By hand: rank CTR at 3 = (1 + 2 + 2) / (5 + 8 + 4) = 5/17; L3 = 2 / (5/17 × 8) = 0.85.
    assert as_dict(judgments)["laptop", "L3"] == (0.85, 8, 2)
    # Rank 1: 8/19; L1 = 4 / (8/19 × 10) = 0.95. Rank 2: 2/17; L2 (best rank 2, 15 impressions, 3 clicks) = 1.7.
    assert as_dict(judgments)["laptop", "L1"] == (0.95, 10, 4)
    assert as_dict(judgments)["laptop", "L2"] == (1.7, 15, 3)


def test_coec_rates_zero_where_no_click_is_expected():
    events = events_of({("q", "shown", 2): (5, 0), ("q", "top", 1): (5, 1), ("q", "clicked-unseen", 2): (0, 1)})

    judgments = as_dict(coec.judgments(rows_from_events(events, max_rank=2), min_impressions=0))

    assert judgments == {("q", "top"): (1.0, 5, 1), ("q", "shown"): (0.0, 5, 0), ("q", "clicked-unseen"): (0.0, 0, 1)}
    assert judgments == independent_coec(events, max_rank=2)


def test_coec_keeps_pairs_with_at_least_the_minimum_impressions():
    judgments = as_dict(coec.judgments(rows_from_events(HAND_MADE, max_rank=3), min_impressions=6))

    assert judgments == independent_coec(HAND_MADE, max_rank=3, min_impressions=6)
    assert sorted(judgments) == [("laptop", "L1"), ("laptop", "L2"), ("laptop", "L3"), ("phone", "P1"), ("phone", "P2")]


def cells(examination: dict, attractiveness: dict, placements, *, impressions: int) -> list[PairRankCount]:
    """Exact expected clicks of PBM with the given parameters: ``placements`` are (query, object, rank)."""
    rows = []
    for query, obj, rank in sorted(placements):
        clicks = round(impressions * examination[rank] * attractiveness[query, obj])
        rows.append(PairRankCount(query, obj, rank, impressions, clicks))
    return rows


def test_pbm_recovers_known_examination_and_attractiveness_from_exact_expected_counts():
    examination = {1: 1.0, 2: 0.6, 3: 0.3}
    attractiveness = {("q1", "a"): 0.9, ("q1", "b"): 0.5, ("q1", "c"): 0.2, ("q2", "d"): 0.7, ("q2", "e"): 0.4}
    # Each object is shown at several ranks (not all), so the ranks' examinations are tied together.
    placements = [
        ("q1", "a", 1), ("q1", "a", 2), ("q1", "b", 1), ("q1", "b", 2), ("q1", "b", 3), ("q1", "c", 2), ("q1", "c", 3),
        ("q2", "d", 1), ("q2", "d", 3), ("q2", "e", 1), ("q2", "e", 2),
    ]
    counts = pbm.Counts()
    for row in cells(examination, attractiveness, placements, impressions=100_000):
        counts.add(row)

    fitted_attractiveness, fitted_examination = pbm.fit(counts)

    assert {rank: round(value, 3) for rank, value in fitted_examination.items()} == examination
    assert dict(zip(counts.pairs, (round(value, 3) for value in fitted_attractiveness))) == attractiveness


def test_pbm_judgments_are_the_attractiveness_with_the_pairs_counts():
    examination = {1: 1.0, 2: 0.5}
    attractiveness = {("q", "x"): 0.8, ("q", "y"): 0.4, ("r", "z"): 0.6}
    placements = [("q", "x", 1), ("q", "x", 2), ("q", "y", 1), ("q", "y", 2), ("r", "z", 1), ("r", "z", 2)]
    rows = cells(examination, attractiveness, placements, impressions=10_000)

    judgments = as_dict(pbm.judgments(Rows([], rows), min_impressions=0))

    assert judgments == {
        ("q", "x"): (0.8, 20_000, 8000 + 4000),
        ("q", "y"): (0.4, 20_000, 4000 + 2000),
        ("r", "z"): (0.6, 20_000, 6000 + 3000),
    }


def test_pbm_with_one_rank_rates_the_click_through_rate_under_its_prior():
    """One rank is examined for sure, so α is the pair's CTR with Beta(2, 2)'s pseudo-counts: (k + 1) / (n + 2)."""
    rows = [PairRankCount("q", "x", 1, 8, 2), PairRankCount("q", "y", 1, 5, 4), PairRankCount("r", "z", 1, 3, 0)]

    judgments = as_dict(pbm.judgments(Rows([], rows), min_impressions=4))

    assert judgments == {("q", "x"): (round(3 / 10, 3), 8, 2), ("q", "y"): (round(5 / 7, 3), 5, 4)}


def test_pbm_counts_a_click_as_an_impression_the_log_missed():
    rows = [PairRankCount("q", "x", 1, 0, 2), PairRankCount("q", "y", 1, 4, 1)]

    judgments = as_dict(pbm.judgments(Rows([], rows), min_impressions=0))

    assert judgments == {("q", "x"): (round(3 / 4, 3), 0, 2), ("q", "y"): (round(2 / 6, 3), 4, 1)}


def searches_of(spec):
    """{search id: (query, [(object, clicked), ...] by rank from 1)} as SearchResult rows."""
    return [
        SearchResult(search_id, user_query, obj, rank, clicked)
        for search_id, (user_query, results) in sorted(spec.items())
        for rank, (obj, clicked) in enumerate(results, start=1)
    ]


def independent_sdbn(results, *, min_impressions=0) -> dict:
    """The issue's SDBN, straight from the search results."""
    searches = defaultdict(list)
    for result in results:
        searches[result.search_id].append(result)
    shown, clicked, examined, last = (defaultdict(int) for _ in range(4))
    for rows in searches.values():
        clicked_ranks = [row.rank for row in rows if row.clicked]
        for row in rows:
            pair = (row.user_query, row.object_id)
            shown[pair] += 1
            clicked[pair] += row.clicked
            if clicked_ranks and row.rank <= max(clicked_ranks):
                examined[pair] += 1
            if clicked_ranks and row.rank == max(clicked_ranks):
                last[pair] += 1
    expected = {}
    for pair in shown:
        attractiveness = clicked[pair] / examined[pair] if examined[pair] else 0.0
        satisfaction = last[pair] / clicked[pair] if clicked[pair] else 0.0
        if shown[pair] >= min_impressions:
            expected[pair] = (round(attractiveness * satisfaction, 3), shown[pair], clicked[pair])
    return expected


SEARCHES = searches_of({
    "s1": ("shoes", [("A", False), ("B", True), ("C", False), ("D", True), ("E", False)]),
    "s2": ("shoes", [("B", True), ("A", False), ("D", False)]),
    "s3": ("shoes", [("A", True), ("B", True), ("C", False)]),
    "s4": ("shoes", [("A", False), ("C", False)]),  # no click: nothing examined
    "s5": ("socks", [("F", False), ("G", True)]),
    "s6": ("socks", [("G", False), ("F", True), ("H", False)]),
})


def test_sdbn_matches_the_definition_for_every_query():
    judgments = as_dict(sdbn.judgments(Rows([], [], SEARCHES), min_impressions=0))

    assert judgments == independent_sdbn(SEARCHES)
    # By hand: B is examined in s1, s2, s3, clicked in all three, last click in s2 and s3: 3/3 × 2/3.
    assert judgments["shoes", "B"] == (0.667, 3, 3)
    # A: shown 4 times, examined in s1 and s3 (s2's last click is above it, s4 has none), clicked once, not last.
    assert judgments["shoes", "A"] == (0.0, 4, 1)
    # E is never examined; H neither.
    assert judgments["shoes", "E"] == (0.0, 1, 0) and judgments["socks", "H"] == (0.0, 1, 0)
    assert {query for query, _ in judgments} == {"shoes", "socks"}


def test_sdbn_keeps_pairs_with_at_least_the_minimum_impressions():
    judgments = as_dict(sdbn.judgments(Rows([], [], SEARCHES), min_impressions=3))

    assert judgments == independent_sdbn(SEARCHES, min_impressions=3)
    assert sorted(judgments) == [("shoes", "A"), ("shoes", "B"), ("shoes", "C")]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_yields_judgments_in_query_and_object_order(name):
    rows = rows_from_events(HAND_MADE, max_rank=3)
    rows.searches = SEARCHES

    judgments = list(MODELS[name](rows, min_impressions=0))

    assert judgments and all(isinstance(judgment, Judgment) for judgment in judgments)
    keys = [(j.user_query, j.object_id) for j in judgments]
    assert keys == sorted(set(keys))


def test_the_registry_names_the_three_models_a_list_may_have():
    assert MODELS == {"coec": coec.judgments, "pbm": pbm.judgments, "sdbn": sdbn.judgments}
    assert JudgmentList.Model.values == list(MODELS)
