"""RFC 9457 problem details as every error under /api/ answers them."""


def assert_problem(response, status):
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"]
    return body
