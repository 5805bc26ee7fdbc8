"""The web app and HTTP API of klantreis (``klantreis serve``).

    from klantreis.web import create_app
    app = create_app("my-workspace")     # an ASGI app: uvicorn, or httpx's ASGI transport

The route table is ``klantreis.web.routes.ROUTES``; see docs/web.md.
"""

from .app import WebApp, create_app
from .server import serve

__all__ = ["WebApp", "create_app", "serve"]
