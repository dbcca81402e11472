"""The body parsers of the collector endpoints: JSON, and the same JSON sent as ``text/plain`` by a beacon."""

from rest_api.parsers import LimitedJSONParser


class BeaconParser(LimitedJSONParser):
    """JSON sent as ``text/plain``: ``navigator.sendBeacon`` posts a string with that type, which also spares a
    preflight. Same limits and errors as ``LimitedJSONParser``; only the collector endpoints take it, the API
    keeps answering 415 to ``text/plain``."""

    media_type = "text/plain"
