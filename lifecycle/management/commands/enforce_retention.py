"""``manage.py enforce_retention``: delete the queries and events past their organisation's retention period
(``lifecycle.retention.enforce_retention``). Made for cron, hourly: idempotent, and two runs at once do no harm."""

import sys

from django.utils import timezone
from tqdm import tqdm

from accounts.audit import AuditedCommand
from insights.validation import format_timestamp
from lifecycle.retention import enforce_retention, expired_count


class Command(AuditedCommand):
    help = (
        "Delete every query and event older than its organisation's retention period, and their analytics "
        "aggregates; drop whole partitions where every organisation allows it. A progress bar counts the rows "
        "deleted, on stderr; one line per organisation on stdout."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        with tqdm(total=expired_count(now), unit=" rows", file=sys.stderr, disable=None) as bar:
            report = enforce_retention(now=now, progress=bar.update)
        for name in report.partitions:
            self.stdout.write(f"partition {name}: dropped")
        for expired in report.organizations:
            self.stdout.write(
                f"{expired.organization}: {expired.queries} queries, {expired.events} events before "
                f"{format_timestamp(expired.cutoff)}"
            )
        self.stdout.write(f"{report.rows} rows deleted.")
