"""The container image (``Dockerfile``) and the compose file (``compose.yaml``), checked as far as a machine without a
container engine can: both parse; the image runs ``scripts/serve.sh`` as a user that is not root, with production on
and both servers on every interface, on the ports the settings default to; it copies every package the project is
made of, and every file it copies exists; compose runs PostgreSQL and Redis and gives the app every setting
production requires."""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from project.conf import DEFAULTS
from project.paths import BASE_DIR
from project.settings import PRODUCTION_REQUIRES

DOCKERFILE = BASE_DIR / "Dockerfile"
COMPOSE = BASE_DIR / "compose.yaml"
# Not part of a deployment: the tests, the benchmark, the Python client package (installed by its users).
NOT_SHIPPED = {"tests", "bench", "clients"}
KNOWN_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG",
    "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}


def instructions(path: Path) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of each instruction of a Dockerfile, continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
            pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def final_stage(parsed: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(index for index, (keyword, _) in enumerate(parsed) if keyword == "FROM")
    return parsed[last_from:]


def env_of(stage) -> dict[str, str]:
    env = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(arguments))
    return env


def port(address: str) -> int:
    return int(address.rpartition(":")[2])


@pytest.fixture(scope="module")
def dockerfile():
    return instructions(DOCKERFILE)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def test_every_instruction_is_a_dockerfile_instruction(dockerfile):
    assert {keyword for keyword, _ in dockerfile} <= KNOWN_INSTRUCTIONS
    bases = [arguments for keyword, arguments in dockerfile if keyword == "FROM"]
    assert dockerfile[0][0] == "FROM" and all(re.fullmatch(r"python:3\.\d+-slim( AS \w+)?", base) for base in bases)


def test_the_image_runs_serve_sh_as_a_user_that_is_not_root(dockerfile):
    stage = final_stage(dockerfile)
    (command,) = [arguments for keyword, arguments in stage if keyword == "CMD"]
    assert json.loads(command) == ["bash", "scripts/serve.sh"]
    assert not [keyword for keyword, _ in stage if keyword == "ENTRYPOINT"]
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"} and not users[-1].startswith(("root:", "0:"))
    # serve.sh runs .venv/bin/python and .venv/bin/gunicorn from the project folder: the virtual environment is there.
    (workdir,) = [arguments for keyword, arguments in stage if keyword == "WORKDIR"]
    assert ("COPY", "--from=build /app/.venv .venv") in stage and workdir == "/app"


def test_the_image_serves_production_on_every_interface_at_the_default_ports(dockerfile):
    stage = final_stage(dockerfile)
    env = env_of(stage)
    assert env["UBI_ENV"] == "production"
    assert env["HTTP_ADDRESS"] == "0.0.0.0:8000" and env["GRPC_ADDRESS"].startswith("0.0.0.0:")
    gunicorn_default = re.search(r'"HTTP_ADDRESS", "([^"]+)"', (BASE_DIR / "gunicorn.conf.py").read_text()).group(1)
    defaults = {port(gunicorn_default), port(DEFAULTS["GRPC_ADDRESS"])}
    assert {port(env["HTTP_ADDRESS"]), port(env["GRPC_ADDRESS"])} == defaults
    exposed = {int(item) for keyword, arguments in stage if keyword == "EXPOSE" for item in arguments.split()}
    assert exposed == defaults
    (healthcheck,) = [arguments for keyword, arguments in stage if keyword == "HEALTHCHECK"]
    assert f"http://127.0.0.1:{port(env['HTTP_ADDRESS'])}/healthz" in healthcheck


def test_every_file_copied_exists_and_every_package_is_copied(dockerfile):
    copied = set()
    for keyword, arguments in dockerfile:
        if keyword != "COPY" or arguments.startswith("--from="):
            continue
        *sources, _destination = shlex.split(arguments)
        for source in sources:
            if source.startswith("--"):
                continue
            assert (BASE_DIR / source).exists(), f"the Dockerfile copies {source}, which is not in the repository"
            copied.add(source.rstrip("/"))
    packages = {path.parent.name for path in BASE_DIR.glob("*/__init__.py")} - NOT_SHIPPED
    assert packages <= copied, f"not in the image: {sorted(packages - copied)}"
    assert {"manage.py", "gunicorn.conf.py", "scripts/serve.sh", "requirements.txt"} <= copied


def test_the_build_context_leaves_out_the_checkout_s_own_state():
    ignored = set((BASE_DIR / ".dockerignore").read_text().split())
    assert {".venv", ".git", "var"} <= ignored


def test_compose_runs_postgresql_redis_and_the_app_with_every_production_setting(compose):
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "app"} <= set(services)
    app = services["app"]
    env = app["environment"]
    assert env["UBI_ENV"] == "production"
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert set(PRODUCTION_REQUIRES) <= set(env), "a setting production requires is not given to the app"
    # The secrets are the operator's: compose refuses to start without them, instead of a value written here.
    for secret in ("SECRET_KEY", "JWT_PRIVATE_KEY", "OIDC_RSA_PRIVATE_KEY"):
        assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret]), env[secret]
    published = {int(mapping.split(":")[-1]) for mapping in app["ports"]}
    assert published == {port(env["HTTP_ADDRESS"]), port(env["GRPC_ADDRESS"])}
    assert published == {8000, port(DEFAULTS["GRPC_ADDRESS"])}
    assert "noeviction" in services["redis"]["command"]  # docs/operations.md, "Redis"
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["environment"] == env  # one anchor: the same settings for both
