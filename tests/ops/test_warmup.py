"""Server processes settle before serving: every view imported and frozen out of the cyclic collector's way before
the first request, in a gunicorn worker (``gunicorn.conf.py``'s ``post_worker_init``) and in a gRPC server process.

Each is checked inside a new process, where nothing was imported yet: ``tests/support/warmup_probe.py`` lists the
project's views from the URL configuration, which of their modules were imported before the warm-up, and which
views the collector still tracks.
"""

import json
import subprocess
import sys
import time

import pytest

from tests.support.paths import PROJECT
from tests.support.servers import Gunicorn

GUNICORN_CONFIG = """
import runpy
import sys
from pathlib import Path

_project = runpy.run_path({config!r})
globals().update({{name: value for name, value in _project.items() if not name.startswith("__")}})


def post_worker_init(worker):
    imported_before = set(sys.modules)
    _project["post_worker_init"](worker)
    from tests.support.warmup_probe import write_report

    write_report(Path({report!r}), imported_before)
"""

GRPC_PROCESS = """
import json, os, sys
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()
import grpc_api.server

imported_before = set(sys.modules)
grpc_api.server.settle()  # what grpc_api.server.serve calls before server.start()
from tests.support.warmup_probe import report

print(json.dumps(report(imported_before)))
"""


def assert_settled(report: dict) -> None:
    assert report["views"] > 10, report  # the API's, the OAuth server's, the admin's
    # The API's and the sign-in's views: imported by the warm-up (not before it), like every other view module.
    assert report["served_by"] and not set(report["served_by"]) & set(report["imported_before"]), report
    assert set(report["served_by"]) <= set(report["view_modules"]) == set(report["imported_now"])
    assert report["not_frozen"] == []


def test_a_grpc_server_process_imports_and_freezes_every_view_before_serving():
    process = subprocess.run(
        [sys.executable, "-c", GRPC_PROCESS], cwd=PROJECT, capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stderr
    assert_settled(json.loads(process.stdout.splitlines()[-1]))


def test_a_gunicorn_worker_imports_and_freezes_every_view_before_its_first_request(transactional_db, tmp_path):
    report_path = tmp_path / "report.json"
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(GUNICORN_CONFIG.format(config=str(PROJECT / "gunicorn.conf.py"), report=str(report_path)))
    server = Gunicorn(tmp_path, config=config)
    try:
        deadline = time.monotonic() + 120
        while not report_path.exists():  # no request is sent: the worker writes it once settled
            if server.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no report from the gunicorn worker:\n{server.output()}")
            time.sleep(0.1)
        report = json.loads(report_path.read_text())
    finally:
        server.stop()
    assert_settled(report)
