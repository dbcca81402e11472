"""Server processes settle before serving: views imported, the long-lived heap frozen out of the collector's way."""

import gc
import runpy

import pytest

from project.warmup import settle
from tests.support.paths import PROJECT


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_settle_freezes_what_the_process_has_loaded(unfrozen):
    settle()

    # A loaded Django project is tens of thousands of objects; none is left for a full collection to walk.
    assert gc.get_freeze_count() > 10_000


def test_gunicorn_settles_each_worker_after_loading_the_application(unfrozen):
    config = runpy.run_path(str(PROJECT / "gunicorn.conf.py"))

    config["post_worker_init"](worker=None)

    assert gc.get_freeze_count() > 10_000
