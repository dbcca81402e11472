import json

from accounts import services as account_services
from accounts.audit import AuditedCommand
from accounts.management.commands.create_app_client import rate_argument
from accounts.management.service_errors import service_errors
from collector import services
from collector.keys import collector_url


class Command(AuditedCommand):
    help = (
        "Create an ingest key: a public, write-only key with which pages of the given origins track queries and "
        "events of one application, through the browser collector (docs/collector.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation name; created if it does not exist.")
        parser.add_argument("--application", required=True, help="The UBI application the key tracks for.")
        parser.add_argument(
            "--origin", action="append", default=[], dest="origins", metavar="URL",
            help="An origin (scheme://host[:port]) of pages that may post with it; repeat for several. None: only "
            "callers that send no Origin (servers, apps).",
        )
        parser.add_argument(
            "--rate-limit", type=rate_argument, metavar="N/s",
            help="Requests allowed with the key, e.g. 50/s. Default: COLLECTOR_RATE_LIMIT_PER_KEY.",
        )
        parser.add_argument("--name", default="", help="What the key is for, e.g. the site it is on.")
        parser.add_argument("--json", action="store_true", help='Print only {"key": ..., "collector_url": ...}.')

    def handle(self, *args, **options):
        organization = account_services.organization_get_or_create(name=options["org"])
        with service_errors():
            key = services.ingest_key_create(
                organization=organization,
                application=options["application"],
                origins=options["origins"],
                rate_limit=options["rate_limit"] or "",
                name=options["name"],
            )
        created = {"key": key.key, "collector_url": collector_url(key)}
        if options["json"]:
            self.stdout.write(json.dumps(created))
            return
        self.stdout.write(f"Organisation:  {organization.name}")
        self.stdout.write(f"Application:   {key.application}")
        self.stdout.write(f"Key:           {key.key}")
        self.stdout.write(f"Collector URL: {created['collector_url']}")
        self.stdout.write(f"Origins:       {', '.join(key.allowed_origins) or '(none: no browser may post)'}")
