"""Serve the events' ``session_id``, ``client_id`` and ``user_id`` filters on PostgreSQL's partitioned table by one
GIN index (``btree_gin``, pending list on) in place of three hash indexes (docs/data.md, "Indexes").

A hash index keeps every entry of one value in one bucket and walks that bucket's chain of overflow pages to the
end on each insert: a common value (one busy client, a placeholder user id) made every insert of it slower than
the last. The GIN index appends new entries to its pending list and merges them in sorted bulk, so an insert costs
the same whatever the value, and one index costs less than three. Plain tables (SQLite, and PostgreSQL before
insights 0004) have no index for these filters and are left alone.
"""

from django.db import migrations

HASH_INDEXES = {column: f"ubi_event_{column}_hash" for column in ("session_id", "client_id", "user_id")}
SUBJECTS_INDEX = "ubi_event_subjects_gin"


def events_partitioned(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = 'insights_event'::regclass)")
        return cursor.fetchone()[0]


def to_gin(apps, schema_editor):
    if not events_partitioned(schema_editor):
        return
    # Trusted since PostgreSQL 13: the database's owner may create it. Left in place when migrating back.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for name in HASH_INDEXES.values():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    schema_editor.execute(
        f'CREATE INDEX "{SUBJECTS_INDEX}" ON "insights_event" USING gin (session_id, client_id, user_id) '
        "WITH (fastupdate = on)"
    )


def to_hash(apps, schema_editor):
    if not events_partitioned(schema_editor):
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{SUBJECTS_INDEX}"')
    for column, name in HASH_INDEXES.items():
        schema_editor.execute(f'CREATE INDEX "{name}" ON "insights_event" USING hash ({column})')


class Migration(migrations.Migration):

    dependencies = [
        ("insights", "0004_monthly_partitions"),
    ]

    operations = [
        migrations.RunPython(to_gin, to_hash),
    ]
