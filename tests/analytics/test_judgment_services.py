"""``analytics.services.compute_judgment_list`` beyond what the API shows: batches and their progress, and a
failure part-way storing nothing."""

import pytest

from analytics import services
from analytics.models import Judgment, JudgmentList
from tests.support.analytics import interaction, track_events, track_query, tracker

pytestmark = pytest.mark.django_db


@pytest.fixture
def principal(org):
    writer = tracker(org)
    query_id = track_query(writer, "toner", hit_ids=["a", "b", "c"])
    track_events(writer, interaction("click", query_id, "c", 3))
    return writer


def test_judgments_are_stored_in_batches_each_reported_to_progress(principal, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    reported = []

    summary = services.compute_judgment_list(principal, name="n", model="sdbn", filters={}, progress=reported.append)

    assert reported == [2, 1]
    assert summary["judgmentCount"] == Judgment.objects.count() == 3
    # Stored in the model's order: by query, then object id.
    assert list(Judgment.objects.order_by("id").values_list("object_id", "rating")) == [
        ("a", 0.0), ("b", 0.0), ("c", 1.0)
    ]


def test_a_failure_part_way_stores_nothing(principal, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 1)

    def fail_at_the_second_batch(count):
        if Judgment.objects.count() >= 2:
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        services.compute_judgment_list(principal, name="n", model="coec", filters={}, progress=fail_at_the_second_batch)

    assert not JudgmentList.objects.exists() and not Judgment.objects.exists()
