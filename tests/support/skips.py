"""Two kinds of skip, and the rule that keeps a CI run from passing on a skip that hides a missing part.

- ``skip_missing(part, reason)``: the test needs a part this machine lacks (PostgreSQL's server binaries for
  ``initdb``, a PostgreSQL or Redis the run was told to use, a browser, the reference documents). With
  ``CI=true`` in the environment such a skip fails the test: a CI machine is set up with every part, so a
  missing one is a fault of the machine that must not turn into a green run.
- ``skip_configuration(reason)``: the run's configuration makes the test not apply (a PostgreSQL-only race in the
  SQLite run, a Redis-only check without ``REDIS_URL``, a default port another program holds). A skip, always.

Loaded as a pytest plugin by ``tests/conftest.py``; every ``pytest.skip`` of the suite goes through one of the two
(``tests/ops/test_suite_layout.py`` checks it).
"""

import os

import pytest


class MissingPart(pytest.skip.Exception):
    """The skip of a test that needs a part this machine lacks."""


def ci_requires_every_part() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_missing(part: str, reason: str):
    """Skip (or, under ``CI=true``, fail) the current test for want of ``part``."""
    __tracebackhide__ = True  # the skip is reported at the test's line
    raise MissingPart(msg=f"{part} is missing: {reason}")


def skip_configuration(reason: str):
    """Skip the current test: the run's configuration makes it not apply."""
    __tracebackhide__ = True
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(MissingPart) and ci_requires_every_part():
        report.outcome = "failed"
        report.longrepr = f"CI=true, and a part this test needs is missing: {call.excinfo.value.msg}"
    return report
