"""The layers of the code: imports only point down, accounts <- oauth <- insights <- analytics <- lifecycle <-
rest_api and grpc_api, rest_api <- collector, and ``project/`` (the shell and the shared contracts) imports nothing of
the tree. ``runtime/`` (the serving speed-ups: the Redis cache adapter, request cycles, warm-up) sits between them: it
imports ``project`` only, and every app may use it; ``observability/`` (metrics, logs, request ids) stands beside it,
importing ``project`` only, and every app may use it too. Every module is read with ``ast``, so an import inside a
function counts too."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the project: tests/ops/ is two levels down
# Each package, with the packages it may import (besides itself and third-party code).
ALLOWED = {
    "project": set(),
    "runtime": {"project"},
    "observability": {"project"},
    "accounts": {"project", "runtime", "observability"},
    "oauth": {"project", "runtime", "observability", "accounts"},
    "insights": {"project", "runtime", "observability", "accounts", "oauth"},
    "analytics": {"project", "runtime", "observability", "accounts", "oauth", "insights"},
    "lifecycle": {"project", "runtime", "observability", "accounts", "oauth", "insights", "analytics"},
    "rest_api": {"project", "runtime", "observability", "accounts", "oauth", "insights", "analytics", "lifecycle"},
    "grpc_api": {"project", "runtime", "observability", "accounts", "oauth", "insights", "analytics", "lifecycle"},
    "collector": {"project", "runtime", "observability", "accounts", "oauth", "insights", "analytics", "lifecycle", "rest_api"},
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def upward_imports(package: str) -> list[str]:
    forbidden = set(ALLOWED) - ALLOWED[package] - {package}
    modules = list((ROOT / package).rglob("*.py"))
    assert modules, f"no module under {ROOT / package}: the check would pass without reading anything"
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules
        for name in imported_modules(path)
        if name.split(".")[0] in forbidden
    )


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package):
    assert upward_imports(package) == []


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("def late():\n    from rest_api import views\n")
    assert imported_modules(module) == {"rest_api"}


def test_every_package_of_the_project_has_its_layer():
    # The benchmark and the tests sit above every layer: they may import anything, and nothing imports them.
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(ALLOWED)
