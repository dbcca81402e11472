"""export_opensearch: an organisation's queries and events as _bulk NDJSON that fits the OpenSearch UBI mappings."""

import io
import json
import re
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command

from insights import services
from insights.command_principal import command_principal
from insights.opensearch_export import document_count, export_opensearch
from tests.support import factories
from tests.support.paths import UBI_REFERENCE

# OpenSearch's strict_date_time: yyyy-MM-dd'T'HH:mm:ss.SSS and an offset (Z or +hh:mm).
STRICT_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,9}(Z|[+-]\d{2}:\d{2})")


def mapping(name: str) -> dict:
    return json.loads((UBI_REFERENCE / f"opensearch-{name}-mapping.json").read_text())


def check_against_mapping(document: dict, mapping_node: dict, path: str = "") -> None:
    """Each field of ``document`` that the mapping names has a value its type takes (or an array of them);
    fields it does not name are refused only under ``"dynamic": "strict"``."""
    properties = mapping_node.get("properties", {})
    if str(mapping_node.get("dynamic")) == "strict":
        assert set(document) <= set(properties), f"{path}: fields outside a strict mapping"
    for name, value in document.items():
        if name in properties:
            for item in value if isinstance(value, list) else [value]:
                check_value(item, properties[name], f"{path}{name}")


def check_value(value, spec: dict, path: str) -> None:
    kind = spec.get("type", "object")
    if kind in ("keyword", "text"):
        assert isinstance(value, str), path
        assert len(value) <= spec.get("ignore_above", len(value)), path
    elif kind == "date":
        assert isinstance(value, str) and STRICT_DATE_TIME.fullmatch(value), (path, value)
        datetime.fromisoformat(value)
    elif kind in ("integer", "long", "short"):
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif kind in ("float", "double"):
        assert isinstance(value, (int, float)) and not isinstance(value, bool), path
    elif kind == "flat_object":
        assert isinstance(value, dict), path
    elif kind == "object":
        assert isinstance(value, dict), path
        check_against_mapping(value, spec, f"{path}.")
    else:
        pytest.fail(f"{path}: the checker knows no type {kind!r}")


def bulk(path) -> list[tuple[dict, dict]]:
    """The (action, document) pairs of a _bulk file, which alternates the two and ends with a newline."""
    text = path.read_text()
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert len(lines) % 2 == 0
    return [(json.loads(action), json.loads(document)) for action, document in zip(lines[::2], lines[1::2])]


def export(org, out, *arguments) -> str:
    stdout = io.StringIO()
    call_command("export_opensearch", "--org", org.name, "--out", str(out), *arguments, stdout=stdout)
    return stdout.getvalue()


def track(org, *, user_query, timestamp, application="shop") -> str:
    principal = command_principal(org.name, roles=("insights:write",), command="test")
    query_id = services.track_query(principal, query={
        "user_query": user_query, "timestamp": timestamp, "application": application, "client_id": "browser-1",
        "query_attributes": {"filters": {"brand": "acme"}, "page": 2}, "query_response_id": "response-1",
        "query_response_hit_ids": ["doc-1", "doc-2"], "object_id_field": "sku", "experiment": "b",
    })
    services.track_events(principal, events=[
        {"action_name": "impression", "query_id": query_id, "timestamp": timestamp, "application": application,
         "session_id": "session-1", "user_id": "user-1", "message_type": "INFO", "message": "shown",
         "event_attributes": {
             "position": {"ordinal": 1, "page_depth": 1, "trail": "home>search"},
             "object": {"object_id": "doc-1", "object_id_field": "sku", "internal_id": "17", "name": "Doc one",
                        "description": "The first document", "object_detail": {"price": 9.5}},
         }},
        {"action_name": "click", "event_id": f"click-{user_query}", "query_id": query_id, "timestamp": timestamp,
         "user_query": user_query, "event_attributes": {"position": {"ordinal": 2}, "object": {"object_id": "doc-2"}}},
    ])
    return query_id


@pytest.fixture
def orgs(db):
    mine, theirs = factories.make_org("Mine"), factories.make_org("Theirs")
    track(mine, user_query="red shoes", timestamp="2026-01-10T12:00:00+02:00")  # 10:00 UTC
    track(mine, user_query="blue hat", timestamp="2026-03-10T10:00:00.5Z", application="blog")
    track(theirs, user_query="their secret", timestamp="2026-01-10T10:00:00Z")
    return mine, theirs


def test_the_documents_fit_the_opensearch_ubi_mappings(orgs, tmp_path):
    mine, _ = orgs
    output = export(mine, tmp_path)
    assert f"2 queries: {tmp_path / 'ubi_queries.ndjson'}" in output
    assert f"4 events:  {tmp_path / 'ubi_events.ndjson'}" in output
    queries, events = bulk(tmp_path / "ubi_queries.ndjson"), bulk(tmp_path / "ubi_events.ndjson")
    for name, pairs in (("queries", queries), ("events", events)):
        for action, document in pairs:
            assert action["index"]["_index"] == f"ubi_{name}"
            check_against_mapping(document, mapping(name))
    first_query = queries[0][1]
    assert first_query["timestamp"] == "2026-01-10T10:00:00.000Z"  # the instant, in the form the date field takes
    assert first_query["query_response_hit_ids"] == ["doc-1", "doc-2"]
    assert first_query["query_attributes"] == {"filters": {"brand": "acme"}, "page": 2}
    assert first_query["experiment"] == "b"  # unmapped fields kept (the queries index ignores them: dynamic false)
    assert queries[0][0]["index"]["_id"] == first_query["query_id"]
    assert queries[1][1]["timestamp"] == "2026-03-10T10:00:00.500Z"
    clicks = [(action, document) for action, document in events if document["action_name"] == "click"]
    assert [action["index"]["_id"] for action, _ in clicks] == ["click-red shoes", "click-blue hat"]
    assert all("event_id" not in document for _, document in events)  # it is the _id
    impression = events[0][1]
    assert impression["event_attributes"]["object"]["object_detail"] == {"price": 9.5}
    assert impression["event_attributes"]["position"]["trail"] == "home>search"


def test_another_organisations_rows_are_not_exported(orgs, tmp_path):
    mine, theirs = orgs
    export(mine, tmp_path / "mine")
    export(theirs, tmp_path / "theirs")
    mine_text = (tmp_path / "mine" / "ubi_queries.ndjson").read_text()
    assert "their secret" not in mine_text and "their secret" not in (tmp_path / "mine" / "ubi_events.ndjson").read_text()
    assert [document["user_query"] for _, document in bulk(tmp_path / "theirs" / "ubi_queries.ndjson")] == [
        "their secret"
    ]
    assert len(bulk(tmp_path / "theirs" / "ubi_events.ndjson")) == 2


def test_from_to_and_application_filter_what_is_exported(orgs, tmp_path):
    mine, _ = orgs
    export(mine, tmp_path / "march", "--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z")
    assert [document["user_query"] for _, document in bulk(tmp_path / "march" / "ubi_queries.ndjson")] == ["blue hat"]
    assert len(bulk(tmp_path / "march" / "ubi_events.ndjson")) == 2
    # "to" is exclusive, "from" inclusive.
    export(mine, tmp_path / "edge", "--from", "2026-01-10T10:00:00Z", "--to", "2026-03-10T10:00:00.5Z")
    assert [document["user_query"] for _, document in bulk(tmp_path / "edge" / "ubi_queries.ndjson")] == ["red shoes"]
    export(mine, tmp_path / "blog", "--application", "blog")
    assert [document["user_query"] for _, document in bulk(tmp_path / "blog" / "ubi_queries.ndjson")] == ["blue hat"]
    # Only the impression carries the application.
    assert [document["action_name"] for _, document in bulk(tmp_path / "blog" / "ubi_events.ndjson")] == ["impression"]


def test_nothing_to_export_writes_empty_files(orgs, tmp_path):
    mine, _ = orgs
    output = export(mine, tmp_path, "--from", "2030-01-01T00:00:00Z")
    assert "0 queries" in output and (tmp_path / "ubi_queries.ndjson").read_text() == ""


def test_a_bad_time_or_organisation_is_refused(orgs, tmp_path):
    mine, _ = orgs
    with pytest.raises(CommandError, match="from: Expected an ISO 8601 date-time"):
        export(mine, tmp_path, "--from", "yesterday")
    with pytest.raises(CommandError, match="No organisation"):
        call_command("export_opensearch", "--org", "Nowhere", "--out", str(tmp_path))
    assert not (tmp_path / "ubi_queries.ndjson").exists()


@pytest.mark.parametrize("document", [
    {"timestamp": "2026-01-10T10:00:00Z"},  # no milliseconds: strict_date_time refuses it
    {"event_attributes": {"position": {"ordinal": "1"}}},
    {"event_attributes": {"object": "doc-1"}},
    {"action_name": ["click", 3]},
])
def test_the_checker_refuses_what_the_events_mapping_refuses(document):
    with pytest.raises(AssertionError):
        check_against_mapping(document, mapping("events"))


def test_progress_counts_every_document_written(orgs, tmp_path):
    mine, _ = orgs
    principal = command_principal(mine.name, roles=("insights:read",), command="test")
    steps = []
    written = export_opensearch(principal, out_dir=tmp_path, filters={}, progress=steps.append)
    assert sum(steps) == written.queries + written.events == document_count(principal, filters={}) == 6
