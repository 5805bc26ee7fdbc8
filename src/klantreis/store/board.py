"""The priority board (stap 4 and 5): pain points from the analyses and added by hand.

Each item has an owner department, a status, a root cause, actions and an estimated impact
(problem → cause → solution). Items from an analysis keep their reach, severity and priority
numbers up to date when imported again; what people wrote on them is never overwritten.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import NotFound, UsageError
from .appdb import AppDB, now_utc

__all__ = [
    "BOARD_COLUMNS",
    "BOARD_SORTS",
    "BOARD_STATUSES",
    "add_item",
    "board_frame",
    "delete_item",
    "get_item",
    "import_pain_points",
    "list_items",
    "update_item",
]

BOARD_STATUSES: tuple[str, ...] = ("open", "in_progress", "done", "wont_fix")
#: Fields people edit on an item.
EDITABLE: tuple[str, ...] = (
    "title",
    "touchpoint",
    "stage",
    "owner",
    "status",
    "root_cause",
    "actions",
    "impact",
)
BOARD_COLUMNS: tuple[str, ...] = (
    "id",
    "journey_id",
    "title",
    "touchpoint",
    "stage",
    "source",
    "owner",
    "status",
    "root_cause",
    "actions",
    "impact",
    "reach",
    "severity",
    "priority",
    "created_by",
    "created_at",
    "updated_at",
)
#: Columns the board can be sorted on (a whitelist: never glued from user input).
BOARD_SORTS: tuple[str, ...] = (
    "priority",
    "title",
    "owner",
    "status",
    "touchpoint",
    "stage",
    "updated_at",
    "created_at",
)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if k not in EDITABLE:
            raise UsageError(f"Unknown board field {k!r}. Allowed: {', '.join(EDITABLE)}.")
        out[k] = (str(v).strip() or None) if v is not None else None
    if "status" in out and out["status"] not in BOARD_STATUSES:
        raise UsageError(f"Unknown status {out['status']!r}. Allowed: {', '.join(BOARD_STATUSES)}.")
    if "title" in out and not out["title"]:
        raise UsageError("A board item needs a title.")
    return out


def add_item(db: AppDB, journey_id: str, fields: dict[str, Any], *, by: str) -> dict[str, Any]:
    data = _clean(fields)
    if not data.get("title"):
        raise UsageError("A board item needs a title.")
    data.setdefault("status", "open")
    now = now_utc().isoformat()
    cols = ["journey_id", "source", "created_by", "created_at", "updated_at", *data]
    vals = [journey_id, "manual", by, now, now, *data.values()]
    marks = ", ".join("?" for _ in cols)
    item_id = db.execute(f"INSERT INTO board({', '.join(cols)}) VALUES ({marks})", tuple(vals))
    return get_item(db, item_id)


def get_item(db: AppDB, item_id: int) -> dict[str, Any]:
    rows = db.rows("SELECT * FROM board WHERE id = ?", (item_id,))
    if not rows:
        raise NotFound(f"No board item {item_id}.")
    return rows[0]


def update_item(db: AppDB, item_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    data = _clean(fields)
    get_item(db, item_id)
    if data:
        sets = ", ".join(f"{k} = ?" for k in data)  # keys are from the EDITABLE whitelist
        db.execute(
            f"UPDATE board SET {sets}, updated_at = ? WHERE id = ?",
            (*data.values(), now_utc().isoformat(), item_id),
        )
    return get_item(db, item_id)


def delete_item(db: AppDB, item_id: int) -> None:
    if db.execute("DELETE FROM board WHERE id = ?", (item_id,)) == 0:
        raise NotFound(f"No board item {item_id}.")


def list_items(
    db: AppDB, journey_id: str, *, sort: str = "priority", descending: bool = True
) -> list[dict[str, Any]]:
    if sort not in BOARD_SORTS:
        raise UsageError(f"Cannot sort the board on {sort!r}. Allowed: {', '.join(BOARD_SORTS)}.")
    order = "DESC" if descending else "ASC"
    return db.rows(
        f"SELECT * FROM board WHERE journey_id = ? ORDER BY {sort} IS NULL, {sort} {order}, id",
        (journey_id,),
    )


def board_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(items, columns=list(BOARD_COLUMNS))


def import_pain_points(db: AppDB, journey_id: str, rows: list[dict[str, Any]], *, by: str) -> int:
    """Add or refresh items from a pain-point analysis (one per touchpoint); returns the count.

    Each row needs ``touchpoint`` and ``title``; ``stage``, ``reach``, ``severity`` and
    ``priority`` are optional numbers from the analysis.
    """
    now = now_utc().isoformat()
    n = 0
    with db.transaction() as con:
        for r in rows:
            tp = str(r["touchpoint"])
            nums = tuple(_num(r.get(k)) for k in ("reach", "severity", "priority"))
            found = con.execute(
                "SELECT id FROM board WHERE journey_id = ? AND touchpoint = ? AND source = 'analysis'",
                (journey_id, tp),
            ).fetchone()
            if found:
                con.execute(
                    "UPDATE board SET reach = ?, severity = ?, priority = ?, updated_at = ? "
                    "WHERE id = ?",
                    (*nums, now, found[0]),
                )
            else:
                con.execute(
                    "INSERT INTO board(journey_id, title, touchpoint, stage, source, owner, status, "
                    "reach, severity, priority, created_by, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, 'analysis', ?, 'open', ?, ?, ?, ?, ?, ?)",
                    (
                        journey_id,
                        str(r["title"]),
                        tp,
                        r.get("stage"),
                        r.get("owner"),
                        *nums,
                        by,
                        now,
                        now,
                    ),
                )
            n += 1
    return n


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
