"""The suite's own layout: test modules share helpers through ``tests/support/`` and never import one another.

A test module imported by another runs its module-level code twice and ties two areas together, so a helper
moves to ``tests/support/`` the first time a second module needs it.
"""

import ast

from tests.support.paths import PROJECT

TESTS = PROJECT / "tests"


def imported_modules(tree: ast.Module) -> set[str]:
    """Every dotted module name an import statement of ``tree`` names, ``from a import b`` as both a and a.b."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def is_test_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "tests" and any(part.startswith("test_") or part == "conftest" for part in parts)


def test_no_test_module_imports_another_test_module_or_a_conftest():
    offenders = {}
    for path in sorted(TESTS.rglob("*.py")):
        names = sorted(filter(is_test_module, imported_modules(ast.parse(path.read_text(), str(path)))))
        if names:
            offenders[str(path.relative_to(PROJECT))] = names
    assert offenders == {}


def test_every_test_module_is_in_an_area():
    areas = {"accounts", "oauth", "ubi", "analytics", "rest", "grpc", "clients", "ops", "security", "collector"}
    misplaced = [
        str(path.relative_to(PROJECT)) for path in TESTS.rglob("test_*.py") if path.relative_to(TESTS).parts[0] not in areas
    ]
    assert misplaced == []


def bare_skips(tree: ast.Module) -> list[int]:
    """The lines of ``pytest.skip(...)`` calls in ``tree``."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "skip"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "pytest"
    ]


def test_every_skip_says_its_kind():
    """``skip_missing`` or ``skip_configuration`` (tests/support/skips.py), so that CI=true can tell them apart."""
    skips_module = TESTS / "support" / "skips.py"
    untagged = {
        str(path.relative_to(PROJECT)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if path != skips_module and (lines := bare_skips(ast.parse(path.read_text(), str(path))))
    }
    assert untagged == {}
    assert bare_skips(ast.parse("import pytest\npytest.skip('why')\n")) == [2]


def test_the_check_sees_an_import_of_a_test_module():
    tree = ast.parse("from tests.rest.test_problem_details import assert_problem\nimport tests.ubi.test_reads\n")
    assert sorted(filter(is_test_module, imported_modules(tree))) == [
        "tests.rest.test_problem_details",
        "tests.rest.test_problem_details.assert_problem",
        "tests.ubi.test_reads",
    ]
    assert not list(filter(is_test_module, imported_modules(ast.parse("from tests.support import factories\n"))))
