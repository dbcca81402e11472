"""Erasure of one person: exactly their rows of one organisation go, by the service, over REST, and by the
command; running it again deletes nothing; the audit trail keeps a digest, never the value."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEvent, Role
from analytics import rollups
from analytics.models import SearchFact
from insights.command_principal import command_principal
from lifecycle.erasure import ERASE_ROLE, Erased, erase_subject, subject_digest
from project.errors import InvalidInput, PermissionDenied
from tests.support import factories
from tests.support.lifecycle import event_ids, query_ids, track_event, track_query
from tests.support.problems import assert_problem
from tests.support.ubi_documents import api_with_roles

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PERSON = "person-7f3a@example.com"


class World:
    """In A: the person's three events (one on a search only they touched, one on a search someone else also
    acted on, one on no search), someone else's event, and a query tracked by the person's device. B holds the
    very same values."""

    def __init__(self, organization):
        self.organization = organization
        self.own_search = track_query(organization, AT, client_id="device-1")
        self.shared_search = track_query(organization, AT + timedelta(minutes=1), client_id="device-2")
        self.device_search = track_query(organization, AT + timedelta(minutes=2), client_id="device-9")
        self.events = {
            track_event(organization, AT, query_id=self.own_search, user_id=PERSON, session_id="s-1"),
            track_event(organization, AT, query_id=self.shared_search, user_id=PERSON, session_id="s-1"),
            track_event(organization, AT, user_id=PERSON, session_id="s-2", client_id="device-9"),
        }
        self.others_event = track_event(organization, AT, query_id=self.shared_search, user_id="someone-else")


@pytest.fixture
def worlds(db):
    return World(factories.make_org("A")), World(factories.make_org("B"))


def eraser(organization):
    return command_principal(str(organization.pk), roles=(ERASE_ROLE,), command="tests")


def test_a_person_s_events_and_the_searches_only_they_made_go(worlds):
    a, b = worlds
    b_rows = query_ids(b.organization), event_ids(b.organization)

    assert erase_subject(eraser(a.organization), kind="user_id", value=PERSON) == Erased(queries=1, events=3)

    assert event_ids(a.organization) == {a.others_event}
    assert query_ids(a.organization) == {a.shared_search, a.device_search}
    assert (query_ids(b.organization), event_ids(b.organization)) == b_rows


def test_running_it_again_deletes_nothing(worlds):
    a, _b = worlds
    erase_subject(eraser(a.organization), kind="user_id", value=PERSON)
    assert erase_subject(eraser(a.organization), kind="user_id", value=PERSON) == Erased(queries=0, events=0)


def test_a_client_id_takes_the_queries_tracked_with_it(worlds):
    a, _b = worlds
    assert erase_subject(eraser(a.organization), kind="client_id", value="device-9") == Erased(queries=1, events=1)
    assert a.device_search not in query_ids(a.organization)


def test_a_session_id_takes_its_events(worlds):
    a, _b = worlds
    # s-1's two events: its own search goes; the shared one stays with the other person's event.
    assert erase_subject(eraser(a.organization), kind="session_id", value="s-1") == Erased(queries=1, events=2)
    assert query_ids(a.organization) == {a.shared_search, a.device_search}


def test_the_audit_trail_keeps_a_digest_not_the_value(worlds):
    a, b = worlds
    erase_subject(eraser(a.organization), kind="user_id", value=PERSON)
    record = AuditEvent.objects.get(object_type="subject")
    digest = subject_digest(a.organization.pk, "user_id", PERSON)
    assert (record.organization_id, record.action, record.object_id) == (a.organization.pk, "deleted", digest)
    assert record.changes == {"kind": "user_id", "digest": digest, "queries": 1, "events": 3, "suppressed": False}
    assert PERSON not in json.dumps(list(AuditEvent.objects.values()), default=str)
    # Keyed by the organisation too: the same person elsewhere has another digest.
    assert subject_digest(b.organization.pk, "user_id", PERSON) != digest


def test_it_needs_the_role_and_a_known_kind(worlds):
    a, _b = worlds
    writer = command_principal(str(a.organization.pk), roles=("insights:write", "insights:read"), command="tests")
    with pytest.raises(PermissionDenied):
        erase_subject(writer, kind="user_id", value=PERSON)
    with pytest.raises(InvalidInput) as refused:
        erase_subject(eraser(a.organization), kind="email", value="")
    assert set(refused.value.errors) == {"kind", "value"}


# REST.


def test_rest_erases_with_the_role_and_answers_the_counts(live_server, worlds):
    a, b = worlds
    api = api_with_roles(live_server, a.organization, [ERASE_ROLE])
    answer = api.delete(f"/api/v1/ubi/subjects/user_id/{PERSON}")
    assert (answer.status_code, answer.json()) == (200, {"queries": 1, "events": 3, "suppressed": False})
    again = api.delete(f"/api/v1/ubi/subjects/user_id/{PERSON}")
    assert (again.status_code, again.json()) == (200, {"queries": 0, "events": 0, "suppressed": False})
    assert len(event_ids(b.organization)) == 4


def test_rest_refuses_without_the_role(live_server, worlds):
    a, _b = worlds
    api = api_with_roles(live_server, a.organization, ["insights:read", "insights:write"])
    assert assert_problem(api.delete(f"/api/v1/ubi/subjects/user_id/{PERSON}"), 403)["code"] == "permission_denied"
    assert len(event_ids(a.organization)) == 4


def test_rest_answers_400_for_an_unknown_kind(live_server, worlds):
    a, _b = worlds
    api = api_with_roles(live_server, a.organization, [ERASE_ROLE])
    problem = assert_problem(api.delete("/api/v1/ubi/subjects/email/someone@example.com"), 400)
    assert list(problem["errors"]) == ["kind"]


def test_rest_takes_a_value_with_a_slash(live_server, db):
    organization = factories.make_org("Slashes")
    track_event(organization, AT, user_id="tenant/42")
    api = api_with_roles(live_server, organization, [ERASE_ROLE])
    answer = api.delete("/api/v1/ubi/subjects/user_id/tenant/42")
    assert answer.json() == {"queries": 0, "events": 1, "suppressed": False}


def test_the_role_is_given_to_nobody_by_default(db):
    role = Role.objects.get(name=ERASE_ROLE)
    assert not role.users.exists() and not role.app_clients.exists()


# The command.


def test_the_command_prints_the_counts(worlds, capsys):
    call_command("erase_subject", "--org", "A", "--kind", "user_id", "--value", PERSON)
    assert json.loads(capsys.readouterr().out) == {"queries": 1, "events": 3, "suppressed": False}
    call_command("erase_subject", "--org", "A", "--kind", "user_id", "--value", PERSON)
    assert json.loads(capsys.readouterr().out) == {"queries": 0, "events": 0, "suppressed": False}
    assert AuditEvent.objects.filter(object_type="subject").first().actor == "manage.py erase_subject"
    with pytest.raises(CommandError, match="No organisation"):
        call_command("erase_subject", "--org", "Nobody", "--kind", "user_id", "--value", PERSON)


def test_the_aggregates_are_rebuilt_without_the_person(worlds):
    a, _b = worlds
    rollups.refresh()
    searches = SearchFact.objects.filter(organization=a.organization)
    assert searches.get(query_id=a.shared_search).clicks == 2
    erase_subject(eraser(a.organization), kind="user_id", value=PERSON)
    rollups.refresh()
    assert set(searches.values_list("query_id", flat=True)) == {a.shared_search, a.device_search}
    assert searches.get(query_id=a.shared_search).clicks == 1
