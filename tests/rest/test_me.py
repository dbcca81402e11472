def test_me_answers_the_principal_of_the_token(api, app_client, org):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "type": "client",
        "id": app_client.client.client_id,
        "organization": str(org.id),
        "client_id": app_client.client.client_id,
        "roles": ["insights:read", "insights:write"],
        "scope": "insights:read insights:write",
    }
