"""How the dashboard asks the analytics engine for its sections (no analytics here).

Each dashboard section names an analysis of ``klantreis.engine`` (the registry
``engine.ANALYSES``) and the options it runs with. Filters (segment, persona, since, until,
channel) are passed to every analysis whose query has that option; a filter an analysis does
not take is named in the section's note, never silently dropped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ...errors import KlantreisError
from ...model import Journey

__all__ = ["SECTION_ANALYSES", "measures", "section"]

#: dashboard section -> (analysis name, fixed options)
SECTION_ANALYSES: dict[str, tuple[str, dict[str, Any]]] = {
    "funnel": ("funnel", {"level": "stage"}),
    "scores": ("scores", {"level": "touchpoint"}),
    "pain_points": ("pain_points", {}),
    "alerts": ("alerts", {}),
    "trends": ("trends", {}),
}


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()


def section(ws: Any, name: str, journey: Journey, filters: dict[str, Any]) -> dict[str, Any]:
    from ... import engine

    analysis, fixed = SECTION_ANALYSES[name]
    cls = engine.ANALYSES.get(analysis)
    if cls is None:
        return {
            "available": False,
            "rows": [],
            "note": f"The engine has no {analysis!r} analysis (yet).",
        }
    allowed = _fields(cls)
    options = {k: v for k, v in {**fixed, **filters}.items() if k in allowed}
    ignored = sorted(set(filters) - allowed)
    result = engine.analyze(ws, analysis, journey=journey.id, **options)
    rows = result.records()
    note = f"Filter(s) not available for {analysis}: {', '.join(ignored)}." if ignored else None
    return {
        "available": True,
        "analysis": analysis,
        "rows": rows,
        "columns": list(result.frame.columns),
        "denominator": result.denominator or result.scope.caption(),
        "scope": result.scope.to_dict(),
        "note": note,
    }


def measures(ws: Any, journey: Journey) -> dict[str, Any] | None:
    """Numbers per touchpoint for the map (``render.MeasuredJourney.from_dict`` input)."""
    try:
        scores = section(ws, "scores", journey, {})
    except KlantreisError:
        return None
    if not scores["available"] or not scores["rows"]:
        return None
    out: dict[str, dict[str, Any]] = {}
    for r in scores["rows"]:
        tp = r.get("touchpoint") or r.get("node")
        if not tp or tp in out:
            continue
        value = r.get("mean", r.get("score", r.get("value")))
        if value is None:
            continue
        out[str(tp)] = {
            "score_metric": r.get("metric"),
            "score_value": value,
            "score_ci_low": r.get("ci_low"),
            "score_ci_high": r.get("ci_high"),
            "score_n": r.get("responses", r.get("n")),
        }
    return {"touchpoints": out, "source": "engine"} if out else None
