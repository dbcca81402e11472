"""The judgment lists in the admin: staff see and delete their own organisation's lists, never another's, and
nobody edits or adds one there (a list is what its model computed)."""

import pytest
from django.contrib.auth.models import Permission

from analytics.models import Judgment, JudgmentList
from analytics.services import compute_judgment_list
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser
from tests.support.analytics import interaction, track_events, track_query, tracker

pytestmark = pytest.mark.django_db(transaction=True)
LISTS = "/admin/analytics/judgmentlist/"


def list_of(org, name: str) -> str:
    writer = tracker(org)
    search = track_query(writer, "toner", hit_ids=["a", "b"])
    track_events(writer, interaction("click", search, "a", 1))
    return compute_judgment_list(writer, name=name, model="coec", filters={})["id"]


@pytest.fixture
def staff_browser(live_server):
    mine = factories.make_org("Mine")
    staff = factories.make_user(mine, email="staff@example.com", password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="_judgmentlist"))
    return mine, AdminBrowser(live_server.url, staff.email)


def test_staff_list_their_organisation_s_lists_only(staff_browser):
    mine, browser = staff_browser
    list_of(mine, "Our clicks")
    foreign = list_of(factories.make_org("Theirs"), "Their clicks")

    listing = browser.get(LISTS)

    assert listing.status_code == 200
    assert "Our clicks" in listing.text and "Their clicks" not in listing.text
    assert browser.get(f"{LISTS}{foreign}/change/", allow_redirects=False).status_code == 302  # not theirs to see
    assert browser.get(f"{LISTS}add/").status_code == 403


def test_staff_delete_their_list_with_its_judgments_and_not_another_s(staff_browser):
    mine, browser = staff_browser
    ours = list_of(mine, "Our clicks")
    foreign = list_of(factories.make_org("Theirs"), "Their clicks")

    deleted = browser.submit(f"{LISTS}{ours}/delete/", {"post": "yes"})
    refused = browser.get(f"{LISTS}{foreign}/delete/", allow_redirects=False)

    assert deleted.status_code == 200 and not JudgmentList.objects.filter(pk=ours).exists()
    assert not Judgment.objects.filter(judgment_list_id=ours).exists()
    assert refused.status_code == 302 and JudgmentList.objects.filter(pk=foreign).exists()


def test_a_list_page_shows_it_read_only(staff_browser):
    mine, browser = staff_browser
    ours = list_of(mine, "Our clicks")

    page = browser.get(f"{LISTS}{ours}/change/")

    assert page.status_code == 200 and "Our clicks" in page.text
    assert 'name="name"' not in page.text  # no field to edit
