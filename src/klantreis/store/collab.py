"""Collaboration on journeys in the web app: comments on any element and the history of changes.

An element is named ``journey``, ``stage:<id>``, ``touchpoint:<id>`` or
``lane:<stage id>:<lane>``. History keeps, per save, who, when, a summary, the versions (SHA-256
of the YAML file) before and after, and the YAML before, so any earlier version can be restored.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import NotFound, UsageError
from .appdb import AppDB, now_utc

__all__ = [
    "ELEMENT_PATTERN",
    "add_comment",
    "comments",
    "delete_comment",
    "history",
    "record_change",
]

ELEMENT_PATTERN = r"^(journey|stage:[a-z0-9][a-z0-9_\-]*|touchpoint:[a-z0-9][a-z0-9_\-]*|lane:[a-z0-9][a-z0-9_\-]*:[a-z_]+)$"
MAX_COMMENT_CHARS = 5000


def add_comment(db: AppDB, journey_id: str, element: str, author: str, text: str) -> dict[str, Any]:
    if not re.match(ELEMENT_PATTERN, element):
        raise UsageError(
            f"Unknown element {element!r}.",
            hint="name it journey, stage:<id>, touchpoint:<id> or lane:<stage>:<lane>.",
        )
    body = text.strip()
    if not body or len(body) > MAX_COMMENT_CHARS:
        raise UsageError(f"A comment needs 1 to {MAX_COMMENT_CHARS} characters.")
    created = now_utc().isoformat()
    cid = db.execute(
        "INSERT INTO comments(journey_id, element, author, text, created_at) VALUES (?, ?, ?, ?, ?)",
        (journey_id, element, author, body, created),
    )
    return {
        "id": cid,
        "journey_id": journey_id,
        "element": element,
        "author": author,
        "text": body,
        "created_at": created,
    }


def comments(db: AppDB, journey_id: str, element: str | None = None) -> list[dict[str, Any]]:
    if element is None:
        return db.rows("SELECT * FROM comments WHERE journey_id = ? ORDER BY id", (journey_id,))
    return db.rows(
        "SELECT * FROM comments WHERE journey_id = ? AND element = ? ORDER BY id",
        (journey_id, element),
    )


def delete_comment(db: AppDB, comment_id: int) -> None:
    if db.execute("DELETE FROM comments WHERE id = ?", (comment_id,)) == 0:
        raise NotFound(f"No comment {comment_id}.")


def record_change(
    db: AppDB,
    journey_id: str,
    *,
    author: str,
    summary: str,
    version_before: str | None,
    version_after: str,
    yaml_before: str | None,
) -> None:
    db.execute(
        "INSERT INTO history(journey_id, author, created_at, summary, version_before, "
        "version_after, yaml_before) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            journey_id,
            author,
            now_utc().isoformat(),
            summary,
            version_before,
            version_after,
            yaml_before,
        ),
    )


def history(db: AppDB, journey_id: str, *, with_yaml: bool = False) -> list[dict[str, Any]]:
    cols = "id, journey_id, author, created_at, summary, version_before, version_after"
    if with_yaml:
        cols += ", yaml_before"
    return db.rows(
        f"SELECT {cols} FROM history WHERE journey_id = ? ORDER BY id DESC", (journey_id,)
    )
