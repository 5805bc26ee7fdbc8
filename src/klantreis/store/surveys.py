"""Survey answers collected by the web app (hosted pages, the widget and signed e-mail links).

An answer arrives with an idempotency key (the page or widget makes one per submission); the
same key always maps to the same ``response_id`` values, so a retried post is stored once.
Answers are buffered here and flushed into the workspace's ``responses`` table through the
store's ingestion API (``Workspace.ingest_feedback``), which deduplicates on ``response_id``:
an answer lands in the responses table exactly once, even when a flush is repeated.

A per-customer cooldown refuses a second answer from the same customer about the same
touchpoint within ``cooldown_days`` (default 30; ``surveys.cooldown_days`` in klantreis.yaml).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import CooldownActive, UsageError
from .appdb import AppDB, now_utc
from .schema import RESPONSES

__all__ = [
    "DEFAULT_COOLDOWN_DAYS",
    "SCALES",
    "SurveyAnswer",
    "SurveyReceipt",
    "cooldown_until",
    "flush_answers",
    "pending_frame",
    "recent_answers",
    "record_answer",
]

#: The scale of each metric: (lowest, highest).
SCALES: dict[str, tuple[float, float]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
DEFAULT_COOLDOWN_DAYS = 30
_flush_lock = threading.Lock()


@dataclass(frozen=True)
class SurveyAnswer:
    journey_id: str
    touchpoint: str
    idempotency_key: str
    scores: dict[str, float]
    comment: str | None = None
    customer_id: str | None = None
    channel: str = "web"


@dataclass(frozen=True)
class SurveyReceipt:
    response_ids: list[str]
    duplicate: bool
    created_at: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "response_ids": self.response_ids,
            "duplicate": self.duplicate,
            "created_at": self.created_at,
        }


def _response_id(key: str, metric: str) -> str:
    return "web-" + hashlib.sha256(f"{key}\x00{metric}".encode()).hexdigest()[:24] + f"-{metric}"


def _validate(answer: SurveyAnswer) -> None:
    if not answer.scores:
        raise UsageError("An answer needs at least one score (csat, nps or ces).")
    for metric, score in answer.scores.items():
        if metric not in SCALES:
            raise UsageError(f"Unknown metric {metric!r}. Allowed: {', '.join(SCALES)}.")
        lo, hi = SCALES[metric]
        if not (lo <= score <= hi) or score != int(score):
            raise UsageError(
                f"Score {score:g} for {metric} is outside its scale.",
                hint=f"{metric} takes whole numbers from {lo:g} to {hi:g}.",
            )
    if not 8 <= len(answer.idempotency_key) <= 128:
        raise UsageError("The idempotency key needs 8 to 128 characters.")
    if answer.comment is not None and len(answer.comment) > 5000:
        raise UsageError("A comment has at most 5000 characters.")


def cooldown_until(
    db: AppDB, customer_id: str, touchpoint: str, *, cooldown_days: float
) -> dt.datetime | None:
    """When this customer may be asked about this touchpoint again (None = now)."""
    rows = db.rows(
        "SELECT MAX(created_at) AS last FROM survey_answers WHERE customer_id = ? AND touchpoint = ?",
        (customer_id, touchpoint),
    )
    last = rows[0]["last"] if rows else None
    if not last:
        return None
    until = dt.datetime.fromisoformat(last) + dt.timedelta(days=cooldown_days)
    return until if until > now_utc() else None


def record_answer(
    db: AppDB, answer: SurveyAnswer, *, cooldown_days: float = DEFAULT_COOLDOWN_DAYS
) -> SurveyReceipt:
    """Store an answer once per idempotency key; CooldownActive when asked again too soon."""
    _validate(answer)
    created = now_utc().isoformat()
    with db.transaction() as con:
        seen = con.execute(
            "SELECT response_id, created_at FROM survey_answers WHERE idempotency_key = ? "
            "ORDER BY response_id",
            (answer.idempotency_key,),
        ).fetchall()
        if seen:
            return SurveyReceipt([r[0] for r in seen], True, seen[0][1])
        if answer.customer_id:
            last = con.execute(
                "SELECT MAX(created_at) FROM survey_answers WHERE customer_id = ? AND touchpoint = ?",
                (answer.customer_id, answer.touchpoint),
            ).fetchone()[0]
            if last:
                until = dt.datetime.fromisoformat(last) + dt.timedelta(days=cooldown_days)
                if until > now_utc():
                    raise CooldownActive(
                        f"Customer {answer.customer_id!r} already answered about touchpoint "
                        f"{answer.touchpoint!r} on {last[:10]}; the next survey is possible "
                        f"from {until.date().isoformat()} ({cooldown_days:g}-day cooldown).",
                        hint="thank the customer; do not ask again before the cooldown ends.",
                    )
        ids = []
        for i, (metric, score) in enumerate(sorted(answer.scores.items())):
            rid = _response_id(answer.idempotency_key, metric)
            lo, hi = SCALES[metric]
            con.execute(
                "INSERT INTO survey_answers(response_id, idempotency_key, journey_id, touchpoint, "
                "customer_id, metric, score, scale_min, scale_max, comment, channel, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rid,
                    answer.idempotency_key,
                    answer.journey_id,
                    answer.touchpoint,
                    answer.customer_id,
                    metric,
                    float(score),
                    lo,
                    hi,
                    (answer.comment or None) if i == 0 else None,
                    answer.channel,
                    created,
                ),
            )
            ids.append(rid)
    return SurveyReceipt(ids, False, created)


def recent_answers(db: AppDB, journey_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
    return db.rows(
        "SELECT response_id, touchpoint, customer_id, metric, score, comment, channel, "
        "created_at, flushed_at FROM survey_answers WHERE journey_id = ? "
        "ORDER BY created_at DESC, response_id LIMIT ?",
        (journey_id, limit),
    )


def pending_frame(db: AppDB) -> pd.DataFrame:
    """Answers not yet in the responses table, as a DataFrame with the RESPONSES columns."""
    rows = db.rows("SELECT * FROM survey_answers WHERE flushed_at IS NULL ORDER BY created_at")
    frame = pd.DataFrame(
        [
            {
                "response_id": r["response_id"],
                "customer_id": r["customer_id"],
                "timestamp": pd.Timestamp(r["created_at"]),
                "touchpoint": r["touchpoint"],
                "event": None,
                "metric": r["metric"],
                "score": r["score"],
                "scale_min": r["scale_min"],
                "scale_max": r["scale_max"],
                "comment": r["comment"],
                "channel": r["channel"],
            }
            for r in rows
        ],
        columns=[
            c for c in RESPONSES.names if c not in ("source_file", "source_line", "ingest_id")
        ],
    )
    return frame


def flush_answers(db: AppDB, ws: Any) -> int:
    """Move buffered answers into the workspace's responses table; returns how many.

    Uses ``ws.ingest_feedback(DataFrame)`` (deduplicates on response_id), so a flush that is
    repeated after a crash adds nothing twice. Without the ingestion API nothing is flushed.
    """
    ingest = getattr(ws, "ingest_feedback", None)
    if ingest is None:
        return 0
    with _flush_lock:
        frame = pending_frame(db)
        if frame.empty:
            return 0
        ingest(frame, progress=False)
        ids = frame["response_id"].tolist()
        stamp = now_utc().isoformat()
        with db.transaction() as con:
            con.executemany(
                "UPDATE survey_answers SET flushed_at = ? WHERE response_id = ?",
                [(stamp, i) for i in ids],
            )
        return len(ids)
