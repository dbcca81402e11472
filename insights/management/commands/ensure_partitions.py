"""``manage.py ensure_partitions [--months-ahead N]``: make the coming months' partitions (PostgreSQL)."""

from django.core.management.base import BaseCommand

from insights import partitions
from project.conf import ubi_settings


class Command(BaseCommand):
    help = (
        "Make this month's and the coming months' partitions of the queries and events tables (PostgreSQL; "
        "nothing on SQLite). Safe to run at any time, from several machines at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months-ahead", type=int, default=ubi_settings.PARTITION_MONTHS_AHEAD,
            help="months after this one (default: the PARTITION_MONTHS_AHEAD setting)",
        )

    def handle(self, *, months_ahead, **options):
        if not partitions.is_partitioned():
            self.stdout.write("The tables are not partitioned (SQLite): nothing to do.")
            return
        made = partitions.ensure_partitions(months_ahead=months_ahead)
        self.stdout.write(f"Made {', '.join(made)}." if made else "Every partition was there already.")
