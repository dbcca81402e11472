"""``manage.py refresh_analytics``: bring the analytics rollups up to date with the rows ingested
(``analytics.rollups.refresh``), from cron or after a bulk load; ``--rebuild`` rebuilds them all."""

import sys
import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from accounts.models import Organization
from analytics import rollups


class Command(BaseCommand):
    help = (
        "Bring the analytics rollups up to date with the queries and events ingested so far (every read does it "
        "too; run it from cron and after bulk loads, so that reads find little left to do). A progress bar counts "
        "the steps, three per organisation, on stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild", action="store_true",
            help="Rebuild every organisation's rollups from all its rows (after ANALYTICS_MAX_RANK is raised).",
        )

    def handle(self, *args, **options):
        if options["rebuild"]:
            for organization_id in Organization.objects.values_list("id", flat=True):
                rollups.mark_stale(organization_id)
        started = time.monotonic()
        with tqdm(unit=" steps", file=sys.stderr, disable=None) as bar:
            report = rollups.refresh(progress=lambda done, total: _show(bar, done, total))
        self.stdout.write(
            f"Refreshed {report.organizations} organisation(s) in {time.monotonic() - started:.1f} s: "
            f"{report.searches} search(es), {report.rank_hours} rank hour(s), {report.pair_days} pair day(s) "
            f"written; queries up to id {report.query_id_seen}, events up to id {report.event_id_seen}."
        )


def _show(bar, done: int, total: int) -> None:
    bar.total = total
    bar.update(done - bar.n)
