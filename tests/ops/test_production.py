"""Production (``UBI_ENV=production``, docs/operations.md "Production"): a start without a secret, a signing key, the
allowed hosts or the issuer stops with a message naming what to set, generating nothing; with the documented settings
``manage.py check --deploy`` finds nothing but the two warnings silenced by design. The demo, which sets none of it,
is ``test_start_script.py``'s."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from project.secrets import ec_private_key_pem, rsa_private_key_pem
from tests.support.paths import PROJECT

# Set by the test for each run, from nothing: the rest of this process's environment is kept.
CONFIGURATION = (
    "UBI_ENV", "DEBUG", "SECRET_KEY", "JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE", "OIDC_RSA_PRIVATE_KEY",
    "ALLOWED_HOSTS", "OAUTH_ISSUER", "CSRF_TRUSTED_ORIGINS", "SECURE_COOKIES", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "VAR_DIR",
)
REQUIRED = ("SECRET_KEY", "JWT_PRIVATE_KEY", "OIDC_RSA_PRIVATE_KEY", "ALLOWED_HOSTS", "OAUTH_ISSUER")


@pytest.fixture(scope="module")
def production() -> dict[str, str]:
    """The production settings docs/operations.md documents (keys made here), beside this run's database and Redis."""
    return {
        "UBI_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_PRIVATE_KEY": ec_private_key_pem().decode(),
        "OIDC_RSA_PRIVATE_KEY": rsa_private_key_pem().decode(),
        "ALLOWED_HOSTS": "ubi.example.com",
        "OAUTH_ISSUER": "https://ubi.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://ubi.example.com",
        "SECURE_COOKIES": "true",
    }


def run(arguments: list[str], environment: dict[str, str], var_dir: Path) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in CONFIGURATION}
    env.update(VAR_DIR=str(var_dir), **environment)
    return subprocess.run(arguments, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)


def manage(*arguments: str, environment: dict[str, str], var_dir: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *arguments], environment, var_dir)


def test_check_deploy_is_clean_with_the_documented_production_settings(production, tmp_path):
    done = manage("check", "--deploy", "--fail-level", "WARNING", environment=production, var_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # Silenced in the settings, each with its reason: security.W008 and W021, oauth2_provider.W002 and W008.
    assert "System check identified no issues (4 silenced)." in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("missing", REQUIRED)
def test_a_missing_setting_stops_the_start_naming_it_and_generating_nothing(production, tmp_path, missing):
    environment = {name: value for name, value in production.items() if name != missing}
    done = manage("check", environment=environment, var_dir=tmp_path)
    assert done.returncode != 0
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("django.core.exceptions.ImproperlyConfigured: UBI_ENV=production"), done.stderr
    assert f"for want of {missing}: set it to " in message
    assert [name for name in REQUIRED if f"{name}: set it to" in message] == [missing]
    assert list(tmp_path.iterdir()) == []  # no key generated for this machine alone


def test_a_signing_key_file_is_a_signing_key(production, tmp_path):
    key_file = tmp_path / "keys" / "jwt.pem"
    key_file.parent.mkdir()
    key_file.write_bytes(ec_private_key_pem())
    environment = {name: value for name, value in production.items() if name != "JWT_PRIVATE_KEY"}
    environment["JWT_PRIVATE_KEY_FILE"] = str(key_file)
    assert manage("check", environment=environment, var_dir=tmp_path / "var").returncode == 0
    key_file.unlink()  # named, but not there: production makes none
    done = manage("check", environment=environment, var_dir=tmp_path / "var")
    assert done.returncode != 0 and "for want of JWT_PRIVATE_KEY: set it to" in done.stderr


def test_production_refuses_debug_and_a_misspelt_ubi_env(production, tmp_path):
    debug = manage("check", environment={**production, "DEBUG": "true"}, var_dir=tmp_path)
    assert debug.returncode != 0 and "UBI_ENV=production with DEBUG on" in debug.stderr
    misspelt = manage("check", environment={**production, "UBI_ENV": "prod"}, var_dir=tmp_path)
    assert misspelt.returncode != 0 and "UBI_ENV is 'prod'" in misspelt.stderr


def test_serve_sh_stops_before_serving_with_one_message(tmp_path):
    done = run(["bash", "scripts/serve.sh"], {"UBI_ENV": "production"}, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert output.count("ImproperlyConfigured: UBI_ENV=production, and the start stops for want of SECRET_KEY") == 1
    assert "gunicorn" not in output.lower() and "gRPC on" not in output  # neither server was started
