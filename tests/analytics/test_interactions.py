"""The impressions and clicks the analytics read (``analytics.interactions``), on hand-made data."""

from datetime import UTC, datetime

import pytest

from analytics.interactions import (
    PairRankCount,
    RankCount,
    PairTotal,
    SearchResult,
    pair_rank_counts,
    pair_totals,
    rank_counts,
    search_results,
)
from analytics.models import AnalyticsSettings
from analytics.scope import Scope
from insights.models import Event
from tests.support import factories
from tests.support.analytics import interaction, track_events, track_query, tracker

pytestmark = pytest.mark.django_db


def everything(org) -> Scope:
    return Scope(org.id, None, None, None)


def test_impression_events_are_the_impressions_of_a_query_that_has_them(org):
    writer = tracker(org)
    query_id = track_query(writer, "toner", hit_ids=["a", "b", "c"])
    track_events(
        writer,
        interaction("impression", query_id, "b", 1),
        interaction("impression", query_id, "a", 2),
        interaction("click", query_id, "a", 2),
    )

    assert rank_counts(everything(org), max_rank=3) == [RankCount(1, 1, 0), RankCount(2, 1, 1), RankCount(3, 0, 0)]
    assert list(pair_rank_counts(everything(org), max_rank=3)) == [
        PairRankCount("toner", "a", 2, 1, 1),
        PairRankCount("toner", "b", 1, 1, 0),
    ]


def test_hit_ids_are_the_impressions_of_a_query_without_impression_events(org):
    writer = tracker(org)
    query_id = track_query(writer, "paper", hit_ids=["x", "y", "z"])
    track_events(writer, interaction("click", query_id, "y", 2))

    assert rank_counts(everything(org), max_rank=4) == [
        RankCount(1, 1, 0), RankCount(2, 1, 1), RankCount(3, 1, 0), RankCount(4, 0, 0)
    ]
    assert list(search_results(everything(org), max_rank=4)) == [
        SearchResult(query_id, "paper", "x", 1, False),
        SearchResult(query_id, "paper", "y", 2, True),
        SearchResult(query_id, "paper", "z", 3, False),
    ]


def test_hit_ids_beyond_max_rank_are_not_impressions(org):
    track_query(tracker(org), "paper", hit_ids=["x", "y", "z"])

    assert rank_counts(everything(org), max_rank=2) == [RankCount(1, 1, 0), RankCount(2, 1, 0)]


def test_an_event_s_user_query_is_its_own_else_its_query_s(org):
    writer = tracker(org)
    query_id = track_query(writer, "toner", hit_ids=["a"])
    track_events(
        writer,
        interaction("click", query_id, "a", 1),
        interaction("click", query_id, "a", 1, user_query="black toner"),
        interaction("click", None, "a", 1, user_query="ink"),
    )

    assert list(pair_rank_counts(everything(org), max_rank=1)) == [
        PairRankCount("black toner", "a", 1, 0, 1),
        PairRankCount("ink", "a", 1, 0, 1),
        PairRankCount("toner", "a", 1, 1, 1),
    ]


def test_pair_totals_sum_a_pair_s_ranks_and_rank_totals_include_interactions_without_a_user_query(org):
    writer = tracker(org)
    query_id = track_query(writer, "toner", hit_ids=["a", "b"])
    track_events(
        writer,
        interaction("click", query_id, "a", 1),
        interaction("click", None, "b", 2),  # no query_id, no user_query: counted at its rank, in no pair
        interaction("click", None, "a", 1, user_query="ink"),
        interaction("click", query_id, "a", 2),
    )

    assert rank_counts(everything(org), max_rank=2) == [RankCount(1, 1, 2), RankCount(2, 1, 2)]
    assert list(pair_totals(everything(org), max_rank=2)) == [
        PairTotal("ink", "a", 0, 1, 1),
        PairTotal("toner", "a", 1, 2, 1),
        PairTotal("toner", "b", 1, 0, 2),
    ]


def test_ordinals_that_are_not_integers_from_1_to_max_rank_are_ignored(org):
    writer = tracker(org)
    query_id = track_query(writer, "toner")
    track_events(
        writer,
        interaction("impression", query_id, "a", 1),
        interaction("impression", query_id, "a", 2.0),  # integral: rank 2
        interaction("impression", query_id, "a", 0),
        interaction("impression", query_id, "a", -1),
        interaction("impression", query_id, "a", 4),
        interaction("impression", query_id, "a", 10**12),
        {**interaction("impression", query_id, "a", 1), "event_attributes": {"position": {"ordinal": 1}}},
        {**interaction("click", query_id, "a", 1), "event_attributes": {"position": {"xy": {"x": 1, "y": 2}}}},
    )
    # Ingestion refuses these; rows stored otherwise (an import, an older version) must not make a read fail.
    for ordinal in ("2", 2.5, None, [2], {"n": 2}):
        Event.objects.create(
            organization=org,
            event_id=f"odd-{ordinal!r}",
            action_name="click",
            query_id=query_id,
            timestamp=datetime(2026, 3, 2, 10, 5, tzinfo=UTC),
            event_attributes={"object": {"object_id": "a"}, "position": {"ordinal": ordinal}},
            fingerprint="-",
        )

    assert rank_counts(everything(org), max_rank=3) == [RankCount(1, 1, 0), RankCount(2, 1, 0), RankCount(3, 0, 0)]
    assert list(search_results(everything(org), max_rank=3)) == [
        SearchResult(query_id, "toner", "a", 1, False),
        SearchResult(query_id, "toner", "a", 2, False),
    ]


def test_the_scope_bounds_time_and_application(org):
    writer = tracker(org)
    early = track_query(writer, "toner", hit_ids=["a"], when="09:00")
    inside = track_query(writer, "toner", hit_ids=["b"], when="10:00")
    other_app = track_query(writer, "toner", hit_ids=["c"], when="10:00", application="blog")
    late = track_query(writer, "toner", hit_ids=["d"], when="11:00")
    track_events(
        writer,
        interaction("click", early, "a", 1, when="09:01"),
        interaction("click", inside, "b", 1, when="10:01"),
        interaction("click", other_app, "c", 1, when="10:01", application="blog"),
        interaction("click", late, "d", 1, when="11:01"),
    )
    scope = Scope(org.id, datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 2, 11, tzinfo=UTC), "shop")

    assert list(pair_rank_counts(scope, max_rank=1)) == [PairRankCount("toner", "b", 1, 1, 1)]
    assert [row.search_id for row in search_results(scope, max_rank=1)] == [inside]
    assert rank_counts(Scope(org.id, None, None, "blog"), max_rank=1) == [RankCount(1, 1, 1)]


def test_another_organisation_s_data_is_never_counted(org):
    other = factories.make_org()
    other_writer = tracker(other)
    # The same query id in both: joins and the fallback must stay within one organisation.
    shared_id = track_query(tracker(org), "toner", hit_ids=["a"])
    track_query(other_writer, "toner", hit_ids=["a", "b"], query_id=shared_id)
    track_events(
        other_writer,
        interaction("impression", shared_id, "z", 1),
        interaction("click", shared_id, "z", 1),
    )

    assert rank_counts(everything(org), max_rank=2) == [RankCount(1, 1, 0), RankCount(2, 0, 0)]
    assert list(pair_rank_counts(everything(org), max_rank=2)) == [PairRankCount("toner", "a", 1, 1, 0)]
    assert list(search_results(everything(org), max_rank=2)) == [SearchResult(shared_id, "toner", "a", 1, False)]


def test_the_organisation_s_action_names_are_the_impressions_and_clicks(org):
    AnalyticsSettings.objects.create(organization=org, impression_action="view", click_action="select")
    writer = tracker(org)
    viewed = track_query(writer, "toner", hit_ids=["a", "b"])
    listed = track_query(writer, "paper", hit_ids=["x"])
    track_events(
        writer,
        interaction("view", viewed, "b", 1),
        interaction("select", viewed, "b", 1),
        interaction("click", viewed, "b", 1),
        interaction("impression", listed, "y", 1),  # not an impression here: "paper" falls back to its hit ids
    )

    assert list(pair_rank_counts(everything(org), max_rank=2)) == [
        PairRankCount("paper", "x", 1, 1, 0),
        PairRankCount("toner", "b", 1, 1, 1),
    ]
