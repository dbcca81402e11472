"""Test helpers for the UBI endpoints: valid documents, the published samples, APIs with chosen roles."""

import json
import uuid
from pathlib import Path

from tests.support import factories
from tests.support.api import Api

QUERIES = "/api/v1/ubi/queries"
EVENTS = "/api/v1/ubi/events"


def make_query(**fields) -> dict:
    return {"query_id": str(uuid.uuid4()), "user_query": "toner", "application": "shop", **fields}


def make_event(**fields) -> dict:
    return {
        "action_name": "click",
        "timestamp": "2024-05-16T12:34:56.789Z",
        "event_attributes": {"object": {"object_id": "sku-1"}, "position": {"ordinal": 1}},
        **fields,
    }


def api_with_roles(live_server, org, roles) -> Api:
    """The live server called by a new client of ``org`` holding exactly ``roles``."""
    return Api(live_server.url, factories.bearer_for(factories.make_client(org, roles=roles).client))


def load_json(path: Path):
    return json.loads(path.read_text())


def sample_queries(ubi_dir: Path) -> dict[str, dict]:
    """The UBI part of each published query sample (they wrap it in a search-engine request)."""
    samples = ubi_dir / "samples"
    return {
        "query-opensearch": load_json(samples / "query-opensearch.json")["ext"]["ubi"],
        "query-solr": load_json(samples / "query-solr.json")["params"],
    }


def sample_events(ubi_dir: Path) -> dict[str, dict]:
    return {"event-opensearch": load_json(ubi_dir / "samples" / "event-opensearch.json")}


def schema(ubi_dir: Path, name: str) -> dict:
    return load_json(ubi_dir / "schema" / "1.3.0" / f"{name}.schema.json")
