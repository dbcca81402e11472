"""The suite's rules on its own outcomes, each run on a small suite of its own (pytester):

- under ``CI=true`` a skip for a missing part fails, a skip the configuration chose stays a skip
  (``tests/support/skips.py``);
- an assertion that fails inside a thread fails the test (``pytest.ini``'s ``-W error::...``), and
  ``tests/support/threads.py`` hands a thread's outcome to the test's own thread.
"""

import configparser

import pytest

from tests.support.paths import PROJECT
from tests.support.threads import ThreadWithOutcome, run_together

pytest_plugins = ["pytester"]

# The inner runs leave out pytest-django: the suites below use no database.
INNER = ("-p", "no:django", "-p", "no:cacheprovider")

SKIPS = """
from tests.support.skips import skip_configuration, skip_missing


def test_needs_initdb():
    skip_missing("initdb", "PostgreSQL server binaries are not installed")


def test_postgresql_only():
    skip_configuration("the race is decided by PostgreSQL's row locks")
"""


@pytest.fixture
def skip_suite(pytester):
    pytester.makeconftest('pytest_plugins = ["tests.support.skips"]\n')
    pytester.makepyfile(test_skips=SKIPS)
    return pytester


@pytest.mark.parametrize("ci", [None, "false", ""])
def test_outside_ci_both_kinds_are_skips(skip_suite, monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    skip_suite.runpytest(*INNER).assert_outcomes(skipped=2)


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_under_ci_a_missing_part_fails_and_a_configuration_skip_stays_a_skip(skip_suite, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    result = skip_suite.runpytest(*INNER, "-rfs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["FAILED*test_needs_initdb*CI=true*initdb is missing*"])
    result.stdout.fnmatch_lines(["SKIPPED*test_skips.py:9: the race is decided by PostgreSQL's row locks"])


def test_under_ci_a_missing_part_in_a_fixture_fails_the_test(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest('pytest_plugins = ["tests.support.skips"]\n')
    pytester.makepyfile(
        """
        import pytest
        from tests.support.skips import skip_missing

        @pytest.fixture
        def cluster():
            skip_missing("initdb", "not installed")

        def test_faults(cluster):
            pass
        """
    )
    result = pytester.runpytest(*INNER)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.parseoutcomes().get("skipped", 0) == 0


def project_addopts() -> list[str]:
    ini = configparser.ConfigParser()
    ini.read(PROJECT / "pytest.ini")
    return ini["pytest"]["addopts"].split()


def test_an_assertion_failing_in_a_plain_thread_fails_the_test(pytester):
    """With the project's ``addopts``: without its ``-W error::pytest.PytestUnhandledThreadExceptionWarning``,
    pytest reports this test passed, with a warning."""
    pytester.makepyfile(
        """
        import threading

        def test_in_a_thread():
            thread = threading.Thread(target=lambda: exec("assert 1 == 2, 'seen in the thread'"))
            thread.start()
            thread.join()
        """
    )
    result = pytester.runpytest(*INNER, *project_addopts())
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.parseoutcomes().get("passed", 0) == 0


def test_a_threads_assertion_is_raised_in_the_test_thread():
    def refuse():
        assert 1 == 2, "seen in the thread"

    thread = ThreadWithOutcome(refuse)
    thread.start()
    with pytest.raises(AssertionError, match="seen in the thread"):
        thread.outcome(10)


def test_run_together_answers_every_value_in_order_or_the_first_error():
    assert run_together(lambda: 1, lambda: 2, lambda: 3) == [1, 2, 3]
    with pytest.raises(ZeroDivisionError):
        run_together(lambda: 1, lambda: 1 / 0)
