"""The token endpoint keeps the clients it has loaded (``oauth.clients``), never past a change to one of them.

A change made in another process (an operator's command, another server) reaches this one through the shared
cache's generation, so that test changes the client in a subprocess while the live server holds its copy.
"""

import base64
import os
import subprocess
import sys

import pytest
import requests
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import AppClient, Organization, Role
from oauth import clients
from tests.support import factories
from tests.support.grpc import PROJECT, database_url

NEW_SECRET = "a-new-secret-" + "x" * 40


def token_request(client_id: str, secret: str):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode())
    return api.post("/oauth2/token", {"grant_type": "client_credentials"})


def scope_of(response) -> set[str]:
    return set(response.json()["scope"].split())


@pytest.fixture
def machine(db):
    """A confidential client with both insights roles, whose copy the token endpoint already keeps."""
    machine = factories.make_client(factories.make_org())
    assert token_request(machine.client.client_id, machine.client_secret).status_code == 200
    return machine


@pytest.mark.django_db(transaction=True)
def test_a_kept_client_costs_no_query():
    machine = factories.make_client(factories.make_org())
    assert token_request(machine.client.client_id, machine.client_secret).status_code == 200

    with CaptureQueriesContext(connection) as captured:
        assert token_request(machine.client.client_id, machine.client_secret).status_code == 200

    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if AppClient._meta.db_table in sql]
    # The access token's row and its jti (oauth.token_ids, issue 18), and no transaction around those two statements
    # (oauth.dot_private_hooks.save_bearer_token).
    assert [sql.split()[0] for sql in statements] == ["INSERT", "INSERT"], statements
    assert "oauth_accesstokenid" in statements[1]


def deactivate(client: AppClient) -> None:
    client.is_active = False
    client.save()


def give_new_secret(client: AppClient) -> None:
    client.client_secret = NEW_SECRET  # hashed by django-oauth-toolkit on save
    client.save()


def delete_organisation(client: AppClient) -> None:
    AppClient.objects.filter(organization=client.organization).delete()
    Organization.objects.filter(pk=client.organization_id).delete()


@pytest.mark.parametrize("change", [deactivate, give_new_secret, AppClient.delete, delete_organisation])
def test_no_token_from_a_copy_older_than_the_clients_change(machine, change):
    change(AppClient.objects.get(pk=machine.client.pk))

    refused = token_request(machine.client.client_id, machine.client_secret)
    assert refused.status_code == 400, refused.content  # reference/oauth.txt: invalid_client is 400
    assert refused.json()["error"] == "invalid_client"


def test_a_new_secret_works_at_once(machine):
    give_new_secret(AppClient.objects.get(pk=machine.client.pk))

    assert token_request(machine.client.client_id, NEW_SECRET).status_code == 200


def test_a_token_carries_the_roles_as_they_are_now(machine):
    machine.client.roles.remove(Role.objects.get(name="insights:write"))
    assert scope_of(token_request(machine.client.client_id, machine.client_secret)) == {"insights:read"}

    role = Role.objects.get(name="insights:read")
    role.name = "insights:reader"
    role.save()
    assert scope_of(token_request(machine.client.client_id, machine.client_secret)) == {"insights:reader"}


def test_a_client_deactivated_by_another_process_gets_no_token(live_server, transactional_db, tmp_path):
    machine = factories.make_client(factories.make_org())
    url = f"{live_server.url}/oauth2/token"
    credentials = (machine.client.client_id, machine.client_secret)
    assert requests.post(url, data={"grant_type": "client_credentials"}, auth=credentials, timeout=10).ok

    code = (
        "from accounts.models import AppClient; "
        f"client = AppClient.objects.get(client_id={machine.client.client_id!r}); "
        "client.is_active = False; client.save()"
    )
    # This test's database and shared cache: Redis, or without it the file cache the conftest puts in tmp_path.
    env = {**os.environ, "DATABASE_URL": database_url(), "VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr

    refused = requests.post(url, data={"grant_type": "client_credentials"}, auth=credentials, timeout=10)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_client"


def test_a_generation_the_cache_lost_is_replaced_by_one_no_process_holds(db):
    held = clients._generation()
    caches["shared"].delete(clients.GENERATION_KEY)  # as a Redis restart would

    assert clients._generation() not in (None, held)
