"""Suppression (``insights.suppressions``): after an erasure with ``suppress``, the organisation's further queries and
events naming the person are acknowledged and not stored, over REST and gRPC, in that organisation only, until the
suppression is deleted in the admin; the list holds a digest, never the value."""

import hashlib
import json

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from insights.command_principal import command_principal
from insights.models import Event, Query, Suppression
from lifecycle.erasure import ERASE_ROLE, Erased, erase_subject
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser
from tests.support.grpc import metadata_with_roles, stream_of
from tests.support.lifecycle import event_ids, track_event
from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, QUERIES, api_with_roles, make_event, make_query

PERSON = "person-7f3a@example.com"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def organizations(db):
    return factories.make_org("A"), factories.make_org("B")


def writer_of(live_server, organization):
    return api_with_roles(live_server, organization, ["insights:write", "insights:read"])


def stored_users(organization) -> list:
    return sorted(Event.objects.filter(organization=organization).values_list("user_id", flat=True))


def suppress(live_server, organization, kind: str, value: str) -> dict:
    answer = api_with_roles(live_server, organization, [ERASE_ROLE]).delete(
        f"/api/v1/ubi/subjects/{kind}/{value}", params={"suppress": "true"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_suppressed_person_s_events_are_acknowledged_and_not_stored(live_server, organizations):
    a, b = organizations
    batch = [make_event(event_id=f"e-{user}", user_id=user) for user in (PERSON, "someone-else")]
    assert writer_of(live_server, a).post(EVENTS, json=batch).status_code == 201

    assert suppress(live_server, a, "user_id", PERSON) == {"queries": 0, "events": 1, "suppressed": True}
    later = [make_event(event_id=f"later-{user}", user_id=user) for user in (PERSON, "someone-else")]
    answer = writer_of(live_server, a).post(EVENTS, json=later)
    assert (answer.status_code, answer.json()["event_ids"]) == (201, ["later-person-7f3a@example.com", "later-someone-else"])
    assert writer_of(live_server, a).post(EVENTS, json=make_event(user_id=PERSON)).status_code == 201

    assert stored_users(a) == ["someone-else", "someone-else"]
    assert writer_of(live_server, b).post(EVENTS, json=later).status_code == 201  # another organisation's person
    assert stored_users(b) == [PERSON, "someone-else"]


def test_a_suppressed_client_s_queries_and_events_are_not_stored(live_server, organizations):
    a, _b = organizations
    suppress(live_server, a, "client_id", "device-9")
    api = writer_of(live_server, a)
    assert api.post(QUERIES, json=make_query(query_id="q-device", client_id="device-9")).status_code == 201
    assert api.post(QUERIES, json=make_query(query_id="q-other", client_id="device-1")).status_code == 201
    assert api.post(EVENTS, json=make_event(client_id="device-9")).status_code == 201
    assert set(Query.objects.filter(organization=a).values_list("query_id", flat=True)) == {"q-other"}
    assert not Event.objects.filter(organization=a).exists()


def test_over_grpc_too(live_server, organizations, ubi_stub):
    a, _b = organizations
    suppress(live_server, a, "session_id", "s-1")
    batch = [make_event(event_id=f"g-{session}", session_id=session) for session in ("s-1", "s-2")]
    answer = ubi_stub.TrackEvents(stream_of(batch), metadata=metadata_with_roles(a, ["insights:write"]))
    assert list(answer.event_ids) == ["g-s-1", "g-s-2"]
    assert list(Event.objects.filter(organization=a).values_list("session_id", flat=True)) == ["s-2"]


def test_lifting_it_in_the_admin_stores_them_again(live_server, organizations):
    a, _b = organizations
    suppress(live_server, a, "user_id", PERSON)
    staff = factories.make_user(a, email="staff@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    browser = AdminBrowser(live_server.url, staff.email)
    suppression = Suppression.objects.get()
    assert suppression.digest in browser.get("/admin/insights/suppression/").text
    lifted = browser.submit(f"/admin/insights/suppression/{suppression.pk}/delete/", {"post": "yes"})
    assert lifted.status_code == 200 and not Suppression.objects.exists()

    assert writer_of(live_server, a).post(EVENTS, json=make_event(user_id=PERSON)).status_code == 201
    assert stored_users(a) == [PERSON]


def test_the_list_keeps_a_digest_never_the_value(organizations):
    a, _b = organizations
    principal = command_principal(str(a.pk), roles=(ERASE_ROLE,), command="tests")
    assert erase_subject(principal, kind="user_id", value=PERSON, suppress=True) == Erased(0, 0, suppressed=True)
    assert erase_subject(principal, kind="user_id", value=PERSON, suppress=True) == Erased(0, 0, suppressed=True)
    (row,) = Suppression.objects.values("organization", "kind", "digest")
    assert row == {"organization": a.pk, "kind": "user_id",
                   "digest": hashlib.sha256(f"{a.pk}\x00user_id\x00{PERSON}".encode()).hexdigest()}
    assert PERSON not in json.dumps(list(Suppression.objects.values()), default=str)
    assert AuditEvent.objects.filter(object_type="subject").first().changes["suppressed"] is True


def test_a_flag_that_is_not_true_or_false_is_400(live_server, organizations):
    a, _b = organizations
    api = api_with_roles(live_server, a, [ERASE_ROLE])
    problem = assert_problem(api.delete(f"/api/v1/ubi/subjects/user_id/{PERSON}", params={"suppress": "yes"}), 400)
    assert list(problem["errors"]) == ["suppress"]
    assert not Suppression.objects.exists()


def test_the_command_suppresses(organizations, capsys):
    a, _b = organizations
    call_command("erase_subject", "--org", "A", "--kind", "user_id", "--value", PERSON, "--suppress")
    assert json.loads(capsys.readouterr().out) == {"queries": 0, "events": 0, "suppressed": True}
    assert Suppression.objects.filter(organization=a, kind="user_id").count() == 1
    assert event_ids(a) == set()


def test_a_process_reads_the_list_once_a_period_and_again_after_a_change(
    organizations, settings, django_capture_on_commit_callbacks
):
    """What "no measurable cost" rests on: one read of an organisation's list per SUPPRESSION_CACHE_SECONDS and
    process, not one per document; a suppression made in this process holds at once."""
    a, _b = organizations
    settings.UBI = {**settings.UBI, "SUPPRESSION_CACHE_SECONDS": 3600}

    def reads_of_the_list(user_id: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            track_event(a, AT, user_id=user_id)
        return sum(Suppression._meta.db_table in query["sql"] for query in captured.captured_queries)

    assert [reads_of_the_list(user) for user in ("u-1", "u-2", PERSON)] == [1, 0, 0]
    eraser = command_principal(str(a.pk), roles=(ERASE_ROLE,), command="tests")
    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never commits
        erase_subject(eraser, kind="user_id", value=PERSON, suppress=True)
    assert [reads_of_the_list(user) for user in (PERSON, "u-3")] == [1, 0]
    assert stored_users(a) == ["u-1", "u-2", "u-3"]
