import json

from django.core.management.base import BaseCommand, CommandError

from accounts import services


class Command(BaseCommand):
    help = "Create an app client in an organisation (created if needed) and print its id and secret, once."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation name; created if it does not exist.")
        parser.add_argument("--name", required=True, help="A name for the client.")
        parser.add_argument("--roles", default="", help="Comma-separated roles, e.g. insights:read,insights:write.")
        parser.add_argument("--json", action="store_true", help='Print only {"client_id": ..., "client_secret": ...}.')

    def handle(self, *args, **options):
        organization = services.organization_get_or_create(name=options["org"])
        try:
            created = services.app_client_create(
                organization=organization, name=options["name"], roles=options["roles"].split(",")
            )
        except services.UnknownRoles as error:
            raise CommandError(str(error)) from None
        credentials = {"client_id": created.client.client_id, "client_secret": created.client_secret}
        if options["json"]:
            self.stdout.write(json.dumps(credentials))
            return
        self.stdout.write(f"Organisation:  {organization.name}")
        self.stdout.write(f"Client id:     {credentials['client_id']}")
        self.stdout.write(f"Client secret: {credentials['client_secret']}")
        self.stdout.write("The secret is stored only as a hash: keep it now, it cannot be shown again.")
