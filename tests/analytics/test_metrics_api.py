"""The search metrics over the live server (``/api/v1/analytics/...``), on hand-made data whose figures are
computed by hand below.

One day, 2026-03-02 (a Monday), application "shop" unless said otherwise:

====  ========  ==========  ======================  ===========================================
id    query     hit ids     impression events       other events
====  ========  ==========  ======================  ===========================================
S1    toner     a b c       none                    click b@2
S2    toner     a b c       none                    click a@1, click c@3
S3    toner     a b         none                    none (another organisation clicks its id)
S4    paper     []          none                    none
S5    paper     []          none                    scroll
S6    ink       absent      x@1 y@2                 click y@2
S7    ink       absent      x@1                     none
S8    pens      p           none                    click p@1 (application "blog")
S9    toner     a           none                    none (on Thursday 2026-03-05)
====  ========  ==========  ======================  ===========================================
"""

import pytest

from tests.support import factories
from tests.support.analytics import interaction, track_events, track_query, tracker
from tests.support.problems import assert_problem
from tests.support.ubi_documents import api_with_roles

SUMMARY = "/api/v1/analytics/summary"
CTR_BY_RANK = "/api/v1/analytics/ctr-by-rank"
QUERIES = "/api/v1/analytics/queries"
OVER_TIME = "/api/v1/analytics/searches-over-time"
SHOP_DAY = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z", "application": "shop"}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def searches(org):
    writer = tracker(org)
    s1 = track_query(writer, "toner", hit_ids=["a", "b", "c"], query_id="S1")
    s2 = track_query(writer, "toner", hit_ids=["a", "b", "c"], query_id="S2")
    track_query(writer, "toner", hit_ids=["a", "b"], query_id="S3")
    track_query(writer, "paper", hit_ids=[], query_id="S4", when="12:30")
    s5 = track_query(writer, "paper", hit_ids=[], query_id="S5", when="12:30")
    s6 = track_query(writer, "ink", query_id="S6", when="12:30")
    s7 = track_query(writer, "ink", query_id="S7", when="12:40")
    s8 = track_query(writer, "pens", hit_ids=["p"], query_id="S8", application="blog")
    track_query(writer, "toner", hit_ids=["a"], query_id="S9", timestamp="2026-03-05T08:00:00Z")
    track_events(
        writer,
        interaction("click", s1, "b", 2),
        interaction("click", s2, "a", 1),
        interaction("click", s2, "c", 3),
        interaction("scroll", s5, "-", 1, when="12:31"),
        interaction("impression", s6, "x", 1, when="12:31"),
        interaction("impression", s6, "y", 2, when="12:31"),
        interaction("click", s6, "y", 2, when="12:32"),
        interaction("impression", s7, "x", 1, when="12:41"),
        interaction("click", s8, "p", 1, application="blog"),
    )
    other = tracker(factories.make_org())
    for query_id in ("S3", "S4", "S7"):
        track_query(other, "toner", hit_ids=["a"], query_id=query_id)
    track_events(other, *(interaction("click", query_id, "a", 1) for query_id in ("S3", "S4", "S7", "S1")))


def test_summary_of_the_shop_s_day(api, searches):
    response = api.get(SUMMARY, params=SHOP_DAY)

    assert response.status_code == 200
    assert response.json() == {
        "searches": 7,
        "distinctQueries": 3,  # toner, paper, ink
        "ctr": pytest.approx(3 / 7),  # S1, S2, S6
        "zeroResultRate": pytest.approx(2 / 7),  # S4, S5
        "zeroClickRate": pytest.approx(2 / 7),  # S3, S7 (S4 and S5 showed nothing)
        "meanReciprocalRank": pytest.approx((1 / 2 + 1 + 0 + 1 / 2 + 0) / 5),  # S1, S2, S3, S6, S7
        "abandonmentRate": pytest.approx(2 / 7),  # S3, S4
    }


def test_summary_of_every_application(api, searches):
    body = api.get(SUMMARY, params={**SHOP_DAY, "application": ""}).json()

    assert body == {
        "searches": 8,
        "distinctQueries": 4,
        "ctr": pytest.approx(4 / 8),
        "zeroResultRate": pytest.approx(2 / 8),
        "zeroClickRate": pytest.approx(2 / 8),
        "meanReciprocalRank": pytest.approx((1 / 2 + 1 + 0 + 1 / 2 + 0 + 1) / 6),
        "abandonmentRate": pytest.approx(2 / 8),
    }


def test_summary_without_searches_is_zeros(api, searches):
    body = api.get(SUMMARY, params={"from": "2030-01-01T00:00:00Z"}).json()

    assert body == {
        "searches": 0, "distinctQueries": 0, "ctr": 0, "zeroResultRate": 0, "zeroClickRate": 0,
        "meanReciprocalRank": 0, "abandonmentRate": 0,
    }


def test_ctr_by_rank(api, searches):
    response = api.get(CTR_BY_RANK, params={**SHOP_DAY, "maxRank": "4"})

    assert response.status_code == 200
    # Impressions: S1 and S2 at 1, 2, 3; S3 at 1, 2; S6 at 1, 2; S7 at 1. Clicks: a@1 (S2); b@2, y@2; c@3.
    assert response.json() == {
        "ranks": [
            {"rank": 1, "impressions": 5, "clicks": 1, "ctr": pytest.approx(1 / 5)},
            {"rank": 2, "impressions": 4, "clicks": 2, "ctr": pytest.approx(2 / 4)},
            {"rank": 3, "impressions": 2, "clicks": 1, "ctr": pytest.approx(1 / 2)},
            {"rank": 4, "impressions": 0, "clicks": 0, "ctr": 0},
        ]
    }


def test_ctr_by_rank_has_20_ranks_by_default(api, searches):
    ranks = api.get(CTR_BY_RANK).json()["ranks"]

    assert [row["rank"] for row in ranks] == list(range(1, 21))


def test_top_queries(api, searches):
    response = api.get(QUERIES, params=SHOP_DAY)

    assert response.status_code == 200
    assert response.json() == {
        "kind": "top",
        "queries": [
            {"query": "toner", "searches": 3, "clicks": 3, "ctr": pytest.approx(2 / 3)},
            {"query": "ink", "searches": 2, "clicks": 1, "ctr": pytest.approx(1 / 2)},
            {"query": "paper", "searches": 2, "clicks": 0, "ctr": 0},
        ],
    }
    assert [row["query"] for row in api.get(QUERIES, params={**SHOP_DAY, "limit": "2"}).json()["queries"]] == [
        "toner", "ink"
    ]


def test_zero_result_and_zero_click_queries(api, searches):
    zero_result = api.get(QUERIES, params={**SHOP_DAY, "kind": "zero-result"}).json()
    zero_click = api.get(QUERIES, params={**SHOP_DAY, "kind": "zero-click"}).json()

    assert zero_result == {"kind": "zero-result", "queries": [{"query": "paper", "searches": 2, "clicks": 0, "ctr": 0}]}
    assert zero_click == {
        "kind": "zero-click",
        "queries": [
            {"query": "ink", "searches": 1, "clicks": 0, "ctr": 0},
            {"query": "toner", "searches": 1, "clicks": 0, "ctr": 0},
        ],
    }


def test_searches_over_time_by_day_include_empty_days(api, searches):
    response = api.get(OVER_TIME)

    assert response.status_code == 200
    assert response.json() == {
        "bucket": "day",
        "points": [
            {"start": "2026-03-02T00:00:00Z", "searches": 8},
            {"start": "2026-03-03T00:00:00Z", "searches": 0},
            {"start": "2026-03-04T00:00:00Z", "searches": 0},
            {"start": "2026-03-05T00:00:00Z", "searches": 1},
        ],
    }


def test_searches_over_time_by_hour_and_week(api, searches):
    hours = api.get(OVER_TIME, params={**SHOP_DAY, "bucket": "hour"}).json()
    weeks = api.get(OVER_TIME, params={"bucket": "week"}).json()

    # From and to given: every hour of the day, searched or not.
    assert hours["bucket"] == "hour"
    assert [point["start"] for point in hours["points"]] == [f"2026-03-02T{hour:02}:00:00Z" for hour in range(24)]
    assert {point["start"][11:13]: point["searches"] for point in hours["points"] if point["searches"]} == {
        "10": 3,
        "12": 4,
    }
    assert weeks == {"bucket": "week", "points": [{"start": "2026-03-02T00:00:00Z", "searches": 9}]}


def test_searches_over_time_span_the_range_asked_for(api, searches):
    days = api.get(OVER_TIME, params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-07T12:00:00Z"}).json()

    assert days["points"] == [
        {"start": "2026-03-01T00:00:00Z", "searches": 0},
        {"start": "2026-03-02T00:00:00Z", "searches": 8},
        {"start": "2026-03-03T00:00:00Z", "searches": 0},
        {"start": "2026-03-04T00:00:00Z", "searches": 0},
        {"start": "2026-03-05T00:00:00Z", "searches": 1},
        {"start": "2026-03-06T00:00:00Z", "searches": 0},
        {"start": "2026-03-07T00:00:00Z", "searches": 0},
    ]


def test_another_organisation_sees_only_its_own(live_server, searches):
    stranger = api_with_roles(live_server, factories.make_org(), ["insights:read"])

    assert stranger.get(SUMMARY).json()["searches"] == 0
    assert all(row["impressions"] == 0 for row in stranger.get(CTR_BY_RANK).json()["ranks"])
    assert stranger.get(QUERIES).json()["queries"] == []
    assert stranger.get(OVER_TIME).json()["points"] == []


@pytest.mark.parametrize("path", [SUMMARY, CTR_BY_RANK, QUERIES, OVER_TIME])
def test_reading_metrics_needs_insights_read(live_server, org, path):
    writer_only = api_with_roles(live_server, org, ["insights:write"])

    assert_problem(writer_only.get(path), 403)


@pytest.mark.parametrize(
    ("path", "parameters", "key"),
    [
        (SUMMARY, {"from": "yesterday"}, "from"),
        (SUMMARY, {"to": "2026-13-01T00:00:00Z"}, "to"),
        (SUMMARY, {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "to"),
        (SUMMARY, {"application": "sh\x00op"}, "application"),
        (CTR_BY_RANK, {"maxRank": "0"}, "maxRank"),
        (CTR_BY_RANK, {"maxRank": "101"}, "maxRank"),
        (CTR_BY_RANK, {"maxRank": "two"}, "maxRank"),
        (QUERIES, {"kind": "best"}, "kind"),
        (QUERIES, {"limit": "0"}, "limit"),
        (QUERIES, {"limit": "101"}, "limit"),
        (OVER_TIME, {"bucket": "month"}, "bucket"),
        (OVER_TIME, {"from": "2026-03-02"}, "from"),
        (OVER_TIME, {"bucket": "hour", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "bucket"),
    ],
)
def test_a_bad_parameter_is_a_problem_keyed_by_its_name(api, path, parameters, key):
    body = assert_problem(api.get(path, params=parameters), 400)

    assert list(body["errors"]) == [key]
