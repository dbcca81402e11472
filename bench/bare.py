"""The bare single-event reference: a minimal Django function view served by the same gunicorn.

It does the least an ingestion endpoint must: parse the JSON body, verify the same ES256 JWT, insert one row.
No DRF, no middleware, no UBI validation, no idempotency: the ceiling that REST single-event tracking is compared to.
"""

import datetime
import json
import os
import uuid

import jwt
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare_settings")
application = get_wsgi_application()

from insights.models import Event  # noqa: E402  (after Django is set up)
from oauth.keys import signing_key  # noqa: E402


@csrf_exempt
def track_event(request):
    try:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, signing_key().public_key, algorithms=["ES256"],
                            audience=settings.OAUTH_AUDIENCE, issuer=settings.OAUTH_ISSUER)
        event = json.loads(request.body)
    except (KeyError, jwt.InvalidTokenError, ValueError):
        return HttpResponse(status=400)
    event_id = str(uuid.uuid4())
    Event.objects.create(
        organization_id=claims["org"],
        event_id=event_id,
        action_name=event["action_name"],
        application=event.get("application"),
        query_id=event.get("query_id"),
        session_id=event.get("session_id"),
        client_id=event.get("client_id"),
        user_id=event.get("user_id"),
        message_type=event.get("message_type"),
        event_attributes=event.get("event_attributes"),
        timestamp=datetime.datetime.fromisoformat(event["timestamp"]),
        timestamp_as_sent=event["timestamp"],
        fingerprint="",
    )
    return JsonResponse({"event_id": event_id}, status=201)


def ready(request):
    return HttpResponse("ok")


urlpatterns = [path("events", track_event), path("", ready)]
