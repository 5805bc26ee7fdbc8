"""Tiny event logs and assert helpers, for klantreis' own tests and for yours.

from klantreis import testing as kt

src = kt.source(
    events=kt.events([("c1", "2024-01-01T10:00", "cart"), ("c1", "2024-01-01T10:05", "pay")]),
    journey=kt.journey(["consider", "buy"], {"cart": ("consider", "cart"), "pay": ("buy", "pay")}),
)
result = klantreis.analyze(src, "funnel", steps=["cart", "pay"], level="event")
kt.assert_rows(result, [{"step": "cart", "customers": 1}, {"step": "pay", "customers": 1}])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .engine.source import Source
from .model import Journey

__all__ = [
    "assert_rows",
    "customers",
    "engine_params",
    "events",
    "journey",
    "responses",
    "source",
]

_SCALES = {"csat": (1.0, 5.0), "nps": (0.0, 10.0), "ces": (1.0, 7.0), "custom": (1.0, 5.0)}


def events(rows: Iterable[Sequence[Any] | Mapping[str, Any]], **defaults: Any) -> pd.DataFrame:
    """Events from ``(customer_id, timestamp, event[, {other columns}])`` tuples or dicts.

    ``event_id`` defaults to ``e000001``, ``e000002``, … in input order; ``defaults`` fill
    columns the rows leave out (e.g. ``channel="website"``).
    """
    out = []
    for i, row in enumerate(rows, start=1):
        if isinstance(row, Mapping):
            rec = dict(row)
        else:
            rec = {"customer_id": row[0], "timestamp": row[1], "event": row[2]}
            if len(row) > 3:
                rec.update(row[3])
        for key, value in defaults.items():
            rec.setdefault(key, value)
        rec.setdefault("event_id", f"e{i:06d}")
        out.append(rec)
    frame = pd.DataFrame(
        out, columns=_columns(out, ["event_id", "customer_id", "timestamp", "event"])
    )
    return frame


def responses(rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> pd.DataFrame:
    """Survey answers from ``(customer_id, timestamp, touchpoint, metric, score[, {...}])``.

    The scale defaults by metric: csat 1–5, nps 0–10, ces 1–7, custom 1–5.
    """
    out = []
    for i, row in enumerate(rows, start=1):
        if isinstance(row, Mapping):
            rec = dict(row)
        else:
            rec = {
                "customer_id": row[0],
                "timestamp": row[1],
                "touchpoint": row[2],
                "metric": row[3],
                "score": float(row[4]),
            }
            if len(row) > 5:
                rec.update(row[5])
        low, high = _SCALES.get(str(rec["metric"]), (1.0, 5.0))
        rec.setdefault("scale_min", low)
        rec.setdefault("scale_max", high)
        rec.setdefault("response_id", f"r{i:06d}")
        out.append(rec)
    return pd.DataFrame(out, columns=_columns(out, ["response_id", "customer_id", "timestamp"]))


def customers(attributes: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Customers from ``{customer_id: {attribute: value}}`` (values become text)."""
    return pd.DataFrame(
        {
            "customer_id": list(attributes),
            "attributes": [{k: _text(v) for k, v in a.items()} for a in attributes.values()],
        }
    )


def journey(
    stages: Sequence[str],
    touchpoints: Mapping[str, tuple[Any, ...]] | None = None,
    *,
    conversion: Sequence[str] = (),
    segments: Mapping[str, Mapping[str, Any]] | None = None,
    personas: Mapping[str, Mapping[str, Any]] | None = None,
    journey_id: str = "test",
) -> Journey:
    """A journey from stage ids and ``{touchpoint: (stage, event or [events][, channel])}``."""
    data: dict[str, Any] = {
        "id": journey_id,
        "name": journey_id,
        "stages": [
            {"id": s, "name": {"en": s, "nl": s}, "order": i} for i, s in enumerate(stages, 1)
        ],
        "touchpoints": [],
        "segments": [
            {"id": k, "name": k, "attributes": dict(v)} for k, v in (segments or {}).items()
        ],
        "personas": [
            {"id": k, "name": k, "attributes": dict(v)} for k, v in (personas or {}).items()
        ],
    }
    for tp_id, spec in (touchpoints or {}).items():
        stage, names = spec[0], spec[1]
        channel = spec[2] if len(spec) > 2 else "website"
        names = [names] if isinstance(names, str) else list(names)
        data["touchpoints"].append(
            {
                "id": tp_id,
                "name": tp_id,
                "stage": stage,
                "channel": channel,
                "conversion": tp_id in conversion,
                "match": [{"event": n} for n in names],
            }
        )
    return Journey.model_validate(data)


def source(
    *,
    events: pd.DataFrame | None = None,
    responses: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    journey: Journey | Sequence[Journey] | None = None,
    engine: str = "duckdb",
) -> Source:
    """An analysable :class:`~klantreis.engine.Source` over in-memory tables."""
    journeys = [journey] if isinstance(journey, Journey) else list(journey or [])
    return Source.from_frames(
        events, responses=responses, customers=customers, journeys=journeys, engine=engine
    )


def assert_rows(
    result: Any,
    expected: Sequence[Mapping[str, Any]],
    *,
    rel: float = 1e-9,
    ordered: bool = True,
) -> None:
    """Assert a result's (or DataFrame's) rows equal ``expected`` on the columns it names.

    Floats compare with relative tolerance ``rel``; None matches null/NaN.
    """
    frame = result.frame if hasattr(result, "frame") else result
    rows = frame.to_dict(orient="records")
    assert len(rows) == len(expected), f"{len(rows)} rows, expected {len(expected)}:\n{frame}"
    if not ordered:
        keys = list(expected[0]) if expected else []
        rows = sorted(rows, key=lambda r: [str(r.get(k)) for k in keys])
        expected = sorted(expected, key=lambda r: [str(r.get(k)) for k in keys])
    for i, (got, want) in enumerate(zip(rows, expected, strict=True)):
        for key, value in want.items():
            assert key in got, f"row {i}: no column {key!r}; columns: {list(got)}"
            assert _same(got[key], value, rel), (
                f"row {i}, column {key!r}: got {got[key]!r}, expected {value!r}\n{frame}"
            )


def _same(got: Any, want: Any, rel: float) -> bool:
    if want is None:
        return got is None or (isinstance(got, float) and math.isnan(got)) or got is pd.NA
    if isinstance(want, float) or isinstance(got, float):
        try:
            return math.isclose(float(got), float(want), rel_tol=rel, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    if isinstance(want, (list, tuple)):
        return list(got) == list(want)
    return bool(got == want)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _columns(rows: list[dict[str, Any]], first: list[str]) -> list[str]:
    cols = list(first)
    for r in rows:
        cols.extend(k for k in r if k not in cols)
    return cols


def engine_params() -> list[Any]:
    """pytest params for the engine fixture: duckdb always; spark unless KLANTREIS_SKIP_SPARK=1.

    @pytest.fixture(params=kt.engine_params())
    def engine(request): return request.param
    """
    import os

    import pytest

    skip = os.environ.get("KLANTREIS_SKIP_SPARK") == "1"
    spark_marks = [pytest.mark.spark]
    if skip:
        spark_marks.append(pytest.mark.skip(reason="KLANTREIS_SKIP_SPARK=1"))
    return ["duckdb", pytest.param("spark", marks=spark_marks)]
