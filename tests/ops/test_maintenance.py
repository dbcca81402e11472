"""Maintenance mode: tracking answers 503 / UNAVAILABLE with a Retry-After over REST and gRPC, reads go on.

Switched by the setting, by ``manage.py maintenance`` run in another process (as an operator would, on the same
database), and in the admin. The live server and the gRPC server run in this process and see the switch through
the database, as every server process does.
"""

import io
import os
import subprocess
import sys
import time

import grpc
import pytest
from django.core.management import call_command
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from insights import maintenance
from insights.models import Event, Query
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser
from tests.support.grpc import PROJECT, database_url
from tests.support.ubi_documents import make_event, make_query

RETRY_AFTER = 60  # MAINTENANCE_RETRY_AFTER_SECONDS's default


@pytest.fixture(autouse=True)
def _switched_off_at_the_end(transactional_db):
    yield
    maintenance.switch(on=False)  # this process remembers the switch for a second: not into the next test


def manage_maintenance(action: str) -> str:
    """``manage.py maintenance ACTION`` in its own process, on the test database; what it printed."""
    done = subprocess.run(
        [sys.executable, "manage.py", "maintenance", action],
        cwd=PROJECT, env={**os.environ, "DATABASE_URL": database_url()}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Rest:
    def __init__(self, api):
        self.api = api

    def writes(self):
        """(status, Retry-After) of each tracking write."""
        answers = [
            self.api.post("/api/v1/ubi/queries", json=make_query()),
            self.api.post("/api/v1/ubi/events", json=make_event()),
            self.api.post("/api/v1/ubi/events", json=[make_event(), make_event()]),
        ]
        for answer in answers:
            if answer.status_code == 503:
                assert answer.headers["Content-Type"] == "application/problem+json"
                assert answer.json()["status"] == 503
        return [(answer.status_code, answer.headers.get("Retry-After")) for answer in answers]

    def read_ok(self):
        return self.api.get("/api/v1/ubi/events").status_code == 200 and self.api.get("/api/v1/ubi/queries").ok

    refused = [(503, str(RETRY_AFTER))] * 3
    accepted = [(201, None)] * 3


class Grpc:
    def __init__(self, stub, metadata):
        self.stub, self.metadata = stub, metadata

    def writes(self):
        """(code, RetryInfo seconds, retry-after trailer) of each tracking write."""
        calls = [
            (self.stub.TrackQuery, rpc.TrackQueryRequest(query=fill_message(ubi.Query(), make_query()))),
            (self.stub.TrackEvent, rpc.TrackEventRequest(event=fill_message(ubi.Event(), make_event()))),
            (self.stub.TrackEvents, iter([rpc.TrackEventsRequest(events=[fill_message(ubi.Event(), make_event())])])),
        ]
        return [self._answer(call, request) for call, request in calls]

    def _answer(self, call, request):
        try:
            call(request, metadata=self.metadata, timeout=30)
        except grpc.RpcError as error:
            retry_info = error_details_pb2.RetryInfo()
            details = rpc_status.from_call(error).details
            delay = next((retry_info.retry_delay.seconds for d in details if d.Unpack(retry_info)), None)
            return error.code(), delay, dict(error.trailing_metadata()).get("retry-after")
        return grpc.StatusCode.OK, None, None

    def read_ok(self):
        self.stub.ListEvents(rpc.ListEventsRequest(), metadata=self.metadata, timeout=30)
        self.stub.ListQueries(rpc.ListQueriesRequest(), metadata=self.metadata, timeout=30)
        return True

    refused = [(grpc.StatusCode.UNAVAILABLE, RETRY_AFTER, str(RETRY_AFTER))] * 3
    accepted = [(grpc.StatusCode.OK, None, None)] * 3


@pytest.fixture(params=["rest", "grpc"])
def protocol(request):
    if request.param == "rest":
        return Rest(request.getfixturevalue("api"))
    return Grpc(request.getfixturevalue("ubi_stub"), request.getfixturevalue("auth"))


def eventually(answers, expected, seconds=5.0):
    """``answers()`` once it equals ``expected``, or its last value after ``seconds``: other processes see a
    flip of the switch within ``maintenance.RECHECK_SECONDS``."""
    deadline = time.monotonic() + seconds
    while (answer := answers()) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def test_the_command_stops_tracking_in_every_process_while_reads_go_on(protocol):
    assert protocol.writes() == protocol.accepted

    assert manage_maintenance("on") == "Maintenance mode on."
    # Writes in the second before the server rereads the switch are still taken; once one is refused, all are.
    assert eventually(protocol.writes, protocol.refused) == protocol.refused
    stored = Query.objects.count(), Event.objects.count()
    assert protocol.writes() == protocol.refused
    assert (Query.objects.count(), Event.objects.count()) == stored
    assert protocol.read_ok()
    assert manage_maintenance("status") == "Maintenance mode on."

    assert manage_maintenance("off") == "Maintenance mode off."
    assert eventually(protocol.writes, protocol.accepted) == protocol.accepted


def test_the_setting_stops_tracking(protocol, settings):
    settings.UBI = {**settings.UBI, "MAINTENANCE_MODE": True}
    assert protocol.writes() == protocol.refused
    assert protocol.read_ok()
    status = io.StringIO()
    call_command("maintenance", "status", stdout=status)
    assert status.getvalue().strip() == "Maintenance mode on (the MAINTENANCE_MODE setting; the run-time switch is off)."
    settings.UBI = {**settings.UBI, "MAINTENANCE_MODE": False}
    assert protocol.writes() == protocol.accepted


def test_a_superuser_flips_the_switch_in_the_admin(live_server, api, org):
    root = factories.make_user(org, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    browser = AdminBrowser(live_server.url, root.email)
    change_page = browser.get("/admin/insights/maintenance/")  # the one switch, not a list of one
    assert change_page.url.endswith("/admin/insights/maintenance/1/change/")

    assert browser.submit("/admin/insights/maintenance/1/change/", {"on": "on"}).status_code == 200
    assert Rest(api).writes() == Rest.refused
    assert manage_maintenance("status") == "Maintenance mode on."

    assert browser.submit("/admin/insights/maintenance/1/change/", {}).status_code == 200
    assert Rest(api).writes() == Rest.accepted


def test_only_superusers_see_the_switch(live_server, org):
    staff = factories.make_user(org, email="staff@example.com", password=PASSWORD, is_staff=True)
    browser = AdminBrowser(live_server.url, staff.email)
    assert browser.get("/admin/insights/maintenance/1/change/").status_code == 403
    assert "maintenance" not in browser.get("/admin/").text.lower()
