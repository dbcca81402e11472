"""``manage.py compute_judgments``: a judgment list of an organisation, computed by a click model
(``analytics.services.compute_judgment_list``), its summary printed as JSON."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analytics.click_models import MODELS
from analytics.services import WRITE_ROLE, compute_judgment_list
from insights.command_principal import command_principal
from project.errors import DomainError, InvalidInput

COMMAND = "compute_judgments"


class Command(BaseCommand):
    help = (
        "Compute a judgment list of an organisation's impressions and clicks with a click model (coec, pbm, sdbn), "
        "store it, and print its summary as JSON. A progress bar counts the judgments stored, on stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's name (or id).")
        parser.add_argument("--model", required=True, choices=sorted(MODELS), help="The click model.")
        parser.add_argument("--name", required=True, help="The list's name.")
        parser.add_argument("--max-rank", dest="maxRank", help="The last rank counted (default 20).")
        parser.add_argument("--min-impressions", dest="minImpressions", help="Leave out rarer pairs (default 1).")
        parser.add_argument("--from", dest="from", help="From this instant on (ISO 8601, inclusive).")
        parser.add_argument("--to", help="Before this instant (ISO 8601, exclusive).")
        parser.add_argument("--application", help="Only this application's interactions.")

    def handle(self, *args, **options):
        filters = {name: options[name] for name in ("maxRank", "minImpressions", "from", "to", "application")}
        try:
            principal = command_principal(options["org"], roles=(WRITE_ROLE,), command=COMMAND)
            with tqdm(unit=" judgments", file=sys.stderr, disable=None) as bar:
                summary = compute_judgment_list(
                    principal, name=options["name"], model=options["model"], filters=filters, progress=bar.update
                )
        except InvalidInput as error:
            raise CommandError(describe(error)) from None
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))


def describe(error: InvalidInput) -> str:
    """Each invalid parameter with its messages, named as the option that sets it."""
    options = {"maxRank": "--max-rank", "minImpressions": "--min-impressions"}
    return "; ".join(
        f"{options.get(name, '--' + name)}: {' '.join(messages)}" for name, messages in error.errors.items()
    )
