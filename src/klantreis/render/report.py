"""The journey report for stakeholders: map, key figures, pain points, priorities, method.

:func:`report_data` gathers what the report says (plain data, the report's headless twin);
:func:`render_report` draws it as HTML (self-contained), PDF (via Chromium) or PPTX slides;
:func:`save_report` picks the format by suffix. Without measured data the report says, on the
first screen and in the method notes, that the map is a hypothesis.

``priorities`` are the analysis' ranked pain points when there are any (columns
``pain_point``, ``stage``, ``touchpoint``, ``owner``, ``status``, ``estimated_impact``,
``evidence``); without them the map's own pain points are listed, in stage order, with the
owners of that stage's touchpoints and "not measured" as impact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..model import Journey
from .chart_svg import scores_svg
from .charts import scores_data
from .html import banner, details_table, page, table
from .labels import fmt_int, label
from .map_svg import map_svg, score_text
from .mapdata import MapData, map_data
from .maps import as_measured, format_of, write_output
from .measured import MeasuredJourney
from .raster import Browser
from .svgdraw import esc

__all__ = ["REPORT_FORMATS", "ReportData", "render_report", "report_data", "save_report"]

REPORT_FORMATS = ("html", "pdf", "pptx")


@dataclass
class ReportData:
    map: MapData
    key_figures: list[tuple[str, str]]
    pain_points: list[dict[str, Any]]
    priorities: list[dict[str, Any]]
    method: list[str]
    charts: dict[str, str] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.map.lang

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.map.journey,
            "lang": self.lang,
            "has_measured": self.map.has_measured,
            "key_figures": [{"label": k, "value": v} for k, v in self.key_figures],
            "pain_points": self.pain_points,
            "priorities": self.priorities,
            "method": self.method,
            "charts": sorted(self.charts),
        }


def _evidence_of_stage(data: MapData, stage: str, lang: str) -> str:
    col = next(c for c in data.columns if c.stage == stage)
    parts = []
    for card in col.cards:
        m = card.measure
        if m is None or not m.has_score or m.score_value is None:
            continue
        text = f"{card.name}: {score_text(m, lang, interval=False, with_n=False)}"
        if m.score_n is not None:
            text += f" (n={fmt_int(m.score_n, lang)})"
        if m.small_sample():
            text += " ⚠"
        parts.append(text)
    return "; ".join(parts) if parts else label("evidence.hypothesis", lang)


def _key_figures(data: MapData, lang: str, pain_points: int) -> list[tuple[str, str]]:
    counts = data.evidence_counts()
    total = sum(counts.values())
    measured = total - counts["hypothesis"]
    figures = [
        (label("kpi.stages", lang), str(len(data.columns))),
        (label("kpi.touchpoints", lang), str(total)),
        (label("kpi.measured_touchpoints", lang), f"{measured} / {total}"),
        (label("kpi.pain_points", lang), str(pain_points)),
    ]
    reaches = [
        c.measure.reach_customers for c in data.cards if c.measure and c.measure.reach_customers
    ]
    if reaches:
        figures.append((label("kpi.customers", lang), fmt_int(max(reaches), lang)))
    scored: list[tuple[float, str, str]] = []
    for c in data.cards:
        m = c.measure
        e = m.emotion() if m is not None else None
        if m is not None and e is not None and m.score_value is not None:
            text = f"{c.name}: {score_text(m, lang, interval=False, with_n=False)}"
            scored.append((e[0], c.touchpoint, text))
    if scored:
        figures.append((label("kpi.lowest_score", lang), min(scored)[2]))
    if data.period:
        figures.append((label("kpi.period", lang), data.period))
    return figures


def report_data(
    journey: Journey,
    measured: MeasuredJourney | Mapping[str, Any] | None = None,
    *,
    priorities: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    charts: Mapping[str, str] | None = None,
    lang: str | None = None,
) -> ReportData:
    """Everything the report shows, as data. ``charts`` maps a title to a chart's SVG."""
    data = map_data(journey, as_measured(measured), lang=lang)
    lg = data.lang
    pains: list[dict[str, Any]] = []
    for col in data.columns:
        owners = sorted({c.owner for c in col.cards if c.owner})
        for text in col.lanes.get("pain_points", []):
            pains.append(
                {
                    "pain_point": text,
                    "stage": col.name,
                    "owner": ", ".join(owners),
                    "evidence": _evidence_of_stage(data, col.stage, lg),
                }
            )
    if priorities is not None:
        given = (
            priorities if isinstance(priorities, pd.DataFrame) else pd.DataFrame(list(priorities))
        )
        prio = [{str(k): v for k, v in r.items()} for r in given.to_dict(orient="records")]
    else:
        prio = [
            {
                "pain_point": p["pain_point"],
                "stage": p["stage"],
                "touchpoint": "",
                "owner": p["owner"],
                "status": "",
                "estimated_impact": label("report.not_measured", lg),
                "evidence": p["evidence"],
            }
            for p in pains
        ]
    chart_svgs = dict(charts or {})
    if charts is None:
        rows = [
            {
                "touchpoint": c.name,
                "metric": c.measure.score_metric,
                "value": c.measure.score_value,
                "ci_low": c.measure.score_ci_low,
                "ci_high": c.measure.score_ci_high,
                "n": c.measure.score_n or 0,
                "share": (c.measure.score_min, c.measure.score_max) == (0.0, 1.0),
            }
            for c in data.cards
            if c.measure is not None and c.measure.has_score
        ]
        if rows:
            frame = pd.DataFrame(rows).astype({"ci_low": float, "ci_high": float})
            chart_svgs[label("chart.scores", lg)] = scores_svg(scores_data(frame), lang=lg)
    method = [label("method.hypothesis", lg)] if not data.has_measured else []
    method += [
        label("method.reach", lg),
        label("method.conversion", lg),
        label("method.score", lg),
        label("method.curve", lg),
        label("method.priority", lg),
    ]
    if data.source:
        method.append(f"{label('report.source_data', lg)}: {data.source}")
    return ReportData(
        map=data,
        key_figures=_key_figures(data, lg, len(pains)),
        pain_points=pains,
        priorities=prio,
        method=method,
        charts=chart_svgs,
    )


def report_html(report: ReportData) -> str:
    """The report as one self-contained HTML page."""
    lang = report.lang
    data = report.map
    kpis = "".join(
        f'<div class="kpi"><div class="v">{esc(v)}</div><div class="l">{esc(k)}</div></div>'
        for k, v in report.key_figures
    )
    if report.pain_points:
        pains = table(
            [
                label("col.pain_point", lang),
                label("col.stage", lang),
                label("col.owner", lang),
                label("col.evidence", lang),
            ],
            [[p["pain_point"], p["stage"], p["owner"], p["evidence"]] for p in report.pain_points],
        )
    else:
        pains = f"<p>{esc(label('report.no_pain_points', lang))}</p>"
    if report.priorities:
        prio = table(
            [
                label("col.rank", lang),
                label("col.pain_point", lang),
                label("col.stage", lang),
                label("col.touchpoint", lang),
                label("col.owner", lang),
                label("col.status", lang),
                label("col.impact", lang),
                label("col.evidence", lang),
            ],
            [
                [
                    i + 1,
                    p.get("pain_point", ""),
                    p.get("stage", ""),
                    p.get("touchpoint", ""),
                    p.get("owner", ""),
                    p.get("status", ""),
                    p.get("estimated_impact", ""),
                    p.get("evidence", ""),
                ]
                for i, p in enumerate(report.priorities)
            ],
            numeric=(0,),
        )
    else:
        prio = f"<p>{esc(label('report.no_priorities', lang))}</p>"
    charts = "".join(
        f'<div class="chart"><h3>{esc(title)}</h3>{svg}</div>'
        for title, svg in report.charts.items()
    )
    method = "".join(f"<li>{esc(m)}</li>" for m in report.method)
    body = (
        f"<h1>{esc(label('report.title', lang))}: {esc(data.title)}</h1>\n"
        f"{banner(data)}\n"
        f'<h2>{esc(label("report.key_figures", lang))}</h2><div class="kpis">{kpis}</div>\n'
        f'<section class="pagebreak"><h2>{esc(label("report.map", lang))}</h2>'
        f'<div class="map-scroll">{map_svg(data)}</div></section>\n'
        f'<section class="pagebreak"><h2>{esc(label("report.pain_points", lang))}</h2>{pains}\n'
        f"<h2>{esc(label('report.priorities', lang))}</h2>{prio}</section>\n"
        + (f"<h2>{esc(label('report.charts', lang))}</h2>{charts}\n" if charts else "")
        + f"<h2>{esc(label('page.details', lang))}</h2>{details_table(data)}\n"
        f"<h2>{esc(label('report.method', lang))}</h2><ul>{method}</ul>\n"
    )
    return page(f"{label('report.title', lang)}: {data.title}", body, lang=lang)


def render_report(
    journey: Journey,
    *,
    fmt: str = "html",
    measured: MeasuredJourney | Mapping[str, Any] | None = None,
    priorities: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    charts: Mapping[str, str] | None = None,
    lang: str | None = None,
    paper: str = "A3",
    browser: Browser | None = None,
) -> str | bytes:
    """The report as ``html`` (str), ``pdf`` or ``pptx`` (bytes)."""
    if fmt not in REPORT_FORMATS:
        from ..errors import UsageError

        raise UsageError(
            f"Unknown report format {fmt!r}.", hint=f"use one of: {', '.join(REPORT_FORMATS)}."
        )
    report = report_data(journey, measured, priorities=priorities, charts=charts, lang=lang)
    if fmt == "html":
        return report_html(report)
    if browser is None:
        with Browser() as own:
            return _binary(report, fmt, paper, own)
    return _binary(report, fmt, paper, browser)


def _binary(report: ReportData, fmt: str, paper: str, browser: Browser) -> bytes:
    if fmt == "pdf":
        return browser.pdf(report_html(report), paper=paper, landscape=True)
    from .slides import report_pptx

    return report_pptx(report, browser=browser)


def save_report(
    journey: Journey,
    path: str | Path,
    *,
    measured: MeasuredJourney | Mapping[str, Any] | None = None,
    priorities: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    charts: Mapping[str, str] | None = None,
    lang: str | None = None,
    paper: str = "A3",
    browser: Browser | None = None,
) -> Path:
    """Write the report to ``path``; the format follows the suffix (.html, .pdf, .pptx)."""
    out = Path(path)
    fmt = format_of(out, REPORT_FORMATS)
    content = render_report(
        journey,
        fmt=fmt,
        measured=measured,
        priorities=priorities,
        charts=charts,
        lang=lang,
        paper=paper,
        browser=browser,
    )
    return write_output(out, content)
