"""A real browser for the tests: Playwright's sync API driving Debian's Chromium (``/usr/bin/chromium``).

Playwright's own browser download is never used: it needs the internet, and the Debian package is what ``.ci/run``
installs. Without Chromium a browser test is ``skip_missing`` (a failure under ``CI=true``).

Fixtures (loaded as a pytest plugin by ``tests/conftest.py``):

- ``chromium``: a launched browser, closed at the end of the test.
- ``page``: a new page of its own context that records console errors and uncaught page errors; the test fails at
  its end if any occurred (a chart that throws, a missing static file, a blocked script).

``screenshot(page, name)`` saves the full page as ``var/test-output/screenshots/<name>.png`` (``var/`` is not
committed) and returns the path, so a run leaves pictures of what the browser showed (docs/testing.md).
``sign_in(page, ...)`` signs in at the login page an admin page leads to, as a person does.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections

from tests.support.paths import PROJECT
from tests.support.skips import skip_missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT / "var" / "test-output" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}
# How long an action waits for its element or page: the live server is local, so Playwright's 30 s only delays a
# failure's report.
PAGE_TIMEOUT_MS = 10_000


@pytest.fixture
def chromium(monkeypatch):
    """Debian's Chromium under Playwright, for one test."""
    if not CHROMIUM.exists():
        skip_missing("Chromium", f"the browser tests drive {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in the test's thread for as long as it is started, and
    # Django refuses database calls from a thread with a running loop (SynchronousOnlyOperation). The test's own
    # ORM calls (making users and data, asking the selectors) are plain synchronous code that the loop never
    # interleaves with, so Django's check is lifted for this test only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While the loop runs, Django keeps this thread's connections apart from its usual ones (asgiref's
            # Local takes the thread for an async one): the connection the test used is closed here, while it is
            # still the one Django sees, or it would outlive the test and keep the test database from being dropped.
            connections.close_all()


@pytest.fixture
def page(chromium):
    """A page that fails the test at its end when the browser reported a console error or an uncaught error."""
    # Reduced motion: pages that honour it (the dashboard's charts) draw at once, so what a test reads or
    # photographs is the finished drawing.
    context = chromium.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    problems = []

    def console(message):
        # The browser asks for /favicon.ico by itself; the project has none, and no page refers to one.
        if message.type == "error" and urlsplit(message.location["url"]).path != "/favicon.ico":
            problems.append(f"console: {message.text} ({message.location['url']})")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield page
    context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def screenshot(page, name: str) -> Path:
    """Save the whole page as ``var/test-output/screenshots/<name>.png`` and return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base_url: str, path: str, *, email: str, password: str) -> None:
    """Open ``path`` (a page that wants a signed-in person), sign in at the login page it sends to, and come back."""
    page.goto(base_url + path)
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base_url}{path}*")
