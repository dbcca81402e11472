"""The rollups (``analytics.rollups``, read by ``analytics.aggregates``) give what the raw definitions give: every
metric and count of a scope is compared with the raw SQL's (``analytics.searches``, ``analytics.interactions``),
over ranges aligned with hours and days and not, after ingests that change earlier buckets."""

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F

from analytics import aggregates, interactions, metrics, rollups, searches
from analytics.click_models import MODELS
from analytics.models import AnalyticsSettings, PairDay, PairDayBacklog, RankHour, RollupGap, SearchFact
from analytics.scope import Scope
from analytics.services import ScopedInteractions
from insights.models import Event, Query
from tests.support import factories
from tests.support.analytics import interaction, track_events, track_query, tracker
from tests.support.skips import skip_configuration
from tests.support.threads import ThreadWithOutcome

pytestmark = pytest.mark.django_db

MAX_RANK = 5
DAY = datetime(2026, 3, 2, tzinfo=UTC)


class RawInteractions(ScopedInteractions):
    """The ``Interactions`` of the raw definitions, for the click models."""

    def rank_counts(self):
        return interactions.rank_counts(self.scope, max_rank=self.max_rank)

    def pair_rank_counts(self):
        return interactions.pair_rank_counts(self.scope, max_rank=self.max_rank)

    def pair_totals(self):
        return interactions.pair_totals(self.scope, max_rank=self.max_rank)


def raw(scope: Scope) -> dict:
    return figures(scope, searches.searches_sql(scope), Query.objects.filter(organization_id=scope.organization_id),
                   interactions, RawInteractions(scope, MAX_RANK))


def rolled_up(scope: Scope) -> dict:
    rollups.refresh()
    return figures(scope, aggregates.searches_sql(scope), aggregates.search_rows(Scope(scope.organization_id, None,
                   None, None)), aggregates, ScopedInteractions(scope, MAX_RANK))


def figures(scope, searches_sql, search_rows, counts, models) -> dict:
    return {
        "summary": metrics.summary_of(searches_sql),
        **{kind: metrics.query_table_of(searches_sql, kind=kind, limit=100) for kind in metrics.QUERY_TABLE_KINDS},
        **{f"over {bucket}": list(metrics.search_counts_of(scope.filtered(search_rows), bucket=bucket))
           for bucket in ("hour", "day")},
        "ranks": counts.rank_counts(scope, max_rank=MAX_RANK),
        "pairs": list(counts.pair_rank_counts(scope, max_rank=MAX_RANK)),
        "pair totals": list(counts.pair_totals(scope, max_rank=MAX_RANK)),
        **{model: list(MODELS[model](models, min_impressions=1)) for model in ("coec", "pbm")},
    }


def scopes(org) -> list[Scope]:
    """All of time, ranges aligned with days and hours, ranges that cut hours and days, one application."""
    at = DAY.replace
    return [
        Scope(org.id, None, None, None),
        Scope(org.id, DAY, DAY + timedelta(days=1), None),
        Scope(org.id, at(hour=10), at(hour=13), "shop"),
        Scope(org.id, at(hour=10, minute=0, second=30), at(hour=12, minute=35), None),
        Scope(org.id, at(hour=10, minute=1), at(hour=10, minute=2), None),
        Scope(org.id, DAY - timedelta(hours=5, minutes=3), DAY + timedelta(days=2, minutes=7), "blog"),
        Scope(org.id, None, at(hour=12, minute=31), None),
        Scope(org.id, at(hour=10, minute=30), None, None),
    ]


def assert_rollups_match(org) -> None:
    for scope in scopes(org):
        assert rolled_up(scope) == raw(scope), scope


def test_each_ingest_is_rolled_up_as_the_raw_definitions_count_it(org):
    writer = tracker(org)
    theirs = tracker(factories.make_org())
    assert_rollups_match(org)  # nothing yet: the empty figures

    s1 = track_query(writer, "toner", hit_ids=["a", "b", "c"], query_id="S1")
    track_query(writer, "paper", hit_ids=[], query_id="S2", when="12:30")
    track_events(writer, interaction("click", s1, "b", 2))
    assert_rollups_match(org)

    # An event before its query, the next day: the query's arrival gives the event its user query.
    track_events(writer, interaction("click", "S3", "x", 1, when="08:00", timestamp="2026-03-03T08:00:00Z"))
    assert_rollups_match(org)
    track_query(writer, "ink", hit_ids=["x", "y"], query_id="S3", when="12:59")
    assert_rollups_match(org)

    # A query whose hit ids were its impressions gets its first impression event: they are not any more.
    track_events(writer, interaction("impression", s1, "c", 1, when="11:15"))
    assert_rollups_match(org)

    # Another organisation's rows with the same query ids are never counted.
    track_query(theirs, "toner", hit_ids=["a"], query_id="S1")
    track_events(theirs, interaction("click", "S1", "a", 1), interaction("click", "S2", "a", 1))
    assert_rollups_match(org)

    # Events of another application, before the day.
    s4 = track_query(writer, "pens", hit_ids=["p", "q"], query_id="S4", application="blog",
                     timestamp="2026-03-01T23:59:00Z")
    track_events(writer, interaction("click", s4, "q", 2, application="blog", timestamp="2026-03-02T00:01:00Z"))
    assert_rollups_match(org)


def test_a_change_of_action_names_rebuilds_the_organisation_s_rollups(org):
    writer = tracker(org)
    s1 = track_query(writer, "toner", hit_ids=["a", "b"])
    track_events(writer, interaction("view", s1, "b", 1), interaction("select", s1, "b", 1),
                 interaction("click", s1, "a", 2))
    assert_rollups_match(org)

    settings = AnalyticsSettings.objects.create(organization=org, impression_action="view", click_action="select")
    assert_rollups_match(org)
    assert rolled_up(Scope(org.id, None, None, None))["ranks"][0] == interactions.RankCount(1, 1, 1)

    settings.click_action = "click"
    settings.save()
    assert_rollups_match(org)
    settings.delete()
    assert_rollups_match(org)


def test_rows_committed_after_a_refresh_read_higher_ids_are_counted(org):
    """A row whose id is below what a refresh read, committed after it (PostgreSQL commits ids out of order),
    simulated by moving a new row's id into a gap below."""
    writer = tracker(org)
    s1 = track_query(writer, "toner", hit_ids=["a", "b"])
    track_events(writer, interaction("click", s1, "a", 1))
    rollups.refresh()
    track_events(writer, interaction("click", s1, "b", 2, when="11:00"))  # its id is the late event's to be
    gap = Event.objects.order_by("-id").first()
    gap_id = gap.id
    gap.delete()
    track_events(writer, interaction("click", s1, "a", 1, when="11:30"))
    rollups.refresh()  # reads ids above the gap

    track_events(writer, interaction("click", s1, "b", 2, when="13:00"))
    late = Event.objects.order_by("-id").first()
    Event.objects.filter(id=late.id).update(id=gap_id)

    assert_rollups_match(org)
    assert SearchFact.objects.get(query_id=s1).clicks == 3


@pytest.mark.django_db(transaction=True)
def test_an_ingest_committed_after_a_refresh_that_read_a_higher_id_is_counted(org):
    """Two connections: an ingest holds its transaction open across a refresh that reads a later, committed id."""
    if connection.vendor != "postgresql":
        skip_configuration("SQLite serialises writes: ids are committed in order (the test above moves an id)")
    writer = tracker(org)
    s1 = track_query(writer, "toner", hit_ids=["a", "b"])
    rollups.refresh()
    inserted, release = threading.Event(), threading.Event()
    slow_ids = []

    def ingest_slowly():
        try:
            with transaction.atomic():
                track_events(writer, interaction("click", s1, "b", 2, when="13:00"))
                slow_ids.append(Event.objects.get(event_attributes__position__ordinal=2).id)
                inserted.set()
                assert release.wait(60)
        finally:
            connection.close()

    slow = ThreadWithOutcome(ingest_slowly)
    slow.start()
    assert inserted.wait(60)
    track_events(writer, interaction("click", s1, "a", 1))
    assert rollups.refresh().event_id_seen > slow_ids[0]
    release.set()
    slow.outcome()

    assert_rollups_match(org)
    assert SearchFact.objects.get(query_id=s1).clicks == 2


def test_a_refresh_without_pairs_leaves_the_touched_pair_days_to_the_next_one_with_them(org):
    writer = tracker(org)
    s1 = track_query(writer, "toner", hit_ids=["a", "b"])
    track_events(writer, interaction("click", s1, "b", 2))
    assert_rollups_match(org)

    # A click on the first day and a search three days later: two days out of date, not consecutive.
    track_events(writer, interaction("click", s1, "a", 1, when="15:00"))
    track_query(writer, "paper", hit_ids=["c"], timestamp="2026-03-05T09:00:00Z")
    report = rollups.refresh(pairs=False)
    assert (report.searches, report.pair_days) == (2, 0)
    assert list(PairDayBacklog.objects.order_by("start").values_list("start", "end")) == [
        (DAY, DAY + timedelta(days=1)), (DAY + timedelta(days=3), DAY + timedelta(days=4))
    ]
    assert list(PairDay.objects.order_by("object_id").values_list("object_id", "clicks")) == [("a", 0), ("b", 1)]

    assert rollups.refresh(pairs=False).organizations == 0
    assert_rollups_match(org)
    assert not PairDayBacklog.objects.exists()


def test_a_refresh_with_nothing_new_refreshes_no_organisation(org):
    writer = tracker(org)
    track_query(writer, "toner", hit_ids=["a"])
    assert rollups.refresh().organizations == 1
    assert rollups.refresh().organizations == 0
    track_query(writer, "paper", hit_ids=["b"])
    assert rollups.refresh().organizations == 1


def test_missing_ids_are_waited_for_until_the_late_commit_time_has_passed(org):
    writer = tracker(org)
    track_query(writer, "toner", hit_ids=["a"])
    Query.objects.order_by("-id").first().delete()  # a rolled-back insert's id, as the refresh sees it
    track_query(writer, "paper", hit_ids=["b"])
    rollups.refresh()
    assert list(RollupGap.objects.values_list("source", "high")) == [
        (Query._meta.db_table, Query.objects.order_by("id").first().id - 1)
    ]
    rollups.refresh()
    assert RollupGap.objects.count() == 1

    RollupGap.objects.update(opened_at=F("opened_at") - timedelta(seconds=301))
    rollups.refresh()
    assert not RollupGap.objects.exists()


def test_forget_deletes_a_range_s_rollups_and_the_next_refresh_counts_what_is_left(org):
    writer = tracker(org)
    s1 = track_query(writer, "toner", hit_ids=["a"])
    s2 = track_query(writer, "paper", hit_ids=["b"], timestamp="2026-03-03T10:00:00Z")
    track_events(writer, interaction("click", s1, "a", 1), interaction("click", s2, "b", 1, when="10:02",
                                                                            timestamp="2026-03-03T10:02:00Z"))
    rollups.refresh()

    rollups.forget(org.id, start=DAY + timedelta(days=1, hours=9), end=DAY + timedelta(days=1, hours=11))
    assert list(SearchFact.objects.values_list("query_id", flat=True)) == [s1]
    assert not RankHour.objects.filter(hour__gte=DAY + timedelta(days=1)).exists()

    Event.objects.filter(query_id=s2).delete()
    assert_rollups_match(org)
    assert SearchFact.objects.get(query_id=s2).abandoned == 1


def test_mixed_data_in_batches_is_rolled_up_as_the_raw_definitions_count_it(org):
    """Seeded random searches and events (some before their query, some impressions, ordinals beyond the maximum
    rank, two applications, three days), ingested in batches with a refresh between."""
    randomness = random.Random(19)
    writer = tracker(org)
    query_ids = [f"Q{number}" for number in range(40)]
    for batch in range(4):
        for query_id in query_ids[batch * 10:(batch + 1) * 10]:
            shown = [f"d{randomness.randrange(8)}" for _ in range(randomness.randrange(1, 6))]
            hits = randomness.choice([None, [], shown])
            track_query(writer, randomness.choice(["toner", "paper", "ink"]), hit_ids=hits, query_id=query_id,
                        application=randomness.choice(["shop", "blog"]), timestamp=_moment(randomness))
        events = []
        for _ in range(30):
            action = randomness.choice(["impression", "click", "click", "scroll"])
            ordinal = randomness.choice([1, 2, 3, 4, 5, 6, 0, 9])
            events.append(interaction(action, randomness.choice(query_ids), f"d{randomness.randrange(8)}", ordinal,
                                      application=randomness.choice(["shop", "blog"]), timestamp=_moment(randomness)))
        track_events(writer, *events)
        assert_rollups_match(org)


def test_the_command_refreshes_and_reports(org, capsys):
    track_query(tracker(org), "toner", hit_ids=["a"])

    call_command("refresh_analytics")

    assert SearchFact.objects.filter(organization=org).count() == 1
    assert "1 organisation" in capsys.readouterr().out


def _moment(randomness) -> str:
    moment = DAY - timedelta(hours=6) + timedelta(minutes=randomness.randrange(3 * 24 * 60))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
