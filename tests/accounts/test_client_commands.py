"""Operator commands, run as an operator would."""

import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AppClient
from tests.support import factories
from tests.support.paths import PROJECT


def test_create_app_client_json_prints_exactly_the_credentials(db, capsys):
    factories.ensure_roles(["insights:read", "insights:write"])
    call_command("create_app_client", "--org", "Acme", "--name", "shop", "--roles", "insights:read,insights:write", "--json")
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"client_id", "client_secret"}
    client = AppClient.objects.get(client_id=printed["client_id"])
    assert client.organization.name == "Acme"
    assert client.role_names() == ["insights:read", "insights:write"]
    assert printed["client_secret"] not in client.client_secret


def test_create_app_client_refuses_unknown_roles(db):
    with pytest.raises(CommandError, match="insights:delete"):
        call_command("create_app_client", "--org", "Acme", "--name", "shop", "--roles", "insights:delete")
    assert not AppClient.objects.exists()


def test_bootstrap_demo_twice_creates_once_and_prints_the_same_credentials(tmp_path):
    """A real process, as the README's first command runs it, on its own database."""
    env = {"VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True)
    first = subprocess.run([python, "manage.py", "bootstrap_demo"], cwd=PROJECT, env=env, check=True, capture_output=True, text=True)
    second = subprocess.run([python, "manage.py", "bootstrap_demo"], cwd=PROJECT, env=env, check=True, capture_output=True, text=True)
    assert first.stdout == second.stdout
    assert "client_secret=" in first.stdout and "admin@example.com" in first.stdout
    count = subprocess.run(
        [python, "manage.py", "shell", "-v0", "-c", "from accounts.models import AppClient, User; print(AppClient.objects.count(), User.objects.count())"],
        cwd=PROJECT, env=env, check=True, capture_output=True, text=True,
    )
    assert count.stdout.split() == ["1", "1"]
