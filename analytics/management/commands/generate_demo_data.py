"""``manage.py generate_demo_data``: simulated searches and clicks with a known truth (``analytics.simulation``)."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analytics.demo_data import generate_demo_data
from analytics.simulation import Parameters
from insights.command_principal import command_principal
from insights.services import WRITE_ROLE
from project.errors import DomainError


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


class Command(BaseCommand):
    help = (
        "Track simulated searches and clicks (a position-based click model with known relevance and examination) "
        "for an organisation, through the tracking services; print the path of the truth file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's name (or id).")
        parser.add_argument("--queries", type=positive, required=True, help="Searches (UBI queries) to track.")
        parser.add_argument("--sessions", type=positive, required=True, help="User sessions they are spread over.")
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same searches and truth (default 0).")
        parser.add_argument("--application", default=Parameters.application)
        parser.add_argument("--days", type=positive, default=Parameters.days, help="Spread over the last D days.")
        parser.add_argument("--distinct-queries", type=positive, default=Parameters.distinct_queries)
        parser.add_argument("--truth", type=Path, help="Where to write the truth (JSON). Default: under var/.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the organisation already has queries."
        )

    def handle(self, *args, **options):
        end = datetime.now(UTC).replace(microsecond=0)
        parameters = Parameters(
            searches=options["queries"],
            sessions=options["sessions"],
            end=end,
            seed=options["seed"],
            application=options["application"],
            days=options["days"],
            distinct_queries=options["distinct_queries"],
        )
        truth_path = options["truth"] or (
            Path(settings.VAR_DIR) / "demo-truth" / f"seed{parameters.seed}-{end:%Y%m%dT%H%M%S}.json"
        )
        with tqdm(total=parameters.searches, unit="search", file=sys.stderr, disable=None) as bar:
            try:
                principal = command_principal(options["org"], roles=(WRITE_ROLE,), command="generate_demo_data")
                generated = generate_demo_data(
                    principal, parameters=parameters, truth_path=truth_path, progress=bar.update,
                    only_if_empty=options["if_empty"],
                )
            except DomainError as error:
                raise CommandError(str(error)) from None
        if generated is None:
            self.stdout.write(f"Organisation {options['org']!r} already has queries: nothing generated.")
            return
        self.stdout.write(f"Tracked {generated.queries} queries and {generated.events} events.")
        self.stdout.write(f"Truth: {generated.truth_path}")
