"""One error shape for the whole HTTP API and web app: ``{"code", "message", "hint"}``.

KlantreisError subclasses map to HTTP statuses here (and nowhere else). Errors from the
framework (unknown URL, wrong method, a request that does not match its schema) get the same
shape. ``journey_invalid`` and ``invalid_request`` add ``problems``: one entry per problem.
HTML pages show the same three fields on an error page; a page that needs a sign-in redirects
to ``/login``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    ConflictError,
    InvalidLink,
    JourneyNotFound,
    JourneyValidationError,
    KlantreisError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    TemplateNotFound,
    UsageError,
)

__all__ = ["error_body", "install_error_handlers", "status_of"]

_STATUS: list[tuple[type[KlantreisError], int]] = [
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (InvalidLink, 403),
    (RateLimited, 429),
    (NotFound, 404),
    (JourneyNotFound, 404),
    (TemplateNotFound, 404),
    (ConflictError, 409),
    (JourneyValidationError, 422),
    (UsageError, 400),
]

_HTTP_CODES = {
    404: ("not_found", "No such page or API route.", "check the URL; /openapi.json lists the API."),
    405: ("method_not_allowed", "This method is not allowed here.", "see /openapi.json."),
}


def status_of(exc: KlantreisError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(code: str, message: str, hint: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "hint": hint}
    body.update(extra)
    return body


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.endswith((".json", ".csv", ".js")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _render(request: Request, status: int, body: dict[str, Any]) -> Response:
    if wants_html(request):
        if status == 401 and request.method == "GET":
            return RedirectResponse(f"/login?next={quote(str(request.url.path))}", status_code=303)
        pages = request.app.state.web.pages
        return pages.render(request, "error.html", {"error": body}, status_code=status)
    return JSONResponse(body, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    async def on_klantreis(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KlantreisError)
        body = exc.to_dict()
        return _render(request, status_of(exc), body)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code, message, hint = _HTTP_CODES.get(
            exc.status_code, ("http_error", str(exc.detail), None)
        )
        resp = _render(request, exc.status_code, error_body(code, message, hint))
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {
                "path": ".".join(str(p) for p in e.get("loc", ())),
                "message": str(e.get("msg", "")),
            }
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"path": "", "message": "invalid"}
        body = error_body(
            "invalid_request",
            f"The request is not valid: {first['path']}: {first['message']}",
            "see /openapi.json for the expected fields.",
            problems=problems,
        )
        return _render(request, 422, body)

    async def on_other(request: Request, exc: Exception) -> Response:
        body = error_body(
            "internal_error",
            f"Something went wrong on the server: {type(exc).__name__}.",
            "the server log has the details; please report it.",
        )
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(KlantreisError, on_klantreis)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_other)
