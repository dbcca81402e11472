"""Joins ``0007_sso_identity`` to the rest of the 0007 and 0008 migrations: they touch different models."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_sso_identity"),
        ("accounts", "0008_existing_clients_keep_the_password_grant"),
    ]

    operations = []
