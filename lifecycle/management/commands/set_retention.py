"""``manage.py set_retention``: an organisation's retention period (``lifecycle.retention.set_retention``)."""

from accounts.audit import AuditedCommand
from insights.command_principal import command_organization
from lifecycle.management.command_errors import domain_errors
from lifecycle.retention import set_retention


class Command(AuditedCommand):
    help = (
        "Set how many days an organisation's queries and events are kept (0: forever); enforce_retention deletes "
        "older ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's name (or id).")
        parser.add_argument("--days", required=True, type=int, help="Days to keep; 0 keeps forever.")

    def handle(self, *args, **options):
        with domain_errors():
            organization = command_organization(options["org"])
            policy = set_retention(organization, days=options["days"])
        kept = f"{policy.days} days" if policy.days else "forever"
        self.stdout.write(f"{organization.name}: queries and events are kept {kept}.")
