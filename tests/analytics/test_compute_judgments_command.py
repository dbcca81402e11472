"""``manage.py compute_judgments``: the same list as the API, from a shell, its summary printed as JSON."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from analytics.models import JudgmentList
from tests.support import factories
from tests.support.analytics import interaction, track_events, track_query, tracker

pytestmark = pytest.mark.django_db


@pytest.fixture
def searches(org):
    """Two toner searches: a, b at ranks 1, 2 (from the hit ids); S1 clicks b, S2 clicks a.

    COEC: rank 1 and rank 2 each show 2 with one click (CTR 1/2): a and b rate 1 ÷ (1/2 × 2) = 1.
    """
    writer = tracker(org)
    s1 = track_query(writer, "toner", hit_ids=["a", "b"], query_id="S1")
    s2 = track_query(writer, "toner", hit_ids=["a", "b"], query_id="S2")
    track_events(writer, interaction("click", s1, "b", 2), interaction("click", s2, "a", 1))


def run(*arguments) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("compute_judgments", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_stores_a_list_and_prints_its_summary(org, searches):
    out, _ = run("--org", org.name, "--model", "coec", "--name", "nightly", "--max-rank", "2", "--min-impressions", "2")

    summary = json.loads(out)
    assert summary["name"] == "nightly" and summary["model"] == "coec"
    assert summary["judgmentCount"] == 2 and summary["queryCount"] == 1
    assert summary["parameters"] == {"maxRank": 2, "minImpressions": 2, "from": None, "to": None, "application": None}
    assert summary["createdBy"] == "command:compute_judgments"
    stored = JudgmentList.objects.get(pk=summary["id"])
    assert stored.organization_id == org.pk
    assert sorted(stored.judgments.values_list("object_id", "rating")) == [("a", 1.0), ("b", 1.0)]


def test_the_organisation_may_be_named_by_its_id(org, searches):
    out, _ = run("--org", str(org.pk), "--model", "sdbn", "--name", "by id")

    assert json.loads(out)["judgmentCount"] == 2


def test_bad_parameters_are_named_by_their_option(org):
    with pytest.raises(CommandError, match="--max-rank: .*--from: "):
        run("--org", org.name, "--model", "pbm", "--name", "n", "--max-rank", "0", "--from", "soon")
    assert not JudgmentList.objects.exists()


def test_an_unknown_organisation_is_an_error_and_creates_nothing():
    factories.make_org("Known")

    with pytest.raises(CommandError, match="No organisation 'Unknown'"):
        run("--org", "Unknown", "--model", "coec", "--name", "n")
    assert not JudgmentList.objects.exists()
