"""Test helpers for the browser collector: ingest keys' URLs, and documents shaped exactly as the UBI project's
``ubi.js`` (``ubi-javascript-collector/ubi.js``) builds them: its ``UbiEvent``, ``UbiEventAttributes`` and
``UbiQueryRequest`` put through ``JSON.stringify([document])``, nulls kept."""

from collector.keys import COLLECT_PATH

ORIGIN = "http://shop.example"
APPLICATION = "shop"


def collect_url(base_url: str, key) -> str:
    """The collector URL of ``key`` on the live server at ``base_url``."""
    return f"{base_url.rstrip('/')}{COLLECT_PATH}{key.key}"


def ubi_js_event(
    action_name="click", *, query_id="q-1", position=None, object_id=None, description=None, details=None,
    message=None, timestamp="2026-12-06T10:00:00.123Z", application=APPLICATION,
) -> dict:
    """``new UbiEvent(application, action_name, client_id, session_id, query_id, new UbiEventAttributes(
    "sku", object_id, description, details, position), message)``."""
    return {
        "application": application,
        "action_name": action_name,
        "query_id": query_id,
        "session_id": "session-1",
        "client_id": "client-1",
        "user_id": "",
        "timestamp": timestamp,
        "message_type": "INFO",
        "message": message or "",
        "event_attributes": {
            "object": {"object_id": object_id, "object_id_field": "sku", "description": description, **(details or {})},
            "position": position if position is not None else {"ordinal": 1},
        },
    }


def ubi_js_query(user_query="toner", *, query_id="q-1", query_attributes=None, application=APPLICATION) -> dict:
    """``new UbiQueryRequest(application, client_id, query_id, user_query, "sku", query_attributes)``."""
    return {
        "application": application,
        "query_id": query_id,
        "client_id": "client-1",
        "user_query": user_query,
        "query_attributes": query_attributes if query_attributes is not None else {},
        "object_id_field": "sku",
        "timestamp": "2026-12-06T10:00:00.000Z",
    }
