"""SVG renderers for the charts: each takes what its ``charts.*_data`` function returned.

Hand-written SVG (no library, no scripts, no web fonts), so charts work offline in the HTML
reports and in the web app. Honesty rules: every rate shows its n, intervals are drawn where
readers compare, and n < 30 is marked with "⚠" and a hollow marker.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from .labels import fmt_int, fmt_num, fmt_pct, label
from .svgdraw import Svg, attrs, esc, text_block
from .textfit import truncate

__all__ = [
    "CHART_RENDERERS",
    "attribution_svg",
    "funnel_svg",
    "kpi_svg",
    "pain_points_svg",
    "paths_svg",
    "personas_svg",
    "scores_svg",
    "timing_svg",
    "transitions_svg",
    "trends_svg",
]

W = 760
LABEL_W = 210
INK, MUTED, GRID = "#1d2433", "#5b6475", "#d5dae3"
BAR, WARN, BAND = "#2458a6", "#b3261e", "#f3c9a8"
PALETTE = ["#2458a6", "#c2571a", "#1e8a4c", "#7b3fa0", "#c98a00", "#0f7c8c", "#8a94a6"]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _start(title: str, height: float) -> Svg:
    svg = Svg(W, height, title=title, class_="klantreis-chart")
    svg.add(f"<rect {attrs(x='0', y='0', width=str(W), height=f'{height:g}', fill='#ffffff')}/>")
    svg.add(text_block([title], x=12, y=24, size_px=15, weight="bold", fill=INK))
    return svg


def _note(svg: Svg, text: str, y: float) -> None:
    svg.add(text_block([text], x=12, y=y, size_px=11, fill=MUTED, class_="chart-note"))


def _empty(title: str, lang: str) -> str:
    svg = _start(title, 70)
    _note(svg, label("chart.no_data", lang), 52)
    return str(svg)


def _row_label(svg: Svg, text: str, y: float) -> None:
    svg.add(text_block([truncate(text, LABEL_W - 20, 12)], x=12, y=y, size_px=12, fill=INK))


def funnel_svg(data: pd.DataFrame, *, lang: str = "en") -> str:
    title = label("chart.funnel", lang)
    if data.empty:
        return _empty(title, lang)
    row = 34
    svg = _start(title, 50 + row * len(data) + 30)
    start = max(int(data["customers"].iloc[0]), 1)
    bar_w = W - LABEL_W - 230
    for i, r in enumerate(_records(data)):
        y = 44 + i * row
        _row_label(svg, str(r["step"]), y + 15)
        w = bar_w * r["customers"] / start
        svg.add(
            f"<rect {attrs(class_='bar', x=float(LABEL_W), y=float(y), width=float(w), height='22', fill=BAR)}/>"
        )
        text = f"{fmt_int(r['customers'], lang)} · {fmt_pct(r['share_of_start'], lang)} {label('chart.of_start', lang)}"
        if i > 0 and not pd.isna(r["share_of_previous"]):
            text += f" · {fmt_pct(r['share_of_previous'], lang)} (n={fmt_int(r['previous_customers'], lang)})"
        if r["small_sample"] and i > 0:
            text += " ⚠"
        svg.add(
            text_block(
                [text],
                x=LABEL_W + w + 6,
                y=y + 15,
                size_px=11,
                fill=WARN if r["small_sample"] else INK,
            )
        )
    _note(
        svg,
        f"{label('chart.customers', lang)}; % {label('chart.of_previous', lang)} (n) · "
        + label("chart.small_sample_note", lang),
        50 + row * len(data) + 18,
    )
    return str(svg)


def paths_svg(data: dict[str, Any], *, lang: str = "en") -> str:
    title = label("chart.paths", lang)
    nodes: pd.DataFrame = data["nodes"]
    if nodes.empty:
        return _empty(title, lang)
    positions = int(nodes["position"].max()) + 1
    height = 380.0
    svg = _start(title, height + 40)
    top, bottom = 44.0, height - 10
    col_w = (W - 40) / positions
    scale = (bottom - top - 8 * 10) / max(
        float(nodes.groupby("position")["customers"].sum().max()), 1.0
    )
    place: dict[tuple[int, str], tuple[float, float, float]] = {}
    for pos_key, group in nodes.groupby("position", sort=True):
        pos = int(str(pos_key))
        y = top
        for r in _records(group):
            h = max(r["customers"] * scale, 2.0)
            x = 20 + int(pos) * col_w
            place[(int(pos), str(r["step"]))] = (x, y, h)
            y += h + 10
    out_used: dict[tuple[int, str], float] = {}
    in_used: dict[tuple[int, str], float] = {}
    for i, r in enumerate(_records(data["links"].sort_values("customers", ascending=False))):
        a, b = (int(r["position"]), str(r["source"])), (int(r["position"]) + 1, str(r["target"]))
        ax, ay, _ = place[a]
        bx, by, _ = place[b]
        h = r["customers"] * scale
        y1 = ay + out_used.get(a, 0.0)
        y2 = by + in_used.get(b, 0.0)
        out_used[a] = out_used.get(a, 0.0) + h
        in_used[b] = in_used.get(b, 0.0) + h
        x1, x2 = ax + 12, bx
        mid = (x1 + x2) / 2
        d = (
            f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f} "
            f"L{x2:.1f},{y2 + h:.1f} C{mid:.1f},{y2 + h:.1f} {mid:.1f},{y1 + h:.1f} {x1:.1f},{y1 + h:.1f} Z"
        )
        color = PALETTE[i % len(PALETTE)]
        svg.add(
            f"<path {attrs(class_='link', d=d, fill=color, fill_opacity='0.28')}><title>{esc(str(r['source']) + ' → ' + str(r['target']) + ': ' + str(r['customers']))}</title></path>"
        )
    for (_pos, step), (x, y, h) in place.items():
        customers = int(
            nodes[(nodes["position"] == _pos) & (nodes["step"] == step)]["customers"].iloc[0]
        )
        svg.add(
            f"<rect {attrs(class_='node', x=float(x), y=float(y), width='12', height=float(h), fill=INK)}/>"
        )
        svg.add(
            text_block(
                [truncate(step, col_w - 24, 11), fmt_int(customers, lang)],
                x=x + 16,
                y=y + 11,
                size_px=11,
                line_px=13,
                fill=INK,
            )
        )
    hidden = data["hidden_paths"]
    note = f"{fmt_int(data['total_customers'], lang)} {label('chart.customers', lang)}"
    if hidden:
        note += (
            f" · {label('chart.hidden', lang, n=hidden)} ({label('chart.other', lang)}: "
            f"{fmt_int(data['hidden_customers'], lang)} {label('chart.customers', lang)})"
        )
    _note(svg, note, height + 26)
    return str(svg)


def transitions_svg(data: dict[str, Any], *, lang: str = "en") -> str:
    """An arc diagram: nodes on a line in journey order, forward arcs above, backward below."""
    title = label("chart.transitions", lang)
    nodes = list(data["nodes"]["node"])
    edges: pd.DataFrame = data["edges"]
    if not nodes:
        return _empty(title, lang)
    height = 420.0
    svg = _start(title, height)
    axis = 230.0
    step = (W - 80) / max(len(nodes) - 1, 1)
    x = {n: 40 + i * step for i, n in enumerate(nodes)}
    biggest = max(int(edges["customers"].max()) if len(edges) else 1, 1)
    for r in _records(edges):
        if r["source"] == r["target"]:
            continue
        x1, x2 = x[r["source"]], x[r["target"]]
        forward = x2 > x1
        rise = min(abs(x2 - x1) / 2, 170.0) * (-1 if forward else 1)
        width = 1 + 9 * r["customers"] / biggest
        d = f"M{x1:.1f},{axis:.1f} C{x1:.1f},{axis + rise:.1f} {x2:.1f},{axis + rise:.1f} {x2:.1f},{axis:.1f}"
        tip = f"{r['source']} → {r['target']}: {r['customers']} ({fmt_pct(r['share_of_source'], lang)})"
        svg.add(
            f"<path {attrs(class_='edge', d=d, fill='none', stroke=BAR if forward else WARN, stroke_width=f'{width:.1f}', stroke_opacity='0.55')}><title>{esc(tip)}</title></path>"
        )
    for n in nodes:
        svg.add(f"<circle {attrs(class_='node', cx=float(x[n]), cy=axis, r='6', fill=INK)}/>")
        svg.add(
            f"<text {attrs(x=float(x[n]), y=axis + 16, font_size='11', fill=INK, transform=f'rotate(35 {x[n]:.1f} {axis + 16:.1f})')}>{esc(truncate(n, 120, 11))}</text>"
        )
    note = label("chart.hidden", lang, n=data["hidden_edges"]) + (
        f" ({fmt_int(data['hidden_customers'], lang)} {label('chart.customers', lang)})"
    )
    _note(svg, note, height - 10)
    return str(svg)


def _interval_rows(
    svg: Svg,
    rows: list[tuple[str, float, float, float, int, bool, str]],
    *,
    lo: float,
    hi: float,
    top: float,
    lang: str,
    fmt: Callable[[float], str],
) -> None:
    """Dot-and-interval rows: (label, value, low, high, n, small, colour)."""
    plot_w = W - LABEL_W - 170

    def vx(v: float) -> float:
        return LABEL_W + (v - lo) / (hi - lo) * plot_w if hi > lo else LABEL_W

    for t in (lo, (lo + hi) / 2, hi):
        svg.add(
            f"<line {attrs(x1=vx(t), x2=vx(t), y1=top - 6, y2=top + 28 * len(rows), stroke=GRID)}/>"
        )
        svg.add(text_block([fmt(t)], x=vx(t), y=top - 10, size_px=10, fill=MUTED, anchor="middle"))
    for i, (name, value, low, high, n, small, color) in enumerate(rows):
        y = top + 14 + i * 28
        _row_label(svg, name, y + 4)
        if not (math.isnan(low) or math.isnan(high)):
            svg.add(
                f"<line {attrs(class_='interval', x1=vx(low), x2=vx(high), y1=y, y2=y, stroke=color, stroke_width='3')}/>"
            )
        svg.add(
            f"<circle {attrs(class_='estimate', cx=vx(value), cy=y, r='6', fill='#ffffff' if small else color, stroke=color, stroke_width='2')}/>"
        )
        text = f"{fmt(value)}  n={fmt_int(n, lang)}" + (" ⚠" if small else "")
        svg.add(
            text_block(
                [text], x=LABEL_W + plot_w + 14, y=y + 4, size_px=11, fill=WARN if small else INK
            )
        )


def scores_svg(data: pd.DataFrame, *, lang: str = "en") -> str:
    """Scores with their intervals; one panel (and one axis) per metric, never mixed scales."""
    title = label("chart.scores", lang)
    if data.empty:
        return _empty(title, lang)
    groups = [g for _, g in data.groupby("metric", sort=False)]
    heading = 22 if len(groups) > 1 else 0
    height = 62 + sum(heading + 28 * len(g) + 34 for g in groups) + 10
    svg = _start(title, height)
    top = 62.0
    for g in groups:
        metric = str(g["metric"].iloc[0]).upper()
        if heading:
            svg.add(text_block([metric], x=LABEL_W, y=top - 4, size_px=12, fill=INK))
            top += heading
        rows = [
            (
                f"{r['touchpoint']} ({metric})",
                float(r["value"]),
                float(r["ci_low"]),
                float(r["ci_high"]),
                int(r["n"]),
                bool(r["small_sample"]),
                BAR,
            )
            for r in _records(g)
        ]
        lo = float(min(g["ci_low"].min(), g["value"].min()))
        hi = float(max(g["ci_high"].max(), g["value"].max()))
        pad = (hi - lo) * 0.05 or 1.0
        shares = "share" in g and bool(g["share"].all())  # e.g. CSAT as a top-2-box share
        lo, hi = lo - pad, hi + pad
        if shares:  # a share axis never runs below 0% or above 100%
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        _interval_rows(
            svg,
            rows,
            lo=lo,
            hi=hi,
            top=top,
            lang=lang,
            fmt=(lambda v: fmt_pct(v, lang)) if shares else (lambda v: fmt_num(v, lang)),
        )
        top += 28 * len(g) + 34
    _note(svg, label("chart.small_sample_note", lang), top - 4)
    return str(svg)


def timing_svg(data: pd.DataFrame, *, lang: str = "en") -> str:
    title = label("chart.timing", lang)
    if data.empty:
        return _empty(title, lang)
    unit = str(data["unit"].iloc[0]) if "unit" in data else "days"
    unit_label = label(f"chart.{unit}", lang) if unit in ("days", "hours") else unit
    svg = _start(f"{title} ({unit_label})", 80 + 28 * len(data) + 30)
    rows = [
        (
            str(r["step"]),
            float(r["median"]),
            float(r["p25"]),
            float(r["p75"]),
            int(r["n"]),
            bool(r["small_sample"]),
            BAR,
        )
        for r in _records(data)
    ]
    hi = float(max(data["p75"].max(), data["median"].max())) or 1.0
    _interval_rows(
        svg, rows, lo=0.0, hi=hi * 1.05, top=62, lang=lang, fmt=lambda v: fmt_num(v, lang)
    )
    _note(
        svg,
        f"{label('chart.median', lang)} · p25–p75 · " + label("chart.small_sample_note", lang),
        80 + 28 * len(data) + 16,
    )
    return str(svg)


def kpi_svg(data: pd.DataFrame, *, lang: str = "en", name: str | None = None) -> str:
    title = label("chart.kpi", lang) + (f": {name}" if name else "")
    if data.empty:
        return _empty(title, lang)
    height = 300.0
    svg = _start(title, height)
    left, right, top, bottom = 60.0, W - 20.0, 50.0, height - 60
    values = [v for v in data["value"]]
    lows = [v if v is not None and not pd.isna(v) else None for v in data["ci_low"]]
    highs = [v if v is not None and not pd.isna(v) else None for v in data["ci_high"]]
    lo = min([*values, *[v for v in lows if v is not None]])
    hi = max([*values, *[v for v in highs if v is not None]])
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    n = len(data)

    def vx(i: int) -> float:
        return left + (i + 0.5) * (right - left) / n

    def vy(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    for t in (lo, (lo + hi) / 2, hi):
        svg.add(f"<line {attrs(x1=left, x2=right, y1=vy(t), y2=vy(t), stroke=GRID)}/>")
        svg.add(
            text_block(
                [fmt_num(t, lang)], x=left - 6, y=vy(t) + 4, size_px=10, fill=MUTED, anchor="end"
            )
        )
    band = [
        (i, lows[i], highs[i]) for i in range(n) if lows[i] is not None and highs[i] is not None
    ]
    if len(band) >= 2:
        pts = [f"{vx(i):.1f},{vy(h or 0):.1f}" for i, _, h in band]
        pts += [f"{vx(i):.1f},{vy(lo_ or 0):.1f}" for i, lo_, _ in reversed(band)]
        svg.add(
            f"<polygon {attrs(class_='band', points=' '.join(pts), fill=BAND, fill_opacity='0.6')}/>"
        )
    line = " ".join(f"{vx(i):.1f},{vy(v):.1f}" for i, v in enumerate(values))
    svg.add(f"<polyline {attrs(points=line, fill='none', stroke=BAR, stroke_width='2.5')}/>")
    every = max(1, math.ceil(n / 12))
    for i, r in enumerate(_records(data)):
        small = bool(r["small_sample"])
        tip = f"{r['period']}: {fmt_num(r['value'], lang)}" + (
            f" n={r['n']}" if r["n"] is not None and not pd.isna(r["n"]) else ""
        )
        svg.add(
            f"<circle {attrs(class_='point', cx=vx(i), cy=vy(r['value']), r='4.5', fill='#ffffff' if small else BAR, stroke=WARN if small else BAR, stroke_width='2')}><title>{esc(tip)}</title></circle>"
        )
        if i % every == 0:
            svg.add(
                text_block(
                    [str(r["period"])],
                    x=vx(i),
                    y=bottom + 18,
                    size_px=10,
                    fill=MUTED,
                    anchor="middle",
                )
            )
    _note(svg, label("chart.small_sample_note", lang) + " (○)", height - 14)
    return str(svg)


def attribution_svg(data: pd.DataFrame, *, lang: str = "en") -> str:
    title = label("chart.attribution", lang)
    models = [c for c in data.columns if c != "touchpoint"]
    if data.empty or not models:
        return _empty(title, lang)
    bar_h = 9
    group_h = bar_h * len(models) + 12
    svg = _start(title, 70 + group_h * len(data) + 24)
    cx = 12.0
    for j, m in enumerate(models):
        svg.add(
            f"<rect {attrs(x=cx, y='36', width='12', height='10', fill=PALETTE[j % len(PALETTE)])}/>"
        )
        svg.add(text_block([m], x=cx + 16, y=45, size_px=11, fill=INK))
        cx += 16 + len(m) * 7 + 18
    top = max(float(data[models].to_numpy().max()), 0.01)
    plot_w = W - LABEL_W - 70
    for i, r in enumerate(data.itertuples(index=False, name=None)):
        y = 60 + i * group_h
        _row_label(svg, str(r[0]), y + bar_h * len(models) / 2 + 4)
        for j in range(len(models)):
            share = float(r[1 + j])
            w = plot_w * share / top
            yy = y + j * bar_h
            svg.add(
                f"<rect {attrs(class_='bar', x=float(LABEL_W), y=float(yy), width=float(w), height=str(bar_h - 1), fill=PALETTE[j % len(PALETTE)])}/>"
            )
            svg.add(
                text_block(
                    [fmt_pct(share, lang)], x=LABEL_W + w + 4, y=yy + 8, size_px=9, fill=MUTED
                )
            )
    return str(svg)


def personas_svg(data: pd.DataFrame, *, lang: str = "en") -> str:
    title = label("chart.personas", lang)
    if data.empty:
        return _empty(title, lang)
    row = 30
    svg = _start(title, 50 + row * len(data) + 30)
    biggest = max(int(data["customers"].max()), 1)
    bar_w = W - LABEL_W - 230
    for i, r in enumerate(_records(data)):
        y = 44 + i * row
        _row_label(svg, str(r["persona"]), y + 14)
        w = bar_w * r["customers"] / biggest
        svg.add(
            f"<rect {attrs(class_='bar', x=float(LABEL_W), y=float(y), width=float(w), height='20', fill=PALETTE[i % len(PALETTE)])}/>"
        )
        text = f"{fmt_int(r['customers'], lang)} ({fmt_pct(r['share'], lang)})"
        if r["conversion_share"] is not None and not pd.isna(r["conversion_share"]):
            text += f" · {label('card.conversion', lang)} {fmt_pct(r['conversion_share'], lang)}"
        if r["small_sample"]:
            text += " ⚠"
        svg.add(
            text_block(
                [text],
                x=LABEL_W + w + 6,
                y=y + 14,
                size_px=11,
                fill=WARN if r["small_sample"] else INK,
            )
        )
    _note(svg, label("chart.small_sample_note", lang), 50 + row * len(data) + 18)
    return str(svg)


def _duration(seconds: float, lang: str) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if abs(seconds) >= size:
            return f"{fmt_num(seconds / size, lang)} {unit}"
    return f"{fmt_int(seconds, lang)} s"


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def pain_points_svg(data: dict[str, Any], *, lang: str = "en") -> str:
    """Pain points ranked by priority (reach × severity): one bar each, its evidence below."""
    title = label("chart.pain_points", lang)
    rows: pd.DataFrame = data["rows"]
    if rows.empty:
        return _empty(title, lang)
    row = 44
    height = 50 + row * len(rows) + 30
    svg = _start(title, height)
    top = max(float(rows["priority"].max()), 1e-9)
    bar_w = W - LABEL_W - 90
    for i, r in enumerate(_records(rows)):
        y = 44 + i * row
        _row_label(svg, f"{r['rank']}. {r['touchpoint']}", y + 13)
        w = max(bar_w * float(r["priority"]) / top, 1.0)
        svg.add(
            f"<rect {attrs(class_='bar', x=float(LABEL_W), y=float(y), width=float(w), height='18', fill=WARN if i < 3 else BAR)}/>"
        )
        svg.add(
            text_block(
                [fmt_num(float(r["priority"]), lang, decimals=3)],
                x=LABEL_W + w + 6,
                y=y + 13,
                size_px=11,
                fill=INK,
            )
        )
        evidence: list[str] = []
        if _present(r["reach_share"]):
            reach = f"{label('chart.reach', lang)} {fmt_pct(r['reach_share'], lang)}"
            if _present(r["reach_customers"]):
                reach += f" ({fmt_int(r['reach_customers'], lang)})"
            evidence.append(reach)
        if _present(r["score_value"]) and _present(r["score_metric"]):
            metric = str(r["score_metric"])
            value = (
                fmt_pct(r["score_value"], lang)
                if metric.lower() == "csat"
                else fmt_num(r["score_value"], lang)
            )
            score = f"{metric.upper()} {value}"
            if _present(r["score_n"]):
                score += f" (n={fmt_int(r['score_n'], lang)})" + (" ⚠" if r["small_sample"] else "")
            evidence.append(score)
        if _present(r["drop_off_share"]):
            evidence.append(f"{label('chart.drop_off', lang)} {fmt_pct(r['drop_off_share'], lang)}")
        if _present(r["median_seconds_after"]):
            evidence.append(
                f"{label('chart.median', lang)} {_duration(float(r['median_seconds_after']), lang)} "
                + label("chart.to_next", lang)
            )
        svg.add(
            text_block(
                [" · ".join(evidence)],
                x=LABEL_W,
                y=y + 32,
                size_px=10.5,
                fill=WARN if r["small_sample"] else MUTED,
                class_="evidence",
            )
        )
    note = label("chart.priority_note", lang)
    if data.get("hidden"):
        note += " · " + label("chart.hidden", lang, n=data["hidden"])
    _note(svg, note, height - 14)
    return str(svg)


def trends_svg(data: dict[str, Any], *, lang: str = "en") -> str:
    """Small multiples: one panel per group (stage), the same metric and scale in every panel,
    the 95% interval as a band, small samples as hollow points."""
    series: pd.DataFrame = data["series"]
    metric = str(data.get("metric") or "")
    title = label("chart.trends", lang) + (f": {metric.upper()}" if metric else "")
    if series.empty:
        return _empty(title, lang)
    share = bool(data.get("share"))

    def fmt(v: float) -> str:
        return fmt_pct(v, lang) if share else fmt_num(v, lang)

    groups = list(dict.fromkeys(series["group"]))
    cols = 2 if len(groups) > 1 else 1
    panel_w, panel_h = (W - 24) / cols, 150.0
    grid_rows = math.ceil(len(groups) / cols)
    height = 44 + grid_rows * (panel_h + 26) + 24
    svg = _start(title, height)
    vals = [float(v) for v in series["value"]]
    vals += [float(v) for v in series["ci_low"] if not pd.isna(v)]
    vals += [float(v) for v in series["ci_high"] if not pd.isna(v)]
    lo, hi = min(vals), max(vals)
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    periods = sorted(set(series["period"]))
    slot = {p: i for i, p in enumerate(periods)}
    for k, name in enumerate(groups):
        g = series[series["group"] == name]
        px = 12 + (k % cols) * panel_w
        py = 44 + (k // cols) * (panel_h + 26)
        left, right = px + 52, px + panel_w - 14
        ptop, bottom = py + 22, py + panel_h - 18
        svg.add(
            text_block(
                [truncate(str(name), panel_w - 20, 12)],
                x=px,
                y=py + 10,
                size_px=12,
                weight="bold",
                fill=INK,
            )
        )

        def vx(p: str, left: float = left, right: float = right) -> float:
            return left + (slot[p] + 0.5) * (right - left) / len(periods)

        def vy(v: float, ptop: float = ptop, bottom: float = bottom) -> float:
            return bottom - (v - lo) / (hi - lo) * (bottom - ptop)

        for t in (lo, hi):
            svg.add(f"<line {attrs(x1=left, x2=right, y1=vy(t), y2=vy(t), stroke=GRID)}/>")
            svg.add(
                text_block([fmt(t)], x=left - 6, y=vy(t) + 4, size_px=10, fill=MUTED, anchor="end")
            )
        recs = _records(g)
        band = [r for r in recs if not pd.isna(r["ci_low"]) and not pd.isna(r["ci_high"])]
        if len(band) >= 2:
            pts = [f"{vx(r['period']):.1f},{vy(r['ci_high']):.1f}" for r in band]
            pts += [f"{vx(r['period']):.1f},{vy(r['ci_low']):.1f}" for r in reversed(band)]
            svg.add(
                f"<polygon {attrs(class_='band', points=' '.join(pts), fill=BAND, fill_opacity='0.6')}/>"
            )
        line = " ".join(f"{vx(r['period']):.1f},{vy(r['value']):.1f}" for r in recs)
        svg.add(f"<polyline {attrs(points=line, fill='none', stroke=BAR, stroke_width='2')}/>")
        for r in recs:
            small = bool(r["small_sample"])
            tip = f"{name} {r['period']}: {fmt(r['value'])}" + (
                f" n={fmt_int(r['n'], lang)}" if not pd.isna(r["n"]) else ""
            )
            svg.add(
                f"<circle {attrs(class_='point', cx=vx(r['period']), cy=vy(r['value']), r='3.5', fill='#ffffff' if small else BAR, stroke=WARN if small else BAR, stroke_width='1.5')}><title>{esc(tip)}</title></circle>"
            )
        for p in (periods[0], periods[-1]) if len(periods) > 1 else (periods[0],):
            svg.add(
                text_block([p[:7]], x=vx(p), y=bottom + 14, size_px=10, fill=MUTED, anchor="middle")
            )
        last = recs[-1]
        n_text = f" (n={fmt_int(last['n'], lang)})" if not pd.isna(last["n"]) else ""
        n_text += " ⚠" if last["small_sample"] else ""
        svg.add(
            text_block(
                [f"{label('chart.latest', lang)}: {fmt(last['value'])}{n_text}"],
                x=px + panel_w - 14,
                y=py + 10,
                size_px=10.5,
                fill=INK,
                anchor="end",
            )
        )
    _note(
        svg,
        f"{label('curve.interval', lang)} · " + label("chart.small_sample_note", lang) + " (○)",
        height - 12,
    )
    return str(svg)


#: chart name -> SVG renderer of its ``charts.<name>_data`` output
CHART_RENDERERS: dict[str, Callable[..., str]] = {
    "funnel": funnel_svg,
    "paths": paths_svg,
    "transitions": transitions_svg,
    "scores": scores_svg,
    "timing": timing_svg,
    "kpi": kpi_svg,
    "attribution": attribution_svg,
    "personas": personas_svg,
    "pain_points": pain_points_svg,
    "trends": trends_svg,
}
