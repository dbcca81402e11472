"""The analytics dashboard in a real browser (Debian's Chromium under Playwright) against the live server.

Staff sign in at the login page, as people do, then read hand-made searches of their organisation: every chart
must draw the selectors' figures (Chart.js's own data, and pixels where its points and bars are), the tables list
the expected queries, the judgment lists download, and another organisation's searches never show. Each test
saves screenshots under var/test-output/screenshots/.
"""

import csv
import datetime
import io
import json
from urllib.parse import urlsplit

import pytest

from analytics import metrics, services
from analytics.dashboard import dashboard_reader
from tests.support import factories
from tests.support.chromium import screenshot, sign_in
from tests.support.searches import track_search, writer

DASHBOARD = "/admin/analytics/dashboard/"
PASSWORD = "a long dashboard password 42"
DAY = datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.UTC)
# The filter form's range and application, and the same as the selectors' filters.
RANGE = {"from": "2026-11-01", "to": "2026-11-07", "application": "shop"}
FILTERS = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z", "application": "shop"}
HITS = ["sku-1", "sku-2", "sku-3"]

# Where Chart.js drew each element of a chart's dataset: the alpha of the canvas pixel at a point's centre, or
# half way up a bar. A chart that was given the data but never drew it leaves those pixels transparent.
DRAWN_ALPHAS = """(id) => {
  const chart = Chart.getChart(id);
  const ratio = chart.currentDevicePixelRatio;
  const context = chart.canvas.getContext("2d");
  return chart.getDatasetMeta(0).data.map((element) => {
    const {x, y, base} = element.getProps(["x", "y", "base"], true);
    const middle = base === undefined ? y : (y + base) / 2;
    return context.getImageData(Math.round(x * ratio), Math.round(middle * ratio), 1, 1).data[3];
  });
}"""
CHART_DATA = """(id) => {
  const chart = Chart.getChart(id);
  return {labels: chart.data.labels, data: chart.data.datasets[0].data};
}"""


@pytest.fixture
def shop(transactional_db):
    """Two organisations' searches. ``acme``'s shop in early November 2026: "toner" three times (clicks at ranks 1,
    2, 1), "printer" twice (no click), "unicorn" twice (no result); a search of its blog and an older one, both
    outside the dashboard's filter. ``globex`` searched "secret plans"."""
    acme, globex = factories.make_org("Acme"), factories.make_org("Globex")
    acme_writer, globex_writer = writer(acme), writer(globex)
    later = datetime.timedelta
    for days, clicked in [(0, "sku-1"), (1, "sku-2"), (1, "sku-1")]:
        track_search(acme_writer, user_query="toner", at=DAY + later(days=days), hits=HITS, clicks=(clicked,))
    for hours in (0, 5):
        track_search(acme_writer, user_query="printer", at=DAY + later(days=2, hours=hours), hits=["sku-7", "sku-8"])
        track_search(acme_writer, user_query="unicorn", at=DAY + later(days=3, hours=hours), hits=[])
    track_search(acme_writer, user_query="cats", at=DAY, hits=["post-1"], clicks=("post-1",), application="blog")
    track_search(acme_writer, user_query="toner", at=DAY - later(days=20), hits=HITS, clicks=("sku-3",))
    for days in (0, 1):
        track_search(globex_writer, user_query="secret plans", at=DAY + later(days=days), hits=["d9"], clicks=("d9",))
    return {"acme": acme, "globex": globex, "acme_writer": acme_writer}


def staff(org, **fields):
    return factories.make_user(org, password=PASSWORD, is_staff=True, **fields)


def open_dashboard(page, live_server, user, **query):
    """Sign ``user`` in from the admin's index, follow its link to the dashboard, then apply ``query`` with the form."""
    sign_in(page, live_server.url, "/admin/", email=user.email, password=PASSWORD)
    page.click("text=Search analytics dashboard")
    page.wait_for_url(f"{live_server.url}{DASHBOARD}*")
    for name, value in query.items():
        page.fill(f'#analytics-filters [name="{name}"]', value)
    if query:
        page.click('#analytics-filters button[type="submit"]')
        page.wait_for_url(f"{live_server.url}{DASHBOARD}?*")
    page.wait_for_function("() => Chart.getChart('searches-chart') && Chart.getChart('ctr-chart')")


def table_queries(page, kind: str) -> list[str]:
    return page.locator(f"#table-{kind} td.query").all_inner_texts()


def test_staff_see_their_organisations_figures_drawn_from_its_searches(live_server, page, shop):
    member = staff(shop["acme"])
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    open_dashboard(page, live_server, member, **RANGE)
    assert page.evaluate("Chart.version") == "4.6.2"
    assert {urlsplit(url).netloc for url in requested} == {urlsplit(live_server.url).netloc}, "a request left the site"
    assert {urlsplit(url).path for url in requested if "/static/analytics/" in url} == {
        "/static/analytics/dashboard.css",
        "/static/analytics/vendor/chartjs/chart.umd.min.js",
        "/static/analytics/dashboard.js",
    }
    reader = dashboard_reader(member, shop["acme"])

    summary = metrics.summary(reader, filters=FILTERS)
    assert summary["searches"] == 7 and summary["distinctQueries"] == 3
    assert page.inner_text("#kpi-searches .kpi-value") == "7"
    assert page.inner_text("#kpi-ctr .kpi-value") == f"{100 * summary['ctr']:.1f} %" == "42.9 %"
    assert page.inner_text("#kpi-zero-result .kpi-value") == "28.6 %"

    over_time = metrics.searches_over_time(reader, filters={**FILTERS, "bucket": "day"})
    searches_chart = page.evaluate(CHART_DATA, "searches-chart")
    assert searches_chart["data"] == [point["searches"] for point in over_time["points"]]
    assert sum(searches_chart["data"]) == 7 and len(searches_chart["labels"]) == len(over_time["points"])
    assert all(page.evaluate(DRAWN_ALPHAS, "searches-chart")), "a point of the searches chart was not drawn"

    by_rank = metrics.ctr_by_rank(reader, filters={**FILTERS, "maxRank": "10"})
    ctr_chart = page.evaluate(CHART_DATA, "ctr-chart")
    assert ctr_chart["labels"] == [str(rank) for rank in range(1, 11)]
    assert ctr_chart["data"] == [rank["ctr"] for rank in by_rank["ranks"]]
    assert ctr_chart["data"][:3] == [pytest.approx(2 / 5), pytest.approx(1 / 5), 0]
    drawn = page.evaluate(DRAWN_ALPHAS, "ctr-chart")
    assert drawn[0] and drawn[1], "a bar of the CTR chart was not drawn"

    assert table_queries(page, "top") == ["toner", "printer", "unicorn"]
    assert table_queries(page, "zero-result") == ["unicorn"]
    assert table_queries(page, "zero-click") == ["printer"]
    assert "cats" not in page.content() and "secret plans" not in page.content()
    screenshot(page, "dashboard-staff")


def test_judgment_lists_download_in_every_format(live_server, page, shop):
    judgment_list = services.compute_judgment_list(
        shop["acme_writer"], name="November clicks", model="coec", filters={"maxRank": "10", **FILTERS}
    )
    open_dashboard(page, live_server, staff(shop["acme"]), **RANGE)
    row = page.locator("#judgment-lists tbody tr")
    assert row.count() == 1 and "November clicks" in row.inner_text()

    files = {}
    for file_format in ("json", "csv", "trec", "trec-queries", "srw"):
        with page.expect_download() as download:
            row.locator(f"a.download:text-is('{file_format}')").click()
        files[file_format] = download.value.path().read_text()
    screenshot(page, "dashboard-judgment-lists")

    listed = json.loads(files["json"])
    assert (listed["id"], listed["judgmentCount"]) == (judgment_list["id"], judgment_list["judgmentCount"])
    pairs = {(row["query"], row["docId"]) for row in listed["judgments"]}
    assert {("toner", "sku-1"), ("toner", "sku-2")} <= pairs
    assert {(row["query"], row["docid"]) for row in csv.DictReader(io.StringIO(files["csv"]))} == pairs
    assert len(files["trec"].splitlines()) == len(pairs)
    assert {line.split("\t")[1] for line in files["trec-queries"].splitlines()} == {query for query, _ in pairs}
    assert {rating["query"] for rating in json.loads(files["srw"])["judgmentRatings"]} == {query for query, _ in pairs}


def test_staff_of_another_organisation_see_none_of_its_searches(live_server, page, shop):
    services.compute_judgment_list(shop["acme_writer"], name="Acme only", model="coec", filters=FILTERS)
    outsider = staff(shop["globex"])
    open_dashboard(page, live_server, outsider, **RANGE)
    assert table_queries(page, "top") == ["secret plans"]
    assert page.inner_text("#kpi-searches .kpi-value") == "2"
    assert sum(page.evaluate(CHART_DATA, "searches-chart")["data"]) == 2
    assert "toner" not in page.content() and "Acme only" not in page.content()

    page.goto(f"{live_server.url}{DASHBOARD}?org={shop['acme'].pk}&from=2026-11-01&to=2026-11-07")
    assert "Globex" in page.inner_text(".analytics-subtitle") and "toner" not in page.content()
    screenshot(page, "dashboard-other-organisation")


def test_a_superuser_picks_the_organisation(live_server, page, shop):
    root = staff(shop["globex"], is_superuser=True)
    open_dashboard(page, live_server, root, **RANGE)
    assert "Globex" in page.inner_text(".analytics-subtitle")

    with page.expect_navigation():
        page.select_option("#analytics-org", label="Acme")
    page.wait_for_function("() => Chart.getChart('searches-chart')")
    assert "Acme" in page.inner_text(".analytics-subtitle")
    assert table_queries(page, "top") == ["toner", "printer", "unicorn"]
    assert sum(page.evaluate(CHART_DATA, "searches-chart")["data"]) == 7
    screenshot(page, "dashboard-superuser")
