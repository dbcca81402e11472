import argparse
import json

from django.core.management.base import CommandError

from accounts import services
from accounts.audit import AuditedCommand
from accounts.management.service_errors import service_errors
from project.rates import parse_rate


def rate_argument(value: str) -> str:
    try:
        return str(parse_rate(value))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class Command(AuditedCommand):
    help = (
        "Create an app client in an organisation (created if needed). A machine client prints its id and secret, "
        "once; a public client for people (--public) has no secret and needs at least one --redirect-uri."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation name; created if it does not exist.")
        parser.add_argument("--name", required=True, help="A name for the client, shown on the consent screen.")
        parser.add_argument("--roles", default="", help="Comma-separated roles, e.g. insights:read,insights:write.")
        parser.add_argument(
            "--public", action="store_true",
            help="A client for people: authorization code with PKCE (and the password grant with --password-grant).",
        )
        parser.add_argument(
            "--redirect-uri", action="append", default=[], dest="redirect_uris", metavar="URI",
            help="A redirect URI of a --public client; repeat for several.",
        )
        parser.add_argument(
            "--require-auth-code", action="store_true",
            help="For a --public client: PKCE is mandatory and the password grant is refused.",
        )
        parser.add_argument(
            "--password-grant", action="store_true",
            help="For a --public client: scripts and service accounts may sign in through it with a password.",
        )
        parser.add_argument(
            "--rate-limit", type=rate_argument, metavar="N/s",
            help="API calls allowed to this client, e.g. 500/s or 20000/min. Default: the platform's default.",
        )
        parser.add_argument("--json", action="store_true", help='Print only {"client_id": ..., "client_secret": ...}.')

    def handle(self, *args, **options):
        public_only = options["redirect_uris"] or options["require_auth_code"] or options["password_grant"]
        if not options["public"] and public_only:
            raise CommandError("--redirect-uri, --require-auth-code and --password-grant are for --public clients.")
        if options["public"] and not options["redirect_uris"]:
            raise CommandError("A --public client needs at least one --redirect-uri.")
        organization = services.organization_get_or_create(name=options["org"])
        with service_errors():
            credentials = self._create(organization, options)
        if options["json"]:
            self.stdout.write(json.dumps(credentials))
            return
        self.stdout.write(f"Organisation:  {organization.name}")
        self.stdout.write(f"Client id:     {credentials['client_id']}")
        if "client_secret" in credentials:
            self.stdout.write(f"Client secret: {credentials['client_secret']}")
            self.stdout.write("The secret is stored only as a hash: keep it now, it cannot be shown again.")

    def _create(self, organization, options) -> dict:
        roles = options["roles"].split(",")
        if options["public"]:
            client = services.public_client_create(
                organization=organization,
                name=options["name"],
                redirect_uris=options["redirect_uris"],
                roles=roles,
                require_authorization_code_flow=options["require_auth_code"],
                allow_password_grant=options["password_grant"],
                rate_limit=options["rate_limit"] or "",
            )
            return {"client_id": client.client_id}
        created = services.app_client_create(
            organization=organization, name=options["name"], roles=roles, rate_limit=options["rate_limit"] or ""
        )
        return {"client_id": created.client.client_id, "client_secret": created.client_secret}
