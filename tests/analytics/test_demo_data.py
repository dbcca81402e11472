"""generate_demo_data: simulated searches with a known truth, tracked through the tracking services."""

import io
import json
from collections import defaultdict
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command

from analytics.demo_data import generate_demo_data
from analytics.simulation import Parameters, simulate
from insights import services
from insights.command_principal import command_principal
from insights.models import Event, Query
from project.conf import ubi_settings
from tests.support import factories


def generate(org, tmp_path, *arguments) -> tuple[str, dict]:
    out = io.StringIO()
    truth_path = tmp_path / f"truth-{org.name}.json"
    call_command("generate_demo_data", "--org", org.name, "--truth", str(truth_path), *arguments, stdout=out)
    return out.getvalue(), json.loads(truth_path.read_text())


def parameters_of(truth: dict) -> Parameters:
    return Parameters(**{**truth["parameters"], "end": datetime.fromisoformat(truth["parameters"]["end"])})


@pytest.fixture
def tracking_calls(monkeypatch):
    """What the command asked of the tracking services: ``"query"`` per query, the size of each event batch."""
    calls = []
    track_query, track_events = services.track_query, services.track_events

    def spy_query(principal, *, query):
        calls.append("query")
        return track_query(principal, query=query)

    def spy_events(principal, *, events):
        calls.append(len(events))
        return track_events(principal, events=events)

    monkeypatch.setattr(services, "track_query", spy_query)
    monkeypatch.setattr(services, "track_events", spy_events)
    return calls


def test_the_command_tracks_the_simulated_documents_through_the_services(db, tmp_path, tracking_calls):
    org, other = factories.make_org("Shop"), factories.make_org("Other")
    output, truth = generate(org, tmp_path, "--queries", "700", "--sessions", "50", "--seed", "3",
                             "--application", "store")
    searches = list(simulate(parameters_of(truth))[1])
    expected_events = [event for search in searches for event in search.events]

    assert f"Tracked 700 queries and {len(expected_events)} events." in output
    assert f"Truth: {tmp_path / 'truth-Shop.json'}" in output
    assert tracking_calls.count("query") == 700
    batches = [size for size in tracking_calls if size != "query"]
    assert sum(batches) == len(expected_events) and max(batches) <= ubi_settings.MAX_EVENTS_PER_REQUEST
    stored_queries = {row.query_id: row.to_document() for row in Query.objects.filter(organization=org)}
    assert stored_queries == {search.query["query_id"]: search.query for search in searches}
    stored_events = {row.event_id: row.to_document() for row in Event.objects.filter(organization=org)}
    assert stored_events == {event["event_id"]: event for event in expected_events}
    assert {row.application for row in Query.objects.filter(organization=org)} == {"store"}
    assert not Query.objects.filter(organization=other).exists()


def test_the_truth_file_has_its_documented_shape(db, tmp_path):
    org = factories.make_org("Shop")
    _, truth = generate(org, tmp_path, "--queries", "20", "--sessions", "5", "--seed", "1", "--days", "7",
                        "--distinct-queries", "8")
    assert set(truth) == {"model", "parameters", "examination", "relevance", "zeroResultQueries"}
    assert truth["model"] == "pbm"
    assert truth["parameters"]["searches"] == 20 and truth["parameters"]["days"] == 7
    assert truth["parameters"]["seed"] == 1 and datetime.fromisoformat(truth["parameters"]["end"]).tzinfo
    ranks = truth["parameters"]["results_per_search"]
    assert truth["examination"] == {str(rank): 1 / rank ** truth["parameters"]["eta"] for rank in range(1, ranks + 1)}
    assert len(truth["relevance"]) == 8
    for documents in truth["relevance"].values():
        assert len(documents) == truth["parameters"]["documents_per_query"]
        assert all(isinstance(doc, str) and 0 <= value <= 1 for doc, value in documents.items())
    assert truth["zeroResultQueries"] and not set(truth["zeroResultQueries"]) & set(truth["relevance"])


def test_a_seed_gives_the_same_searches_and_truth(db, tmp_path):
    first, second, third = (factories.make_org(name) for name in ("First", "Second", "Third"))
    truths = [generate(org, tmp_path, "--queries", "150", "--sessions", "20", "--seed", seed)[1]
              for org, seed in ((first, "5"), (second, "5"), (third, "6"))]

    def searched(org):
        rows = Query.objects.filter(organization=org).order_by("timestamp", "id")
        return [(row.user_query, row.query_response_hit_ids) for row in rows]

    def clicked(org):
        rows = Event.objects.filter(organization=org, action_name="click").order_by("timestamp", "id")
        return [(row.user_query, row.event_attributes) for row in rows]

    assert truths[0]["relevance"] == truths[1]["relevance"] and truths[0]["relevance"] != truths[2]["relevance"]
    assert searched(first) == searched(second) and searched(first) != searched(third)
    assert clicked(first) == clicked(second)


def test_the_simulation_is_a_function_of_its_parameters():
    parameters = Parameters(searches=300, sessions=30, end=datetime.fromisoformat("2026-06-01T00:00:00+00:00"))
    first_truth, first = simulate(parameters)
    second_truth, second = simulate(parameters)
    assert first_truth == second_truth and list(first) == list(second)


def test_progress_counts_every_search(db, tmp_path):
    org = factories.make_org("Shop")
    principal = command_principal(org.name, roles=("insights:write",), command="test")
    parameters = Parameters(searches=1234, sessions=10, end=datetime.fromisoformat("2026-06-01T00:00:00+00:00"))
    steps = []
    generated = generate_demo_data(principal, parameters=parameters, truth_path=tmp_path / "t.json",
                                   progress=steps.append)
    assert sum(steps) == generated.queries == Query.objects.filter(organization=org).count() == 1234
    assert generated.events == Event.objects.filter(organization=org).count()


def test_if_empty_leaves_an_organisation_with_data_as_it_is(db, tmp_path):
    org = factories.make_org("Demo")
    generate(org, tmp_path, "--queries", "30", "--sessions", "5", "--if-empty")
    output, _ = generate(org, tmp_path, "--queries", "30", "--sessions", "5", "--if-empty")
    assert "already has queries" in output
    assert Query.objects.filter(organization=org).count() == 30


def test_an_unknown_organisation_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="No organisation 'Nowhere'"):
        call_command("generate_demo_data", "--org", "Nowhere", "--queries", "1", "--sessions", "1",
                     "--truth", str(tmp_path / "truth.json"))
    assert not (tmp_path / "truth.json").exists()


def clicks_and_impressions(org) -> dict[tuple[str, str, int], list[int]]:
    """(user query, document, rank) -> [clicks, impressions], read from the stored rows: a search's impressions
    are its hit ids, its clicks its click events."""
    clicked = defaultdict(set)
    for event in Event.objects.filter(organization=org, action_name="click"):
        clicked[event.query_id].add((event.event_attributes["object"]["object_id"],
                                     event.event_attributes["position"]["ordinal"]))
    counts = defaultdict(lambda: [0, 0])
    for query in Query.objects.filter(organization=org):
        for rank, document in enumerate(query.query_response_hit_ids, start=1):
            cell = counts[query.user_query, document, rank]
            cell[0] += (document, rank) in clicked[query.query_id]
            cell[1] += 1
    return counts


def test_clicks_follow_relevance_at_a_rank_and_examination_across_ranks(db, tmp_path):
    org = factories.make_org("Shop")
    _, truth = generate(org, tmp_path, "--queries", "2500", "--sessions", "300", "--seed", "11",
                        "--distinct-queries", "20")
    counts = clicks_and_impressions(org)
    relevance = truth["relevance"]
    for rank in (1, 2, 3):
        by_relevance = {"high": [0, 0], "low": [0, 0]}
        for (user_query, document, cell_rank), (clicks, impressions) in counts.items():
            value = relevance[user_query][document]
            if cell_rank == rank and (value >= 0.6 or value <= 0.2):
                bucket = by_relevance["high" if value >= 0.6 else "low"]
                bucket[0] += clicks
                bucket[1] += impressions
        high, low = (clicks / impressions for clicks, impressions in by_relevance.values())
        assert high > 3 * low, (rank, by_relevance)
    # Clicks at a rank over the relevance shown there estimate examination x (1 - abandonment): 1/r x 0.9.
    for rank in (1, 2, 5, 10):
        clicks = sum(cell[0] for key, cell in counts.items() if key[2] == rank)
        expected = sum(relevance[key[0]][key[1]] * cell[1] for key, cell in counts.items() if key[2] == rank)
        assert clicks / expected == pytest.approx(0.9 / rank, rel=0.15), rank


def test_searches_come_in_every_kind(db, tmp_path):
    org = factories.make_org("Shop")
    _, truth = generate(org, tmp_path, "--queries", "600", "--sessions", "40", "--seed", "2")
    queries = Query.objects.filter(organization=org)
    zero = [query for query in queries if not query.query_response_hit_ids]
    assert zero and {query.user_query for query in zero} <= set(truth["zeroResultQueries"])
    with_events = set(Event.objects.filter(organization=org).values_list("query_id", flat=True))
    with_impressions = set(
        Event.objects.filter(organization=org, action_name="impression").values_list("query_id", flat=True)
    )
    shown = {query.query_id for query in queries if query.query_response_hit_ids}
    assert shown - with_events, "no abandoned search"
    assert with_impressions and (with_events & shown) - with_impressions, "impression events for all or none"
    assert not with_events - shown  # nothing happens after a search that found nothing
