"""Who is asking, and may they: sessions, CSRF, API keys, the collector key's origin and rate.

Every route in ``routes.py`` declares its ``access``; :func:`check_access` enforces it before
the handler runs. Access levels:

    public     anyone (login page, health, static files, survey pages, share links)
    collector  a ``collect`` key (write-only, origin allow-list, rate limit) or an editor/admin
    viewer     a signed-in user or a ``read``/``write``/``admin`` key
    editor     role editor or admin (``write`` or ``admin`` key)
    admin      role admin (``admin`` key)

Sessions travel in an HttpOnly cookie; a state-changing request with a session must carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``). API keys travel in
``Authorization: Bearer kr_...`` (or ``X-API-Key``) and need no CSRF token.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from ..errors import NotAuthenticated, PermissionDenied, RateLimited
from ..store.users import ApiKey, authenticate_key, session_of

__all__ = [
    "ACCESS_LEVELS",
    "ANONYMOUS",
    "SESSION_COOKIE",
    "Principal",
    "RateLimiter",
    "allowed",
    "check_access",
    "principal_of",
]

ACCESS_LEVELS: tuple[str, ...] = ("public", "collector", "viewer", "editor", "admin")
SESSION_COOKIE = "klantreis_session"
_RANK = {"viewer": 1, "editor": 2, "admin": 3}
_SCOPE_ROLE = {"read": "viewer", "write": "editor", "admin": "admin", "collect": "collector"}
_SAFE = {"GET", "HEAD", "OPTIONS"}
#: Survey posts without a key (hosted pages, signed links): per client address and minute.
PUBLIC_POSTS_PER_MINUTE = 30


@dataclass(frozen=True)
class Principal:
    kind: str  # anonymous | session | key
    name: str | None = None
    role: str | None = None  # viewer | editor | admin | collector
    csrf: str | None = None
    key: ApiKey | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "role": self.role}


ANONYMOUS = Principal("anonymous")


def allowed(access: str, role: str | None) -> bool:
    """May a principal with ``role`` (None = anonymous) use a route with ``access``?"""
    if access == "public":
        return True
    if role is None:
        return False
    if access == "collector":
        return role in ("collector", "editor", "admin")
    if role == "collector":
        return False
    return _RANK[role] >= _RANK[access]


class RateLimiter:
    """A sliding one-minute window per key (in memory, per process)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, per_minute: int) -> None:
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - 60:
                q.popleft()
            if len(q) >= per_minute:
                wait = int(60 - (now - q[0])) + 1
                raise RateLimited(
                    f"Too many requests: at most {per_minute} per minute for {key.split(':')[0]}.",
                    hint=f"try again in {wait} seconds.",
                )
            q.append(now)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def principal_of(request: Request) -> Principal:
    app = request.app.state.web
    secret = _bearer(request)
    if secret:
        key = authenticate_key(app.db, secret)
        return Principal("key", key.name, _SCOPE_ROLE[key.scope], None, key)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session = session_of(app.db, token)
        if session is not None:
            return Principal("session", session.username, session.role, session.csrf)
    return ANONYMOUS


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def check_access(request: Request, access: str) -> Principal:
    """The principal of the request, after checking role, CSRF, origin and rate."""
    principal = principal_of(request)
    request.state.principal = principal
    if not allowed(access, principal.role):
        if principal.role is None:
            raise NotAuthenticated(
                "You need to sign in for this.",
                hint="log in at /login, or send an API key as 'Authorization: Bearer kr_...'.",
            )
        raise PermissionDenied(
            f"{principal.name or 'This key'} ({principal.role}) may not do this: it needs "
            f"the {access} role.",
            hint="ask an admin for a role with more rights.",
        )
    if principal.kind == "session" and request.method not in _SAFE:
        sent = request.headers.get("x-csrf-token")
        if sent is None and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
        if not sent or sent != principal.csrf:
            raise PermissionDenied(
                "The form's security token is missing or out of date.",
                hint="reload the page and try again.",
            )
    limiter: RateLimiter = request.app.state.web.limiter
    if principal.key is not None and principal.key.scope == "collect":
        origin = request.headers.get("origin")
        origins = principal.key.origins
        if origin and origins and "*" not in origins and origin.rstrip("/") not in origins:
            raise PermissionDenied(
                f"Origin {origin!r} may not use collector key {principal.key.key_id!r}. "
                f"Allowed origins: {', '.join(origins)}.",
                hint="add the origin with 'klantreis keys create --origin URL'.",
            )
        limiter.hit(f"key {principal.key.key_id}:", principal.key.rate_per_minute)
    elif access == "public" and request.method not in _SAFE:
        per_minute = request.app.state.web.public_posts_per_minute
        limiter.hit(f"address {client_address(request)}:", per_minute)
    return principal
