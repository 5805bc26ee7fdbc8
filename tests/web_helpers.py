"""Shared helpers of the web tests: a workspace, an app, a client per role."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

import klantreis
from klantreis.store.users import User, create_key, create_session, sign_token
from klantreis.web import create_app
from klantreis.web.auth import SESSION_COOKIE

ROLES = ("anonymous", "viewer", "editor", "admin", "collector")
JOURNEY = "five-phases"
TOUCHPOINT = "social-ad"


def make_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    ws = klantreis.init(tmp_path / "ws", template=JOURNEY)
    return create_app(ws, public_posts_per_minute=100_000)


def client_as(app, role: str) -> TestClient:  # type: ignore[no-untyped-def]
    """A test client acting as ``role`` (a fresh session, or a collect key)."""
    client = TestClient(app, headers={"accept": "application/json"})
    db = app.state.web.db
    if role in ("viewer", "editor", "admin"):
        token, session = create_session(db, User(f"{role}-user", role, ""))
        _ensure_user(db, f"{role}-user", role)
        client.cookies.set(SESSION_COOKIE, token)
        client.headers["x-csrf-token"] = session.csrf
    elif role == "collector":
        secret, _ = create_key(db, "collector", scope="collect", rate_per_minute=100_000)
        client.headers["authorization"] = f"Bearer {secret}"
    return client


def _ensure_user(db, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    if not db.rows("SELECT 1 FROM users WHERE username = ?", (name,)):
        db.execute(
            "INSERT INTO users(username, role, password_hash, created_at) VALUES (?, ?, 'x', '')",
            (name, role),
        )


def share_token(app) -> str:  # type: ignore[no-untyped-def]
    return sign_token(app.state.web.secret, "share", {"j": JOURNEY}, valid_days=1)


def survey_token(app, customer: str = "c-1") -> str:  # type: ignore[no-untyped-def]
    payload = {"j": JOURNEY, "t": TOUCHPOINT, "c": customer}
    return sign_token(app.state.web.secret, "survey", payload, valid_days=1)
