"""Issue 16's attacks on the admin, over the live server: organisation staff trying to climb above themselves, to
act beyond their permissions, to claim email domains, or to read other tenants' names.

Each administrator is signed in by the Django test client's ``force_login`` and its session cookie carried by a
``requests`` session, so the attacks do not depend on how the admin's sign-in page looks.

Finding 3 (the admin's half: staff who climb, the demo superuser): the tests under "Finding 3" and
test_staff_cannot_rewrite_a_token. Finding 4 (the admin's half: domains): test_only_superusers_assign_sso_domains.
Finding 7 (actions without permissions): the tests under "Finding 7". Finding 12 (the admin's part: the provider's
issuer, other tenants' names): test_staff_cannot_change_their_providers_issuer,
test_organisation_filters_name_no_other_tenant.
"""

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts import services, sso_providers
from accounts.models import SsoDomain, User
from tests.support import factories
from tests.support.oauth_client import error_of, me_status, password_grant, post_token, refresh

PASSWORD = "the superuser's own password 42"


class AdminSession:
    """A requests session for the live server, signed in to the admin as ``user``; posts carry the CSRF token."""

    def __init__(self, live_server, user: User):
        self.base_url = live_server.url
        client = Client()
        client.force_login(user)
        self.session = requests.Session()
        self.session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, allow_redirects=False, timeout=30)

    def post(self, path: str, data: dict) -> requests.Response:
        if "csrftoken" not in self.session.cookies:
            self.get("/admin/")  # every admin page has a form (sign out), so it sets the CSRF cookie
        return self.session.post(
            self.base_url + path,
            data={**data, "csrfmiddlewaretoken": self.session.cookies["csrftoken"]},
            headers={"Referer": self.base_url + path},
            allow_redirects=False,
            timeout=30,
        )

    def run_action(self, changelist: str, action: str, *pks) -> requests.Response:
        return self.post(changelist, {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0"})


def staff_of(org, email: str, *codenames: str) -> User:
    staff = factories.make_user(org, email=email, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return staff


def refused(response: requests.Response) -> bool:
    """The admin's answer for an object the administrator may not reach, the same as for one that does not exist
    (so nothing tells the two apart): a change page, read or saved, redirects to the admin's index saying the object
    does not exist; the password page (Django's ``UserAdmin.user_change_password``) is 404."""
    if response.request.path_url.endswith("/password/"):
        return response.status_code == 404
    return response.status_code == 302 and response.headers["Location"].rstrip("/").endswith("/admin")


def user_form(user: User, **fields) -> dict:
    """``user``'s change form as the admin renders it, with ``fields`` changed."""
    return {
        "email": user.email,
        "organization": str(user.organization_id),
        "roles": [str(pk) for pk in user.roles.values_list("pk", flat=True)],
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        **fields,
    }


def assert_cannot_take_over(staff_session: AdminSession, target: User) -> None:
    """Staff neither list ``target``, open its pages, nor set its password."""
    base = f"/admin/accounts/user/{target.pk}"
    assert target.email not in staff_session.get("/admin/accounts/user/").text
    assert refused(staff_session.get(f"{base}/change/"))
    assert refused(staff_session.get(f"{base}/password/"))
    new_password = {"password1": "taken over 12345!", "password2": "taken over 12345!"}
    changing = staff_session.post(f"{base}/password/", new_password)
    assert refused(changing), changing.status_code
    saving = staff_session.post(f"{base}/change/", user_form(target, is_active=""))
    assert refused(saving), saving.status_code
    target.refresh_from_db()
    assert target.check_password(PASSWORD) and target.is_active


# Finding 3: staff who climb


def test_staff_cannot_see_or_take_over_a_superuser(live_server, org):
    """Issue 16, finding 3: staff with change_user cannot list, open, edit or set the password of a superuser,
    even one whose home organisation is theirs."""
    root = factories.make_user(org, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    staff = staff_of(org, "staff@example.com", "view_user", "change_user")
    colleague = factories.make_user(org, email="colleague@example.com")
    session = AdminSession(live_server, staff)

    assert "colleague@example.com" in session.get("/admin/accounts/user/").text  # the page itself works
    assert_cannot_take_over(session, root)


def test_staff_cannot_take_over_an_account_with_more_permissions(live_server, org):
    """Issue 16, finding 3: an account holding a permission the staff member lacks (directly or through a group)
    is out of their reach; one with the same permissions or fewer is not."""
    staff = staff_of(org, "staff@example.com", "view_user", "change_user")
    direct = staff_of(org, "deleter@example.com", "view_user", "change_user", "delete_user")
    direct.set_password(PASSWORD)
    direct.save()
    grouped = factories.make_user(org, email="grouped@example.com", password=PASSWORD, is_staff=True)
    auditors = Group.objects.create(name="auditors")
    auditors.permissions.set(Permission.objects.filter(codename="view_auditevent"))
    grouped.groups.add(auditors)
    peer = staff_of(org, "peer@example.com", "view_user")
    session = AdminSession(live_server, staff)

    assert_cannot_take_over(session, direct)
    assert_cannot_take_over(session, grouped)
    assert session.get(f"/admin/accounts/user/{peer.pk}/password/").status_code == 200


def test_staff_cannot_grant_superuser_status_or_permissions(live_server, org):
    """Issue 16, finding 3: the change form ignores is_superuser, groups and permissions from staff, for their own
    account and for others'."""
    staff = staff_of(org, "staff@example.com", "view_user", "change_user")
    other = factories.make_user(org, email="other@example.com")
    group = Group.objects.create(name="platform")
    every_permission = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    session = AdminSession(live_server, staff)

    for target in (staff, other):
        page = session.get(f"/admin/accounts/user/{target.pk}/change/")
        assert page.status_code == 200 and 'name="is_superuser"' not in page.text
        assert 'name="user_permissions"' not in page.text and 'name="groups"' not in page.text
        climbing = user_form(
            target, is_staff="on", is_superuser="on", user_permissions=every_permission, groups=[str(group.pk)]
        )
        answer = session.post(f"/admin/accounts/user/{target.pk}/change/", climbing)
        # Saved, back to the list: the form has none of the fields climbed with, so the POST ignores them.
        assert (answer.status_code, answer.headers["Location"]) == (302, "/admin/accounts/user/")
        target.refresh_from_db()
        assert not target.is_superuser and not target.groups.exists()
        assert set(target.get_all_permissions()) <= {"accounts.view_user", "accounts.change_user"}


def test_staff_cannot_grant_permissions_through_a_group(live_server, org):
    """Issue 16, finding 3: groups are platform-wide, like roles: staff given change_group cannot add a
    permission to their own group."""
    staff = factories.make_user(org, email="staff@example.com", is_staff=True)
    helpdesk = Group.objects.create(name="helpdesk")
    helpdesk.permissions.set(Permission.objects.filter(codename__in=["view_user", "view_group", "change_group"]))
    staff.groups.add(helpdesk)
    session = AdminSession(live_server, staff)

    every_permission = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    answer = session.post(
        f"/admin/auth/group/{helpdesk.pk}/change/", {"name": "helpdesk", "permissions": every_permission}
    )

    assert answer.status_code == 403
    assert helpdesk.permissions.count() == 3


def test_the_demo_superuser_belongs_to_no_organisation(live_server, tmp_path):
    """Issue 16, finding 3: the demo's superuser is the platform's, of no tenant, so no organisation's staff can
    reach it; its credentials still open the admin."""
    factories.ensure_roles(["insights:read", "insights:write"])
    call_command("bootstrap_demo", credentials_file=tmp_path / "demo.json", stdout=None)
    demo_admin = User.objects.get(email="admin@example.com")
    assert demo_admin.is_superuser and demo_admin.organization is None

    demo_org = services.organization_get_or_create(name="Demo")
    staff = staff_of(demo_org, "staff@example.com", "view_user", "change_user")
    session = AdminSession(live_server, staff)
    assert "admin@example.com" not in session.get("/admin/accounts/user/").text
    assert refused(session.get(f"/admin/accounts/user/{demo_admin.pk}/password/"))
    assert AdminSession(live_server, demo_admin).get("/admin/accounts/organization/").status_code == 200


def test_bootstrap_demo_takes_an_earlier_demo_superuser_out_of_the_demo_organisation(db, tmp_path):
    """Issue 16, finding 3: a demo superuser made inside the demo organisation (as earlier set-ups did) leaves it
    at the next start, its credentials kept."""
    factories.ensure_roles(["insights:read", "insights:write"])
    demo_org = services.organization_get_or_create(name="Demo")
    User.objects.create_superuser("admin@example.com", PASSWORD, organization=demo_org)
    credentials = tmp_path / "demo.json"
    call_command("bootstrap_demo", credentials_file=credentials, stdout=None)
    printed = credentials.read_text()

    call_command("bootstrap_demo", credentials_file=credentials, stdout=None)

    demo_admin = User.objects.get(email="admin@example.com")
    assert demo_admin.organization is None and credentials.read_text() == printed


def test_createsuperuser_needs_no_organisation(db, monkeypatch):
    """Issue 16, finding 3: the platform's superuser is made without a tenant; everyone else still has one."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", "--noinput", "--email", "root@example.com", stdout=None)
    root = User.objects.get(email="root@example.com")
    assert root.is_superuser and root.organization is None and root.check_password(PASSWORD)


def test_a_superuser_of_no_organisation_gets_no_token_through_a_client(live_server, people_client):
    """Issue 16, finding 3: the platform's superuser uses the admin; no organisation's client signs it in."""
    root = User.objects.create_superuser("root@example.com", PASSWORD)
    answer = password_grant(live_server, people_client, root.email, PASSWORD)
    assert error_of(answer) == (400, "access_denied")


# Finding 7: actions that need a permission


def test_view_only_staff_cannot_reset_two_step_verification(live_server, org):
    """Issue 16, finding 7: the reset action needs change_user; with view_user only, the second factor stays."""
    staff = staff_of(org, "staff@example.com", "view_user")
    user = factories.make_user(org, email="ada@example.com")
    services.totp_enable(user)
    secret = User.objects.get(pk=user.pk).totp_secret
    session = AdminSession(live_server, staff)

    assert "reset_two_step_verification" not in session.get("/admin/accounts/user/").text
    session.run_action("/admin/accounts/user/", "reset_two_step_verification", user.pk)

    user.refresh_from_db()
    assert user.has_totp and user.totp_secret == secret


def test_view_only_staff_cannot_revoke_tokens(live_server, org, app_client, people_client):
    """Issue 16, finding 7: the revoke actions need change permission on the tokens; with view only, both tokens
    still work."""
    staff = staff_of(org, "staff@example.com", "view_accesstoken", "view_refreshtoken")
    access = post_token(
        live_server, grant_type="client_credentials", client_id=app_client.client.client_id,
        client_secret=app_client.client_secret,
    ).json()["access_token"]
    user = factories.make_user(org, email="ada@example.com", roles=["insights:read"])
    issued = password_grant(live_server, people_client, user.email).json()
    session = AdminSession(live_server, staff)

    assert "revoke_tokens" not in session.get("/admin/oauth2_provider/accesstoken/").text
    for model in (get_access_token_model(), get_refresh_token_model()):
        changelist = f"/admin/oauth2_provider/{model._meta.model_name}/"
        session.run_action(changelist, "revoke_tokens", *model.objects.values_list("pk", flat=True))

    assert me_status(live_server, access) == 200
    assert me_status(live_server, issued["access_token"]) == 200
    assert refresh(live_server, people_client, issued["refresh_token"]).status_code == 200


# Finding 4 and 12: single sign-on settings


def provider_form(provider, **fields) -> dict:
    """The provider's change form as a superuser sees it, its one domain kept, with ``fields`` changed."""
    domain = provider.domains.get()
    return {
        "organization": str(provider.organization_id),
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": "",
        "provision_users": "on",
        "require_email_verified": "on",
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "1",
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-id": str(domain.pk),
        "domains-0-provider": str(provider.pk),
        "domains-0-domain": domain.domain,
        **fields,
    }


def with_new_domain(form: dict, domain: str) -> dict:
    provider = form["domains-0-provider"]
    return {**form, "domains-TOTAL_FORMS": "2", "domains-1-provider": provider, "domains-1-domain": domain}


@pytest.fixture
def provider(org):
    return sso_providers.sso_configure(
        organization=org, issuer="https://login.acme.example", client_id="ubi", client_secret="s",
        domains=["acme.example"],
    )


def test_only_superusers_assign_sso_domains(live_server, org, provider):
    """Issue 16, finding 4: staff see their provider's domains but cannot add one, nor a provider, whatever
    permissions they were given; a superuser can."""
    staff = staff_of(
        org, "staff@example.com", "view_ssoprovider", "change_ssoprovider", "add_ssoprovider", "view_ssodomain",
        "add_ssodomain", "change_ssodomain",
    )
    session = AdminSession(live_server, staff)
    page = f"/admin/accounts/ssoprovider/{provider.pk}/change/"

    shown = session.get(page)
    assert shown.status_code == 200 and "<p>acme.example</p>" in shown.text  # read-only
    assert 'name="domains-0-domain"' not in shown.text
    session.post(page, with_new_domain(provider_form(provider), "globex.example"))
    assert not SsoDomain.objects.filter(domain="globex.example").exists()
    assert session.get("/admin/accounts/ssoprovider/add/").status_code == 403

    root = factories.make_user(email="root@example.com", is_staff=True, is_superuser=True)
    saved = AdminSession(live_server, root).post(page, with_new_domain(provider_form(provider), "globex.example"))
    assert saved.status_code == 302, saved.text[:2000]
    assert SsoDomain.objects.get(domain="globex.example").provider == provider


def test_staff_cannot_change_their_providers_issuer(live_server, org, provider):
    """Issue 16, finding 12 (and 3): the issuer, client id and secret decide who may sign in as the organisation's
    people, and ``require_email_verified`` whether the provider's unverified addresses count, so only superusers
    set them; staff keep the sign-in policy (mandatory, provisioning, default roles)."""
    staff = staff_of(org, "staff@example.com", "view_ssoprovider", "change_ssoprovider")
    session = AdminSession(live_server, staff)
    page = f"/admin/accounts/ssoprovider/{provider.pk}/change/"

    shown = session.get(page)
    assert 'name="issuer"' not in shown.text and 'name="client_secret"' not in shown.text
    attack = provider_form(
        provider, issuer="https://idp.attacker.example", client_id="evil", client_secret="x", mandatory="on"
    )
    del attack["require_email_verified"]  # an unticked box: the opt-out
    saved = session.post(page, attack)

    assert saved.status_code == 302, saved.text[:2000]
    provider.refresh_from_db()
    assert provider.issuer == "https://login.acme.example"
    assert (provider.client_id, sso_providers.client_secret(provider)) == ("ubi", "s")
    assert provider.require_email_verified
    assert provider.mandatory  # the policy is theirs to set
    assert list(provider.domains.values_list("domain", flat=True)) == ["acme.example"]


# Finding 12: other tenants' names


def test_organisation_filters_name_no_other_tenant(live_server, people_client, org):
    """Issue 16, finding 12: the list filters of users, clients and tokens offer only the staff member's own
    organisation and clients, never another tenant's name."""
    theirs = factories.make_org("Globex Secret Project")
    their_client = factories.make_public_client(theirs, name="globex-internal-app")
    their_user = factories.make_user(theirs, email="someone@globex.example")
    password_grant(live_server, their_client, their_user.email)
    mine = factories.make_user(org, email="ada@example.com")
    password_grant(live_server, people_client, mine.email)
    staff = staff_of(
        org, "staff@example.com", "view_user", "view_appclient", "view_accesstoken", "view_refreshtoken", "view_idtoken"
    )
    session = AdminSession(live_server, staff)

    changelists = [
        "accounts/user", "accounts/appclient", "oauth2_provider/accesstoken", "oauth2_provider/refreshtoken",
        "oauth2_provider/idtoken",
    ]
    for changelist in changelists:
        page = session.get(f"/admin/{changelist}/")
        assert page.status_code == 200, changelist
        assert "Globex Secret Project" not in page.text and "globex-internal-app" not in page.text, changelist


def test_staff_cannot_rewrite_a_token(live_server, org, people_client):
    """Issue 16, finding 3 (and 12): a token's row is as the flows issued it: staff who may revoke tokens cannot
    widen one's scope (a refresh would then carry roles its user lacks), nor read other tenants' clients off its
    form."""
    factories.ensure_roles(["insights:write"])
    factories.make_public_client(factories.make_org("Globex Secret Project"), name="globex-internal-app")
    user = factories.make_user(org, email="ada@example.com", roles=["insights:read"])
    issued = password_grant(live_server, people_client, user.email).json()
    row = get_access_token_model().objects.get()
    staff = staff_of(org, "staff@example.com", "view_accesstoken", "change_accesstoken")
    session = AdminSession(live_server, staff)
    page = f"/admin/oauth2_provider/accesstoken/{row.pk}/change/"

    shown = session.get(page)
    assert shown.status_code == 200 and "globex-internal-app" not in shown.text
    expires = timezone.localtime(row.expires)
    widened = {
        "user": str(user.pk), "application": str(people_client.pk), "token_checksum": row.token_checksum,
        "expires_0": expires.strftime("%Y-%m-%d"), "expires_1": expires.strftime("%H:%M:%S"),
        "scope": "insights:read insights:write", "resource": "[]", "initial-resource": "[]",
    }
    session.post(page, widened)

    row.refresh_from_db()
    assert row.scope == "insights:read"
    assert refresh(live_server, people_client, issued["refresh_token"]).json()["scope"] == "insights:read"
