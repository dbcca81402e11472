"""The collector's rate limits: per ingest key (its own rate, else ``COLLECTOR_RATE_LIMIT_PER_KEY``) and per
source address (``COLLECTOR_RATE_LIMIT_PER_ADDRESS``, counted before the key is looked up).

Windows are fixed and aligned on the clock, so the clock is stopped at a known second of a minute
(``tests/ops/test_rate_limits.py`` does the same): every call falls in one window and ``Retry-After`` is exact.
"""

from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine

from insights.models import Event
from tests.support import factories
from tests.support.collector import APPLICATION, ORIGIN, collect_url, ubi_js_event
from tests.support.problems import assert_problem


@pytest.fixture
def frozen_at():
    # In the near future: a window of a minute then has 50 seconds left.
    return datetime.now(UTC).replace(second=10, microsecond=0) + timedelta(minutes=2)


@pytest.fixture
def frozen_clock(frozen_at):
    with time_machine.travel(frozen_at, tick=False) as traveller:
        yield traveller


def post(url: str, origin: str | None = ORIGIN):
    headers = {"Origin": origin} if origin else {}
    return requests.post(f"{url}/ubi_events", json=[ubi_js_event()], headers=headers, timeout=30)


def test_a_keys_own_rate_is_counted_and_refused_with_retry_after(live_server, org, frozen_at, frozen_clock):
    url = collect_url(live_server.url, factories.make_ingest_key(org, APPLICATION, [ORIGIN], rate_limit="3/min"))
    assert [post(url).status_code for _ in range(3)] == [201, 201, 201]
    refused = post(url)
    body = assert_problem(refused, 429)
    assert body["code"] == "rate_limited" and "3/min" in body["detail"]
    assert refused.headers["Retry-After"] == "50"
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN  # the page's script can read Retry-After
    assert Event.objects.count() == 3
    frozen_clock.move_to(frozen_at + timedelta(seconds=50))
    assert post(url).status_code == 201


def test_keys_without_a_rate_get_the_default_each_its_own(live_server, org, settings, frozen_clock):
    settings.UBI = {"COLLECTOR_RATE_LIMIT_PER_KEY": "2/min"}
    first, second = (
        collect_url(live_server.url, factories.make_ingest_key(org, APPLICATION, [ORIGIN])) for _ in range(2)
    )
    assert [post(first).status_code for _ in range(3)] == [201, 201, 429]
    assert [post(second).status_code for _ in range(2)] == [201, 201]


def test_preflights_do_not_spend_the_keys_budget(live_server, org, frozen_clock):
    url = collect_url(live_server.url, factories.make_ingest_key(org, APPLICATION, [ORIGIN], rate_limit="1/min"))
    for _ in range(3):
        preflight = requests.options(f"{url}/ubi_events", headers={"Origin": ORIGIN}, timeout=30)
        assert preflight.status_code == 204
    assert post(url).status_code == 201


def test_one_address_is_limited_whatever_the_key_before_the_key_is_looked_up(live_server, org, settings, frozen_clock):
    settings.UBI = {"COLLECTOR_RATE_LIMIT_PER_ADDRESS": "4/min"}
    keys = [collect_url(live_server.url, factories.make_ingest_key(org, APPLICATION, [ORIGIN])) for _ in range(2)]
    unknown = f"{live_server.url}/collect/ubi_pk_{'x' * 32}"
    statuses = [post(keys[0]).status_code, post(keys[1]).status_code, post(unknown).status_code]
    statuses.append(requests.options(f"{keys[0]}/ubi_events", headers={"Origin": ORIGIN}, timeout=30).status_code)
    assert statuses == [201, 201, 404, 204]
    for url in (*keys, unknown):
        refused = post(url, origin=None)
        assert assert_problem(refused, 429)["code"] == "rate_limited" and refused.headers["Retry-After"] == "50"
    assert Event.objects.count() == 2


def test_off_means_no_limit(live_server, org, settings, frozen_clock):
    settings.UBI = {"COLLECTOR_RATE_LIMIT_PER_ADDRESS": None, "COLLECTOR_RATE_LIMIT_PER_KEY": None}
    url = collect_url(live_server.url, factories.make_ingest_key(org, APPLICATION, [ORIGIN]))
    statuses = {post(url).status_code for _ in range(60)}  # past the default per address, 50/s, in one second
    assert statuses == {201}
