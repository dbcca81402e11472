"""Judgment lists over the live server (``/api/v1/judgments``), on hand-made data rated by hand below.

One day, 2026-03-02, application "shop" unless said otherwise:

====  =======  =======  ===================  ==================================
id    query    hit ids  impression events    clicks
====  =======  =======  ===================  ==================================
S1    toner    a b c    none                 b@2
S2    toner    a b c    none                 a@1
S3    ink      absent   x@1 y@2              y@2
S4    ink      absent   x@1                  none
S5    pens     p        none                 p@1 (application "blog")
====  =======  =======  ===================  ==================================

Another organisation has a "toner" search with a click on a@1, never counted.

Shop, ranks 1..20: rank 1 shows a, a, x, x with one click (CTR 1/4); rank 2 shows b, b, y with two (2/3); rank 3
shows c, c with none. COEC, clicks ÷ (CTR at the best rank × impressions): toner/a 1 ÷ (1/4 × 2) = 2,
toner/b 1 ÷ (2/3 × 2) = 0.75, toner/c 0, ink/x 0, ink/y 1 ÷ (2/3 × 1) = 1.5.
SDBN (examined up to the last click): toner/a examined in S1 and S2, clicked and last in S2: 1/2 × 1/1 = 0.5;
toner/b 1 × 1 = 1; ink/y 1; toner/c never examined, ink/x examined once and never clicked: 0.
"""

import csv
import io
import json
import uuid

import pytest

from analytics.models import Judgment, JudgmentList
from tests.support import factories
from tests.support.analytics import interaction, track_events, track_query, tracker
from tests.support.problems import assert_problem
from tests.support.ubi_documents import api_with_roles

LISTS = "/api/v1/judgments"
SHOP_DAY = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z", "application": "shop"}
COEC = [
    # query, docId, rating, impressions, clicks
    ("ink", "x", 0.0, 2, 0),
    ("ink", "y", 1.5, 1, 1),
    ("toner", "a", 2.0, 2, 1),
    ("toner", "b", 0.75, 2, 1),
    ("toner", "c", 0.0, 2, 0),
]
SDBN = [("ink", "x", 0.0, 2, 0), ("ink", "y", 1.0, 1, 1), ("toner", "a", 0.5, 2, 1), ("toner", "b", 1.0, 2, 1),
        ("toner", "c", 0.0, 2, 0)]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def searches(org):
    writer = tracker(org)
    s1 = track_query(writer, "toner", hit_ids=["a", "b", "c"], query_id="S1")
    s2 = track_query(writer, "toner", hit_ids=["a", "b", "c"], query_id="S2")
    s3 = track_query(writer, "ink", query_id="S3")
    s4 = track_query(writer, "ink", query_id="S4")
    s5 = track_query(writer, "pens", hit_ids=["p"], query_id="S5", application="blog")
    track_events(
        writer,
        interaction("click", s1, "b", 2),
        interaction("click", s2, "a", 1),
        interaction("impression", s3, "x", 1),
        interaction("impression", s3, "y", 2),
        interaction("click", s3, "y", 2),
        interaction("impression", s4, "x", 1),
        interaction("click", s5, "p", 1, application="blog"),
    )
    other = tracker(factories.make_org())
    track_query(other, "toner", hit_ids=["a"], query_id="S1")
    track_events(other, interaction("click", "S1", "a", 1))


def compute(api, **body):
    response = api.post(LISTS, json={"name": "Shop, March 2", "model": "coec", **SHOP_DAY, **body})
    assert response.status_code == 201, response.text
    return response.json()


def judgments_of(body) -> list[tuple]:
    return [(j["query"], j["docId"], j["rating"], j["impressions"], j["clicks"]) for j in body["judgments"]]


def test_a_coec_list_is_computed_stored_and_read_back(api, searches):
    created = compute(api)

    assert created["name"] == "Shop, March 2" and created["model"] == "coec"
    assert created["parameters"] == {"maxRank": 20, "minImpressions": 1, **SHOP_DAY}
    assert created["judgmentCount"] == 5 and created["queryCount"] == 2
    assert created["createdBy"].startswith("client:") and created["createdAt"].endswith("Z")
    read = api.get(f"{LISTS}/{created['id']}")
    assert read.status_code == 200
    assert read.json() == {**created, "judgments": read.json()["judgments"]}
    assert judgments_of(read.json()) == COEC


def test_an_sdbn_list_rates_what_was_examined_up_to_the_last_click(api, searches):
    created = compute(api, model="sdbn")

    assert judgments_of(api.get(f"{LISTS}/{created['id']}").json()) == SDBN


def test_a_pbm_list_rates_every_pair_with_its_counts(api, searches):
    body = api.get(f"{LISTS}/{compute(api, model='pbm')['id']}").json()

    assert [row[:2] + row[3:] for row in judgments_of(body)] == [row[:2] + row[3:] for row in COEC]
    ratings = {(j["query"], j["docId"]): j["rating"] for j in body["judgments"]}
    assert all(0 < rating < 1 for rating in ratings.values())  # the prior keeps every one off 0 and 1
    # x was shown twice at the top and never clicked; y clicked each time it was shown, b once in two.
    assert ratings["ink", "x"] == min(ratings.values())
    assert ratings["ink", "x"] < ratings["toner", "b"] < ratings["ink", "y"]


def test_max_rank_is_the_last_rank_counted_and_counted(api, searches):
    body = api.get(f"{LISTS}/{compute(api, maxRank=2)['id']}").json()

    assert judgments_of(body) == [row for row in COEC if row[1] != "c"]  # c was shown only at rank 3


def test_min_impressions_leaves_rarer_pairs_out(api, searches):
    body = api.get(f"{LISTS}/{compute(api, minImpressions='2')['id']}").json()

    assert judgments_of(body) == [row for row in COEC if row[3] >= 2]
    assert body["parameters"]["minImpressions"] == 2


def test_the_application_and_time_range_scope_the_interactions(api, searches):
    blog = compute(api, application="blog")
    later = compute(api, **{"from": "2026-03-03T00:00:00Z", "to": None})

    # pens/p: rank 1 shows p once with a click, CTR 1: 1 ÷ (1 × 1).
    assert judgments_of(api.get(f"{LISTS}/{blog['id']}").json()) == [("pens", "p", 1.0, 1, 1)]
    assert later["judgmentCount"] == 0 and later["queryCount"] == 0


def test_lists_are_listed_newest_first(api, searches):
    first = compute(api, name="first")
    second = compute(api, name="second", model="sdbn")

    response = api.get(LISTS)

    assert response.status_code == 200
    assert response.json() == [second, first]
    assert api.get(LISTS, params={"model": "sdbn"}).json() == [second]
    assert set(assert_problem(api.get(LISTS, params={"model": "dbn"}), 400)["errors"]) == {"model"}


def test_csv_is_quepid_s_query_docid_rating(api, searches):
    created = compute(api)

    response = api.get(f"{LISTS}/{created['id']}", params={"format": "csv"})

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="Shop-March-2-{created["id"]}.csv"'
    assert list(csv.reader(io.StringIO(response.text))) == [
        ["query", "docid", "rating"],
        *([query, doc, str(float(rating))] for query, doc, rating, _, _ in COEC),
    ]


def test_trec_qrels_number_the_queries_and_trec_queries_map_the_numbers(api, searches):
    list_id = compute(api)["id"]

    qrels = api.get(f"{LISTS}/{list_id}", params={"format": "trec"})
    queries = api.get(f"{LISTS}/{list_id}", params={"format": "trec-queries"})

    assert qrels.status_code == 200 and qrels.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert qrels.headers["Content-Disposition"].endswith(f'-{list_id}.qrels"')
    assert qrels.text == "1 0 x 0.0\n1 0 y 1.5\n2 0 a 2.0\n2 0 b 0.75\n2 0 c 0.0\n"
    assert queries.headers["Content-Type"] == "text/tab-separated-values; charset=utf-8"
    assert queries.text == "1\tink\n2\ttoner\n"


def test_srw_is_the_body_of_search_relevance_workbench_s_judgment_import(api, searches):
    created = compute(api)

    response = api.get(f"{LISTS}/{created['id']}", params={"format": "srw"})

    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body.pop("description").startswith("Implicit judgments from User Behavior Insights: click model coec")
    assert body == {
        "name": "Shop, March 2",
        "type": "IMPORT_JUDGMENT",
        "judgmentRatings": [
            {"query": "ink", "ratings": [{"docId": "x", "rating": "0.000"}, {"docId": "y", "rating": "1.500"}]},
            {
                "query": "toner",
                "ratings": [
                    {"docId": "a", "rating": "2.000"},
                    {"docId": "b", "rating": "0.750"},
                    {"docId": "c", "rating": "0.000"},
                ],
            },
        ],
    }


def test_delete_removes_the_list_and_its_judgments(api, searches):
    list_id = compute(api)["id"]

    assert api.delete(f"{LISTS}/{list_id}").status_code == 204

    assert_problem(api.get(f"{LISTS}/{list_id}"), 404)
    assert not JudgmentList.objects.filter(pk=list_id).exists()
    assert not Judgment.objects.exists()


def test_another_organisation_s_lists_are_not_found(api, searches, live_server):
    list_id = compute(api)["id"]
    stranger = api_with_roles(live_server, factories.make_org(), ("insights:read", "insights:write"))

    assert stranger.get(LISTS).json() == []
    for response in (
        stranger.get(f"{LISTS}/{list_id}"),
        stranger.get(f"{LISTS}/{list_id}", params={"format": "csv"}),
        stranger.delete(f"{LISTS}/{list_id}"),
    ):
        assert_problem(response, 404)
    assert JudgmentList.objects.filter(pk=list_id).exists()


def test_other_organisations_interactions_are_never_counted(live_server, searches):
    stranger_org = factories.make_org()
    stranger = api_with_roles(live_server, stranger_org, ("insights:read", "insights:write"))

    created = stranger.post(LISTS, json={"name": "empty", "model": "coec"}).json()

    assert created["judgmentCount"] == 0


def test_reading_needs_insights_read_and_computing_or_deleting_insights_write(api, searches, live_server, org):
    list_id = compute(api)["id"]
    reader = api_with_roles(live_server, org, ("insights:read",))
    writer = api_with_roles(live_server, org, ("insights:write",))

    assert reader.get(LISTS).status_code == 200
    assert reader.get(f"{LISTS}/{list_id}", params={"format": "trec"}).status_code == 200
    assert_problem(reader.post(LISTS, json={"name": "n", "model": "coec"}), 403)
    assert_problem(reader.delete(f"{LISTS}/{list_id}"), 403)
    assert_problem(writer.get(LISTS), 403)
    assert_problem(writer.get(f"{LISTS}/{list_id}"), 403)
    assert_problem(writer.get(f"{LISTS}/{list_id}", params={"format": "csv"}), 403)


def test_bad_parameters_are_400_keyed_by_parameter(api, searches):
    response = api.post(
        LISTS,
        json={
            "name": 'say "hi"',
            "model": "dbn",
            "maxRank": 0,
            "minImpressions": "some",
            "from": "yesterday",
            "to": "2026-13-01T00:00:00Z",
        },
    )

    body = assert_problem(response, 400)
    assert set(body["errors"]) == {"name", "model", "maxRank", "minImpressions", "from", "to"}
    assert not JudgmentList.objects.exists()


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"model": "coec"}, "name"),
        ({"name": " ", "model": "coec"}, "name"),
        ({"name": "n" * 201, "model": "coec"}, "name"),
        ({"name": "n"}, "model"),
        ({"name": "n", "model": ["coec"]}, "model"),
        ({"name": "n", "model": "coec", "maxRank": 101}, "maxRank"),
        ({"name": "n", "model": "coec", "maxRank": True}, "maxRank"),
        ({"name": "n", "model": "coec", "minImpressions": 0}, "minImpressions"),
        ({"name": "n", "model": "coec", "from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "to"),
        ({"name": "n", "model": "coec", "application": 7}, "application"),
        ([{"name": "n", "model": "coec"}], ""),
    ],
)
def test_each_bad_parameter_is_named(api, body, key):
    assert set(assert_problem(api.post(LISTS, json=body), 400)["errors"]) == {key}


def test_an_unknown_format_is_400_keyed_format(api, searches):
    list_id = compute(api)["id"]

    assert set(assert_problem(api.get(f"{LISTS}/{list_id}", params={"format": "xml"}), 400)["errors"]) == {"format"}


@pytest.mark.parametrize("list_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_list_is_404(api, list_id):
    assert_problem(api.get(f"{LISTS}/{list_id}"), 404)
    assert_problem(api.delete(f"{LISTS}/{list_id}"), 404)


def test_the_openapi_document_describes_the_judgment_endpoints(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]

    assert set(paths[LISTS]) == {"get", "post"}
    assert set(paths[LISTS + "/{list_id}"]) == {"get", "delete"}
    formats = paths[LISTS + "/{list_id}"]["get"]["parameters"][0]["schema"]["enum"]
    assert sorted(formats) == ["csv", "json", "srw", "trec", "trec-queries"]
    body_schema = paths[LISTS]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/ComputeJudgmentList"}
