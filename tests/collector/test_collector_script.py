"""``GET /collect/ubi.js`` serves the collector script as a site's ``<script>`` tag needs it: JavaScript that
another origin's page may load, cached by browsers for a while and revalidated by its ETag."""

from collector.script_views import SCRIPT
from project.conf import ubi_settings


def test_the_script_is_served_as_javascript_that_other_sites_may_load(anonymous_api):
    response = anonymous_api.get("/collect/ubi.js")
    assert response.status_code == 200
    assert response.content == SCRIPT.read_bytes()
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == f"public, max-age={ubi_settings.COLLECTOR_SCRIPT_MAX_AGE}"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_browser_revalidates_its_copy_by_etag(anonymous_api):
    etag = anonymous_api.get("/collect/ubi.js").headers["ETag"]
    unchanged = anonymous_api.get("/collect/ubi.js", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    changed = anonymous_api.get("/collect/ubi.js", headers={"If-None-Match": '"another-release"'})
    assert changed.status_code == 200 and changed.content == SCRIPT.read_bytes()


def test_only_reads_are_answered(anonymous_api):
    assert anonymous_api.request("HEAD", "/collect/ubi.js").status_code == 200
    assert anonymous_api.post("/collect/ubi.js", data="{}").status_code == 405
