"""Server-rendered pages: Jinja2 templates with autoescape ON, in English or Dutch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .i18n import pick_lang, translate

__all__ = ["Pages"]

_HERE = Path(__file__).parent


class Pages:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def lang_of(self, request: Request) -> str:
        web = request.app.state.web
        return pick_lang(
            request.query_params.get("lang"),
            request.cookies.get("lang"),
            request.headers.get("accept-language"),
            web.ws.lang,
        )

    def render(
        self, request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
    ) -> HTMLResponse:
        lang = self.lang_of(request)
        principal = getattr(request.state, "principal", None)
        ctx = {
            "request": request,
            "lang": lang,
            "_": translate(lang),
            "principal": principal,
            "csrf": getattr(principal, "csrf", None) or "",
            "workspace": request.app.state.web.ws.name,
        }
        ctx.update(context)
        html = self.env.get_template(template).render(ctx)
        resp = HTMLResponse(html, status_code=status_code)
        if request.query_params.get("lang") in ("en", "nl"):
            resp.set_cookie("lang", lang, samesite="lax", max_age=365 * 86400)
        return resp
