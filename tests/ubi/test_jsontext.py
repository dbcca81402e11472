"""``insights.jsontext``: orjson's speed, and byte for byte the canonical form fingerprints have always had.

Hypothesis draws documents of every JSON kind a validated document may hold (integers beyond 64 bits, numbers
below 1e-4 in size, control characters, astral-plane names), deterministically, so CI sees the same ones every run.
"""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights import jsontext


def standard_canonical(document) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


# What insights.validation lets through: finite numbers, text without unpaired surrogates.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
NUMBERS = st.integers(min_value=-(2**80), max_value=2**80) | st.floats(allow_nan=False, allow_infinity=False)
SMALL_NUMBERS = st.floats(min_value=-1e-4, max_value=1e-4, allow_nan=False, exclude_min=True, exclude_max=True)
VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | SMALL_NUMBERS | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
DOCUMENTS = st.dictionaries(TEXT, VALUES, max_size=6)


@settings(max_examples=400, derandomize=True)
@given(DOCUMENTS)
def test_the_canonical_form_is_the_standard_librarys(document):
    assert jsontext.canonical(document) == standard_canonical(document)


@pytest.mark.parametrize(
    "document",
    [
        {"score": 1e-05},  # orjson: 0.00001
        {"scores": [0.5, -2.5e-07]},  # orjson: -2.5e-7
        {"a": 3e-07, "b": {"c": 4.5e-12}},  # followed by "," and "}"
        {"tiny": 5e-324, "huge": 1.5e300, "whole": 2.0},
        {"big": 2**70},  # beyond orjson's 64 bits
        {"id": "3e-4a", "note": "x:1e-5, [0.00001"},  # strings that look like small numbers
        {"\U0001f600": 1, "\uffff": 2, "é": 3, "a": {"\x01\x7f\u2028": "\n\t\"\\"}},
    ],
)
def test_numbers_and_strings_orjson_spells_differently_keep_their_canonical_form(document):
    assert jsontext.canonical(document) == standard_canonical(document)


@settings(max_examples=200, derandomize=True)
@given(VALUES)
def test_json_text_for_a_column_reads_back_as_the_value(value):
    assert json.loads(jsontext.dumps(value)) == value
