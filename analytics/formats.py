"""A judgment list as the files other relevance tools import, written as a stream of text chunks.

- ``csv``: ``query,docid,rating`` with that header, Quepid's ratings import; RFC 4180 quoting.
- ``trec``: TREC qrels, ``query-id 0 docid rating`` a line. TREC ids are single words, so a query's id is its
  number in the list (1, 2, ... in the list's order) and ``trec-queries`` is the mapping, ``number<TAB>query`` a
  line with no header (the shape of a TREC or MS MARCO ``queries.tsv``); any whitespace inside a query is written
  as one space there, and a whitespace character or ``%`` inside a doc id is percent-encoded (``%20``).
- ``srw``: the body of OpenSearch Search Relevance Workbench's judgment import (``PUT
  _plugins/_search_relevance/judgments``): ``name``, ``description``, ``type`` ``IMPORT_JUDGMENT`` and
  ``judgmentRatings``, each query with its ``ratings`` as ``{"docId", "rating"}``, the rating a string (SRW's
  import reads it as one) with three decimals, as SRW writes its own.

Every writer reads the rows once, in the list's order, where each query's judgments come together.
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import attrgetter

from analytics.click_models import Judgment
from insights.validation import Errors

# format: (media type, file name extension)
MEDIA_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "trec": ("text/plain; charset=utf-8", "qrels"),
    "trec-queries": ("text/tab-separated-values; charset=utf-8", "queries.tsv"),
    "srw": ("application/json", "srw.json"),
}
CSV_HEADER = ("query", "docid", "rating")
ROWS_PER_CHUNK = 500
_WHITESPACE_OR_PERCENT = re.compile(r"[\s%]")
_WHITESPACE_RUN = re.compile(r"\s+")
_UNSAFE_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def clean_format(value, *, default: str) -> str:
    """The download format ``value`` names (``None`` or ``""``: ``default``); ``InvalidInput`` keyed ``format``
    for any other value than ``default`` and the keys of ``MEDIA_TYPES``."""
    if value is None or value == "":
        return default
    if value != default and value not in MEDIA_TYPES:
        errors = Errors()
        errors.add("format", f"format must be one of {', '.join([default, *MEDIA_TYPES])}.")
        errors.raise_if_any()
    return value


def file_name(summary: dict, extension: str) -> str:
    """A download's file name, ``<name>-<id>.<extension>``: the list's name reduced to characters safe in any file
    system and header."""
    stem = _UNSAFE_FILE_NAME.sub("-", summary["name"]).strip("-.")[:80] or "judgments"
    return f"{stem}-{summary['id']}.{extension}"


def write(format_name: str, summary: dict, rows: Iterable[Judgment]) -> Iterator[str]:
    """The file of ``format_name`` (a key of ``MEDIA_TYPES``) for the list ``summary`` and its ``rows``."""
    return WRITERS[format_name](summary, rows)


def csv_chunks(summary: dict, rows: Iterable[Judgment]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for count, row in enumerate(rows, start=1):
        writer.writerow((row.user_query, row.object_id, _rating_text(row.rating)))
        if count % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def trec_chunks(summary: dict, rows: Iterable[Judgment]) -> Iterator[str]:
    for number, (_, judgments) in enumerate(_by_query(rows), start=1):
        yield "".join(f"{number} 0 {trec_doc_id(row.object_id)} {_rating_text(row.rating)}\n" for row in judgments)


def trec_query_chunks(summary: dict, rows: Iterable[Judgment]) -> Iterator[str]:
    for number, (user_query, _) in enumerate(_by_query(rows), start=1):
        yield f"{number}\t{_WHITESPACE_RUN.sub(' ', user_query)}\n"


def srw_chunks(summary: dict, rows: Iterable[Judgment]) -> Iterator[str]:
    head = {"name": summary["name"], "description": srw_description(summary), "type": "IMPORT_JUDGMENT"}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "judgmentRatings": ['
    for index, (user_query, judgments) in enumerate(_by_query(rows)):
        ratings = [{"docId": row.object_id, "rating": f"{row.rating:.3f}"} for row in judgments]
        yield ("" if index == 0 else ", ") + json.dumps({"query": user_query, "ratings": ratings}, ensure_ascii=False)
    yield "]}"


def srw_description(summary: dict) -> str:
    """Where the list comes from, in words SRW's import accepts (no quotes, backslashes, < or >)."""
    parameters = summary["parameters"]
    return (
        f"Implicit judgments from User Behavior Insights: click model {summary['model']}, maxRank "
        f"{parameters['maxRank']}, minImpressions {parameters['minImpressions']}, computed {summary['createdAt']}"
    )


def trec_doc_id(object_id: str) -> str:
    """``object_id`` as one qrels word: whitespace and ``%`` percent-encoded."""
    return _WHITESPACE_OR_PERCENT.sub(lambda match: "".join(f"%{byte:02X}" for byte in match[0].encode()), object_id)


WRITERS = {"csv": csv_chunks, "trec": trec_chunks, "trec-queries": trec_query_chunks, "srw": srw_chunks}


def _by_query(rows: Iterable[Judgment]):
    return groupby(rows, key=attrgetter("user_query"))


def _rating_text(value: float) -> str:
    """A rating as written in CSV and qrels: its shortest decimal form (``0.85``, ``1.0``)."""
    return repr(float(value))


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
