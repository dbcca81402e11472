"""Monthly partitions on PostgreSQL (insights.partitions, insights.identifiers): tracking, retries, conflicts and
reads across a partition boundary, new months, expired months, the DEFAULT partition. SQLite keeps plain tables."""

import datetime

import grpc
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from insights import partitions
from insights.models import Event, Query
from tests.support.grpc import rejected, stream_of
from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, QUERIES, make_event, make_query

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
on_postgresql = pytest.mark.skipif(not ON_POSTGRESQL, reason="partitions are PostgreSQL's; SQLite keeps plain tables")
UTC = datetime.timezone.utc


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def partition_of(model, id_field: str, identifier: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT tableoid::regclass::text FROM "{model._meta.db_table}" WHERE "{id_field}" = %s', [identifier]
        )
        return cursor.fetchone()[0]


def events_of(api, **filters):
    return api.get(EVENTS, params={"pageSize": 1000, **filters}).json()["items"]


@pytest.fixture
def boundary():
    """The first instant of next month: both sides have their partition (this month's and the next are made
    ahead, by the migration and ensure_partitions alike)."""
    return partitions.month_start(timezone.now(), 1)


@pytest.fixture
def scratch_months():
    """Drops the partitions a test made for months of its own."""
    made = []
    yield made
    with connection.cursor() as cursor:
        for name in made:
            cursor.execute(f'DROP TABLE IF EXISTS "{name}"')


@pytest.mark.django_db
def test_sqlite_keeps_plain_tables():
    if ON_POSTGRESQL:
        assert partitions.is_partitioned(Event) and partitions.is_partitioned(Query)
    else:
        assert not partitions.is_partitioned(Event)
        assert partitions.drop_expired(timezone.now()) == []
        assert partitions.ensure_partitions() == []


@pytest.mark.postgres
@on_postgresql
@pytest.mark.django_db
def test_both_tables_are_partitioned_by_month_with_a_default_partition():
    this_month = partitions.month_start(timezone.now())
    for model in (Event, Query):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT partstrat, pg_get_partkeydef(partrelid) FROM pg_partitioned_table "
                "WHERE partrelid = %s::regclass",
                [table],
            )
            assert cursor.fetchone() == ("r", 'RANGE ("timestamp")')
            cursor.execute(
                "SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = inhrelid "
                "WHERE inhparent = %s::regclass",
                [table],
            )
            children = {name for (name,) in cursor.fetchall()}
        ahead = {partitions.partition_name(table, partitions.month_start(this_month, n)) for n in range(4)}
        assert ahead | {f"{table}_default"} <= children


def index_methods(table: str) -> dict[str, str]:
    """``{index definition's columns: access method}`` of ``table``'s own indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT am.amname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = %s::regclass",
            [table],
        )
        return {definition.split(" USING ", 1)[1].split(" ", 1)[1]: method for method, definition in cursor.fetchall()}


@pytest.mark.postgres
@on_postgresql
def test_the_subject_filters_share_one_gin_index_in_every_partition_new_months_included(api, scratch_months):
    """session_id, client_id and user_id: one GIN index with a pending list, no hash index (whose inserts slow down
    as one value repeats), made in a new month's partition too, and the one a filter by any of them reads."""
    scratch_months += ["insights_event_p2032_05", "insights_query_p2032_05"]
    partitions.ensure_partitions(months_ahead=0, now=datetime.datetime(2032, 5, 1, tzinfo=UTC))
    this_month = partitions.partition_name("insights_event", partitions.month_start(timezone.now()))
    for table in ("insights_event", this_month, "insights_event_p2032_05", "insights_event_default"):
        methods = index_methods(table)
        assert methods["(session_id, client_id, user_id) WITH (fastupdate='on')"] == "gin", table
        assert "hash" not in methods.values(), table

    assert api.post(EVENTS, json=[make_event(event_id=f"e{n}", user_id=f"u{n % 2}") for n in range(6)]).status_code == 201
    assert sorted(e["event_id"] for e in events_of(api, user_id="u1")) == ["e1", "e3", "e5"]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for column in ("session_id", "client_id", "user_id"):
                cursor.execute(f"EXPLAIN SELECT id FROM insights_event WHERE {column} = 'u1'")
                plan = "\n".join(line for (line,) in cursor.fetchall())
                assert f"Bitmap Index Scan on {this_month}_session_id_client_id_user_id_idx" in plan, plan
        finally:
            cursor.execute("RESET enable_seqscan")


@pytest.mark.postgres
@on_postgresql
def test_tracking_retries_conflicts_and_reads_across_a_month_boundary(api, boundary):
    before, after = boundary - datetime.timedelta(milliseconds=1), boundary
    batch = [
        make_event(event_id="late", session_id="s1", timestamp=iso(before)),
        make_event(event_id="early", session_id="s1", action_name="purchase", timestamp=iso(after)),
    ]
    assert api.post(EVENTS, json=batch).json() == {"event_ids": ["late", "early"]}
    assert partition_of(Event, "event_id", "late") == partitions.partition_name("insights_event", before.replace(day=1))
    assert partition_of(Event, "event_id", "early") == partitions.partition_name("insights_event", boundary)

    # Retries on both sides, whole and one by one, store nothing more.
    assert api.post(EVENTS, json=batch).json() == {"event_ids": ["late", "early"]}
    assert api.post(EVENTS, json=batch[1]).json() == {"event_id": "early"}
    assert Event.objects.count() == 2
    # The same event_id with other content is a conflict, in the other month as in its own.
    for moved in (after, before - datetime.timedelta(days=1), after + datetime.timedelta(days=1)):
        reused = {**batch[0], "timestamp": iso(moved)}
        assert_problem(api.post(EVENTS, json=[make_event(event_id="new"), reused]), 409)
    assert sorted(Event.objects.values_list("event_id", flat=True)) == ["early", "late"]

    # Reads: newest first across the boundary, pages, filters and the time range's edges.
    assert [e["event_id"] for e in events_of(api, session_id="s1")] == ["early", "late"]
    pages = [api.get(EVENTS, params={"pageSize": 1, "page": n}).json() for n in (1, 2)]
    assert [page["items"][0]["event_id"] for page in pages] == ["early", "late"]
    assert [e["event_id"] for e in events_of(api, **{"from": iso(boundary)})] == ["early"]
    assert [e["event_id"] for e in events_of(api, to=iso(boundary))] == ["late"]
    assert [e["event_id"] for e in events_of(api, action_name="purchase")] == ["early"]


@pytest.mark.postgres
@on_postgresql
def test_queries_retried_and_reused_across_a_month_boundary(api, boundary):
    before, after = boundary - datetime.timedelta(seconds=1), boundary
    query = make_query(query_id="q-1", timestamp=iso(before))
    assert api.post(QUERIES, json=query).status_code == 201
    assert api.post(QUERIES, json=query).status_code == 201
    assert_problem(api.post(QUERIES, json={**query, "timestamp": iso(after)}), 409)
    assert api.post(QUERIES, json=make_query(query_id="q-2", timestamp=iso(after))).status_code == 201
    assert [q["query_id"] for q in api.get(QUERIES).json()["items"]] == ["q-2", "q-1"]
    assert partition_of(Query, "query_id", "q-2") == partitions.partition_name("insights_query", boundary)


@pytest.mark.postgres
@on_postgresql
def test_the_default_partition_keeps_rows_of_months_without_one(api):
    far = [
        make_event(event_id="future", timestamp="2999-01-01T00:00:00Z"),
        make_event(event_id="past", timestamp="1971-06-01T00:00:00Z"),
    ]
    assert api.post(EVENTS, json=far).status_code == 201
    assert {partition_of(Event, "event_id", e) for e in ("future", "past")} == {"insights_event_default"}
    assert [e["event_id"] for e in events_of(api)] == ["future", "past"]
    assert api.post(EVENTS, json=far).status_code == 201  # a retry
    assert_problem(api.post(EVENTS, json={**far[0], "message": "other"}), 409)


@pytest.mark.postgres
@on_postgresql
def test_a_new_month_gets_its_partition_and_the_default_partitions_rows_of_it(api, scratch_months):
    month = datetime.datetime(2031, 3, 1, tzinfo=UTC)
    tracked = api.post(EVENTS, json=make_event(event_id="early-bird", timestamp="2031-03-10T08:00:00Z"))
    assert tracked.status_code == 201
    assert partition_of(Event, "event_id", "early-bird") == "insights_event_default"
    row_id = Event.objects.get(event_id="early-bird").id

    scratch_months += ["insights_event_p2031_03", "insights_query_p2031_03"]
    assert partitions.ensure_partitions(months_ahead=0, now=month) == scratch_months
    assert partitions.ensure_partitions(months_ahead=0, now=month) == []  # made once
    assert partition_of(Event, "event_id", "early-bird") == "insights_event_p2031_03"
    assert Event.objects.get(event_id="early-bird").id == row_id
    # Its identifier stayed: a retry is one, other content a conflict.
    assert api.post(EVENTS, json=make_event(event_id="early-bird", timestamp="2031-03-10T08:00:00Z")).status_code == 201
    assert_problem(api.post(EVENTS, json=make_event(event_id="early-bird", timestamp="2031-04-10T08:00:00Z")), 409)
    assert [e["event_id"] for e in events_of(api)] == ["early-bird"]


@pytest.mark.postgres
@on_postgresql
def test_drop_expired_drops_exactly_the_months_before_the_cutoff(api, scratch_months):
    scratch_months += [f"insights_{table}_p2020_{month}" for month in ("01", "02") for table in ("event", "query")]
    assert len(partitions.ensure_partitions(months_ahead=1, now=datetime.datetime(2020, 1, 1, tzinfo=UTC))) == 4
    batch = [
        make_event(event_id="january", timestamp="2020-01-31T23:59:59Z"),
        make_event(event_id="february", timestamp="2020-02-01T00:00:00Z"),
        make_event(event_id="now", timestamp=iso(timezone.now())),
        make_event(event_id="older-but-default", timestamp="2019-12-31T00:00:00Z"),
    ]
    assert api.post(EVENTS, json=batch).status_code == 201
    assert api.post(QUERIES, json=make_query(query_id="jan-q", timestamp="2020-01-15T00:00:00Z")).status_code == 201

    dropped = partitions.drop_expired(datetime.datetime(2020, 2, 1, 12, tzinfo=UTC))
    assert sorted(dropped) == ["insights_event_p2020_01", "insights_query_p2020_01"]
    assert sorted(Event.objects.values_list("event_id", flat=True)) == ["february", "now", "older-but-default"]
    assert not Query.objects.exists()
    assert partitions.drop_expired(datetime.datetime(2020, 2, 1, 12, tzinfo=UTC)) == []
    # A dropped row's identifier is free again; the others' are still kept.
    assert api.post(EVENTS, json=make_event(event_id="january", message="again")).status_code == 201
    assert_problem(api.post(EVENTS, json=make_event(event_id="february", message="other")), 409)


@pytest.mark.postgres
@on_postgresql
def test_a_grpc_stream_across_a_month_boundary_is_stored_retried_and_refused_alike(ubi_stub, auth, boundary):
    documents = [
        make_event(event_id=f"g{index}", timestamp=iso(boundary + datetime.timedelta(seconds=index)))
        for index in range(-3, 3)
    ]
    assert list(ubi_stub.TrackEvents(stream_of(documents), metadata=auth).event_ids) == [
        d["event_id"] for d in documents
    ]
    assert list(ubi_stub.TrackEvents(stream_of(documents[2:4]), metadata=auth).event_ids) == ["g-1", "g0"]
    assert Event.objects.count() == 6
    reused = {**documents[0], "timestamp": iso(boundary + datetime.timedelta(days=2))}
    assert rejected(ubi_stub.TrackEvents, stream_of([reused]), metadata=auth).code() == grpc.StatusCode.ALREADY_EXISTS
    assert Event.objects.count() == 6
