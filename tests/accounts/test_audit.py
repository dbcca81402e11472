"""The audit trail: each kind of change to clients, roles, users and tokens leaves one event with its actor and
organisation, whichever door it came through (commands, the admin, the revocation endpoint, deactivation); the
admin shows an organisation's staff their own events only, and nobody can edit or delete them there."""

import json

import pytest
import requests
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.forms.models import model_to_dict
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.models import AppClient, AuditEvent, Role, User
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser
from tests.support.oauth_client import password_grant, post_token

ROLES = ["insights:read", "insights:write"]
SECRET = "an sso client secret 123"


def events(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def the_event(**filters) -> AuditEvent:
    found = events(**filters)
    assert len(found) == 1, [str(event) for event in AuditEvent.objects.all()]
    return found[0]


def trail_text() -> str:
    """Every stored audit value, for checking that no secret reached it."""
    return json.dumps([model_to_dict(event) for event in AuditEvent.objects.all()], default=str)


def client_credentials(live_server, app_client) -> str:
    answer = post_token(
        live_server,
        grant_type="client_credentials",
        client_id=app_client.client.client_id,
        client_secret=app_client.client_secret,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.fixture
def superuser(org):
    return factories.make_user(org, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)


def staff_of(org, email: str, *codenames: str) -> User:
    staff = factories.make_user(org, email=email, password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return staff


# Commands


def test_create_app_client_records_the_client_by_the_command(db, capsys):
    factories.ensure_roles(ROLES)
    call_command("create_app_client", "--org", "Acme", "--name", "checkout", "--roles", ",".join(ROLES), "--json")
    secret = json.loads(capsys.readouterr().out)["client_secret"]
    client = AppClient.objects.get(name="checkout")

    event = the_event(object_type="app client")
    assert (event.action, event.actor, event.organization) == ("created", "manage.py create_app_client", client.organization)
    assert (event.object_id, event.object_repr) == (str(client.pk), "checkout")
    assert event.changes["roles"] == ROLES and event.changes["client_type"] == "confidential"
    assert the_event(object_type="organization").object_repr == "Acme"
    assert secret not in trail_text() and client.client_secret not in trail_text()


def test_create_user_records_the_user_and_its_roles_without_the_password(db, capsys):
    factories.ensure_roles(ROLES)
    password = "Tr1cky-passphrase"
    call_command("create_user", "--org", "Acme", "--email", "ada@example.com", "--password", password, "--roles", "insights:read", "--totp", "--json")
    user = User.objects.get(email="ada@example.com")

    created = the_event(object_type="user", action="created")
    assert (created.actor, created.organization, created.object_id) == ("manage.py create_user", user.organization, str(user.pk))
    assert created.changes == {
        "fields": ["email", "is_service_account", "roles"], "email": "ada@example.com", "is_service_account": False,
        "roles": ["insights:read"],
    }
    two_step = the_event(object_type="user", action="changed")
    assert two_step.changes == {"fields": ["two_step_verification"], "two_step_verification": True}
    assert password not in trail_text() and user.password not in trail_text() and user.totp_secret not in trail_text()


def test_configure_sso_records_the_provider_without_its_secret(org, settings):
    factories.ensure_roles(ROLES)
    arguments = ["--org", org.name, "--issuer", "https://idp.example", "--client-id", "platform", "--client-secret", SECRET, "--domain", "acme.example"]
    call_command("configure_sso", *arguments, stdout=None)
    call_command("configure_sso", *arguments, "--mandatory", stdout=None)

    created, changed = events(object_type="single sign-on provider")
    assert (created.action, changed.action) == ("created", "changed")
    assert created.actor == changed.actor == "manage.py configure_sso"
    assert created.organization == org and changed.changes["mandatory"] is True
    assert changed.changes["domains"] == ["acme.example"] and "client_secret" in changed.changes["fields"]
    assert SECRET not in trail_text()


# Tokens


def test_issuing_tokens_records_nothing(live_server, app_client):
    before = AuditEvent.objects.count()
    client_credentials(live_server, app_client)
    assert AuditEvent.objects.count() == before


def test_the_revocation_endpoint_records_the_token_by_its_client(live_server, app_client):
    access_token = client_credentials(live_server, app_client)
    row = get_access_token_model().objects.get()

    assert requests.delete(f"{live_server.url}/v2/auth/token/{access_token}", timeout=30).status_code == 204

    event = the_event(action="revoked")
    assert (event.object_type, event.object_id) == ("access token", str(row.pk))
    assert (event.actor_client, event.actor_user, event.organization) == (app_client.client, None, app_client.client.organization)
    assert access_token not in trail_text()


def test_revoking_a_refresh_token_records_it_by_its_user(live_server, org, people_client):
    user = factories.make_user(org, roles=ROLES)
    issued = password_grant(live_server, people_client, user.email).json()
    refresh_row = get_refresh_token_model().objects.get()

    answer = requests.post(f"{live_server.url}/oauth2/revoke", data={"token": issued["refresh_token"]}, timeout=30)
    assert answer.status_code == 200  # RFC 7009 §2.2
    requests.post(f"{live_server.url}/oauth2/revoke", data={"token": issued["refresh_token"]}, timeout=30)

    event = the_event(action="revoked")  # once: revoking it again changes nothing
    assert (event.object_type, event.object_id) == ("refresh token", str(refresh_row.pk))
    assert (event.actor_user, event.actor, event.organization) == (user, user.email, org)
    assert issued["refresh_token"] not in trail_text() and issued["access_token"] not in trail_text()


# The admin


def test_deactivating_a_client_in_the_admin_records_the_change_and_the_revocation(live_server, superuser, app_client):
    client_credentials(live_server, app_client)
    client_credentials(live_server, app_client)
    client = app_client.client
    browser = AdminBrowser(live_server.url, superuser.email)
    saved = browser.deactivate_client(client)
    assert saved.status_code == 200

    changed = the_event(action="changed", object_type="app client")
    assert (changed.actor_user, changed.organization, changed.object_id) == (superuser, client.organization, str(client.pk))
    assert changed.changes == {"fields": ["is_active"], "is_active": False}
    revoked = the_event(action="revoked")
    assert (revoked.actor_user, revoked.object_type, revoked.object_id) == (superuser, "app client", str(client.pk))
    assert revoked.changes == {"access_tokens": 2, "refresh_tokens": 0}


def test_assigning_roles_in_the_admin_records_them(live_server, org):
    staff = staff_of(org, "staff@example.com", "view_user", "change_user")
    factories.ensure_roles(ROLES)
    user = factories.make_user(org, email="ada@example.com", roles=["insights:read"])
    browser = AdminBrowser(live_server.url, staff.email)
    saved = browser.submit(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": user.email,
            "organization": str(org.pk),
            "roles": [str(pk) for pk in Role.objects.filter(name__in=ROLES).values_list("pk", flat=True)],
            "is_active": "on",
            "password_changed_at": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert saved.status_code == 200, saved.text[:500]
    assert user.role_names() == ROLES

    event = the_event(action="changed", object_type="user")
    assert (event.actor_user, event.actor, event.organization) == (staff, staff.email, org)
    assert event.changes["roles"] == ROLES and "roles" in event.changes["fields"]


def test_creating_a_role_in_the_admin_is_platform_wide(live_server, superuser):
    browser = AdminBrowser(live_server.url, superuser.email)
    assert browser.submit("/admin/accounts/role/add/", {"name": "insights:export", "description": ""}).status_code == 200

    event = the_event(object_type="role")
    assert (event.action, event.actor_user, event.organization, event.object_repr) == ("created", superuser, None, "insights:export")


def test_revoking_a_token_in_the_admin_records_the_administrator(live_server, superuser, app_client):
    client_credentials(live_server, app_client)
    row = get_access_token_model().objects.get()
    browser = AdminBrowser(live_server.url, superuser.email)
    browser.submit(
        "/admin/oauth2_provider/accesstoken/", {"action": "revoke_tokens", "_selected_action": [str(row.pk)], "index": "0"}
    )

    assert not get_access_token_model().objects.exists()
    event = the_event(action="revoked")
    assert (event.object_type, event.object_id, event.actor_user) == ("access token", str(row.pk), superuser)
    assert event.organization == app_client.client.organization


def test_resetting_two_step_verification_in_the_admin_records_it(live_server, superuser, org):
    from accounts import services

    user = factories.make_user(org, email="ada@example.com")
    services.totp_enable(user)
    browser = AdminBrowser(live_server.url, superuser.email)
    browser.submit(
        "/admin/accounts/user/",
        {"action": "reset_two_step_verification", "_selected_action": [str(user.pk)], "index": "0"},
    )

    reset = events(object_type="user", action="changed")[-1]
    assert reset.actor_user == superuser and reset.changes["two_step_verification"] is False


def test_staff_see_only_their_organisations_audit_and_superusers_all(live_server, superuser):
    mine, theirs = factories.make_org("Mine"), factories.make_org("Theirs")
    factories.make_client(mine, name="my-client")
    factories.make_client(theirs, name="their-client")
    staff = staff_of(mine, "staff@example.com", "view_auditevent")
    browser = AdminBrowser(live_server.url, staff.email)

    listing = browser.get("/admin/accounts/auditevent/")
    assert listing.status_code == 200
    assert "my-client" in listing.text and "their-client" not in listing.text
    foreign = the_event(object_repr="their-client")
    assert browser.get(f"/admin/accounts/auditevent/{foreign.pk}/change/", allow_redirects=False).status_code == 302

    everything = AdminBrowser(live_server.url, superuser.email).get("/admin/accounts/auditevent/")
    assert "my-client" in everything.text and "their-client" in everything.text


def test_nobody_edits_or_deletes_the_audit_in_the_admin(live_server, superuser):
    factories.make_client(superuser.organization, name="audited-client")
    event = the_event(object_repr="audited-client")
    browser = AdminBrowser(live_server.url, superuser.email)
    base = f"/admin/accounts/auditevent/{event.pk}"

    page = browser.get(f"{base}/change/")
    assert page.status_code == 200 and "audited-client" in page.text
    assert 'name="_save"' not in page.text and "/delete/" not in page.text
    assert browser.get(f"{base}/delete/").status_code == 403
    assert browser.get("/admin/accounts/auditevent/add/").status_code == 403
    assert browser.submit(f"{base}/change/", {"actor": "someone else", "action": "deleted"}).status_code == 403
    listing = browser.get("/admin/accounts/auditevent/")
    assert "delete_selected" not in listing.text
    deleting = browser.submit(
        "/admin/accounts/auditevent/", {"action": "delete_selected", "_selected_action": [str(event.pk)], "post": "yes"}
    )
    # An action the list does not offer is not run: the list is shown again, as it was.
    assert (deleting.status_code, deleting.history) == (200, [])

    event.refresh_from_db()
    assert (event.actor, event.action) == ("system", "created")
