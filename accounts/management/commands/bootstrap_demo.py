"""Create the demo organisation, an administrator and an app client, once; print their credentials every time.

Secrets are stored only hashed, so the clear values of this first set-up are kept in a file under ``var/``
(owner-only) for the README's first command to print again. Deleting the file and the objects starts afresh.
"""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts import services
from accounts.audit import AuditedCommand
from accounts.models import AppClient, User
from project.secrets import persistent_file

DEMO_ORG = "Demo"
DEMO_CLIENT = "demo-client"
DEMO_ADMIN = "admin@example.com"
ROLES = ["insights:read", "insights:write"]


class Command(AuditedCommand):
    help = "Create the demo organisation, admin user and app client if absent, and print their credentials."

    def add_arguments(self, parser):
        parser.add_argument(
            "--credentials-file", default=str(Path(settings.VAR_DIR) / "demo-credentials.json"), type=Path
        )

    def handle(self, *args, **options):
        path = options["credentials_file"]
        credentials = json.loads(persistent_file(path, lambda: json.dumps(self._create()).encode()))
        if not self._still_valid(credentials):
            path.unlink()
            credentials = json.loads(persistent_file(path, lambda: json.dumps(self._create()).encode()))
        self.stdout.write(
            "Demo organisation '{org}'\n"
            "  admin:      {admin_email} / {admin_password}   (http://HOST/admin/)\n"
            "  app client: client_id={client_id}\n"
            "              client_secret={client_secret}\n".format(**credentials)
        )

    @transaction.atomic
    def _create(self) -> dict:
        organization = services.organization_get_or_create(name=DEMO_ORG)
        password = secrets.token_urlsafe(12)
        admin = User.objects.filter(email=DEMO_ADMIN).first()
        if admin is None:
            admin = User.objects.create_superuser(DEMO_ADMIN, password, organization=organization)
        else:
            admin.set_password(password)
            admin.save(update_fields=["password"])
        AppClient.objects.filter(organization=organization, name=DEMO_CLIENT).delete()
        created = services.app_client_create(organization=organization, name=DEMO_CLIENT, roles=ROLES)
        return {
            "org": organization.name,
            "admin_email": admin.email,
            "admin_password": password,
            "client_id": created.client.client_id,
            "client_secret": created.client_secret,
        }

    def _still_valid(self, credentials: dict) -> bool:
        """The file describes this database (it may have been reset since)."""
        admin = User.objects.filter(email=credentials.get("admin_email")).first()
        client_exists = AppClient.objects.filter(client_id=credentials.get("client_id")).exists()
        return bool(admin and admin.check_password(credentials.get("admin_password")) and client_exists)
