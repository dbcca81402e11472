"""Data migrations, run forwards from the state before them on the test database."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0006_audit_events")]
AFTER = [("accounts", "0008_existing_clients_keep_the_password_grant")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_clients_registered_before_the_opt_in_keep_the_password_grant_they_had():
    """An upgrade does not lock scripts out: a client that had the password grant keeps it; one that excluded it
    (``require_authorization_code_flow``) and a machine client do not get it."""
    apps = migrate(BEFORE)
    Organization, AppClient = apps.get_model("accounts", "Organization"), apps.get_model("accounts", "AppClient")
    org = Organization.objects.create(name="Upgraded")

    def client(name, grant, require_code=False):
        return AppClient.objects.create(
            organization=org, name=name, client_id=name, client_type="public", authorization_grant_type=grant,
            require_authorization_code_flow=require_code, redirect_uris="https://app.example/callback",
        )

    client("people", "authorization-code")
    client("strict", "authorization-code", require_code=True)
    client("scripts", "password")
    client("machine", "client-credentials")
    try:
        apps = migrate(AFTER)
        allowed = dict(apps.get_model("accounts", "AppClient").objects.values_list("client_id", "allow_password_grant"))
        assert allowed == {"people": True, "strict": False, "scripts": True, "machine": False}
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
