"""Users of the web app, their sessions, API keys and signed tokens (share and survey links).

Roles, from least to most: ``viewer`` (reads), ``editor`` (changes journeys, board, comments),
``admin`` (users, keys, settings). Passwords are stored as argon2id hashes; session tokens and
API keys only as SHA-256 hashes (the secret is shown once). An API key has one scope: ``read``
(acts as a viewer), ``write`` (editor), ``admin``, or ``collect`` (write-only: it may post survey
answers and nothing else; it carries an origin allow-list and a rate limit per minute).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import InvalidLink, NotAuthenticated, NotFound, UsageError
from .appdb import AppDB, now_utc

__all__ = [
    "KEY_SCOPES",
    "ROLES",
    "ApiKey",
    "Session",
    "User",
    "add_user",
    "authenticate_key",
    "create_key",
    "create_session",
    "end_session",
    "ensure_admin",
    "list_keys",
    "list_users",
    "login",
    "remove_user",
    "revoke_key",
    "session_of",
    "sign_token",
    "verify_token",
]

ROLES: tuple[str, ...] = ("viewer", "editor", "admin")
KEY_SCOPES: tuple[str, ...] = ("read", "write", "admin", "collect")
SESSION_HOURS = 12
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    username: str
    role: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "created_at": self.created_at}


@dataclass(frozen=True)
class Session:
    username: str
    role: str
    csrf: str


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scope: str
    origins: tuple[str, ...]
    rate_per_minute: int
    created_by: str | None
    created_at: str
    revoked_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "scope": self.scope,
            "origins": list(self.origins),
            "rate_per_minute": self.rate_per_minute,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"Unknown role {role!r}. Allowed: {', '.join(ROLES)}.")


# -- users ----------------------------------------------------------------------------------


def add_user(db: AppDB, username: str, *, role: str, password: str | None = None) -> str:
    """Add a user; returns the password (a generated one when none is given)."""
    _check_role(role)
    name = username.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise UsageError(
            f"Invalid user name {username!r}.", hint="use 1 to 64 characters without spaces."
        )
    if password is not None and len(password) < 8:
        raise UsageError("A password needs at least 8 characters.")
    password = password or secrets.token_urlsafe(12)
    with db.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
            raise UsageError(f"User {name!r} exists.", hint="remove it first or pick another name.")
        con.execute(
            "INSERT INTO users(username, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, role, _hasher.hash(password), now_utc().isoformat()),
        )
    return password


def list_users(db: AppDB) -> list[User]:
    return [
        User(r["username"], r["role"], r["created_at"])
        for r in db.rows("SELECT username, role, created_at FROM users ORDER BY username")
    ]


def remove_user(db: AppDB, username: str) -> None:
    with db.transaction() as con:
        if con.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
            known = ", ".join(r[0] for r in con.execute("SELECT username FROM users")) or "(none)"
            raise NotFound(f"No user {username!r}. Known users: {known}.")
        con.execute("DELETE FROM sessions WHERE username = ?", (username,))


def ensure_admin(db: AppDB) -> tuple[str, str] | None:
    """On first start: create user ``admin`` with a random password and return (name, password)."""
    if db.rows("SELECT 1 FROM users LIMIT 1"):
        return None
    try:
        return ("admin", add_user(db, "admin", role="admin"))
    except UsageError:  # another process created it at the same moment
        return None


def login(db: AppDB, username: str, password: str) -> User:
    rows = db.rows("SELECT * FROM users WHERE username = ?", (username,))
    ok = False
    if rows:
        try:
            ok = _hasher.verify(rows[0]["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # same time whether or not the user exists
    if not ok:
        raise NotAuthenticated(
            "Wrong user name or password.", hint="ask an admin to reset it with 'klantreis users'."
        )
    return User(rows[0]["username"], rows[0]["role"], rows[0]["created_at"])


# -- sessions -------------------------------------------------------------------------------


def create_session(db: AppDB, user: User) -> tuple[str, Session]:
    """A new session; returns the cookie token (stored only as a hash) and the session."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = now_utc()
    db.execute(
        "INSERT INTO sessions(token_hash, username, csrf, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            _sha(token),
            user.username,
            csrf,
            now.isoformat(),
            (now + dt.timedelta(hours=SESSION_HOURS)).isoformat(),
        ),
    )
    return token, Session(user.username, user.role, csrf)


def session_of(db: AppDB, token: str) -> Session | None:
    rows = db.rows(
        "SELECT s.username, s.csrf, s.expires_at, u.role FROM sessions s "
        "JOIN users u ON u.username = s.username WHERE s.token_hash = ?",
        (_sha(token),),
    )
    if not rows or rows[0]["expires_at"] < now_utc().isoformat():
        return None
    r = rows[0]
    return Session(r["username"], r["role"], r["csrf"])


def end_session(db: AppDB, token: str) -> None:
    db.execute("DELETE FROM sessions WHERE token_hash = ?", (_sha(token),))


# -- API keys -------------------------------------------------------------------------------


def create_key(
    db: AppDB,
    name: str,
    *,
    scope: Literal["read", "write", "admin", "collect"] | str,
    origins: list[str] | None = None,
    rate_per_minute: int = 60,
    created_by: str | None = None,
) -> tuple[str, ApiKey]:
    """A new API key; returns the secret (shown once: ``kr_<id>_<secret>``) and the key."""
    if scope not in KEY_SCOPES:
        raise UsageError(f"Unknown key scope {scope!r}. Allowed: {', '.join(KEY_SCOPES)}.")
    if rate_per_minute < 1:
        raise UsageError(f"rate_per_minute must be at least 1, got {rate_per_minute}.")
    clean = [o.strip().rstrip("/") for o in origins or [] if o.strip()]
    for o in clean:
        if not (o.startswith(("http://", "https://")) or o == "*"):
            raise UsageError(
                f"Origin {o!r} is not an origin.", hint="write it as https://shop.example.com."
            )
    key_id = secrets.token_hex(6)
    secret = f"kr_{key_id}_{secrets.token_urlsafe(24)}"
    created = now_utc().isoformat()
    db.execute(
        "INSERT INTO api_keys(key_id, name, key_hash, scope, origins, rate_per_minute, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (key_id, name, _sha(secret), scope, ",".join(clean), rate_per_minute, created_by, created),
    )
    return secret, ApiKey(
        key_id, name, scope, tuple(clean), rate_per_minute, created_by, created, None
    )


def _key(row: dict[str, Any]) -> ApiKey:
    origins = tuple(o for o in str(row["origins"] or "").split(",") if o)
    return ApiKey(
        row["key_id"],
        row["name"],
        row["scope"],
        origins,
        int(row["rate_per_minute"]),
        row["created_by"],
        row["created_at"],
        row["revoked_at"],
    )


def list_keys(db: AppDB) -> list[ApiKey]:
    return [_key(r) for r in db.rows("SELECT * FROM api_keys ORDER BY created_at, key_id")]


def revoke_key(db: AppDB, key_id: str) -> None:
    n = db.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
        (now_utc().isoformat(), key_id),
    )
    if n == 0:
        raise NotFound(
            f"No active API key {key_id!r}.", hint="'klantreis keys list' shows the key ids."
        )


def authenticate_key(db: AppDB, secret: str) -> ApiKey:
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != "kr":
        raise NotAuthenticated("Malformed API key.", hint="keys look like kr_<id>_<secret>.")
    rows = db.rows("SELECT * FROM api_keys WHERE key_id = ?", (parts[1],))
    if not rows or not hmac.compare_digest(rows[0]["key_hash"], _sha(secret)):
        raise NotAuthenticated("Unknown API key.", hint="create one with 'klantreis keys create'.")
    if rows[0]["revoked_at"]:
        raise NotAuthenticated(f"API key {parts[1]!r} was revoked.")
    return _key(rows[0])


# -- signed tokens (share links, survey links) ----------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: bytes, kind: str, payload: dict[str, Any], *, valid_days: float) -> str:
    """A URL-safe token ``payload.signature`` (HMAC-SHA256); it expires after ``valid_days``."""
    body = dict(payload)
    body["k"] = kind
    body["x"] = int((now_utc() + dt.timedelta(days=valid_days)).timestamp())
    raw = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    sig = _b64(hmac.new(secret, raw.encode(), hashlib.sha256).digest())
    return f"{raw}.{sig}"


def verify_token(secret: bytes, kind: str, token: str) -> dict[str, Any]:
    """The payload of a token this workspace signed; InvalidLink when forged or expired."""
    raw, _, sig = token.partition(".")
    good = _b64(hmac.new(secret, raw.encode(), hashlib.sha256).digest())
    if not sig or not hmac.compare_digest(sig, good):
        raise InvalidLink(
            "This link is not valid: its signature does not match.",
            hint="use the link exactly as it was sent; ask the sender for a new one.",
        )
    try:
        body = json.loads(_unb64(raw))
    except (ValueError, json.JSONDecodeError):
        raise InvalidLink("This link is not valid.") from None
    if body.get("k") != kind:
        raise InvalidLink(f"This link is not a {kind} link.")
    if int(body.get("x", 0)) < int(now_utc().timestamp()):
        raise InvalidLink("This link has expired.", hint="ask the sender for a new one.")
    return dict(body)
