"""``GET /collect/ubi.js``: the platform's collector script (``static/collector/ubi.js``, docs/collector.md).

It has an address of its own, beside the collector endpoints, so that the one ``<script>`` tag a site pastes keeps
working from release to release. Browsers keep it for ``COLLECTOR_SCRIPT_MAX_AGE`` seconds, then ask again with
its ``ETag``: a new release reaches every visitor within that time.
"""

import hashlib
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition, require_safe

from project.conf import ubi_settings

SCRIPT = Path(__file__).resolve().parent / "static" / "collector" / "ubi.js"


@cache
def _script() -> tuple[bytes, str]:
    """The script's bytes and their ETag, read once per process."""
    body = SCRIPT.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:32]


@csrf_exempt  # it takes no write: a POST is a 405, not a CSRF failure
@require_safe
@condition(etag_func=lambda request: _script()[1])
def collector_script(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_script()[0], content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={ubi_settings.COLLECTOR_SCRIPT_MAX_AGE}"
    # Other sites' pages load it: a page that isolates itself (Cross-Origin-Embedder-Policy) needs the first,
    # and a tag with a crossorigin attribute, which shows the script's errors in full, the second.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    return response
