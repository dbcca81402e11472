"""Many new rows in one statement: PostgreSQL's ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

``bulk_create`` compiles one INSERT with a placeholder per value, some 15,000 for a batch of 1000 events, each
adapted in Python: the larger part of a batch's time. ``COPY`` streams the rows instead, written by psycopg's C
code. It is still one statement in the caller's transaction, so a batch stays all or nothing, and a duplicate
identifier still raises ``IntegrityError`` (and a lost connection ``OperationalError``), as the INSERT would.

Rows are prepared by each field as ``save()`` would (``pre_save``, then ``get_db_prep_save``), except text, which
Django passes on unchanged anyway: preparing every value took a third of a batch's time. The auto-generated primary
key is left to the database and not read back, since tracked documents are known by their own identifiers.
"""

import time

from django.db import connections, models, router

# Fields whose ``str`` (or ``None``) value Django sends to the database as it is.
_TEXT_FIELDS = (models.CharField, models.TextField)


def insert(model, rows: list) -> None:
    """Insert ``rows`` (unsaved instances of ``model``) in one statement; none for no rows."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows)
        return
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    values = [_value_getter(field, connection) for field in fields]
    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # The psycopg cursor under Django's wrapper: Django's has no COPY.
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([value(row) for value in values])
    if connection.queries_logged:
        # As Django's debug cursor logs its statements, so that query counts (tests, debug tools) see this one.
        connection.queries_log.append({"sql": statement, "time": f"{time.monotonic() - started:.3f}"})


def _value_getter(field, connection):
    """A function giving ``field``'s value of a row, ready for the database."""

    def prepared(row):
        return field.get_db_prep_save(field.pre_save(row, True), connection)

    if type(field) not in _TEXT_FIELDS:
        return prepared
    attname = field.attname

    def text(row):
        value = getattr(row, attname)
        return value if value is None or type(value) is str else prepared(row)

    return text
