"""Cross-origin requests to the collector endpoints, judged key by key.

The origins a page may post from belong to its ingest key, so they are known only once the key in the URL is
looked up. django-cors-headers keeps its origins in settings (``CORS_ALLOWED_ORIGINS``, a pattern, or a signal that
can only say yes or no); it leaves a refused origin's request to the view, answered without CORS headers, which
stops a browser from reading the answer, not the server from storing it: a ``text/plain`` beacon needs no
preflight. Here a request whose ``Origin`` its key does not list is refused before anything is read
(``OriginNotAllowed``, a 403 problem) and stores nothing; one without ``Origin`` (a server, an app) is not a
browser's cross-origin request and goes on.

What a preflight is answered (Fetch standard, "CORS protocol"): the origin itself, never ``*``, since the answer
differs by origin (``Vary: Origin`` on every answer of these endpoints, so that caches keep them apart); only
``POST`` and the one request header ``ubi.js`` sends that is not safelisted, ``Content-Type``; no
``Access-Control-Allow-Credentials``, since a key is no cookie; and a max age so that a page's browser asks once.
"""

from django.utils.cache import patch_vary_headers

from project.conf import ubi_settings
from project.errors import PermissionDenied

ALLOWED_METHODS = "POST"
ALLOWED_HEADERS = "Content-Type"
# A browser's script may read these of an answer besides the safelisted ones: when to retry after a 429 or 503.
EXPOSED_HEADERS = "Retry-After"


class OriginNotAllowed(PermissionDenied):
    code = "origin_not_allowed"
    title = "This ingest key does not accept requests from this origin."


def check_origin(request, origins: frozenset[str]) -> str | None:
    """The request's ``Origin`` when ``origins`` holds it, ``None`` when it sends none; ``OriginNotAllowed``
    otherwise (``null``, from a sandboxed frame or a file, included)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if origin not in origins:
        raise OriginNotAllowed(f"The origin {origin!r} is not among this key's allowed origins.")
    return origin


def allow(response, origin: str | None) -> None:
    """The CORS headers of an answer to a request that passed ``check_origin`` (none without an ``Origin``)."""
    patch_vary_headers(response, ("Origin",))
    if origin is not None:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS


def preflight(response, origin: str | None) -> None:
    """The headers of an answer to a preflight that passed ``check_origin``."""
    allow(response, origin)
    if origin is not None:
        response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(ubi_settings.COLLECTOR_PREFLIGHT_MAX_AGE)
