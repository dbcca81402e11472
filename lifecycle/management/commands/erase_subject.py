"""``manage.py erase_subject``: everything an organisation tracked for one person
(``lifecycle.erasure.erase_subject``), its counts printed as JSON."""

import dataclasses
import json

from accounts.audit import AuditedCommand
from insights.command_principal import command_principal
from lifecycle.erasure import ERASE_ROLE, KINDS, erase_subject
from lifecycle.management.command_errors import domain_errors


class Command(AuditedCommand):
    help = (
        "Delete every event of an organisation whose user_id, client_id or session_id is the value, and the "
        "queries only they refer to (and, for client_id, the queries tracked with it); print the counts as JSON. "
        "Running it again deletes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's name (or id).")
        parser.add_argument("--kind", required=True, choices=KINDS, help="Which field names the person.")
        parser.add_argument("--value", required=True, help="The person's user_id, client_id or session_id.")
        parser.add_argument(
            "--suppress", action="store_true",
            help="Store none of the person's documents from now on (until the suppression is deleted in the admin).",
        )

    def handle(self, *args, **options):
        with domain_errors():
            principal = command_principal(options["org"], roles=(ERASE_ROLE,), command="erase_subject")
            erased = erase_subject(
                principal, kind=options["kind"], value=options["value"], suppress=options["suppress"]
            )
        self.stdout.write(json.dumps(dataclasses.asdict(erased)))
