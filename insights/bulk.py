"""New rows in one statement each time: one ``INSERT`` for a row, PostgreSQL's ``COPY`` for more (``bulk_create``
elsewhere).

Rows are plain dicts of field values (``attname`` keys), not model instances: building a thousand instances only to
read their values back cost a fifth of a batch, and compiling an ORM ``INSERT`` for a single row cost more than
the row. The statements are written once per model instead.

``bulk_create`` compiles one INSERT with a placeholder per value, some 15,000 for a batch of 1000 events, each
adapted in Python: the larger part of a batch's time. ``COPY`` streams the rows instead, written by psycopg's C
code. It is still one statement in the caller's transaction, so a batch stays all or nothing, and a duplicate
identifier still raises ``IntegrityError`` (and a lost connection ``OperationalError``), as the INSERT would.

Each value is prepared for the database as ``save()`` would (``get_db_prep_save``), except text, which Django passes
on unchanged anyway (a text value must be a ``str`` or ``None``), JSON, written as JSON text by ``insights.jsontext``
(Django's adapter and psycopg's dumper together cost a large part of a batch: docs/performance.md), and on
PostgreSQL a ``UUID`` or an aware ``datetime``, which Django hands psycopg unchanged (``_preparer``). So a row must
already hold what ``pre_save`` would give, which rules out ``auto_now`` fields. The auto-generated primary key is
left to the database and not read back, since tracked documents are known by their own identifiers.
"""

import datetime
import functools
import operator
import time
import uuid
from collections.abc import Callable
from typing import NamedTuple

from django.db import connections, models, router

from insights import jsontext

# Fields whose value Django sends to the database as it is.
_TEXT_FIELDS = (models.CharField, models.TextField)


def insert(model, rows: list[dict]) -> None:
    """Insert ``rows`` (``{attname: value}`` for every concrete field but the auto key) in one statement."""
    if not rows:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    layout = _layout(model, alias)
    if len(rows) == 1:
        with connection.cursor() as cursor:
            cursor.execute(layout.insert, layout.values(rows[0], connection))
    elif connection.vendor == "postgresql":
        _copy(connection, layout, rows)
    else:
        model.objects.bulk_create([model(**row) for row in rows])


class _Layout(NamedTuple):
    """A model's columns, text first (one C call, ``itemgetter``, takes those from a row), then JSON, then the
    rest, and its statements."""

    text_values: operator.itemgetter
    json: tuple[str, ...]  # the attnames of JSON fields with the default encoder
    prepared: tuple[tuple[str, Callable], ...]  # the other fields: attname and _preparer
    insert: str  # INSERT INTO table (columns) VALUES (%s, ...)
    copy: str  # COPY table (columns) FROM STDIN

    def values(self, row: dict, connection) -> tuple:
        # None is SQL NULL, as the JSONField itself has it.
        json = [None if (value := row[name]) is None else jsontext.dumps(value) for name in self.json]
        prepared = [prepare(row[attname], connection) for attname, prepare in self.prepared]
        return (*self.text_values(row), *json, *prepared)


@functools.cache
def _layout(model, alias: str) -> _Layout:
    quote_name = connections[alias].ops.quote_name
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    text = [field for field in fields if type(field) in _TEXT_FIELDS]
    json = [field for field in fields if type(field) is models.JSONField and field.encoder is None]
    prepared = [field for field in fields if field not in text and field not in json]
    table = quote_name(model._meta.db_table)
    columns = ", ".join(quote_name(field.column) for field in text + json + prepared)
    return _Layout(
        text_values=operator.itemgetter(*(field.attname for field in text)),
        json=tuple(field.attname for field in json),
        prepared=tuple((field.attname, _preparer(field, connections[alias].vendor)) for field in prepared),
        insert=f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})",
        copy=f"COPY {table} ({columns}) FROM STDIN",
    )


def _preparer(field, vendor: str) -> Callable:
    """How a value of ``field`` is prepared: ``get_db_prep_save``, as ``save()`` does, but for the values Django's
    PostgreSQL backend hands psycopg unchanged anyway, a ``UUID`` for a UUID column (or a key to one) and an aware
    ``datetime`` for a date-time column: those are recognised by type and passed on. Django's way to the same
    result cost a twentieth of a batch's CPU (the organisation and the time of every row)."""
    prepare = field.get_db_prep_save
    column = field.target_field if field.is_relation else field
    if vendor == "postgresql" and isinstance(column, models.UUIDField):
        return lambda value, connection: value if type(value) is uuid.UUID else prepare(value, connection)
    if vendor == "postgresql" and isinstance(column, models.DateTimeField):
        return lambda value, connection: (
            value if type(value) is datetime.datetime and value.utcoffset() is not None else prepare(value, connection)
        )
    return prepare


def _copy(connection, layout: _Layout, rows: list[dict]) -> None:
    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # The psycopg cursor under Django's wrapper: Django's has no COPY.
        with cursor.cursor.copy(layout.copy) as copy:
            for row in rows:
                copy.write_row(layout.values(row, connection))
    if connection.queries_logged:
        # As Django's debug cursor logs its statements, so that query counts (tests, debug tools) see this one.
        connection.queries_log.append({"sql": layout.copy, "time": f"{time.monotonic() - started:.3f}"})
