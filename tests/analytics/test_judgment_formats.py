"""The download formats of a judgment list (``analytics.formats``) on rows made by hand: quoting, escaping, the
query numbering of TREC qrels, and the exact body SRW's judgment import reads."""

import csv
import io
import json

import pytest

from analytics import formats
from analytics.click_models import Judgment
from project.errors import InvalidInput

SUMMARY = {
    "id": "7d1c7f0e-0000-4000-8000-000000000001",
    "name": "Nightly, all apps",
    "model": "pbm",
    "parameters": {"maxRank": 10, "minImpressions": 3, "from": None, "to": None, "application": None},
    "createdAt": "2026-03-02T10:00:00Z",
}
ROWS = [
    Judgment('toner, "black"', "A 1", 0.5, 10, 3),
    Judgment('toner, "black"', "100%", 1.25, 4, 2),
    Judgment("ink\tcartridge\nred", "b", 0.0, 3, 0),
]


def text(format_name, rows=ROWS) -> str:
    return "".join(formats.write(format_name, SUMMARY, iter(rows)))


def test_csv_quotes_what_needs_quoting_and_reads_back():
    written = text("csv")

    assert written.startswith('query,docid,rating\r\n"toner, ""black""",A 1,0.5\r\n')
    assert list(csv.reader(io.StringIO(written, newline=""))) == [
        ["query", "docid", "rating"],
        ['toner, "black"', "A 1", "0.5"],
        ['toner, "black"', "100%", "1.25"],
        ["ink\tcartridge\nred", "b", "0.0"],
    ]


def test_csv_of_many_rows_is_written_in_chunks_with_every_row():
    rows = [Judgment(f"q{i}", "d", 1.0, 1, 1) for i in range(formats.ROWS_PER_CHUNK * 2 + 1)]

    chunks = list(formats.write("csv", SUMMARY, iter(rows)))

    assert len(chunks) == 3  # two full chunks (the first with the header), then the rest
    assert "".join(chunks).count("\r\n") == len(rows) + 1


def test_trec_qrels_are_one_word_per_column():
    assert text("trec") == "1 0 A%201 0.5\n1 0 100%25 1.25\n2 0 b 0.0\n"
    for line in text("trec").splitlines():
        assert len(line.split()) == 4


def test_trec_queries_map_each_number_to_its_query_on_one_line():
    assert text("trec-queries") == '1\ttoner, "black"\n2\tink cartridge red\n'


def test_srw_groups_each_query_s_ratings_as_strings():
    body = json.loads(text("srw"))

    assert body == {
        "name": "Nightly, all apps",
        "description": "Implicit judgments from User Behavior Insights: click model pbm, maxRank 10, "
        "minImpressions 3, computed 2026-03-02T10:00:00Z",
        "type": "IMPORT_JUDGMENT",
        "judgmentRatings": [
            {
                "query": 'toner, "black"',
                "ratings": [{"docId": "A 1", "rating": "0.500"}, {"docId": "100%", "rating": "1.250"}],
            },
            {"query": "ink\tcartridge\nred", "ratings": [{"docId": "b", "rating": "0.000"}]},
        ],
    }
    # SRW refuses quotes, backslashes, < and > in a description (TextValidationUtil).
    assert not set(body["description"]) & set('"\\<>')


def test_srw_of_an_empty_list_is_still_a_body_to_import():
    assert json.loads(text("srw", rows=[]))["judgmentRatings"] == []


@pytest.mark.parametrize("value", ["xml", "CSV", " csv"])
def test_an_unknown_format_is_refused_keyed_format(value):
    with pytest.raises(InvalidInput) as raised:
        formats.clean_format(value, default="json")

    assert set(raised.value.errors) == {"format"}


@pytest.mark.parametrize(("value", "expected"), [(None, "json"), ("", "json"), ("json", "json"), ("srw", "srw")])
def test_a_known_format_or_none_is_taken(value, expected):
    assert formats.clean_format(value, default="json") == expected
