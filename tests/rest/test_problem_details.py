"""Every error under /api/ is RFC 9457 problem details, never an HTML page or a trace."""

import pytest
from django.test import override_settings
from django.urls import path

from project.urls import handler500  # noqa: F401  (this module serves as a URLconf with the project's handlers)
from project.urls import urlpatterns as project_urlpatterns
from rest_api.problems import flatten_errors
from tests.support.problems import assert_problem


def crash(request):
    raise RuntimeError("secret internals")


urlpatterns = [path("api/v1/crash", crash), *project_urlpatterns]


def test_unknown_api_path_is_404(api):
    assert assert_problem(api.get("/api/v1/no-such-thing"), 404)["title"] == "Not Found."


def test_wrong_method_is_405(api):
    assert_problem(api.post("/api/v1/me", json={}), 405)


def test_a_crash_is_a_bare_500(client, settings):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    response = client.get("/api/v1/crash")
    body = assert_problem(response, 500)
    assert "secret" not in response.text and "Traceback" not in response.text
    assert set(body) == {"type", "title", "status", "instance", "code", "requestId"}
    assert body["instance"] == "/api/v1/crash"
    assert body["requestId"] == response.headers["X-Request-ID"]


@override_settings(ALLOWED_HOSTS=["example.com"])
def test_a_bad_host_header_is_400(client):
    assert_problem(client.get("/api/v1/me", HTTP_HOST="evil.example"), 400)


@pytest.mark.parametrize(
    ("detail", "flat"),
    [
        ({"name": ["name is required"]}, {"name": ["name is required"]}),
        ({"non_field_errors": ["bad"]}, {"": ["bad"]}),
        ([{}, {"action_name": ["too long"]}], {"[1].action_name": ["too long"]}),
        ({"event_attributes": {"position": {"ordinal": ["not an integer"]}}}, {"event_attributes.position.ordinal": ["not an integer"]}),
    ],
)
def test_nested_validation_errors_are_keyed_by_input_name(detail, flat):
    assert flatten_errors(detail) == flat
