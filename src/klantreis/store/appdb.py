"""The web app's own database: users, sessions, API keys, comments, history, board, survey answers.

It is a small SQLite file, ``data/app.sqlite``, next to (not inside) the measured data, so the
web app never competes with ingestion for the DuckDB write lock, and the CLI (``klantreis users
add``) can change it while ``klantreis serve`` runs (SQLite allows several processes; WAL mode).
Every statement is parameterised. See ``docs/adr/0007-web-stack.md``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["APP_DB_FILE", "AppDB", "now_utc"]

APP_DB_FILE = "app.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
  created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
  key_id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL, scope TEXT NOT NULL,
  origins TEXT NOT NULL DEFAULT '', rate_per_minute INTEGER NOT NULL DEFAULT 60,
  created_by TEXT, created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS comments (
  id INTEGER PRIMARY KEY AUTOINCREMENT, journey_id TEXT NOT NULL, element TEXT NOT NULL,
  author TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY AUTOINCREMENT, journey_id TEXT NOT NULL, author TEXT NOT NULL,
  created_at TEXT NOT NULL, summary TEXT NOT NULL, version_before TEXT,
  version_after TEXT NOT NULL, yaml_before TEXT);
CREATE TABLE IF NOT EXISTS board (
  id INTEGER PRIMARY KEY AUTOINCREMENT, journey_id TEXT NOT NULL, title TEXT NOT NULL,
  touchpoint TEXT, stage TEXT, source TEXT NOT NULL DEFAULT 'manual', owner TEXT,
  status TEXT NOT NULL DEFAULT 'open', root_cause TEXT, actions TEXT, impact TEXT,
  reach REAL, severity REAL, priority REAL, created_by TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS survey_answers (
  response_id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL, journey_id TEXT NOT NULL,
  touchpoint TEXT NOT NULL, customer_id TEXT, metric TEXT NOT NULL, score REAL NOT NULL,
  scale_min REAL NOT NULL, scale_max REAL NOT NULL, comment TEXT, channel TEXT,
  created_at TEXT NOT NULL, flushed_at TEXT);
CREATE INDEX IF NOT EXISTS survey_customer ON survey_answers (customer_id, touchpoint);
CREATE INDEX IF NOT EXISTS survey_idem ON survey_answers (idempotency_key);
"""


def now_utc() -> dt.datetime:
    """Now in UTC without a time zone (the store's convention), to the second."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class AppDB:
    """The web app's SQLite file. Cheap to create; each call opens its own connection."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            con.executescript(_SCHEMA)

    @classmethod
    def of_workspace(cls, ws: Any) -> AppDB:
        return cls(Path(ws.data_dir) / APP_DB_FILE)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.connect() as con:
            return [dict(r) for r in con.execute(sql, params).fetchall()]

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one statement; the id of the inserted row (or the changed row count)."""
        with self.connect() as con:
            cur = con.execute(sql, params)
            return int(cur.lastrowid or cur.rowcount or 0)

    # -- meta ------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        rows = self.rows("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def secret(self) -> bytes:
        """The signing secret of this workspace (created once, kept in the file)."""
        with self.transaction() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
            if row is None:
                value = secrets.token_hex(32)
                con.execute("INSERT INTO meta(key, value) VALUES ('secret', ?)", (value,))
            else:
                value = str(row["value"])
        return bytes.fromhex(value)
