"""The SQL of the analytics queries that differs between SQLite and PostgreSQL (reading JSON, mostly): the one
place.

Each function returns a fragment for the connection's vendor. Both databases give the same answers: a number is
read only from a JSON number (a string ``"3"`` is NULL, so it never reaches a cast and never makes a query fail);
an object id is read as text, whatever JSON scalar it was sent as.
"""

import contextlib
import json
from datetime import datetime

from django.db import connection, transaction

# The UTC buckets the rollups use: the strftime format that truncates a SQLite timestamp to one.
_SQLITE_BUCKETS = {"hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d 00:00:00"}

def vendor() -> str:
    return connection.vendor


@contextlib.contextmanager
def aggregate_cursor():
    """A cursor for one aggregate statement over many rows. On PostgreSQL it runs without JIT compilation, which
    costs these statements more than it saves them (docs/analytics.md, "Performance")."""
    with contextlib.ExitStack() as stack:
        if vendor() == "postgresql":
            stack.enter_context(transaction.atomic())
        cursor = stack.enter_context(connection.cursor())
        if vendor() == "postgresql":
            cursor.execute("SET LOCAL jit = off")
        yield cursor


def evaluated_once(select: str, alias: str) -> str:
    """``select`` as a subquery of a FROM clause whose columns are each computed once per row.

    PostgreSQL otherwise merges a simple subquery into the query around it and re-evaluates a column's expression
    wherever the outer query names it (twice more for ``rank BETWEEN 1 AND 20``): three evaluations of an ordinal's
    JSON checks tripled the time of a scan. ``OFFSET 0`` keeps the subquery apart."""
    fence = " OFFSET 0" if vendor() == "postgresql" else ""
    return f"(SELECT * FROM ({select}{fence}) AS {alias}_once) AS {alias}"


def json_number(column: str, *path: str) -> str:
    """The number at ``path`` of a JSON column, NULL when absent or not a JSON number (a string ``"3"`` is NULL)."""
    if vendor() == "postgresql":
        value = _pg_value(column, path)
        return f"CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::numeric END"
    json_path = _sqlite_path(path)
    return (
        f"CASE WHEN json_type({column}, {json_path}) IN ('integer', 'real') "
        f"THEN json_extract({column}, {json_path}) END"
    )


def json_text(column: str, *path: str) -> str:
    """The scalar at ``path`` of a JSON column as text, NULL when absent, null, an object or an array."""
    if vendor() == "postgresql":
        value = _pg_value(column, path)
        return f"CASE WHEN jsonb_typeof({value}) IN ('string', 'number') THEN {value} #>> '{{}}' END"
    json_path = _sqlite_path(path)
    return (
        f"CASE WHEN json_type({column}, {json_path}) IN ('text', 'integer', 'real') "
        f"THEN CAST(json_extract({column}, {json_path}) AS TEXT) END"
    )


def array_length(column: str) -> str:
    """The length of a JSON array column, NULL when it is not an array."""
    if vendor() == "postgresql":
        return f"CASE WHEN jsonb_typeof({column}) = 'array' THEN jsonb_array_length({column}) END"
    return f"CASE WHEN json_type({column}) = 'array' THEN json_array_length({column}) END"


def array_elements(column: str, alias: str) -> tuple[str, str, str]:
    """A table function over the elements of a JSON array column, to join after the column's table: the FROM
    item, the expression of an element as text, and the expression of its position (1 for the first)."""
    if vendor() == "postgresql":
        return (
            f"CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof({column}) = 'array' "
            f"THEN {column} END) WITH ORDINALITY AS {alias}(element, position)",
            f"{alias}.element",
            f"{alias}.position",
        )
    return (
        f"JOIN json_each(CASE WHEN json_type({column}) = 'array' THEN {column} END) AS {alias}",
        f"CAST({alias}.value AS TEXT)",
        f"({alias}.key + 1)",
    )


def truncated(column: str, unit: str) -> str:
    """The start of the UTC ``unit`` (``hour`` or ``day``) holding the timestamp ``column``, a timestamp again."""
    if vendor() == "postgresql":
        # Django's connections to PostgreSQL run in UTC, which date_trunc of a timestamptz follows.
        return f"date_trunc('{unit}', {column})"
    return f"strftime('{_SQLITE_BUCKETS[unit]}', {column})"


def one_of(expression: str, moments: list[datetime]) -> tuple[str, list]:
    """A condition: the SQL timestamp ``expression`` is one of ``moments``, with its one parameter (an array, or
    JSON text on SQLite), however many moments there are."""
    if vendor() == "postgresql":
        return f"{expression} = ANY(%s)", [list(moments)]
    values = [connection.ops.adapt_datetimefield_value(moment) for moment in moments]
    return f"{expression} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]


def _pg_value(column: str, path: tuple[str, ...]) -> str:
    # A chain of -> is cheaper than #> with a path array (docs/analytics.md, "Performance").
    return column + "".join(f" -> '{key}'" for key in path)


def _sqlite_path(path: tuple[str, ...]) -> str:
    return "'$." + ".".join(path) + "'"
