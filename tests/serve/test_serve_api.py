"""The rest of the API: models, health, OpenAPI, the page, 404/405/500 as JSON, one log line each."""

from __future__ import annotations

import logging
import re

from starlette.routing import Mount


def test_models_and_health(client):
    models = client.get("/v1/models").json()
    assert models["loaded"]["name"] == "default" and models["loaded"]["backend"] == "onnx"
    assert len(models["loaded"]["classes"]) == 7 and {"default", "fast"} <= set(models["shipped"])
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["jobs"]["running"] == 0


def test_openapi_lists_every_route(client):
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    for route in client.app.routes:
        if isinstance(route, Mount) or route.path in ("/", "/openapi.json"):
            continue
        assert route.path in schema["paths"], route.path
    assert "20 MB" in schema["paths"]["/v1/faces"]["post"]["description"]


def test_the_page_uses_no_cdn(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'name="viewport"' in page.text
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert not asset.startswith(("http:", "https:", "//")), asset
        assert client.get("/" + asset).status_code == 200, asset
    js = client.get("/static/app.js").text
    assert "http://" not in js and "https://" not in js and "v1/live" in js


def test_unknown_paths_and_methods_are_json(client):
    resp = client.get("/v2/nothing")
    assert resp.status_code == 404 and "no such endpoint" in resp.json()["error"]
    resp = client.get("/v1/faces")
    assert resp.status_code == 405 and resp.json() == {"error": "GET is not allowed on /v1/faces"}


def test_a_bug_is_a_500_json_without_traceback_and_logged(make_client, media, caplog, monkeypatch):
    client = make_client(raise_server_exceptions=False)

    def broken(image):
        raise ZeroDivisionError("internal detail")

    monkeypatch.setattr(client.app.state.engine, "faces", broken)
    with caplog.at_level(logging.INFO, logger="fer_cli.serve"):
        resp = client.post("/v1/faces", content=(media / "single_face.jpg").read_bytes())
    assert resp.status_code == 500
    assert resp.json() == {"error": "internal server error (logged on the server)"}
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)


def test_one_log_line_per_request_without_the_query(client, caplog):
    with caplog.at_level(logging.INFO, logger="fer_cli.serve"):
        client.get("/healthz?token=should-not-be-logged")
        client.get("/missing")
    lines = [r.getMessage() for r in caplog.records if r.name == "fer_cli.serve"]
    assert len(lines) == 2
    assert " GET /healthz 200 " in lines[0] and " GET /missing 404 " in lines[1]
    assert all("should-not" not in line for line in lines)


def test_the_app_mounts_inside_another(engine, tmp_path, media):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from fer_cli.serve import create_app, shutdown_app

    inner = create_app(engine=engine, workdir=tmp_path / "w")
    outer = Starlette(routes=[Mount("/emotions", app=inner)])
    try:
        with TestClient(outer) as c:
            assert c.get("/emotions/healthz").json()["status"] == "ok"
            faces = c.post("/emotions/v1/faces", content=(media / "single_face.jpg").read_bytes()).json()
            assert len(faces["faces"]) == 1
            assert c.get("/emotions/static/app.js").status_code == 200
    finally:
        shutdown_app(inner)
