"""How the dashboard asks the analytics engine for its sections (no analytics here).

Each dashboard section names an analysis of ``klantreis.engine`` (the registry
``engine.ANALYSES``) and the options it runs with. Filters (segment, persona, since, until,
channel) are passed to every analysis whose query has that option; a filter an analysis does
not take is named in the section's note, never silently dropped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ...model import Journey

__all__ = ["SECTION_ANALYSES", "section"]

#: dashboard section -> (analysis names to try, fixed options)
SECTION_ANALYSES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "funnel": (("funnel",), {"level": "stage"}),
    "scores": (("scores",), {"level": "touchpoint"}),
    "pain_points": (("pain-points", "pain_points"), {}),
    "alerts": (("monitor",), {"level": "touchpoint", "trend": "month"}),
    "trends": (("scores",), {"level": "stage", "trend": "month"}),
}

#: sections that show one of the result's extra tables instead of its rows
TABLES: dict[str, str] = {"alerts": "alerts"}
#: what an empty section means
EMPTY: dict[str, str] = {"alerts": "No statistically significant change in any KPI series."}


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()


def _run(ws: Any, name: str, journey: Journey, filters: dict[str, Any]) -> tuple[Any, list[str]]:
    """The engine's result for a dashboard section (None when no analysis) and ignored filters."""
    from ... import engine

    names, fixed = SECTION_ANALYSES[name]
    for analysis in names:
        cls = engine.ANALYSES.get(analysis)
        if cls is None:
            continue
        allowed = _fields(cls)
        options = {k: v for k, v in {**fixed, **filters}.items() if k in allowed}
        ignored = sorted(set(filters) - allowed)
        return engine.analyze(ws, analysis, journey=journey.id, **options), ignored
    return None, []


def section(ws: Any, name: str, journey: Journey, filters: dict[str, Any]) -> dict[str, Any]:
    result, ignored = _run(ws, name, journey, filters)
    if result is None:
        names = " or ".join(repr(n) for n in SECTION_ANALYSES[name][0])
        return {"available": False, "rows": [], "note": f"The engine has no {names} analysis yet."}
    table = getattr(result, "tables", {}).get(TABLES.get(name, ""))
    if table is not None:  # e.g. the monitor's alerts, not its series
        from ...engine.results import jsonable

        rows = [jsonable(r) for r in table.to_dict(orient="records")]
        shown = list(table.columns)
    else:
        rows = result.records()
        shown = [c for c in getattr(result, "display_columns", ()) if c in result.frame.columns]
    note = f"Filter(s) not available here: {', '.join(ignored)}." if ignored else None
    return {
        "available": True,
        "analysis": result.analysis,
        "rows": rows,
        "columns": shown or list(result.frame.columns),
        "denominator": result.denominator or result.scope.caption(),
        "scope": result.scope.to_dict(),
        "note": note if rows else (note or EMPTY.get(name, "No data in scope.")),
    }
