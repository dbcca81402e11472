"""A customer's web site for the browser tests: HTML pages served by the standard library's HTTP server, in a
thread, at ``http://127.0.0.1:<free port>``. The live server answers at ``localhost`` on another port, so the
site's pages are of another origin than the collector they post to, as on a real site.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebSite:
    """Serves the pages given to ``publish`` (``{"/search.html": html}``) until ``close()``; others are 404."""

    def __init__(self):
        self._pages: dict[str, bytes] = {}
        pages = self._pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body or b"<!doctype html><title>Not found</title>")

            def log_message(self, format, *args):
                pass  # a test reports what went wrong; a request log would only add noise

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"web site {self.origin}", daemon=True)
        self._thread.start()

    def publish(self, pages: dict[str, str]) -> None:
        """Serve ``pages``: known only once the site runs, since they may name its origin (an ingest key's)."""
        self._pages.update({path: html.encode() for path, html in pages.items()})

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def web_site() -> Iterator[WebSite]:
    """A ``WebSite``, closed on leaving the block."""
    site = WebSite()
    try:
        yield site
    finally:
        site.close()
