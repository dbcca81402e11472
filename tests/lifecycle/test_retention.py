"""Retention: each organisation's rows past its period go, to the microsecond, and nothing of another's.

A row exactly at the cutoff (``now - days``) stays; one a microsecond older goes.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from analytics import rollups
from analytics.models import RankHour, SearchFact
from insights import partitions
from insights.models import Event, Query
from lifecycle import retention
from lifecycle.retention import enforce_retention, partition_cutoff, set_retention
from tests.support import factories
from tests.support.lifecycle import event_ids, query_ids, track_event, track_query
from tests.support.threads import run_together

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
JANUARY = datetime(2026, 1, 10, tzinfo=UTC)
ON_POSTGRESQL = django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
TICK = timedelta(microseconds=1)


@pytest.fixture
def orgs(db):
    """A keeps 30 days, B 10, C forever (the default, 0); each with a query and an event at the same moments."""
    a, b, c = factories.make_org("A"), factories.make_org("B"), factories.make_org("C")
    set_retention(a, days=30)
    set_retention(b, days=10)
    return a, b, c


def track_at(organization, *moments) -> dict:
    """A query and an event at each moment, named by it."""
    return {
        moment: (track_query(organization, moment), track_event(organization, moment)) for moment in moments
    }


def test_each_organisation_loses_exactly_its_rows_past_its_period(orgs):
    a, b, c = orgs
    a_cutoff, b_cutoff = NOW - timedelta(days=30), NOW - timedelta(days=10)
    moments = [a_cutoff - TICK, a_cutoff, b_cutoff - TICK, b_cutoff, NOW - timedelta(days=400)]
    tracked = {organization: track_at(organization, *moments) for organization in orgs}

    report = enforce_retention(now=NOW)

    def kept(organization, *at):
        return {tracked[organization][moment][0] for moment in at}, {tracked[organization][moment][1] for moment in at}

    assert (query_ids(a), event_ids(a)) == kept(a, a_cutoff, b_cutoff - TICK, b_cutoff)
    assert (query_ids(b), event_ids(b)) == kept(b, b_cutoff)
    assert (query_ids(c), event_ids(c)) == kept(c, *moments)
    assert {(expired.organization, expired.queries, expired.events) for expired in report.organizations} == {
        ("A", 2, 2), ("B", 4, 4)
    }
    assert report.rows == 12


def test_a_second_run_deletes_nothing_and_records_nothing(orgs):
    a, _b, _c = orgs
    track_at(a, NOW - timedelta(days=31))
    assert enforce_retention(now=NOW).rows == 2
    trail = AuditEvent.objects.count()
    assert enforce_retention(now=NOW).rows == 0
    assert AuditEvent.objects.count() == trail


def test_each_organisation_s_deletion_is_audited_with_its_counts(orgs):
    a, b, _c = orgs
    track_at(a, NOW - timedelta(days=31), NOW - timedelta(days=32))
    enforce_retention(now=NOW)
    record = AuditEvent.objects.get(object_type=retention.EXPIRED_OBJECT)
    assert record.organization_id == a.pk and record.action == "deleted"
    assert record.changes == {"queries": 2, "events": 2, "before": "2026-05-16T12:00:00Z"}
    assert not AuditEvent.objects.filter(object_type=retention.EXPIRED_OBJECT, organization=b).exists()


def test_the_default_period_applies_to_an_organisation_without_its_own(orgs, settings):
    settings.UBI = {**getattr(django_settings, "UBI", {}), "RETENTION_DAYS_DEFAULT": 100}
    _a, _b, c = orgs
    old, young = NOW - timedelta(days=100) - TICK, NOW - timedelta(days=100)
    tracked = track_at(c, old, young)
    enforce_retention(now=NOW)
    assert query_ids(c) == {tracked[young][0]}


def test_rows_go_in_batches(orgs, settings):
    settings.UBI = {**getattr(django_settings, "UBI", {}), "LIFECYCLE_BATCH_SIZE": 2}
    a, _b, _c = orgs
    track_at(a, *[NOW - timedelta(days=40, minutes=minute) for minute in range(5)])
    batches = []
    report = enforce_retention(now=NOW, progress=batches.append)
    assert batches == [2, 2, 1, 2, 2, 1]  # the queries, then the events
    assert report.rows == 10 and not Query.objects.filter(organization=a).exists()


def test_the_count_for_the_progress_bar_is_what_goes(orgs):
    a, b, c = orgs
    for organization in orgs:
        track_at(organization, NOW - timedelta(days=31), NOW - timedelta(days=11), NOW)
    assert retention.expired_count(NOW) == 2 + 4
    assert enforce_retention(now=NOW).rows == 6


def test_partitions_go_before_the_smallest_effective_cutoff(orgs):
    """An organisation that keeps forever holds partitions back from its oldest row on; without rows, not at all."""
    a, b, c = orgs
    cutoffs = retention.cutoffs(NOW)
    assert partition_cutoff(cutoffs) == NOW - timedelta(days=30)
    track_event(c, NOW - timedelta(days=45))
    assert partition_cutoff(cutoffs) == NOW - timedelta(days=45)
    track_query(c, NOW - timedelta(days=50))
    assert partition_cutoff(cutoffs) == NOW - timedelta(days=50)


def run_and_close():
    try:
        return enforce_retention(now=NOW)
    finally:
        connection.close()  # the thread's own connection, which would hold the test database open


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRESQL, reason="two runs at once need two writers; SQLite has one at a time")
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_delete_each_row_once(settings):
    settings.UBI = {**getattr(django_settings, "UBI", {}), "LIFECYCLE_BATCH_SIZE": 3}
    a = factories.make_org("A")
    set_retention(a, days=1)
    for minute in range(20):
        track_event(a, NOW - timedelta(days=2, minutes=minute))
    reports = run_together(run_and_close, run_and_close)
    assert sum(report.rows for report in reports) == 20
    assert not Event.objects.filter(organization=a).exists()


@pytest.fixture
def january(orgs):
    """January's partitions, in a committed transaction: a drop refuses a table with rows the same transaction
    inserted under a deferred foreign key, which a test's one transaction would be. Dropped afterwards."""
    partitions.ensure_partitions(now=JANUARY, months_ahead=0)
    yield
    partitions.drop_expired(datetime(2026, 2, 1, tzinfo=UTC))


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite keeps plain tables")
@pytest.mark.django_db(transaction=True)
def test_a_month_every_organisation_lets_go_is_dropped_whole(orgs, january):
    a, b, c = orgs
    set_retention(c, days=100)
    for organization in orgs:
        track_at(organization, JANUARY)
    january = ["insights_event_p2026_01", "insights_query_p2026_01"]

    report = enforce_retention(now=NOW)

    assert sorted(report.partitions) == january
    assert not Event.objects.filter(timestamp__lt=NOW - timedelta(days=100)).exists()
    assert report.organizations == []  # the rows went with their month: nothing was left to delete one by one
    record = AuditEvent.objects.get(object_type="partition")
    assert record.organization_id is None and sorted(record.changes["partitions"]) == january


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite keeps plain tables")
@pytest.mark.django_db(transaction=True)
def test_an_organisation_that_keeps_forever_holds_its_months_back(orgs, january):
    a, b, c = orgs
    kept = track_at(c, JANUARY)[JANUARY]
    track_at(a, JANUARY)

    report = enforce_retention(now=NOW)

    assert report.partitions == []
    assert [(expired.organization, expired.queries, expired.events) for expired in report.organizations] == [
        ("A", 1, 1)
    ]
    assert (query_ids(c), event_ids(c)) == ({kept[0]}, {kept[1]})


# The commands.


def test_set_retention_sets_audits_and_refuses_a_negative_period(orgs, capsys):
    a, _b, _c = orgs
    call_command("set_retention", "--org", "A", "--days", "90")
    assert capsys.readouterr().out == "A: queries and events are kept 90 days.\n"
    assert retention.retention_days(a.pk) == 90
    record = AuditEvent.objects.filter(object_type="retention period").first()
    assert record.actor == "manage.py set_retention"
    assert record.changes == {"fields": ["days"], "days": 90, "previous_days": 30}
    call_command("set_retention", "--org", str(a.pk), "--days", "0")
    assert capsys.readouterr().out == "A: queries and events are kept forever.\n"
    with pytest.raises(CommandError, match="--days: A whole number of days"):
        call_command("set_retention", "--org", "A", "--days", "-1")
    with pytest.raises(CommandError, match="No organisation 'Nobody'"):
        call_command("set_retention", "--org", "Nobody", "--days", "1")


def test_enforce_retention_prints_what_went(orgs, capsys):
    a, _b, _c = orgs
    track_at(a, timezone.now() - timedelta(days=31))
    call_command("enforce_retention")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("A: 1 queries, 1 events before ")
    assert out[-1] == "2 rows deleted."
    call_command("enforce_retention")
    assert capsys.readouterr().out == "0 rows deleted.\n"


def test_the_aggregates_of_the_expired_rows_go_with_them(orgs):
    a, _b, _c = orgs
    old, young = NOW - timedelta(days=40), NOW - timedelta(days=5)
    tracked = track_at(a, old, young)
    rollups.refresh()
    assert set(SearchFact.objects.filter(organization=a).values_list("query_id", flat=True)) == {
        tracked[old][0], tracked[young][0]
    }
    enforce_retention(now=NOW)
    # Gone at once, before any refresh: no figure counts an expired search meanwhile.
    assert set(SearchFact.objects.filter(organization=a).values_list("query_id", flat=True)) == {tracked[young][0]}
    rollups.refresh()
    assert set(SearchFact.objects.filter(organization=a).values_list("query_id", flat=True)) == {tracked[young][0]}
    assert not RankHour.objects.filter(organization=a, hour__lt=NOW - timedelta(days=30)).exists()
