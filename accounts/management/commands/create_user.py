import json

from accounts import services
from accounts.audit import AuditedCommand
from accounts.management.service_errors import service_errors


class Command(AuditedCommand):
    help = "Create a user (or service account) in an organisation, created if needed; optionally with a TOTP factor."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation name; created if it does not exist.")
        parser.add_argument("--email", required=True, help="The address the user signs in with.")
        parser.add_argument("--password", required=True, help="Checked by the password validators.")
        parser.add_argument("--roles", default="", help="Comma-separated roles, e.g. insights:read,insights:write.")
        parser.add_argument("--service-account", action="store_true", help="A non-human account, for scripts.")
        parser.add_argument(
            "--totp", action="store_true", help="Turn on the one-time-code second factor and print its secret, once."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object (id, email, org, totp).")

    def handle(self, *args, **options):
        organization = services.organization_get_or_create(name=options["org"])
        with service_errors():
            user = services.user_create(
                organization=organization,
                email=options["email"],
                password=options["password"],
                roles=options["roles"].split(","),
                is_service_account=options["service_account"],
            )
        secret = services.totp_enable(user) if options["totp"] else None
        if options["json"]:
            printed = {"id": user.pk, "email": user.email, "organization": organization.name}
            if secret:
                printed["totp_secret"] = secret
            self.stdout.write(json.dumps(printed))
            return
        kind = "Service account" if user.is_service_account else "User"
        self.stdout.write(f"{kind} {user.email} (id {user.pk}) in organisation {organization.name}")
        if secret:
            self.stdout.write(f"TOTP secret:   {secret}")
            self.stdout.write("Add it to an authenticator app now: it is stored encrypted and cannot be shown again.")
