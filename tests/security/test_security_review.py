"""The security review of issue 16: each finding, and the tests that perform its attack and are refused.

Every attack test's docstring starts with "Issue 16, finding N"; the test below holds this index to them, so a
finding cannot lose its last test unnoticed.

| finding | what was attacked | tests |
| --- | --- | --- |
| 1 (high) | revocations and lockouts dropped by a cache eviction | test_security_durable |
| 2 (high) | the admin's own login form, a door without the checks | test_security_signin |
| 3 (high) | staff taking over a superuser; SSO signing in administrators | test_security_admin, test_security_sso |
| 4 | SSO domains claimed by any organisation's staff | test_security_admin, test_security_sso |
| 5 | refresh tokens keeping old privileges | test_security_tokens_refresh |
| 6 | a gRPC stream holding the server before any check | test_security_grpc |
| 7 | admin actions run without their permission | test_security_admin |
| 8 | the lockout raced; the login page without a per-address limit | test_security_durable, test_security_signin |
| 9 | SSO with unverified addresses, accounts linked by address | test_security_sso |
| 10 | deeply nested JSON at the token endpoint | test_security_tokens_refresh |
| 11 | SSO server-side requests to any address, discovery on every login | test_security_sso |
| 12 | hardening: password grant opt-in, loopback-only http redirects, RFC 9207 ``iss``, secure cookies and HSTS, revocation without URLs, tenant names in admin filters, grpcserver on loopback, codes as digests | test_security_tokens_refresh, test_security_signin, test_security_admin, test_security_grpc, test_people_commands |
"""

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
FINDINGS = range(1, 13)
NAMED = re.compile(r"^[Ii]ssue 16, findings? ([0-9][0-9, and]*)")


def findings_named(docstring: str) -> set[int]:
    match = NAMED.match(docstring.strip())
    return {int(number) for number in re.findall(r"\d+", match[1])} if match else set()


def attack_tests() -> dict[int, set[str]]:
    """Each finding, and the test functions whose docstring names it."""
    found: dict[int, set[str]] = {finding: set() for finding in FINDINGS}
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for finding in findings_named(ast.get_docstring(node) or ""):
                    found[finding].add(f"{path.stem}::{node.name}")
    return found


def test_every_finding_has_attack_tests_in_the_modules_the_index_names():
    index = {
        int(row[0].split()[0]): {name.strip() for name in row[2].split(",")}
        for row in (line.strip("| ").split(" | ") for line in __doc__.splitlines() if re.match(r"\| \d", line))
    }
    found = attack_tests()
    assert set(index) == set(FINDINGS)
    for finding in FINDINGS:
        modules = {test.split("::")[0] for test in found[finding]}
        assert modules, f"finding {finding} has no test"
        assert modules == index[finding], f"finding {finding}: the index names {index[finding]}, the tests {modules}"
