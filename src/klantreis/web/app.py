"""The app factory: one FastAPI app (web pages + HTTP API + ``/openapi.json``) for a workspace.

Routes are NOT declared here: ``routes.py`` holds the one route table, with the access each
route needs; this module only registers it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request

from .. import __version__
from ..store.appdb import AppDB
from ..store.surveys import DEFAULT_COOLDOWN_DAYS
from ..store.workspace import Workspace, open_workspace
from .auth import PUBLIC_POSTS_PER_MINUTE, RateLimiter, check_access
from .errors import install_error_handlers
from .pages import Pages
from .warmer import Warmer

__all__ = ["WebApp", "create_app"]


@dataclass
class WebApp:
    """What every handler needs: the workspace, the app database, the signing secret."""

    ws: Workspace
    db: AppDB
    secret: bytes
    pages: Pages
    limiter: RateLimiter = field(default_factory=RateLimiter)
    cooldown_days: float = DEFAULT_COOLDOWN_DAYS
    public_posts_per_minute: int = PUBLIC_POSTS_PER_MINUTE
    cache: dict[Any, Any] = field(default_factory=dict)

    def journey_lock(self, journey_id: str) -> Any:
        import threading

        return self.cache.setdefault(("lock", journey_id), threading.Lock())


def _access_dependency(access: str) -> Any:
    async def dependency(request: Request) -> None:
        await check_access(request, access)

    return Depends(dependency)


def create_app(
    workspace: Workspace | str | Path,
    *,
    public_posts_per_minute: int | None = None,
    warm: bool = False,
) -> FastAPI:
    """The web app and HTTP API of ``workspace`` (a Workspace or its directory).

    ``warm=True`` keeps the default dashboards computed in the background (after start-up
    and after every ingest); ``klantreis serve`` turns it on.
    """
    from .routes import ROUTES

    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    db = AppDB.of_workspace(ws)
    surveys_cfg = ws.config.get("surveys") or {}
    web = WebApp(
        ws=ws,
        db=db,
        secret=db.secret(),
        pages=Pages(),
        cooldown_days=float(surveys_cfg.get("cooldown_days", DEFAULT_COOLDOWN_DAYS)),
    )
    if public_posts_per_minute is not None:
        web.public_posts_per_minute = public_posts_per_minute
    warmer = Warmer(web) if warm else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warmer is not None:
            warmer.start()
        yield
        if warmer is not None:
            warmer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="klantreis",
        version=__version__,
        description="Customer journey maps, analytics, priority board and survey collection. "
        "Errors always have the shape {code, message, hint}.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.web = web
    install_error_handlers(app)
    for route in ROUTES:
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=[route.method],
            name=route.name,
            dependencies=[_access_dependency(route.access)],
            include_in_schema=route.in_schema,
            response_class=route.response_class,
            summary=route.summary,
            description=f"Access: **{route.access}**.",
            tags=[route.tag],
        )
    return app
