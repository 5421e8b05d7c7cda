"""The token: every request carries it (header or ?token=), the WebSocket too; /healthz stays open."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect


@pytest.fixture
def guarded(make_client):
    return make_client(token="s3cret-token")


def test_requests_without_the_token_are_401(guarded):
    for method, path in (("get", "/v1/models"), ("get", "/"), ("post", "/v1/faces"), ("get", "/openapi.json"),
                         ("get", "/v1/jobs/x")):
        resp = getattr(guarded, method)(path)
        assert resp.status_code == 401, path
        assert "token" in resp.json()["error"] and resp.headers["www-authenticate"] == "Bearer"
    wrong = guarded.get("/v1/models", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json() == {"error": "wrong token"}


def test_the_token_is_accepted_as_header_or_query(guarded):
    assert guarded.get("/v1/models", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert guarded.get("/v1/models", headers={"X-Fer-Token": "s3cret-token"}).status_code == 200
    assert guarded.get("/v1/models?token=s3cret-token").status_code == 200
    assert guarded.get("/healthz").status_code == 200  # probes need no token


def test_the_websocket_needs_the_token(guarded):
    with pytest.raises(WebSocketDisconnect) as closed, guarded.websocket_connect("/v1/live") as ws:
        ws.receive_json()
    assert closed.value.code == 4401
    with guarded.websocket_connect("/v1/live?token=s3cret-token") as ws:
        ws.send_text('{"type": "ping"}')
        assert ws.receive_json() == {"type": "pong"}


def test_cors_is_off_unless_configured(client, make_client):
    origin = {"Origin": "https://app.example"}
    assert "access-control-allow-origin" not in client.get("/healthz", headers=origin).headers
    open_client = make_client(cors_origins=("https://app.example",))
    resp = open_client.get("/healthz", headers=origin)
    assert resp.headers["access-control-allow-origin"] == "https://app.example"
