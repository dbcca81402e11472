"""The analytics settings in the admin: staff set their own organisation's action names, and see no other's; a change
marks the organisation's rollups stale."""

import pytest
from django.contrib.auth.models import Permission

from analytics import rollups
from analytics.models import ActionNames, AnalyticsSettings, StaleRange, action_names
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_settings_row_means_the_default_action_names(org):
    assert action_names(org.id) == ActionNames("impression", "click")


def test_staff_set_their_organisation_s_action_names_and_see_no_other(live_server):
    mine, theirs = factories.make_org("Mine"), factories.make_org("Theirs")
    foreign = AnalyticsSettings.objects.create(organization=theirs, impression_action="their-view")
    staff = factories.make_user(mine, email="staff@example.com", password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="_analyticssettings"))
    browser = AdminBrowser(live_server.url, staff.email)

    refused = browser.submit(
        "/admin/analytics/analyticssettings/add/",
        {"organization": str(theirs.pk), "impression_action": "view", "click_action": "select"},
    )
    added = browser.submit(
        "/admin/analytics/analyticssettings/add/",
        {"organization": str(mine.pk), "impression_action": "view", "click_action": "select"},
    )

    assert refused.status_code == 200 and "Select a valid choice" in refused.text  # the form offers only their own
    assert [step.status_code for step in added.history] == [302]  # saved, then on to the list
    assert action_names(mine.id) == ActionNames("view", "select")
    assert action_names(theirs.id) == ActionNames("their-view", "click")
    listing = browser.get("/admin/analytics/analyticssettings/")
    assert "Analytics settings of Mine" in listing.text and "Theirs" not in listing.text
    foreign_page = browser.get(f"/admin/analytics/analyticssettings/{foreign.pk}/change/", allow_redirects=False)
    assert foreign_page.status_code == 302


def test_a_change_in_the_admin_marks_the_organisation_s_rollups_stale(live_server):
    mine = factories.make_org("Mine")
    settings = AnalyticsSettings.objects.create(organization=mine)
    staff = factories.make_user(mine, email="staff@example.com", password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="_analyticssettings"))
    browser = AdminBrowser(live_server.url, staff.email)
    rollups.refresh()
    assert not StaleRange.objects.exists()

    browser.submit(f"/admin/analytics/analyticssettings/{settings.pk}/change/",
                   {"organization": str(mine.pk), "impression_action": "view", "click_action": "click"})
    assert list(StaleRange.objects.values_list("organization_id", "start", "end")) == [(mine.id, None, None)]

    rollups.refresh()
    browser.submit("/admin/analytics/analyticssettings/",
                   {"action": "delete_selected", "_selected_action": [str(settings.pk)], "post": "yes"})
    assert not AnalyticsSettings.objects.exists()
    assert list(StaleRange.objects.values_list("organization_id", flat=True)) == [mine.id]
