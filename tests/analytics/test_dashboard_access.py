"""Who may open the analytics dashboard, and which organisation's figures they get (Django's test client).

The dashboard is an admin page: anonymous people are sent to the login page, people who are not staff are not let
in, staff read only their own organisation whatever the query string says, a superuser picks any. A judgment list
downloads only within its organisation.
"""

import datetime
from urllib.parse import urlsplit

import pytest

from accounts.models import User
from analytics import services
from tests.support import factories
from tests.support.searches import track_search, writer

DASHBOARD = "/admin/analytics/dashboard/"
AT = datetime.datetime(2026, 11, 3, 12, tzinfo=datetime.UTC)
RANGE = {"from": "2026-11-01", "to": "2026-11-07"}
FILTERS = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z"}


@pytest.fixture
def orgs(db):
    """Two organisations, each with one search of its own and one judgment list of it."""
    made = {}
    for name, user_query in [("Acme", "toner"), ("Globex", "secret plans")]:
        org = factories.make_org(name)
        principal = writer(org)
        track_search(principal, user_query=user_query, at=AT, hits=["doc-1", "doc-2"], clicks=("doc-1",))
        made[name] = {
            "org": org,
            "list": services.compute_judgment_list(principal, name=f"{name} list", model="coec", filters=FILTERS),
        }
    return made


def signed_in(client, org, **fields):
    client.force_login(factories.make_user(org, **fields))
    return client


def download_path(judgment_list, file_format="csv") -> str:
    return f"{DASHBOARD}judgments/{judgment_list['id']}/{file_format}/"


def test_anonymous_people_are_sent_to_the_login_page(client, orgs):
    for path in (DASHBOARD, download_path(orgs["Acme"]["list"])):
        response = client.get(path)
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == "/admin/login/" and path in response["Location"]


def test_people_who_are_not_staff_are_not_let_in(client, orgs):
    signed_in(client, orgs["Acme"]["org"], roles=["insights:read"])
    for path in (DASHBOARD, download_path(orgs["Acme"]["list"])):
        response = client.get(path)
        assert response.status_code == 302 and urlsplit(response["Location"]).path == "/admin/login/"


def test_staff_read_only_their_organisation_whatever_they_ask(client, orgs):
    signed_in(client, orgs["Acme"]["org"], is_staff=True)
    for query in (RANGE, {**RANGE, "org": str(orgs["Globex"]["org"].pk)}):
        page = client.get(DASHBOARD, query)
        assert page.status_code == 200
        assert page.context["organization"] == orgs["Acme"]["org"] and page.context["organizations"] is None
        assert page.context["summary"]["searches"] == 1
        assert [row["query"] for row in page.context["tables"][0]["queries"]] == ["toner"]
        assert "secret plans" not in page.text and "Globex list" not in page.text


def test_staff_download_their_organisations_lists_only(client, orgs):
    signed_in(client, orgs["Acme"]["org"], is_staff=True)
    own = client.get(download_path(orgs["Acme"]["list"]))
    assert own.status_code == 200 and own["Content-Disposition"].startswith("attachment;")
    assert "toner" in own.getvalue().decode()
    assert client.get(download_path(orgs["Globex"]["list"])).status_code == 404
    assert client.get(download_path(orgs["Acme"]["list"], "xml")).status_code == 404


def test_a_superuser_picks_any_organisation(client, orgs):
    signed_in(client, orgs["Acme"]["org"], is_staff=True, is_superuser=True)
    assert client.get(DASHBOARD, RANGE).context["organization"] == orgs["Acme"]["org"]
    page = client.get(DASHBOARD, {**RANGE, "org": str(orgs["Globex"]["org"].pk)})
    assert page.context["organization"] == orgs["Globex"]["org"]
    assert [row["query"] for row in page.context["tables"][0]["queries"]] == ["secret plans"]
    assert list(page.context["organizations"]) == [orgs["Acme"]["org"], orgs["Globex"]["org"]]
    assert client.get(DASHBOARD, {"org": "not an id"}).status_code == 404


def test_a_superuser_of_no_organisation_starts_on_the_first(client, orgs):
    client.force_login(User.objects.create_superuser("platform@example.com", "a long password 42"))
    page = client.get(DASHBOARD, RANGE)
    assert page.context["organization"] == orgs["Acme"]["org"]
    assert [row["query"] for row in page.context["tables"][0]["queries"]] == ["toner"]


def test_the_admin_index_links_to_the_dashboard(client, orgs):
    signed_in(client, orgs["Acme"]["org"], is_staff=True)
    assert f'href="{DASHBOARD}"' in client.get("/admin/").text


def test_a_bad_range_is_shown_on_the_form(client, orgs):
    signed_in(client, orgs["Acme"]["org"], is_staff=True)
    page = client.get(DASHBOARD, {"from": "2026-11-07", "to": "2026-11-01"})
    assert page.status_code == 200 and "summary" not in page.context
    assert "The last day comes before the first." in page.text


@pytest.mark.parametrize(
    "query",
    [{"from": "yesterday"}, {"to": "2026-02-30"}, {"application": "x" * 101}, {"application": "shop\x00"}],
    ids=["from", "to", "long-application", "nul-application"],
)
def test_what_the_selectors_would_refuse_stops_at_the_form(client, orgs, query):
    signed_in(client, orgs["Acme"]["org"], is_staff=True)
    page = client.get(DASHBOARD, query)
    assert page.status_code == 200 and "summary" not in page.context and page.context["form"].errors
