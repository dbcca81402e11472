"""``manage.py delete_organization``: offboarding (``lifecycle.offboarding``), after an optional export of the
organisation's UBI data (``insights.opensearch_export``)."""

import sys
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from accounts.audit import AuditedCommand
from insights.command_principal import command_organization, command_principal
from insights.opensearch_export import document_count, export_opensearch
from insights.selectors import READ_ROLE
from lifecycle.management.command_errors import domain_errors
from lifecycle.offboarding import big_table_rows, delete_organization

COMMAND = "delete_organization"


class Command(AuditedCommand):
    help = (
        "Delete an organisation with everything it has: queries, events, judgment lists, aggregates, app clients "
        "and their tokens, people, settings and its audit trail (one audit event of the offboarding stays). "
        "--export DIR first writes its queries and events as OpenSearch _bulk files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's name (or id).")
        parser.add_argument("--confirm", action="store_true", help="Required: nothing is deleted without it.")
        parser.add_argument("--export", type=Path, metavar="DIR", help="Export its UBI data here first.")

    def handle(self, *args, **options):
        with domain_errors():
            organization = command_organization(options["org"])
        if not options["confirm"]:
            raise CommandError(
                f"This deletes {organization.name} and everything it has ({big_table_rows(organization)} queries, "
                "events and judgments among them). Run again with --confirm."
            )
        exported_to = None
        if options["export"] is not None:
            exported_to = self._export(organization, options["export"])
        with tqdm(total=big_table_rows(organization), unit=" rows", file=sys.stderr, disable=None) as bar:
            deleted = delete_organization(organization, exported_to=exported_to, progress=bar.update)
        for label, count in deleted.items():
            self.stdout.write(f"{label}: {count}")
        self.stdout.write(f"Organisation {organization.name} ({organization.pk}) deleted.")

    def _export(self, organization, out_dir: Path) -> str:
        with domain_errors():
            principal = command_principal(str(organization.pk), roles=(READ_ROLE,), command=COMMAND)
            with tqdm(total=document_count(principal, filters={}), unit="doc", file=sys.stderr, disable=None) as bar:
                written = export_opensearch(principal, out_dir=out_dir, filters={}, progress=bar.update)
        self.stdout.write(f"{written.queries} queries: {written.queries_path}")
        self.stdout.write(f"{written.events} events:  {written.events_path}")
        return str(out_dir)
