"""The docs agree with the code.

docs/operations.md's two configuration tables are checked against the settings' own tables: every environment
variable ``project/settings.py`` and ``project/paths.py`` read is documented, every knob of
``project.conf.DEFAULTS`` is documented with its default (a Python expression in the *default* column, evaluated and
compared with the value) and with whether the environment may set it (``_UBI_FROM_ENVIRONMENT``), and nothing is
documented that the code does not read. docs/oauth.md's error table is the token endpoint's ``ERRORS``. Every
relative link of README.md and docs/*.md reaches a file (and a heading, when it names one), and README.md stays a
front door.
"""

import ast
import re
from pathlib import Path

import pytest

from project.conf import DEFAULTS
from project.paths import BASE_DIR

OPERATIONS = BASE_DIR / "docs" / "operations.md"
README = BASE_DIR / "README.md"
README_MAX_LINES = 160
ENVIRONMENT_TABLE = "variable"  # the first header cell of each table
KNOB_TABLE = "knob"
# Python the default column may hold: literals, lists of them, and the arithmetic that makes a size or a duration
# readable.
DEFAULT_NODES = (
    ast.Expression, ast.Constant, ast.List, ast.Load, ast.BinOp, ast.UnaryOp, ast.Mult, ast.Add, ast.Sub, ast.USub
)
NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


# --- Reading the docs ------------------------------------------------------------------------------------------


def markdown_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """Each table of ``text`` by its first header cell: its rows as ``{header: cell}``."""
    tables, block = {}, []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append(_cells(line))
            continue
        if block:
            header, _rule, *rows = block
            tables.setdefault(header[0], []).extend(dict(zip(header, row, strict=True)) for row in rows)
            block = []
    return tables


def _cells(line: str) -> list[str]:
    """The cells of a table row; ``\\|`` is a pipe inside a cell."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def documented_name(cell: str) -> str:
    """The one name a first cell documents, in backticks."""
    match = NAME.fullmatch(cell)
    assert match, f"the first cell should be one name in backticks: {cell!r}"
    return match.group(1)


def documented_default(cell: str):
    """The value of a *default* cell: one Python expression in backticks, such as ``8 * 1024 * 1024``."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"a default should be one Python expression in backticks: {cell!r}"
    tree = ast.parse(match.group(1), mode="eval")
    unsafe = [type(node).__name__ for node in ast.walk(tree) if not isinstance(node, DEFAULT_NODES)]
    assert not unsafe, f"a default holds literals and arithmetic only, not {unsafe}: {cell!r}"
    return eval(compile(tree, str(OPERATIONS), "eval"), {"__builtins__": {}})


def environment_rows(text: str) -> dict[str, dict[str, str]]:
    return _rows_by_name(markdown_tables(text).get(ENVIRONMENT_TABLE, []))


def knob_rows(text: str) -> dict[str, dict[str, str]]:
    return _rows_by_name(markdown_tables(text).get(KNOB_TABLE, []))


def _rows_by_name(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    by_name = {}
    for row in rows:
        name = documented_name(next(iter(row.values())))
        assert name not in by_name, f"{name} is documented twice"
        by_name[name] = row
    return by_name


# --- Reading the code ------------------------------------------------------------------------------------------


def environment_read_by(path: Path) -> set[str]:
    """The environment variables a Python module reads by a constant name: ``os.environ.get("X")``,
    ``os.environ["X"]``, ``os.getenv("X")``, and its ``_env_*("X")`` helpers."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and _is_environment_reader(node.func):
            argument = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            argument = node.slice
        else:
            continue
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            names.add(argument.value)
    return names


def _is_environment_reader(function: ast.expr) -> bool:
    name = ast.unparse(function)
    return name in {"os.environ.get", "os.getenv"} or name.startswith("_env_")


def environment_read_by_scripts() -> set[str]:
    """The variables the shell scripts read with a default, ``${NAME:-...}``, or plainly, ``${NAME}``."""
    return {
        name
        for script in (BASE_DIR / "scripts").glob("*.sh")
        for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*)[:}]", script.read_text())
    }


def ubi_from_environment() -> set[str]:
    """The keys of ``_UBI_FROM_ENVIRONMENT`` in project/settings.py: the knobs the environment may set."""
    for node in ast.walk(ast.parse((BASE_DIR / "project" / "settings.py").read_text())):
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "_UBI_FROM_ENVIRONMENT":
            return {key.value for key in node.value.keys}
    raise AssertionError("project/settings.py has no _UBI_FROM_ENVIRONMENT table")


def settings_environment() -> set[str]:
    """Every variable the Django settings read: project/settings.py (the UBI knobs aside) and project/paths.py."""
    project = BASE_DIR / "project"
    return environment_read_by(project / "settings.py") | environment_read_by(project / "paths.py")


def serving_environment() -> set[str]:
    """What else reads the environment when serving: gunicorn's configuration and the scripts."""
    return environment_read_by(BASE_DIR / "gunicorn.conf.py") | environment_read_by_scripts()


# --- The OAuth error table ----------------------------------------------------------------------------------------


def test_the_oauth_error_table_is_the_codes_the_server_emits():
    """docs/oauth.md's error table lists each code of ``oauth.oauth_errors.ERRORS``, with its status, and no other."""
    from oauth.oauth_errors import ERRORS

    rows = markdown_tables((BASE_DIR / "docs" / "oauth.md").read_text())["error"]
    documented = {row["error"].strip("`"): int(row["status"]) for row in rows}
    assert documented == {code: error.status for code, error in ERRORS.items()}


# --- The configuration tables ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def operations() -> str:
    return OPERATIONS.read_text()


def test_every_variable_the_settings_read_is_documented(operations):
    documented = set(environment_rows(operations)) | {
        name for name, row in knob_rows(operations).items() if row["environment"] == "yes"
    }
    missing = settings_environment() - documented
    assert not missing, f"docs/operations.md does not document {sorted(missing)}"


def test_no_documented_variable_that_nothing_reads(operations):
    unread = set(environment_rows(operations)) - settings_environment() - serving_environment()
    assert not unread, f"docs/operations.md documents {sorted(unread)}, which nothing reads"


def test_a_knob_the_environment_sets_is_documented_once(operations):
    twice = set(environment_rows(operations)) & ubi_from_environment()
    assert not twice, f"{sorted(twice)}: documented in the settings.UBI table, not among the variables"


def test_every_knob_is_documented_and_no_other(operations):
    documented = set(knob_rows(operations))
    assert sorted(set(DEFAULTS) - documented) == [], "knobs of project.conf.DEFAULTS missing from docs/operations.md"
    assert sorted(documented - set(DEFAULTS)) == [], "knobs in docs/operations.md that project.conf does not have"


@pytest.mark.parametrize("knob", sorted(DEFAULTS))
def test_the_documented_default_is_the_knob_s(operations, knob):
    row = knob_rows(operations).get(knob)
    if row is None:
        pytest.fail(f"{knob} is not documented")
    documented = documented_default(row["default"])
    assert (type(documented), documented) == (type(DEFAULTS[knob]), DEFAULTS[knob])


def test_the_environment_column_says_which_knobs_the_environment_sets(operations):
    rows = knob_rows(operations)
    assert {row["environment"] for row in rows.values()} <= {"yes", "no"}
    assert {name for name, row in rows.items() if row["environment"] == "yes"} == ubi_from_environment()


# --- Links and length --------------------------------------------------------------------------------------------


def pages() -> list[Path]:
    return [README, *sorted((BASE_DIR / "docs").glob("*.md"))]


def headings(path: Path) -> set[str]:
    """The anchors of a page's headings, as GitHub makes them."""
    text = FENCE.sub("", path.read_text())
    return {_anchor(title) for title in re.findall(r"^#{1,6} +(.+?) *$", text, re.MULTILINE)}


def _anchor(title: str) -> str:
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


@pytest.mark.parametrize("page", pages(), ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_every_relative_link_reaches_a_file(page):
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path_part, _, fragment = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment not in headings(linked):
            broken.append(f"{target}: no such heading")
    assert broken == []


def test_the_readme_is_a_front_door():
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; the rest belongs in docs/"
