"""The token: when a server has one (it must when it listens beyond this machine), every request
carries it, as ``Authorization: Bearer <token>``, a ``X-Fer-Token`` header, or ``?token=`` (the
way a browser's page and its WebSocket can send it). Only ``/healthz`` is open, for probes."""

from __future__ import annotations

import hmac
import os

from starlette.types import ASGIApp, Receive, Scope, Send

from fer_cli.serve._errors import ApiError, error_response

#: the environment variable ``fercli serve`` reads the token from
TOKEN_ENV = "FER_SERVE_TOKEN"
OPEN_PATHS = ("/healthz",)


def env_token() -> str | None:
    value = os.environ.get(TOKEN_ENV, "").strip()
    return value or None


def _given(scope: Scope) -> str | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if "x-fer-token" in headers:
        return headers["x-fer-token"].strip()
    from urllib.parse import parse_qs

    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token")
    return values[0] if values else None


def check_token(scope: Scope, token: str) -> None:
    """An ApiError 401 unless the request carries ``token``."""
    given = _given(scope)
    if given is None:
        raise ApiError(401, "this server needs a token: send 'Authorization: Bearer <token>' "
                            "(or ?token=<token>)", {"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise ApiError(401, "wrong token", {"WWW-Authenticate": "Bearer"})


class TokenMiddleware:
    """Refuses (401 JSON, or a closed WebSocket with code 4401) what does not carry the token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            check_token(scope, self.token)
        except ApiError as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4401, "reason": exc.message[:120]})
                return
            await error_response(exc.status, exc.message, exc.headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)
