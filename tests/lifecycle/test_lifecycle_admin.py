"""The data lifecycle in the admin, over real HTTP: the retention period on the organisation's page, the
organisation's deletion as an offboarding, and the erasure actions on the events' list."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission

from accounts.models import AuditEvent, Organization
from accounts.services import roles_by_name
from insights.models import Event
from lifecycle.retention import retention_days
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser
from tests.support.lifecycle import event_ids, track_event, track_query

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EVENTS = "/admin/insights/event/"


@pytest.fixture
def root(db):
    return factories.make_user(None, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)


def test_a_superuser_sets_the_retention_period_on_the_organisation_s_page(live_server, root):
    organization = factories.make_org("Shop")
    browser = AdminBrowser(live_server.url, root.email)
    page = f"/admin/accounts/organization/{organization.pk}/change/"
    assert "Retention period" in browser.get(page).text
    saved = browser.submit(page, {
        "name": "Shop",
        "password_max_age_days": "",
        "retention_policy-TOTAL_FORMS": "1",
        "retention_policy-INITIAL_FORMS": "0",
        "retention_policy-MIN_NUM_FORMS": "0",
        "retention_policy-MAX_NUM_FORMS": "1",
        "retention_policy-0-days": "30",
        "retention_policy-0-organization": str(organization.pk),
    })
    assert saved.status_code == 200 and "was changed successfully" in saved.text, saved.text[:3000]
    assert retention_days(organization.pk) == 30
    assert AuditEvent.objects.filter(organization=organization, action="changed", actor=root.email).exists()


def test_deleting_an_organisation_in_the_admin_offboards_it(live_server, root):
    organization = factories.make_org("Leaving")
    factories.make_client(organization)
    track_event(organization, AT, query_id=track_query(organization, AT))
    browser = AdminBrowser(live_server.url, root.email)
    page = f"/admin/accounts/organization/{organization.pk}/delete/"
    confirmation = browser.get(page)
    assert "Leaving: 2 queries, events and judgments" in confirmation.text
    assert "protected" not in confirmation.text.lower()
    deleted = browser.submit(page, {"post": "yes"})
    assert deleted.status_code == 200 and "was deleted successfully" in deleted.text
    assert not Organization.objects.filter(pk=organization.pk).exists()
    assert not Event.objects.filter(organization_id=organization.pk).exists()
    record = AuditEvent.objects.get(object_type="organization", object_id=str(organization.pk))
    assert (record.actor, record.object_repr) == (root.email, "Leaving")


def test_staff_cannot_delete_their_organisation(live_server, db):
    organization = factories.make_org("Mine")
    staff = factories.make_user(organization, email="staff@example.com", password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_organization", "delete_organization"]))
    browser = AdminBrowser(live_server.url, staff.email)
    assert browser.get(f"/admin/accounts/organization/{organization.pk}/delete/").status_code == 403
    assert Organization.objects.filter(pk=organization.pk).exists()


def erase(browser: AdminBrowser, action: str, event_pk: int):
    listing = browser.get(EVENTS)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing.text).group(1)
    return browser.session.post(
        browser.base_url + EVENTS,
        data={"action": action, "_selected_action": [str(event_pk)], "csrfmiddlewaretoken": csrf, "index": "0"},
        headers={"Referer": browser.base_url + EVENTS},
        timeout=10,
    )


def test_the_erasure_action_erases_the_people_of_the_selected_events(live_server, root):
    organization, other = factories.make_org("Shop"), factories.make_org("Other")
    chosen = track_event(organization, AT, user_id="person-1")
    track_event(organization, AT, user_id="person-1")
    kept = track_event(organization, AT, user_id="person-2")
    track_event(other, AT, user_id="person-1")
    browser = AdminBrowser(live_server.url, root.email)
    answer = erase(browser, "erase_user_id", Event.objects.get(event_id=chosen).pk)
    assert "Erased 1 user_id(s): 0 queries and 2 events deleted." in answer.text
    assert event_ids(organization) == {kept}
    assert len(event_ids(other)) == 1
    assert AuditEvent.objects.get(object_type="subject").actor == root.email


def test_staff_erase_with_the_role_only(live_server, db):
    organization = factories.make_org("Shop")
    event = track_event(organization, AT, user_id="person-1")
    staff = factories.make_user(organization, email="staff@example.com", password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="view_event"))
    browser = AdminBrowser(live_server.url, staff.email)
    assert "erase_user_id" not in browser.get(EVENTS).text
    erase(browser, "erase_user_id", Event.objects.get(event_id=event).pk)
    assert event_ids(organization) == {event}

    staff.roles.set(roles_by_name(factories.ensure_roles(["insights:erase"])))
    assert "erase_user_id" in browser.get(EVENTS).text
    answer = erase(browser, "erase_user_id", Event.objects.get(event_id=event).pk)
    assert "Erased 1 user_id(s)" in answer.text
    assert event_ids(organization) == set()
