"""Ingest keys: made by ``create_ingest_key`` and in the admin (shown in full, scoped per organisation), origins and
rates checked, revoked and rotated through the services, and every change in the audit trail."""

import json

import pytest
import requests
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from collector import services
from collector.keys import collector_url
from collector.models import IngestKey
from collector.origins import normalize_origin
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser
from tests.support.collector import APPLICATION, ORIGIN, collect_url, ubi_js_event


def create_key_json(capsys, *arguments) -> dict:
    call_command("create_ingest_key", *arguments, "--json")
    return json.loads(capsys.readouterr().out)


def staff_of(org, email: str, *codenames: str):
    staff = factories.make_user(org, email=email, password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return staff


# The command


def test_create_ingest_key_json_prints_the_key_and_its_collector_url(db, capsys, settings):
    settings.OAUTH_ISSUER = "https://ubi.example/"
    printed = create_key_json(
        capsys, "--org", "Acme", "--application", "shop", "--origin", "https://Shop.example:443",
        "--origin", "http://localhost:3000", "--rate-limit", "20/s", "--name", "shop front",
    )
    key = IngestKey.objects.get()
    assert printed == {"key": key.key, "collector_url": f"https://ubi.example/collect/{key.key}"}
    assert key.key.startswith("ubi_pk_") and len(key.key) == 39
    assert (key.organization.name, key.application, key.rate_limit, key.name, key.is_active) == (
        "Acme", "shop", "20/s", "shop front", True
    )
    assert key.allowed_origins == ["https://shop.example", "http://localhost:3000"]


def test_the_collector_url_base_is_a_setting(db, capsys, settings):
    settings.UBI = {"COLLECTOR_BASE_URL": "https://collect.example/"}
    printed = create_key_json(capsys, "--org", "Acme", "--application", "shop")
    assert printed["collector_url"] == f"https://collect.example/collect/{printed['key']}"


def test_the_collector_url_works_as_printed(live_server, capsys, settings):
    settings.UBI = {"COLLECTOR_BASE_URL": live_server.url}
    printed = create_key_json(capsys, "--org", "Acme", "--application", "shop", "--origin", ORIGIN)
    answer = requests.post(
        f"{printed['collector_url']}/ubi_events", json=[ubi_js_event()], headers={"Origin": ORIGIN}, timeout=30
    )
    assert answer.status_code == 201


@pytest.mark.parametrize("origin", [
    "https://shop.example/", "https://shop.example/path", "ftp://shop.example", "shop.example", "https://",
    "https://user@shop.example", "https://shop.example?x=1", "https://shop.example:99999", "null", "*",
])
def test_create_ingest_key_refuses_what_is_no_origin(db, origin):
    with pytest.raises(CommandError, match="origin"):
        call_command("create_ingest_key", "--org", "Acme", "--application", "shop", "--origin", origin)
    assert not IngestKey.objects.exists()


@pytest.mark.parametrize("arguments", [["--rate-limit", "fast"], ["--rate-limit", "0/s"], ["--application", "x" * 101]])
def test_create_ingest_key_refuses_a_malformed_rate_or_application(db, arguments):
    with pytest.raises(CommandError):
        call_command("create_ingest_key", "--org", "Acme", "--application", "shop", *arguments)
    assert not IngestKey.objects.exists()


@pytest.mark.parametrize(("written", "sent"), [
    ("HTTPS://Shop.Example", "https://shop.example"),
    ("http://shop.example:80", "http://shop.example"),
    ("https://shop.example:8443", "https://shop.example:8443"),
    ("http://[::1]:3000", "http://[::1]:3000"),
])
def test_origins_are_stored_as_a_browser_sends_them(written, sent):
    assert normalize_origin(written) == sent


# The audit trail


def test_creating_revoking_and_rotating_are_recorded(db, capsys):
    printed = create_key_json(capsys, "--org", "Acme", "--application", "shop", "--origin", ORIGIN)
    key = IngestKey.objects.get(key=printed["key"])
    created = AuditEvent.objects.get(action="created", object_type="ingest key")
    assert (created.actor, created.organization, created.object_id) == (
        "manage.py create_ingest_key", key.organization, str(key.pk)
    )
    assert created.changes["key"] == key.key and created.changes["allowed_origins"] == [ORIGIN]

    new = services.ingest_key_rotate(key)
    key.refresh_from_db()
    assert key.is_active and new.is_active  # the old key works until it is revoked
    assert (new.application, new.allowed_origins, new.rate_limit, new.organization) == (
        key.application, key.allowed_origins, key.rate_limit, key.organization
    )
    assert services.ingest_key_revoke(key) and not services.ingest_key_revoke(key)
    key.refresh_from_db()
    assert not key.is_active
    trail = AuditEvent.objects.filter(object_type="ingest key").order_by("id")
    actions = list(trail.values_list("action", "object_id"))
    assert actions == [("created", str(key.pk)), ("created", str(new.pk)), ("revoked", str(key.pk))]


# The admin


def test_the_admin_creates_a_key_and_shows_it_in_full(live_server, org):
    staff = staff_of(org, "staff@example.com", "view_ingestkey", "add_ingestkey", "change_ingestkey")
    browser = AdminBrowser(live_server.url, staff.email)
    saved = browser.submit("/admin/collector/ingestkey/add/", {
        "organization": str(org.pk), "name": "shop front", "application": "shop",
        "allowed_origins": "https://Shop.example\nhttp://localhost:3000\n", "rate_limit": "", "is_active": "on",
    })
    assert saved.status_code == 200, saved.text[:500]
    key = IngestKey.objects.get()
    assert (key.organization, key.allowed_origins) == (org, ["https://shop.example", "http://localhost:3000"])
    listed = browser.get("/admin/collector/ingestkey/").text
    assert key.key in listed
    change = browser.get(f"/admin/collector/ingestkey/{key.pk}/change/").text
    assert key.key in change and collector_url(key) in change
    event = AuditEvent.objects.get(object_type="ingest key")
    assert (event.action, event.actor_user, event.organization) == ("created", staff, org)


def test_the_admin_refuses_what_is_no_origin_or_rate(live_server, org):
    staff = staff_of(org, "staff@example.com", "view_ingestkey", "add_ingestkey")
    browser = AdminBrowser(live_server.url, staff.email)
    for origins, rate in (("https://shop.example/path", ""), ("https://shop.example", "fast")):
        refused = browser.submit("/admin/collector/ingestkey/add/", {
            "organization": str(org.pk), "application": "shop", "allowed_origins": origins, "rate_limit": rate,
        })
        assert refused.status_code == 200 and "errorlist" in refused.text
    assert not IngestKey.objects.exists()


def test_staff_see_and_make_only_their_organisations_keys(live_server, org):
    other = factories.make_org()
    theirs = factories.make_ingest_key(other, "blog", ["https://blog.example"])
    ours = factories.make_ingest_key(org, "shop", [ORIGIN])
    staff = staff_of(org, "staff@example.com", "view_ingestkey", "add_ingestkey", "change_ingestkey")
    browser = AdminBrowser(live_server.url, staff.email)
    listed = browser.get("/admin/collector/ingestkey/").text
    assert ours.key in listed and theirs.key not in listed
    assert theirs.key not in browser.get(f"/admin/collector/ingestkey/{theirs.pk}/change/").text
    browser.submit("/admin/collector/ingestkey/add/", {
        "organization": str(other.pk), "application": "shop", "allowed_origins": "", "rate_limit": "",
        "is_active": "on",
    })
    assert not IngestKey.objects.filter(organization=other, application="shop").exists()


def test_the_admin_revokes_a_key_at_once_and_records_it(live_server, org):
    key = factories.make_ingest_key(org, APPLICATION, [ORIGIN])
    url = collect_url(live_server.url, key)
    assert requests.post(f"{url}/ubi_events", json=[ubi_js_event()], timeout=30).status_code == 201
    staff = staff_of(org, "staff@example.com", "view_ingestkey", "change_ingestkey")
    browser = AdminBrowser(live_server.url, staff.email)
    done = browser.submit("/admin/collector/ingestkey/", {"action": "revoke", "_selected_action": [str(key.pk)]})
    assert done.status_code == 200 and "1 key(s) revoked" in done.text
    assert requests.post(f"{url}/ubi_events", json=[ubi_js_event()], timeout=30).status_code == 404
    event = AuditEvent.objects.get(action="revoked", object_type="ingest key")
    assert (event.actor_user, event.organization) == (staff, org)
