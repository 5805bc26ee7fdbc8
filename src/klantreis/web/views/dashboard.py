"""The dashboard of a journey: stage funnel, scores per touchpoint with intervals, pain points,
alerts and trends, with filters for segment/persona, period and channel.

Every number comes from the analytics engine (``klantreis.engine``); this module only picks
the analyses, passes the filters and caches the results per data version (see measures.py).
A section whose analysis is not available says so instead of showing a number.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from ...errors import KlantreisError
from ...model import Journey
from ...store.surveys import recent_answers
from ..deps import journey_and_version, web
from ..editing import file_version
from .measures import cached, data_version

if TYPE_CHECKING:
    from ..app import WebApp

__all__ = [
    "SECTIONS",
    "dashboard_data",
    "dashboard_json",
    "dashboard_page",
    "engine_measures",
    "section_views",
]

log = logging.getLogger("klantreis.web")

SECTIONS = ("funnel", "scores", "pain_points", "alerts", "trends")


def _filters(
    segment: str | None,
    persona: str | None,
    since: str | None,
    until: str | None,
    channel: str | None,
) -> dict[str, Any]:
    return {
        k: v
        for k, v in {
            "segment": segment,
            "persona": persona,
            "since": since,
            "until": until,
            "channel": channel,
        }.items()
        if v
    }


def _engine_section(
    app: WebApp, name: str, journey: Journey, filters: dict[str, Any]
) -> dict[str, Any]:
    """Run one dashboard analysis in the engine; a note when it is not available."""
    try:
        from . import engine_adapter
    except ImportError:
        return {"available": False, "rows": [], "note": "The analytics engine is not installed."}
    try:
        return engine_adapter.section(app.ws, name, journey, filters)
    except KlantreisError as exc:
        return {"available": False, "rows": [], "note": exc.message, "code": exc.code}
    except Exception as exc:  # an engine bug must not take the whole dashboard down
        log.exception("dashboard section %s of %s failed", name, journey.id)
        return {
            "available": False,
            "rows": [],
            "note": f"The {name} analysis failed ({type(exc).__name__}: {exc}); "
            "the server log has the details.",
            "code": "internal_error",
        }


def engine_measures(app: WebApp, journey: Journey) -> Any:
    """The map's numbers per touchpoint from ``klantreis.measure_journey`` (the same numbers as
    ``klantreis map``), cached per journey version and data version; None without data."""
    from ...engine.measure import measure_journey
    from ...render.measured import MeasuredJourney

    version = file_version(app.ws.journey_path(journey.id))
    key = ("result", "measures", journey.id, version, data_version(app))

    def compute() -> Any:
        measured = measure_journey(app.ws, journey, priorities=False).measured
        return MeasuredJourney.from_dict(measured) if measured else None

    return cached(app, key, compute)


def section_cached(
    app: WebApp,
    name: str,
    journey: Journey,
    version: str,
    filters: dict[str, Any],
    dv: tuple[Any, ...],
) -> dict[str, Any]:
    """One dashboard section, computed once per journey version, filters and data version."""
    key = ("result", "dashboard", name, journey.id, version, tuple(sorted(filters.items())), dv)
    result: dict[str, Any] = cached(app, key, _section_runner(app, name, journey, filters))
    return result


def _section_runner(
    app: WebApp, name: str, journey: Journey, filters: dict[str, Any]
) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        start = time.perf_counter()
        out = _engine_section(app, name, journey, filters)
        out["compute_ms"] = round((time.perf_counter() - start) * 1000, 1)
        return out

    return run


def dashboard_data(
    app: WebApp, journey: Journey, version: str, filters: dict[str, Any]
) -> dict[str, Any]:
    start = time.perf_counter()
    dv = data_version(app)
    # the sections are independent analyses: two at a time (the engine's kernels and DuckDB
    # release the GIL), so a filter nobody opened yet costs about half the sum of its sections
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="klantreis-section") as pool:
        futures = {
            name: pool.submit(section_cached, app, name, journey, version, filters, dv)
            for name in SECTIONS
        }
        sections = {name: f.result() for name, f in futures.items()}
    return {
        "journey": journey.id,
        "version": version,
        "filters": filters,
        "sections": sections,
        "latest_answers": recent_answers(app.db, journey.id, limit=10),
        "data_files": len(dv),
        "elapsed_ms": round((time.perf_counter() - start) * 1000, 1),
    }


async def dashboard_json(
    request: Request,
    journey_id: str,
    segment: str | None = None,
    persona: str | None = None,
    since: str | None = None,
    until: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """The dashboard's numbers: funnel, scores with intervals, pain points, alerts, trends."""
    journey, version = journey_and_version(request, journey_id)
    return dashboard_data(
        web(request), journey, version, _filters(segment, persona, since, until, channel)
    )


#: section -> (chart data function, SVG renderer) from klantreis.render (alerts: a list)
_CHARTS: dict[str, tuple[str, str]] = {
    "funnel": ("funnel_data", "funnel_svg"),
    "scores": ("scores_data", "scores_svg"),
    "pain_points": ("pain_points_data", "pain_points_svg"),
    "trends": ("trends_data", "trends_svg"),
}
#: columns that name a journey element, shown by its name
_NAMED = ("step", "stage", "touchpoint", "node")


def _text(value: Any, lang: str) -> str:
    """A name as text: a LocalText in the page's language, anything else as written."""
    return value.get(lang) if hasattr(value, "get") else str(value)


def _chart(name: str, rows: list[dict[str, Any]], journey: Journey, lang: str, metric: str | None):
    """The render layer's SVG for a section (trusted markup: the renderer escapes user text)."""
    import pandas as pd
    from markupsafe import Markup

    from ...render import chart_svg, charts

    data_fn, svg_fn = _CHARTS[name]
    frame = pd.DataFrame(rows)
    options: dict[str, Any] = {}
    if name == "trends":
        options = {
            "metric": metric,
            "groups": [_text(s.name, lang) for s in journey.stages_in_order()],
        }
    data = getattr(charts, data_fn)(frame, **options)
    return Markup(getattr(chart_svg, svg_fn)(data, lang=lang)), data


def section_views(
    data: dict[str, Any], journey: Journey, *, lang: str, trend_metric: str | None = None
) -> dict[str, dict[str, Any]]:
    """What the page shows per section: the chart (SVG), the table with formatted cells, and
    the metrics the trends chart can show. The numbers are the sections' rows, unchanged."""
    from ...render.charts import table_cell

    names = {s.id: _text(s.name, lang) for s in journey.stages} | {
        t.id: _text(t.name, lang) for t in journey.touchpoints
    }
    views: dict[str, dict[str, Any]] = {}
    for name, section in data["sections"].items():
        rows = [
            {k: names.get(v, v) if k in _NAMED and isinstance(v, str) else v for k, v in r.items()}
            for r in section.get("rows", [])
        ]
        columns = section.get("columns") or (list(rows[0]) if rows else [])
        view: dict[str, Any] = {
            "headers": [c.replace("_", " ") for c in columns],
            "numeric": [
                any(
                    isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
                    for r in rows
                )
                for c in columns
            ],
            "cells": [[table_cell(r.get(c), c, lang=lang) for c in columns] for r in rows],
            "chart": None,
            "metrics": [],
        }
        if name in _CHARTS and rows:
            try:
                view["chart"], chart_data = _chart(name, rows, journey, lang, trend_metric)
            except KlantreisError as exc:
                view["chart_error"] = exc.message
            else:
                if name == "trends":
                    view["metrics"] = chart_data["metrics"]
                    view["metric"] = chart_data["metric"]
        views[name] = view
    return views


async def dashboard_page(
    request: Request,
    journey_id: str,
    segment: str | None = None,
    persona: str | None = None,
    since: str | None = None,
    until: str | None = None,
    channel: str | None = None,
    metric: str | None = None,
) -> Response:
    journey, version = journey_and_version(request, journey_id)
    app = web(request)
    data = dashboard_data(app, journey, version, _filters(segment, persona, since, until, channel))
    views = section_views(data, journey, lang=app.pages.lang_of(request), trend_metric=metric)
    return app.pages.render(
        request, "dashboard.html", {"journey": journey, "data": data, "views": views}
    )
