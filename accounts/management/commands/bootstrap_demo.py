"""Create the platform's administrator, the demo organisation and its app client, once; print their credentials
every time.

The administrator is a superuser of no organisation: no organisation's staff can reach it, and it signs in to the
admin, not through an organisation's client. Secrets are stored only hashed, so the clear values of this first
set-up are kept in a file under ``var/`` (owner-only) for the README's first command to print again. Deleting the
file and the objects starts afresh.
"""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts import audit, services
from accounts.audit import AuditedCommand
from accounts.models import AppClient, AuditEvent, User
from project.secrets import persistent_file

DEMO_ORG = "Demo"
DEMO_CLIENT = "demo-client"
DEMO_ADMIN = "admin@example.com"
ROLES = ["insights:read", "insights:write"]


class Command(AuditedCommand):
    help = "Create the platform's admin, the demo organisation and its app client if absent; print their credentials."

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
        self._leave_organization()
        self.stdout.write(
            "Platform administrator (a superuser of no organisation)\n"
            "  admin:      {admin_email} / {admin_password}   (http://HOST/admin/)\n"
            "Demo organisation '{org}'\n"
            "  app client: client_id={client_id}\n"
            "              client_secret={client_secret}\n".format(**credentials)
        )

    @transaction.atomic
    def _create(self) -> dict:
        organization = services.organization_get_or_create(name=DEMO_ORG)
        password = secrets.token_urlsafe(12)
        admin = User.objects.filter(email=DEMO_ADMIN).first()
        if admin is None:
            admin = User.objects.create_superuser(DEMO_ADMIN, password)
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

    def _leave_organization(self) -> None:
        """A demo administrator made inside the demo organisation leaves it: that organisation's staff could set
        its password."""
        admin = User.objects.filter(email=DEMO_ADMIN, is_superuser=True, organization__isnull=False).first()
        if admin is not None:
            admin.organization = None
            admin.save(update_fields=["organization"])
            audit.record(AuditEvent.Action.CHANGED, admin, changes=audit.field_changes(admin, ["organization"]))

    def _still_valid(self, credentials: dict) -> bool:
        """The file describes this database (it may have been reset since)."""
        admin = User.objects.filter(email=credentials.get("admin_email")).first()
        client_exists = AppClient.objects.filter(client_id=credentials.get("client_id")).exists()
        return bool(admin and admin.check_password(credentials.get("admin_password")) and client_exists)
