"""Joins the two 0007 migrations, and keeps the password grant for the clients that had it before
``allow_password_grant`` existed: an upgrade must not lock out the scripts that use them. New clients are created
without it (RFC 9700 §2.4); an administrator turns it off for an existing client in the admin."""

from django.db import migrations
from django.db.models import Q


def keep_existing_password_grants(apps, schema_editor):
    AppClient = apps.get_model("accounts", "AppClient")
    AppClient.objects.filter(
        Q(authorization_grant_type="password")
        | Q(authorization_grant_type="authorization-code", require_authorization_code_flow=False)
    ).update(allow_password_grant=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_appclient_allow_password_grant"),
        ("accounts", "0007_superuser_without_organization"),
    ]

    operations = [migrations.RunPython(keep_existing_password_grants, migrations.RunPython.noop)]
