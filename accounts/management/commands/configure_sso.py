import json

from django.core.management.base import CommandError

from accounts import sso_providers
from accounts.audit import AuditedCommand
from accounts.management.service_errors import service_errors
from accounts.models import Organization


class Command(AuditedCommand):
    help = (
        "Configure an organisation's single sign-on with its own OpenID Connect provider (replacing any previous "
        "configuration), and print the callback URL to register at the provider."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Name of an existing organisation.")
        parser.add_argument(
            "--issuer", required=True, help="The provider's issuer URL (https://, on a public address)."
        )
        parser.add_argument("--client-id", required=True, help="The client id this platform has at the provider.")
        parser.add_argument(
            "--client-secret", required=True, help="Its secret: stored encrypted, never printed or shown again."
        )
        parser.add_argument(
            "--domain", action="append", required=True, help="An email domain that signs in there (repeatable)."
        )
        parser.add_argument(
            "--mandatory", action="store_true", help="Refuse passwords for these domains, except service accounts."
        )
        parser.add_argument(
            "--no-provisioning",
            action="store_true",
            help="Only existing accounts may sign in (default: create them at first sign-in, with --roles).",
        )
        parser.add_argument(
            "--no-email-verified-claim",
            action="store_true",
            help="The provider never sends email_verified (e.g. another deployment of this platform): accept ID "
            "tokens without it. One that says the address is not verified is refused all the same.",
        )
        parser.add_argument("--roles", default="", help="Comma-separated roles of accounts created at first sign-in.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object (org, domains, callback_url).")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(name=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organisation named {options['org']!r}.")
        with service_errors():
            provider = sso_providers.sso_configure(
                organization=organization,
                issuer=options["issuer"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
                domains=options["domain"],
                mandatory=options["mandatory"],
                provision_users=not options["no_provisioning"],
                default_roles=options["roles"].split(","),
                require_email_verified=not options["no_email_verified_claim"],
            )
        domains = sorted(provider.domains.values_list("domain", flat=True))
        if options["json"]:
            printed = {
                "organization": organization.name,
                "issuer": provider.issuer,
                "domains": domains,
                "mandatory": provider.mandatory,
                "callback_url": sso_providers.callback_url(),
            }
            self.stdout.write(json.dumps(printed))
            return
        mode = "mandatory" if provider.mandatory else "optional"
        self.stdout.write(f"Single sign-on for {organization.name} ({mode}): {', '.join(domains)} -> {provider.issuer}")
        self.stdout.write(f"Register this callback (redirect) URL at the provider: {sso_providers.callback_url()}")
