"""The JSON body parser of the UBI endpoints, with the size limit and errors a public endpoint needs."""

import codecs
import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from insights.validation import check_request_size
from project.conf import ubi_settings


class LimitedJSONParser(BaseParser):
    """Strict UTF-8 JSON of at most ``MAX_REQUEST_BYTES``: larger is 413, malformed or absurdly nested is 400.

    Not a subclass of DRF's ``JSONParser`` on purpose: DRF reads the whole body of those through
    ``request.body`` before parsing, where Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MiB) answered a plain 400
    for bodies this API accepts, up to 8 MiB. Here the body is read from the stream, at most one byte past the
    limit. The standard library's parser keeps integers exact (orjson would turn big ones into floats, changing
    what was tracked). Depth within a document is then limited by ``insights.validation``.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = ubi_settings.MAX_REQUEST_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        declared = int(declared) if declared and declared.isdigit() else None
        if declared is not None:
            check_request_size(declared)  # refused before reading it
        body = stream.read(limit + 1) if stream is not None else b""
        check_request_size(len(body))
        if declared is not None and len(body) < declared:
            raise ParseError(f"JSON parse error - the body ended after {len(body)} of its {declared} bytes.")
        try:
            # UTF-8 only (RFC 8259 §8.1), a leading byte order mark tolerated: json.loads would guess UTF-16 too.
            text = body.decode("utf-8")
            return json.loads(text.removeprefix(codecs.BOM_UTF8.decode()), parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as error:  # includes invalid UTF-8 and integers too long to convert
            raise ParseError(f"JSON parse error - {error}") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
