"""The browser fixture's rule, run on a small suite of its own (pytester): a page whose script logs an error to
the console or throws fails its test, a quiet one passes and can be photographed (``tests/support/chromium.py``)."""

import pytest

from tests.support.chromium import CHROMIUM
from tests.support.skips import skip_missing

pytest_plugins = ["pytester"]

PAGES = """
from tests.support.chromium import screenshot


def test_quiet_page(page):
    page.set_content("<p>All fine.</p>")
    assert screenshot(page, "browser-rules-quiet").stat().st_size > 0


def test_console_error(page):
    page.set_content("<script>console.error('the chart could not draw')</script>")


def test_uncaught_error(page):
    page.set_content("<script>throw new Error('boom')</script>")
"""


def test_console_and_script_errors_fail_the_test(pytester):
    if not CHROMIUM.exists():
        skip_missing("Chromium", f"the browser fixture drives {CHROMIUM}")
    pytester.makeconftest('pytest_plugins = ["tests.support.skips", "tests.support.chromium"]\n')
    pytester.makepyfile(test_pages=PAGES)
    result = pytester.runpytest("-p", "no:django", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*console: the chart could not draw*", "*page error: *boom*"])
