"""GET /healthz: what a load balancer or `make run`'s wait loop sees."""
from __future__ import annotations

import pytest


def test_healthz_answers_200_json_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.config(RATELIMIT_ENABLED=True, API_RATE_LIMIT="1 per minute")
def test_healthz_is_never_rate_limited(client):
    for _ in range(20):
        assert client.get("/healthz").status_code == 200


@pytest.mark.config(SQLALCHEMY_DATABASE_URI="sqlite:////nonexistent-directory/for/chatapp.sqlite3")
def test_healthz_says_503_when_the_database_does_not_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}
