"""Settings (admin): users and API keys."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ...errors import KlantreisError, UsageError
from ...store.users import add_user, create_key, list_keys, list_users, remove_user, revoke_key
from ..deps import form_data, principal, web

__all__ = [
    "key_create_api",
    "key_revoke_api",
    "keys_json",
    "settings_form",
    "settings_page",
    "user_add_api",
    "user_remove_api",
    "users_json",
]


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Literal["viewer", "editor", "admin"]
    password: str | None = Field(
        None, min_length=8, max_length=200, description="omit to get a generated one (shown once)"
    )


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scope: Literal["read", "write", "admin", "collect"]
    origins: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="collect keys: the web origins allowed to use the key",
    )
    rate_per_minute: int = Field(60, ge=1, le=100_000)


async def users_json(request: Request) -> list[dict[str, Any]]:
    """The users and their roles."""
    return [u.to_dict() for u in list_users(web(request).db)]


async def user_add_api(request: Request, body: NewUser) -> dict[str, Any]:
    """Add a user; the response carries the password once."""
    password = add_user(web(request).db, body.username, role=body.role, password=body.password)
    return {"username": body.username, "role": body.role, "password": password}


async def user_remove_api(request: Request, username: str) -> dict[str, Any]:
    """Remove a user (and end their sessions)."""
    if username == principal(request).name:
        raise UsageError("You cannot remove yourself.", hint="ask another admin.")
    remove_user(web(request).db, username)
    return {"removed": username}


async def keys_json(request: Request) -> list[dict[str, Any]]:
    """The API keys (never their secrets)."""
    return [k.to_dict() for k in list_keys(web(request).db)]


async def key_create_api(request: Request, body: NewKey) -> dict[str, Any]:
    """Create an API key; the response carries the secret once."""
    secret, key = create_key(
        web(request).db,
        body.name,
        scope=body.scope,
        origins=body.origins,
        rate_per_minute=body.rate_per_minute,
        created_by=principal(request).name,
    )
    return {**key.to_dict(), "secret": secret}


async def key_revoke_api(request: Request, key_id: str) -> dict[str, Any]:
    """Revoke an API key."""
    revoke_key(web(request).db, key_id)
    return {"revoked": key_id}


def _settings(request: Request, **extra: Any) -> dict[str, Any]:
    db = web(request).db
    return {"users": list_users(db), "keys": list_keys(db), **extra}


async def settings_page(request: Request) -> Response:
    return web(request).pages.render(request, "settings.html", _settings(request))


async def settings_form(request: Request) -> Response:
    """One settings action posted by a form: add/remove a user, create/revoke a key."""
    form = await form_data(request)
    db = web(request).db
    shown: dict[str, Any] = {}
    try:
        action = form.get("action")
        if action == "user.add":
            pw = add_user(
                db,
                form.get("username", ""),
                role=form.get("role", "viewer"),
                password=form.get("password") or None,
            )
            shown = {"secret_label": f"Password of {form.get('username')}", "secret": pw}
        elif action == "user.remove":
            if form.get("username") == principal(request).name:
                raise UsageError("You cannot remove yourself.")
            remove_user(db, form.get("username", ""))
        elif action == "key.create":
            origins = [o for o in form.get("origins", "").replace(",", " ").split() if o]
            secret, key = create_key(
                db,
                form.get("name", "") or "key",
                scope=form.get("scope", "read"),
                origins=origins,
                rate_per_minute=int(form.get("rate_per_minute") or 60),
                created_by=principal(request).name,
            )
            shown = {"secret_label": f"Secret of key {key.key_id}", "secret": secret}
        elif action == "key.revoke":
            revoke_key(db, form.get("key_id", ""))
        else:
            raise UsageError(f"Unknown settings action {action!r}.")
    except (KlantreisError, ValueError) as exc:
        err = (
            exc.to_dict()
            if isinstance(exc, KlantreisError)
            else {"code": "usage", "message": str(exc), "hint": None}
        )
        return web(request).pages.render(
            request, "settings.html", _settings(request, error=err), status_code=400
        )
    return web(request).pages.render(request, "settings.html", _settings(request, **shown))
