"""The SQL that differs between SQLite and PostgreSQL, for the analytics queries: reading JSON, the one place.

Each function returns a fragment for the connection's vendor. Both databases give the same answers: an ordinal
counts only when it is an integral JSON number (``3`` or ``3.0``, not ``"3"`` or ``3.5``), so a string never reaches a cast and
never makes a query fail; an object id is read as text, whatever JSON scalar it was sent as.
"""

from django.db import connection

# At most nine digits and a zero fraction: the text of an integral JSON number that fits an int4, which
# PostgreSQL then casts safely.
_PG_SMALL_INTEGER = "'^[0-9]{1,9}([.]0+)?$'"


def vendor() -> str:
    return connection.vendor


def json_integer(column: str, *path: str) -> str:
    """The integer at ``path`` of a JSON column, NULL when absent or not an integral JSON number (``3`` and
    ``3.0`` are 3, as ingestion's validation takes them; ``"3"`` and ``3.5`` are NULL)."""
    if vendor() == "postgresql":
        pointer = _pg_path(path)
        return (
            f"CASE WHEN jsonb_typeof({column} #> {pointer}) = 'number' "
            f"AND ({column} #>> {pointer}) ~ {_PG_SMALL_INTEGER} THEN ({column} #>> {pointer})::numeric::integer END"
        )
    value = f"json_extract({column}, {_sqlite_path(path)})"
    return (
        f"CASE WHEN json_type({column}, {_sqlite_path(path)}) IN ('integer', 'real') "
        f"AND {value} = CAST({value} AS INTEGER) THEN CAST({value} AS INTEGER) END"
    )


def json_text(column: str, *path: str) -> str:
    """The scalar at ``path`` of a JSON column as text, NULL when absent, null, an object or an array."""
    if vendor() == "postgresql":
        pointer = _pg_path(path)
        return f"CASE WHEN jsonb_typeof({column} #> {pointer}) IN ('string', 'number') THEN {column} #>> {pointer} END"
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


def _pg_path(path: tuple[str, ...]) -> str:
    return "'{" + ",".join(path) + "}'"


def _sqlite_path(path: tuple[str, ...]) -> str:
    return "'$." + ".".join(path) + "'"
