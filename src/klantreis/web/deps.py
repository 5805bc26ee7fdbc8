"""Small accessors every view uses: the WebApp of a request, who is asking, a journey."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request

from ..model import Journey
from .auth import ANONYMOUS, Principal
from .editing import file_version

if TYPE_CHECKING:
    from .app import WebApp

__all__ = ["form_data", "journey_and_version", "principal", "web"]


def web(request: Request) -> WebApp:
    app: WebApp = request.app.state.web
    return app


def principal(request: Request) -> Principal:
    return getattr(request.state, "principal", ANONYMOUS)


def journey_and_version(request: Request, journey_id: str) -> tuple[Journey, str]:
    ws = web(request).ws
    journey = ws.journey(journey_id)
    return journey, file_version(ws.journey_path(journey_id))


async def form_data(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}
