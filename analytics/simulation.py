"""Searches and clicks simulated under a position-based click model whose truth is known.

The click models (``analytics.click_models``) estimate how relevant a document is to a query from clicks that the
rank also shapes: users look at the first results more than the last. Their estimates can only be judged against
data whose relevance is known, so this module makes such data, as UBI documents:

- a shop's catalogue and ``distinct_queries`` user queries, the popular ones searched more (Zipf weights); each
  query has ``documents_per_query`` candidate documents, each with a **relevance** (attractiveness) in [0, 1];
- **examination** of rank r is ``1 / r ** eta``;
- each search shows ``results_per_search`` of its query's documents, ranked by relevance plus noise, so a document
  is seen at several ranks; every shown document is clicked with probability
  ``examination(rank) * relevance(query, document)`` (PBM, Chuklin, Markov and de Rijke 2015);
- ``zero_result_share`` of the searches are for queries the shop has nothing for (empty hit ids, no event);
- ``abandonment_share`` of the searches are left at once: results shown, no event at all;
- ``impression_event_share`` of the other searches log an impression event per shown result; the rest rely on
  ``query_response_hit_ids``, from which the analytics derive impressions.

Everything is drawn from one ``random.Random(seed)``: the same parameters give the same documents. Identifiers
are UUIDs derived from the seed and the ``end`` of the time range, so generating again later adds new searches
rather than colliding with the first ones, and a rerun of the same moment is a retry that stores nothing.
"""

import random
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

IMPRESSION = "impression"
CLICK = "click"
OBJECT_ID_FIELD = "doc_id"
_ADJECTIVES = (
    "red", "blue", "black", "white", "green", "leather", "wool", "cotton", "waterproof", "vintage", "cheap",
    "kids", "running", "winter", "summer", "wireless", "steel", "wooden", "silk", "linen",
)
_NOUNS = (
    "shoes", "jacket", "dress", "backpack", "watch", "scarf", "boots", "headphones", "lamp", "table", "chair",
    "mug", "umbrella", "wallet", "gloves", "hat", "sofa", "kettle", "bicycle", "tent",
)
_NOTHING_FOUND = ("unicorn saddle", "quantum toaster", "xqzv", "left-handed teapot", "moon boots size 99")


@dataclass(frozen=True)
class Parameters:
    """What is simulated; written into the truth file as it is."""

    searches: int
    sessions: int
    end: datetime  # aware; searches fall in [end - days, end)
    seed: int = 0
    application: str = "demo-shop"
    days: int = 30
    distinct_queries: int = 50
    documents_per_query: int = 20
    results_per_search: int = 10
    eta: float = 1.0
    zero_result_share: float = 0.05
    abandonment_share: float = 0.1
    impression_event_share: float = 0.5

    def examination(self, rank: int) -> float:
        return 1 / rank**self.eta


@dataclass(frozen=True)
class Truth:
    """What the simulated users did not tell: relevance per (user query, document id), examination per rank."""

    parameters: Parameters
    relevance: dict[str, dict[str, float]]  # user query -> document id -> relevance
    zero_result_queries: tuple[str, ...]

    def as_json(self) -> dict:
        """The truth file's content (docs/data.md, "Demo data")."""
        return {
            "model": "pbm",
            "parameters": {**asdict(self.parameters), "end": self.parameters.end.isoformat()},
            "examination": {
                str(rank): self.parameters.examination(rank)
                for rank in range(1, self.parameters.results_per_search + 1)
            },
            "relevance": self.relevance,
            "zeroResultQueries": list(self.zero_result_queries),
        }


@dataclass(frozen=True)
class Search:
    """One simulated search: its UBI query document and the UBI events that followed it."""

    query: dict
    events: list[dict]


def simulate(parameters: Parameters) -> tuple[Truth, Iterator[Search]]:
    """The truth of ``parameters`` and its searches, made one at a time as they are iterated."""
    rng = random.Random(parameters.seed)
    truth = _truth(parameters, rng)
    return truth, _searches(parameters, truth, rng)


def _truth(parameters: Parameters, rng: random.Random) -> Truth:
    vocabulary = [f"{adjective} {noun}" for adjective in _ADJECTIVES for noun in _NOUNS]
    queries = rng.sample(vocabulary, min(parameters.distinct_queries, len(vocabulary)))
    catalogue = [f"doc-{number:05d}" for number in range(max(parameters.documents_per_query, 1) * len(queries))]
    relevance = {
        query: {
            document: round(rng.betavariate(0.8, 1.6), 4)
            for document in sorted(rng.sample(catalogue, parameters.documents_per_query))
        }
        for query in queries
    }
    return Truth(parameters, relevance, _NOTHING_FOUND)


def _searches(parameters: Parameters, truth: Truth, rng: random.Random) -> Iterator[Search]:
    ids = _Identifiers(parameters)
    queries = list(truth.relevance)
    weights = [1 / (place + 1) for place in range(len(queries))]
    span = timedelta(days=parameters.days).total_seconds()
    session_starts = sorted(rng.uniform(0, span) for _ in range(parameters.sessions))
    searches_so_far = [0] * parameters.sessions
    for _number in range(parameters.searches):
        session = rng.randrange(parameters.sessions)
        offset = min(session_starts[session] + 40 * searches_so_far[session], span - 60)
        searches_so_far[session] += 1
        moment = parameters.end - timedelta(seconds=span - offset)
        context = {
            "application": parameters.application,
            "client_id": f"browser-{session:05d}",
        }
        if rng.random() < parameters.zero_result_share:
            user_query = rng.choice(truth.zero_result_queries)
            yield Search(_query(ids, context, user_query, [], moment), [])
            continue
        user_query = rng.choices(queries, weights)[0]
        shown = _ranking(truth.relevance[user_query], parameters.results_per_search, rng)
        query = _query(ids, context, user_query, shown, moment)
        if rng.random() < parameters.abandonment_share:
            yield Search(query, [])
            continue
        event_context = {**context, "query_id": query["query_id"], "session_id": ids.session(session),
                         "user_query": user_query}
        events = _events(parameters, ids, event_context, truth.relevance[user_query], shown, moment, rng)
        yield Search(query, events)


def _events(parameters, ids, context, relevance, shown, moment, rng) -> list[dict]:
    """A search's impression events (for ``impression_event_share`` of searches) and its clicks under the PBM."""
    events = []
    if rng.random() < parameters.impression_event_share:
        events += [
            _event(ids, context, IMPRESSION, document, rank, moment + timedelta(seconds=1))
            for rank, document in enumerate(shown, start=1)
        ]
    for rank, document in enumerate(shown, start=1):
        if rng.random() < parameters.examination(rank) * relevance[document]:
            events.append(_event(ids, context, CLICK, document, rank, moment + timedelta(seconds=2 + rank)))
    return events


def _ranking(relevance: dict[str, float], count: int, rng: random.Random) -> list[str]:
    """The search engine's results: by relevance, blurred by noise, so each document is seen at several ranks."""
    scored = sorted(relevance, key=lambda document: relevance[document] + rng.gauss(0, 0.35), reverse=True)
    return scored[:count]


def _query(ids: "_Identifiers", context: dict, user_query: str, shown: list[str], moment: datetime) -> dict:
    query_id = ids.next()
    return {
        **context,
        "query_id": query_id,
        "user_query": user_query,
        "timestamp": _timestamp(moment),
        "query_response_id": ids.next(),
        "query_response_hit_ids": shown,
        "object_id_field": OBJECT_ID_FIELD,
    }


def _event(ids: "_Identifiers", context: dict, action: str, document: str, rank: int, moment: datetime) -> dict:
    return {
        **context,
        "event_id": ids.next(),
        "action_name": action,
        "timestamp": _timestamp(moment),
        "event_attributes": {
            "object": {"object_id": document, "object_id_field": OBJECT_ID_FIELD},
            "position": {"ordinal": rank},
        },
    }


def _timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as a browser's ``toISOString()`` writes it."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Identifiers:
    """UUIDs (version 5) numbered within one run, the run named by its seed and end."""

    def __init__(self, parameters: Parameters):
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"ubi-demo:{parameters.seed}:{parameters.end.isoformat()}")
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return str(uuid.uuid5(self.namespace, str(self.count)))

    def session(self, number: int) -> str:
        return str(uuid.uuid5(self.namespace, f"session-{number}"))

