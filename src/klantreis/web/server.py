"""Run the app with uvicorn: ``klantreis serve``. On first start an admin is created."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..store.appdb import AppDB
from ..store.users import ensure_admin
from ..store.workspace import Workspace, open_workspace

__all__ = ["first_admin", "serve"]


def first_admin(ws: Workspace) -> tuple[str, str] | None:
    """Create the first admin (once); returns (user name, password) or None."""
    return ensure_admin(AppDB.of_workspace(ws))


def serve(
    workspace: Workspace | str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve the web app and HTTP API of ``workspace`` until interrupted."""
    import uvicorn

    from .app import create_app

    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    created = first_admin(ws)
    if created:
        echo(f"Created the first admin. User: {created[0]}  Password: {created[1]}")
        echo("This password is shown only once; change users with 'klantreis users'.")
    app = create_app(ws, warm=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    echo(f"Serving workspace {ws.name!r} at http://{shown}:{port}/  (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
