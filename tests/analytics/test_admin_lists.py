"""Queries and events in the admin: read-only lists of one organisation, filtered and searched, that never count
every row. Over HTTP (tests/support/admin.py) but for the statements a page costs, read in this process."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from insights import services
from insights.admin import CappedCountPaginator
from insights.command_principal import command_principal
from insights.models import Event, Query
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser

QUERIES = "/admin/insights/query/"
EVENTS = "/admin/insights/event/"


def track(org, *, user_query, application, timestamp, actions=()) -> str:
    principal = command_principal(org.name, roles=("insights:write",), command="test")
    query_id = services.track_query(
        principal,
        query={"user_query": user_query, "application": application, "timestamp": timestamp,
               "query_response_hit_ids": ["doc-1", "doc-2"]},
    )
    if actions:
        services.track_events(principal, events=[
            {"action_name": action, "query_id": query_id, "application": application, "timestamp": timestamp,
             "session_id": f"session-{user_query}", "event_attributes": {"object": {"object_id": "doc-1"},
                                                                          "position": {"ordinal": 1}}}
            for action in actions
        ])
    return query_id


@pytest.fixture
def orgs(db):
    mine, theirs = factories.make_org("Mine"), factories.make_org("Theirs")
    track(mine, user_query="red shoes", application="shop", timestamp="2026-01-10T10:00:00Z",
          actions=["impression", "click"])
    track(mine, user_query="blue hat", application="blog", timestamp="2026-03-10T10:00:00Z", actions=["impression"])
    track(theirs, user_query="their secret", application="shop", timestamp="2026-01-10T10:00:00Z", actions=["click"])
    return mine, theirs


def staff_of(org, email="staff@example.com"):
    staff = factories.make_user(org, email=email, password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_query", "view_event"]))
    return staff


def listed(page) -> list[str]:
    """The first column of each row of a changelist: its link text."""
    assert page.status_code == 200, page.text[:2000]
    return re.findall(r'<th class="field-timestamp[^"]*"><a href="[^"]+">([^<]+)</a>', page.text)


def test_staff_see_their_organisations_queries_and_events_only(live_server, orgs):
    mine, theirs = orgs
    browser = AdminBrowser(live_server.url, staff_of(mine).email)
    queries = browser.get(QUERIES)
    assert "red shoes" in queries.text and "blue hat" in queries.text and "their secret" not in queries.text
    assert len(listed(queries)) == 2
    assert len(listed(browser.get(EVENTS))) == 3
    foreign = Query.objects.get(organization=theirs)
    assert browser.get(f"{QUERIES}{foreign.pk}/change/", allow_redirects=False).status_code == 302
    foreign_event = Event.objects.get(organization=theirs)
    assert browser.get(f"{EVENTS}{foreign_event.pk}/change/", allow_redirects=False).status_code == 302


def test_a_superuser_sees_every_organisation_and_filters_by_one(live_server, orgs):
    mine, theirs = orgs
    root = factories.make_user(mine, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    browser = AdminBrowser(live_server.url, root.email)
    every = browser.get(QUERIES)
    assert len(listed(every)) == 3
    assert "?application=" not in every.text  # application choices once an organisation is picked
    only_theirs = browser.get(QUERIES, params={"organization": str(theirs.pk)})
    assert len(listed(only_theirs)) == 1 and "their secret" in only_theirs.text
    assert "application=shop" in only_theirs.text and "application=blog" not in only_theirs.text
    assert listed(browser.get(QUERIES, params={"organization": "not-an-id"})) == []


def test_filters_by_application_action_and_date(live_server, orgs):
    mine, _ = orgs
    browser = AdminBrowser(live_server.url, staff_of(mine).email)
    page = browser.get(QUERIES, params={"application": "shop"})
    assert len(listed(page)) == 1 and "red shoes" in page.text and "blue hat" not in page.text
    assert 'href="?application=blog"' in browser.get(QUERIES).text  # a choice from the rows shown
    clicks = browser.get(EVENTS, params={"action_name": "click"})
    assert len(listed(clicks)) == 1
    impressions = browser.get(EVENTS, params={"action_name": "impression", "application": "blog"})
    assert len(listed(impressions)) == 1
    march = browser.get(QUERIES, params={"timestamp__gte": "2026-03-01 00:00:00+00:00",
                                         "timestamp__lt": "2026-04-01 00:00:00+00:00"})
    assert len(listed(march)) == 1 and "blue hat" in march.text


def test_search_matches_identifiers_and_user_queries_exactly(live_server, orgs):
    mine, theirs = orgs
    browser = AdminBrowser(live_server.url, staff_of(mine).email)
    red = Query.objects.get(organization=mine, user_query="red shoes")
    by_id = browser.get(QUERIES, params={"q": red.query_id})
    assert len(listed(by_id)) == 1 and "red shoes" in by_id.text
    assert len(listed(browser.get(QUERIES, params={"q": "blue hat"}))) == 1
    assert listed(browser.get(QUERIES, params={"q": "blue"})) == []  # exact, not a substring
    assert listed(browser.get(QUERIES, params={"q": "their secret"})) == []  # another organisation's
    assert len(listed(browser.get(EVENTS, params={"q": red.query_id}))) == 2
    assert len(listed(browser.get(EVENTS, params={"q": "session-blue hat"}))) == 1
    theirs_id = Query.objects.get(organization=theirs).query_id
    assert listed(browser.get(EVENTS, params={"q": theirs_id})) == []


def test_the_lists_are_read_only_and_show_the_document_as_tracked(live_server, orgs):
    mine, _ = orgs
    staff = staff_of(mine)
    # Even holding every permission of the model, nobody adds, changes or deletes a tracked document.
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="insights"))
    browser = AdminBrowser(live_server.url, staff.email)
    query = Query.objects.get(organization=mine, user_query="red shoes")
    detail = browser.get(f"{QUERIES}{query.pk}/change/")
    assert detail.status_code == 200
    assert "&quot;user_query&quot;: &quot;red shoes&quot;" in detail.text
    assert "&quot;timestamp&quot;: &quot;2026-01-10T10:00:00Z&quot;" in detail.text  # as sent
    assert 'name="_save"' not in detail.text
    assert browser.get(f"{QUERIES}add/").status_code == 403
    assert browser.get(f"{EVENTS}add/").status_code == 403
    assert browser.get(f"{QUERIES}{query.pk}/delete/").status_code == 403
    refused = browser.submit(f"{QUERIES}{query.pk}/change/", {"user_query": "changed"})
    assert refused.status_code == 403
    assert Query.objects.get(pk=query.pk).user_query == "red shoes"
    assert "delete_selected" not in browser.get(QUERIES).text


def page_statements(staff, path) -> list[str]:
    client = Client()
    client.force_login(staff)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [entry["sql"] for entry in captured.captured_queries]


def test_a_list_counts_at_most_its_cap_and_reads_nothing_per_row(orgs, monkeypatch):
    mine, _ = orgs
    staff = staff_of(mine)
    few = page_statements(staff, QUERIES)
    for number in range(4):
        track(mine, user_query=f"query {number}", application="shop", timestamp="2026-02-01T10:00:00Z")
    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    client = Client()
    client.force_login(staff)
    page = client.get(QUERIES)
    assert re.search(r'<p class="paginator">\s*3\+ ', page.content.decode())
    many = page_statements(staff, QUERIES)
    counts = [sql for sql in many if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT 4" in sql.upper() for sql in counts), counts
    assert len(many) == len(few)  # six rows cost what two did


def test_the_superusers_list_reads_organisations_once(orgs):
    mine, _ = orgs
    root = factories.make_user(mine, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    before = page_statements(root, EVENTS)
    track(mine, user_query="more", application="shop", timestamp="2026-02-01T10:00:00Z", actions=["click"] * 3)
    assert len(page_statements(root, EVENTS)) == len(before)
