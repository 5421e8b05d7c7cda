"""``fercli serve``: the toolkit over HTTP (a REST API, a live WebSocket, video jobs, a web page).

Needs the extra: ``pip install 'fer-cli[serve]'`` (Starlette, uvicorn, python-multipart,
websockets). Embedding in another ASGI app::

    from starlette.applications import Starlette
    from starlette.routing import Mount
    from fer_cli.serve import create_app

    app = Starlette(routes=[Mount("/emotions", app=create_app(model="default"))])
"""

from fer_cli.serve._app import create_app, shutdown_app
from fer_cli.serve._settings import ServeSettings

__all__ = ["ServeSettings", "create_app", "shutdown_app"]
