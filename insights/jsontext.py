"""JSON text of validated documents, written by orjson, much cheaper than the standard library (docs/performance.md);
each event is encoded three times when a batch is stored: its fingerprint and two JSON columns.

orjson cannot write integers beyond 64 bits, which JSON bodies may hold (``rest_api.parsers`` keeps them
exact); those documents are written by the standard library, byte for byte as orjson writes the others. Documents reach here validated
(``insights.validation``): finite numbers, no unpaired surrogates, so orjson has nothing else to refuse.
"""

import json
import re

import orjson

# The form fingerprints have always had. Built once: json.dumps with options builds a new encoder every call.
_STANDARD_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
# How orjson writes a number below 1e-4 in size in an object: with a negative exponent, ended by what may follow a
# value (2.5e-7,), or as 0.0000... Strings rarely hold either (a UUID's "e-" is followed by hex digits and "-" or a
# quote); one that does only sends its document the slower way.
_SMALL_EXPONENT = re.compile(rb"e-\d+[,}\]]")


def dumps(value) -> str:
    """``value`` as JSON text, for a JSON column (the database parses it, so any exact spelling of a number does)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value)


def canonical(document: dict) -> bytes:
    """``document`` in canonical form: keys sorted, no spaces, UTF-8; byte for byte what
    ``json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`` gives, since stored
    fingerprints must keep matching.

    orjson writes the same bytes except for numbers below 1e-4 in size: ``1e-05``, which orjson spells ``0.00001``,
    and ``2.5e-07``, which it spells ``2.5e-7``. Text with such a number goes to the standard library instead.
    """
    try:
        text = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer beyond 64 bits
        text = None
    if text is None or b"0.0000" in text or _SMALL_EXPONENT.search(text):
        return _STANDARD_CANONICAL.encode(document).encode()
    return text
