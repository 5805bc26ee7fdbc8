"""Signing in and out, who am I, health, static files and the OpenAPI document."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from ...errors import NotAuthenticated, NotFound
from ...store.users import create_session, end_session, login
from ..auth import SESSION_COOKIE
from ..deps import form_data, principal, web

__all__ = [
    "health",
    "index",
    "login_form",
    "login_submit",
    "logout",
    "me",
    "openapi_document",
    "static_file",
]

_STATIC = (Path(__file__).parent.parent / "static").resolve()


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/journeys"


async def index(request: Request) -> Response:
    return RedirectResponse("/journeys", status_code=303)


async def health(request: Request) -> dict[str, Any]:
    """Is the server up (no sign-in needed)."""
    return {"status": "ok", "workspace": web(request).ws.name}


async def login_form(request: Request, next: str | None = None) -> Response:
    return web(request).pages.render(request, "login.html", {"next": _safe_next(next)})


async def login_submit(request: Request) -> Response:
    """Sign in with a form (user name, password); JSON bodies work too."""
    if "json" in request.headers.get("content-type", ""):
        data = await request.json()
        data = data if isinstance(data, dict) else {}
    else:
        data = await form_data(request)
    app = web(request)
    try:
        user = login(app.db, str(data.get("username", "")), str(data.get("password", "")))
    except NotAuthenticated as exc:
        if "json" in request.headers.get("content-type", ""):
            raise
        return app.pages.render(
            request,
            "login.html",
            {
                "next": _safe_next(data.get("next")),
                "error": exc.to_dict(),
                "username": data.get("username", ""),
            },
            status_code=401,
        )
    token, session = create_session(app.db, user)
    if "json" in request.headers.get("content-type", ""):
        resp: Response = JSONResponse(
            {"username": user.username, "role": user.role, "csrf_token": session.csrf}
        )
    else:
        resp = RedirectResponse(_safe_next(data.get("next")), status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", max_age=12 * 3600)
    return resp


async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(web(request).db, token)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


async def me(request: Request) -> dict[str, Any]:
    """Who is signed in (or which key is used), with the CSRF token of a session."""
    p = principal(request)
    return {**p.to_dict(), "csrf_token": p.csrf}


async def static_file(request: Request, path: str) -> Response:
    """CSS, JavaScript and the survey widget: every asset is served by the app (no CDN)."""
    target = (_STATIC / path).resolve()
    if not target.is_file() or _STATIC not in target.parents:
        raise NotFound(f"No static file {path!r}.")
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media, headers={"Cache-Control": "public, max-age=300"})


async def openapi_document(request: Request) -> Response:
    """The OpenAPI document of the HTTP API."""
    return JSONResponse(request.app.openapi())
