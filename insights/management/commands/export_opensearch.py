"""``manage.py export_opensearch``: an organisation's UBI data as OpenSearch ``_bulk`` files
(``insights.opensearch_export``)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from insights.command_principal import command_principal
from insights.opensearch_export import document_count, export_opensearch
from insights.selectors import READ_ROLE
from project.errors import DomainError, InvalidInput


class Command(BaseCommand):
    help = (
        "Write an organisation's UBI queries and events to DIR/ubi_queries.ndjson and DIR/ubi_events.ndjson in "
        "OpenSearch _bulk format, for the UBI plugin's indexes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's name (or id).")
        parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="Created if needed.")
        parser.add_argument("--from", dest="from", help="From this instant on (ISO 8601, inclusive).")
        parser.add_argument("--to", help="Before this instant (ISO 8601, exclusive).")
        parser.add_argument("--application", help="Only this application's queries and events.")

    def handle(self, *args, **options):
        filters = {name: options[name] for name in ("from", "to", "application")}
        try:
            principal = command_principal(options["org"], roles=(READ_ROLE,), command="export_opensearch")
            total = document_count(principal, filters=filters)
            with tqdm(total=total, unit="doc", file=sys.stderr, disable=None) as bar:
                written = export_opensearch(principal, out_dir=options["out"], filters=filters, progress=bar.update)
        except InvalidInput as error:
            raise CommandError(" ".join(text for texts in error.errors.values() for text in texts)) from None
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{written.queries} queries: {written.queries_path}")
        self.stdout.write(f"{written.events} events:  {written.events_path}")
