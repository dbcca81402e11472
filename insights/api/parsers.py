"""The JSON body parser of the UBI endpoints: DRF's, with the size limit and errors a public endpoint needs."""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from project.conf import ubi_settings
from project.errors import PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """Strict JSON of at most ``MAX_REQUEST_BYTES``: larger is 413, malformed or absurdly nested is 400.

    The standard library's parser keeps integers exact (orjson would turn big ones into floats, changing what
    was tracked). Depth within a document is then limited by ``insights.validation``.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = ubi_settings.MAX_REQUEST_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")  # refused before reading it
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as error:  # includes invalid UTF-8
            raise ParseError(f"JSON parse error - {error}") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
