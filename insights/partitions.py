"""Monthly partitions of the queries and events tables on PostgreSQL: made ahead of time, dropped when expired.

On PostgreSQL both tables are partitioned by range of ``timestamp``, one partition a month (UTC), named
``<table>_pYYYY_MM``, plus a DEFAULT partition, ``<table>_default``, for a row of a month that has no partition (a
far-future or far-past timestamp): no tracked document is refused for its time. ``ensure_partitions`` makes the
coming months' partitions (``manage.py ensure_partitions``, run by scripts/serve.sh before serving and by cron
daily: docs/data.md); a month's rows already in the DEFAULT partition move into its new partition as it is
attached, keeping their ids. ``drop_expired`` drops whole months instead of deleting rows one by one: no dead
tuples, no bloat, no vacuum.

The identifiers that must stay unique in an organisation across months are kept in an unpartitioned table beside
each (``insights.identifiers``): the rows of a dropped partition leave it too, so that an identifier used again
after its month expired is new again.

SQLite keeps plain tables: ``is_partitioned()`` is False there, and the other functions do nothing.
"""

import datetime
import re

from django.db import connection, transaction

from insights.models import Event, Query
from project.conf import ubi_settings

# Partitioned models and the identifier each keeps unique in an organisation.
PARTITIONED = {Event: "event_id", Query: "query_id"}
# One transaction-scoped advisory lock serialises the functions that add or drop partitions, on every machine.
_LOCK = 0x7562695F70617274  # "ubi_part"
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def is_partitioned(model=Event) -> bool:
    """Whether ``model``'s table is a partitioned table (False on SQLite).

    Known once per process and database: only a migration changes it, and it calls ``forget``. The service reads it
    on a retry, which costs no query more than it did on plain tables."""
    if connection.vendor != "postgresql":
        return False
    key = (connection.settings_dict["NAME"], model._meta.db_table)
    if key not in _partitioned:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))", [key[1]]
            )
            _partitioned[key] = cursor.fetchone()[0]
    return _partitioned[key]


def forget() -> None:
    """Forget what ``is_partitioned`` knows: the tables were converted (the migration, either way)."""
    _partitioned.clear()


_partitioned: dict[tuple[str, str], bool] = {}


def month_start(moment: datetime.datetime, months: int = 0) -> datetime.datetime:
    """The first instant (UTC) of the month of ``moment``, ``months`` months later."""
    moment = moment.astimezone(datetime.timezone.utc)
    index = moment.year * 12 + moment.month - 1 + months
    return datetime.datetime(index // 12, index % 12 + 1, 1, tzinfo=datetime.timezone.utc)


def partition_name(table: str, start: datetime.datetime) -> str:
    return f"{table}_p{start:%Y_%m}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def ensure_partitions(*, months_ahead: int | None = None, now: datetime.datetime | None = None) -> list[str]:
    """Make the partitions of this month and the ``months_ahead`` next ones (default ``PARTITION_MONTHS_AHEAD``)
    that do not exist yet, for every partitioned table, and return their names ([] where not partitioned).

    Rows of such a month already in the DEFAULT partition move into the new partition in the same transaction,
    as it is attached (``ATTACH PARTITION`` locks the parent table less than ``CREATE TABLE ... PARTITION OF``).
    """
    if months_ahead is None:
        months_ahead = ubi_settings.PARTITION_MONTHS_AHEAD
    now = now or datetime.datetime.now(datetime.timezone.utc)
    made = []
    if connection.vendor != "postgresql":
        return made
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        for model in PARTITIONED:
            if not is_partitioned(model):
                continue
            table = model._meta.db_table
            existing = {name for name, _start, _end in partitions(model)}
            for months in range(months_ahead + 1):
                start = month_start(now, months)
                name = partition_name(table, start)
                if name not in existing:
                    add_partition(cursor, table, start)
                    made.append(name)
    return made


def add_partition(cursor, table: str, start: datetime.datetime) -> None:
    """Attach a new partition of ``table`` for the month starting at ``start``, moving that month's rows out of
    the DEFAULT partition into it first (an attach refuses a range the DEFAULT partition holds rows of)."""
    end = month_start(start, 1)
    name = partition_name(table, start)
    default = default_partition_name(table)
    cursor.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)')
    cursor.execute(
        f'WITH moved AS (DELETE FROM "{default}" WHERE "timestamp" >= %s AND "timestamp" < %s RETURNING *) '
        f'INSERT INTO "{name}" SELECT * FROM moved',
        [start, end],
    )
    cursor.execute(f"ALTER TABLE \"{table}\" ATTACH PARTITION \"{name}\" FOR VALUES FROM ('{start.isoformat()}') "
                   f"TO ('{end.isoformat()}')")


def partitions(model) -> list[tuple[str, datetime.datetime, datetime.datetime]]:
    """The monthly partitions of ``model``'s table as ``(name, start, end)``, oldest first; without the DEFAULT one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname, pg_get_expr(child.relpartbound, child.oid) FROM pg_inherits "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE pg_inherits.inhparent = to_regclass(%s)",
            [model._meta.db_table],
        )
        found = []
        for name, bound in cursor.fetchall():
            if match := _BOUND.search(bound):
                start, end = (datetime.datetime.fromisoformat(text) for text in match.groups())
                found.append((name, start, end))
    return sorted(found, key=lambda partition: partition[1])


def drop_expired(cutoff: datetime.datetime) -> list[str]:
    """Drop every monthly partition whose whole range is before ``cutoff``, of every partitioned table, and
    return their names ([] where not partitioned).

    Their rows' identifiers leave the identifiers table in the same transaction. Rows before ``cutoff`` in the
    DEFAULT partition or in the partition ``cutoff`` falls in stay: deleting those is row by row (retention).
    """
    dropped = []
    if connection.vendor != "postgresql":
        return dropped
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        for model, id_field in PARTITIONED.items():
            if not is_partitioned(model):
                continue
            table = model._meta.db_table
            for name, _start, end in partitions(model):
                if end > cutoff:
                    break
                cursor.execute(
                    f'DELETE FROM "{table}_identifier" AS identifier USING "{name}" AS expired '
                    f"WHERE identifier.organization_id = expired.organization_id "
                    f'AND identifier."{id_field}" = expired."{id_field}"'
                )
                cursor.execute(f'DROP TABLE "{name}"')
                dropped.append(name)
    return dropped
