"""The journey map as one SVG: stages as columns, lanes as rows, touchpoint cards, emotion curve.

Pure function of :class:`~klantreis.render.mapdata.MapData`; no ``foreignObject`` (text is
wrapped here with font metrics), no external resources, so the SVG opens anywhere and the HTML
page, PNG and PDF are the same picture. Elements carry classes and ``data-*`` attributes
(``stage-column``, ``touchpoint-card``, ``curve-point``) that tests and scripts can query.
"""

from __future__ import annotations

from dataclasses import dataclass

from .labels import fmt_int, fmt_num, fmt_pct, label
from .mapdata import Card, CurvePoint, MapData, lane_label
from .measured import SMALL_SAMPLE_N, TouchpointMeasure
from .svgdraw import Svg, attrs, esc, num, text_block
from .textfit import text_width, wrap

__all__ = ["COLORS", "map_svg", "score_text"]

COLORS = {
    "ink": "#1d2433",
    "muted": "#5b6475",
    "grid": "#d5dae3",
    "header": "#1f3a5f",
    "header_text": "#ffffff",
    "col_a": "#f5f7fb",
    "col_b": "#ffffff",
    "label_bg": "#e9edf4",
    "designed": "#2458a6",
    "measured": "#c2571a",
    "band": "#f3c9a8",
    "hypothesis": "#8a94a6",
    "partly": "#c98a00",
    "measured_ev": "#1e8a4c",
    "warn": "#b3261e",
    "pain": "#fdecea",
    "opportunity": "#e8f5ec",
}

MARGIN = 24
LABEL_W = 150
GAP = 8
PAD = 10
TEXT = 12.0
LINE = 15.6
CARD_TEXT = 11.0
CARD_LINE = 14.0
CURVE_H = 190
EVIDENCE_COLOR = {
    "hypothesis": COLORS["hypothesis"],
    "partly": COLORS["partly"],
    "measured": COLORS["measured_ev"],
}


def _column_width(n_stages: int) -> float:
    if n_stages <= 4:
        return 270
    if n_stages <= 6:
        return 235
    if n_stages <= 8:
        return 205
    return 180


@dataclass
class _CardLines:
    badge: str
    name: list[str]
    lines: list[tuple[str, str]]  # (text, css class)

    def height(self) -> float:
        return 8 + 13 + len(self.name) * 15.5 + len(self.lines) * CARD_LINE + 8


def score_text(
    m: TouchpointMeasure, lang: str, *, interval: bool = True, with_n: bool = True
) -> str:
    """``CSAT 72% [64%–79%] n=144``: a share scale (0..1) as percentages, NPS whole points."""
    metric = (m.score_metric or "score").upper()
    value = m.score_value if m.score_value is not None else 0.0
    decimals = 0 if metric == "NPS" else 1

    def show(v: float) -> str:
        if m.score_min == 0.0 and m.score_max == 1.0:  # a share, e.g. CSAT top-2-box
            return fmt_pct(v, lang)
        return fmt_num(v, lang, decimals=decimals)

    text = f"{metric} {show(value)}"
    if interval and m.score_ci_low is not None and m.score_ci_high is not None:
        text += f" [{show(m.score_ci_low)}–{show(m.score_ci_high)}]"
    if with_n and m.score_n is not None:
        text += f" n={fmt_int(m.score_n, lang)}"
    return text


def card_lines(card: Card, width_px: float, lang: str) -> _CardLines:
    """The text lines of a touchpoint card (shared with the HTML details table)."""
    inner = width_px - 2 * PAD - 4
    name = wrap(card.name, inner, 13, bold=True, max_lines=3)
    lines: list[tuple[str, str]] = []
    where = label("card.online" if card.online else "card.offline", lang)
    channel = f"{card.channel_label} · {where}"
    if not card.branded:
        channel += f" · {label('card.unbranded', lang)}"
    lines += [(t, "card-meta") for t in wrap(channel, inner, CARD_TEXT, max_lines=2)]
    owner = card.owner or label("card.no_owner", lang)
    owner_text = f"{label('card.owner', lang)}: {owner}"
    lines += [(t, "card-meta") for t in wrap(owner_text, inner, CARD_TEXT, max_lines=2)]
    m = card.measure
    if m is not None:
        if m.reach_customers is not None:
            reach = f"{label('card.reach', lang)} {fmt_int(m.reach_customers, lang)} {label('card.customers', lang)}"
            lines += [(t, "card-figure") for t in wrap(reach, inner, CARD_TEXT)]
        if m.conversion_share is not None:
            conv = f"{label('card.conversion', lang)} {fmt_pct(m.conversion_share, lang)}"
            if m.conversion_n is not None:
                conv += f" (n={fmt_int(m.conversion_n, lang)})"
            lines += [(t, "card-figure") for t in wrap(conv, inner, CARD_TEXT)]
        if m.has_score:
            lines += [(t, "card-figure") for t in wrap(score_text(m, lang), inner, CARD_TEXT)]
        if m.small_sample():
            warn = f"⚠ {label('card.small_sample', lang)} (n<{SMALL_SAMPLE_N})"
            lines += [(t, "card-warn") for t in wrap(warn, inner, CARD_TEXT)]
    badge = label(f"evidence.{card.evidence}", lang).upper()
    return _CardLines(badge=badge, name=name, lines=lines)


def _draw_card(svg: Svg, card: Card, cl: _CardLines, x: float, y: float, w: float) -> float:
    h = cl.height()
    color = EVIDENCE_COLOR[card.evidence]
    dash = "5 4" if card.evidence == "hypothesis" else None
    svg.add(
        f"<g {attrs(class_='touchpoint-card', data_touchpoint=card.touchpoint, data_evidence=card.evidence)}>"
    )
    svg.add(
        f"<rect {attrs(x=float(x), y=float(y), width=float(w), height=float(h), rx='6', fill='#ffffff', stroke=color, stroke_width='1.5', stroke_dasharray=dash)}/>"
    )
    # evidence stripe: empty for a hypothesis, half for partly, full for measured
    stripe = {"hypothesis": 0.0, "partly": 0.5, "measured": 1.0}[card.evidence]
    if stripe:
        svg.add(
            f"<rect {attrs(x=float(x), y=float(y), width='5', height=float(h * stripe), fill=color)}/>"
        )
    ty = y + 8 + 9
    svg.add(
        text_block(
            [cl.badge],
            x=x + PAD + 2,
            y=ty,
            size_px=8.5,
            fill=color,
            weight="bold",
            class_="card-evidence",
        )
    )
    if card.conversion:
        svg.add(
            text_block(
                ["★"], x=x + w - PAD, y=ty + 1, size_px=11, fill=COLORS["header"], anchor="end"
            )
        )
    ty += 4 + 13
    svg.add(
        text_block(
            cl.name,
            x=x + PAD + 2,
            y=ty,
            size_px=13,
            line_px=15.5,
            weight="bold",
            fill=COLORS["ink"],
            class_="card-name",
        )
    )
    ty += (len(cl.name) - 1) * 15.5 + CARD_LINE + 1
    for i, (text, css) in enumerate(cl.lines):
        fill = {
            "card-meta": COLORS["muted"],
            "card-figure": COLORS["ink"],
            "card-warn": COLORS["warn"],
        }[css]
        svg.add(
            text_block(
                [text],
                x=x + PAD + 2,
                y=ty + i * CARD_LINE,
                size_px=CARD_TEXT,
                fill=fill,
                class_=css,
                weight="bold" if css == "card-warn" else None,
            )
        )
    svg.add("</g>")
    return h


def _lane_cell_lines(items: list[str], lane: str, width_px: float) -> list[list[str]]:
    bullet = "" if lane in ("goal", "timeline") else "• "
    return [wrap(bullet + item, width_px, TEXT) for item in items]


def map_svg(data: MapData) -> str:
    """The map as an SVG document (a string)."""
    lang = data.lang
    n = len(data.columns)
    cw = _column_width(n)
    width = MARGIN * 2 + LABEL_W + n * (cw + GAP)
    col_x = [MARGIN + LABEL_W + GAP + i * (cw + GAP) for i in range(n)]

    # -- measure every row first ------------------------------------------------------------
    head_lines = [wrap(col.name, cw - 2 * PAD, 15, bold=True, max_lines=2) for col in data.columns]
    head_h = 16 + max(len(lines) for lines in head_lines) * 19
    rows: list[tuple[str, float]] = []
    lane_cells: dict[str, list[list[list[str]]]] = {}
    card_cache: dict[str, list[_CardLines]] = {}
    for lane in data.lanes_in_use():
        if lane == "touchpoints":
            heights = []
            for col in data.columns:
                cls = [card_lines(c, cw - 12, lang) for c in col.cards]
                card_cache[col.stage] = cls
                heights.append(sum(c.height() + 8 for c in cls))
            rows.append((lane, max([*heights, 40.0]) + 12))
        elif lane == "curve":
            rows.append((lane, float(CURVE_H)))
        else:
            cells = [
                _lane_cell_lines(col.lanes.get(lane, []), lane, cw - 2 * PAD)
                for col in data.columns
            ]
            lane_cells[lane] = cells
            label_lines = wrap(lane_label(lane, lang), LABEL_W - 2 * PAD, TEXT, bold=True)
            most = max(
                sum(len(item) for item in cell) + max(len(cell) - 1, 0) * 0.35 for cell in cells
            )
            rows.append((lane, max(most, len(label_lines)) * LINE + 2 * PAD))

    title_lines = wrap(data.title, width - 2 * MARGIN, 22, bold=True, max_lines=2)
    top = MARGIN + len(title_lines) * 27 + 52
    body_h = head_h + sum(h + GAP for _, h in rows)
    height = top + body_h + 70
    svg = Svg(
        width, height, title=f"{label('map.title', lang)}: {data.title}", class_="klantreis-map"
    )
    svg.add(f"<rect {attrs(x='0', y='0', width=num(width), height=num(height), fill='#ffffff')}/>")

    # -- title, banner, legend ------------------------------------------------------------
    svg.add(
        text_block(
            title_lines,
            x=MARGIN,
            y=MARGIN + 20,
            size_px=22,
            line_px=27,
            weight="bold",
            fill=COLORS["ink"],
            class_="map-title",
        )
    )
    counts = data.evidence_counts()
    total = sum(counts.values())
    if data.has_measured:
        banner = label(
            "page.measured_banner", lang, measured=total - counts["hypothesis"], total=total
        )
        if data.period:
            banner += f" {label('kpi.period', lang)}: {data.period}."
        banner_fill = COLORS["muted"]
    else:
        banner = label("page.hypothesis_banner", lang)
        banner_fill = COLORS["warn"]
    by = MARGIN + len(title_lines) * 27 + 12
    svg.add(
        text_block(
            [banner],
            x=MARGIN,
            y=by,
            size_px=13,
            fill=banner_fill,
            class_="map-banner",
            weight="bold" if not data.has_measured else None,
        )
    )
    _legend(svg, x=MARGIN, y=by + 24, data=data)

    # -- columns, stage headers ------------------------------------------------------------
    y0 = top
    for i, col in enumerate(data.columns):
        fill = COLORS["col_a"] if i % 2 == 0 else COLORS["col_b"]
        svg.add(
            f"<g {attrs(class_='stage-column', data_stage=col.stage, data_order=str(col.order))}>"
        )
        svg.add(
            f"<rect {attrs(x=float(col_x[i]), y=float(y0), width=float(cw), height=float(body_h), fill=fill, stroke=COLORS['grid'])}/>"
        )
        svg.add(
            f"<rect {attrs(x=float(col_x[i]), y=float(y0), width=float(cw), height=float(head_h - 4), fill=COLORS['header'], rx='4')}/>"
        )
        svg.add(
            text_block(
                head_lines[i],
                x=col_x[i] + PAD,
                y=y0 + 22,
                size_px=15,
                line_px=19,
                weight="bold",
                fill=COLORS["header_text"],
                class_="stage-name",
            )
        )
        svg.add("</g>")
    svg.add(
        text_block(
            [label("map.stage", lang)],
            x=MARGIN + PAD,
            y=y0 + 22,
            size_px=TEXT,
            weight="bold",
            fill=COLORS["muted"],
        )
    )

    # -- lanes -------------------------------------------------------------------------------
    y = float(y0 + head_h)
    for lane, h in rows:
        svg.add(f"<g {attrs(class_='lane', data_lane=lane)}>")
        svg.add(
            f"<rect {attrs(x=float(MARGIN), y=float(y), width=float(LABEL_W), height=float(h), fill=COLORS['label_bg'], rx='4')}/>"
        )
        svg.add(
            text_block(
                wrap(lane_label(lane, lang), LABEL_W - 2 * PAD, TEXT, bold=True),
                x=MARGIN + PAD,
                y=y + PAD + TEXT,
                size_px=TEXT,
                line_px=LINE,
                weight="bold",
                fill=COLORS["ink"],
            )
        )
        svg.add(
            f"<line {attrs(x1=float(MARGIN), x2=float(width - MARGIN), y1=float(y + h + GAP / 2), y2=float(y + h + GAP / 2), stroke=COLORS['grid'])}/>"
        )
        if lane == "touchpoints":
            for i, col in enumerate(data.columns):
                cy = y + 6
                for card, cl in zip(col.cards, card_cache[col.stage], strict=True):
                    cy += _draw_card(svg, card, cl, col_x[i] + 6, cy, cw - 12) + 8
        elif lane == "curve":
            _curve(svg, data, col_x, cw, y, h)
        else:
            for i, cell in enumerate(lane_cells[lane]):
                ty = y + PAD + TEXT
                if lane in ("pain_points", "opportunities") and cell:
                    tint = COLORS["pain"] if lane == "pain_points" else COLORS["opportunity"]
                    svg.add(
                        f"<rect {attrs(x=float(col_x[i] + 3), y=float(y + 3), width=float(cw - 6), height=float(h - 6), fill=tint, rx='4')}/>"
                    )
                for item in cell:
                    svg.add(
                        text_block(
                            item,
                            x=col_x[i] + PAD,
                            y=ty,
                            size_px=TEXT,
                            line_px=LINE,
                            fill=COLORS["ink"],
                            class_="lane-item",
                        )
                    )
                    ty += len(item) * LINE + LINE * 0.35
        svg.add("</g>")
        y += h + GAP

    svg.add(
        text_block(
            [f"{label('page.generated', lang)} · {data.journey}"],
            x=width - MARGIN,
            y=height - 18,
            size_px=10,
            fill=COLORS["muted"],
            anchor="end",
        )
    )
    return str(svg)


def _legend(svg: Svg, *, x: float, y: float, data: MapData) -> None:
    lang = data.lang
    parts = [("designed", label("curve.designed", data.lang))]
    if data.measured:
        parts.append(("measured", label("curve.measured", data.lang)))
    cx = float(x)
    for kind, text in parts:
        color = COLORS[kind]
        dash = "6 4" if kind == "designed" else None
        svg.add(
            f"<line {attrs(x1=float(cx), x2=float(cx + 26), y1=float(y - 4), y2=float(y - 4), stroke=color, stroke_width='3', stroke_dasharray=dash)}/>"
        )
        svg.add(text_block([text], x=cx + 32, y=y, size_px=11, fill=COLORS["ink"]))
        cx += 32 + text_width(text, 11) + 24
    if any(p.low is not None for p in data.measured):
        svg.add(
            f"<rect {attrs(x=float(cx), y=float(y - 10), width='26', height='12', fill=COLORS['band'])}/>"
        )
        interval = label("curve.interval", lang)
        svg.add(text_block([interval], x=cx + 32, y=y, size_px=11, fill=COLORS["ink"]))
        cx += 32 + text_width(interval, 11) + 30
    evidence_title = label("evidence.title", lang) + ":"
    svg.add(text_block([evidence_title], x=cx, y=y, size_px=11, weight="bold", fill=COLORS["ink"]))
    cx += text_width(evidence_title, 11, bold=True) + 10
    for ev in ("hypothesis", "partly", "measured"):
        color = EVIDENCE_COLOR[ev]
        dash = "4 3" if ev == "hypothesis" else None
        svg.add(
            f"<rect {attrs(x=float(cx), y=float(y - 11), width='18', height='14', rx='3', fill='#ffffff', stroke=color, stroke_width='1.5', stroke_dasharray=dash)}/>"
        )
        share = {"hypothesis": 0.0, "partly": 0.5, "measured": 1.0}[ev]
        if share:
            svg.add(
                f"<rect {attrs(x=float(cx), y=float(y - 11), width='4', height=float(14 * share), fill=color)}/>"
            )
        text = label(f"evidence.{ev}", lang)
        svg.add(text_block([text], x=cx + 24, y=y, size_px=11, fill=COLORS["ink"]))
        cx += 24 + text_width(text, 11) + 20


def _point_x(data: MapData, col_x: list[float], cw: float) -> dict[str, float]:
    """x of every curve key: touchpoints spread evenly in their column, stages at the centre."""
    xs: dict[str, float] = {}
    for i, col in enumerate(data.columns):
        xs[col.stage] = col_x[i] + cw / 2
        k = len(col.cards)
        for j, card in enumerate(col.cards):
            xs[card.touchpoint] = col_x[i] + (j + 0.5) * cw / k
    return xs


def _curve(svg: Svg, data: MapData, col_x: list[float], cw: float, y: float, h: float) -> None:
    lang = data.lang
    top, bottom = y + 30, y + h - 26

    def vy(v: float) -> float:
        return bottom - (v + 2) / 4 * (bottom - top)

    x_left, x_right = col_x[0], col_x[-1] + cw
    for level in (-2, -1, 0, 1, 2):
        svg.add(
            f"<line {attrs(x1=float(x_left), x2=float(x_right), y1=float(vy(level)), y2=float(vy(level)), stroke=COLORS['grid'], stroke_width='1.5' if level == 0 else '1', stroke_dasharray=None if level == 0 else '2 4')}/>"
        )
        sign = "+" if level > 0 else ("−" if level < 0 else "")
        svg.add(
            text_block(
                [f"{sign}{abs(level)}"],
                x=MARGIN + LABEL_W - PAD,
                y=vy(level) + 4,
                size_px=10,
                fill=COLORS["muted"],
                anchor="end",
            )
        )
    xs = _point_x(data, col_x, cw)
    if not data.designed and not data.measured:
        svg.add(
            text_block(
                [label("curve.none", lang)],
                x=x_left + PAD,
                y=vy(0) - 8,
                size_px=TEXT,
                fill=COLORS["muted"],
            )
        )
        return
    # measured band (interval) first, so lines are drawn over it
    band = [p for p in data.measured if p.low is not None and p.high is not None]
    if len(band) >= 2:
        upper = [f"{num(xs[p.key])},{num(vy(p.high or 0))}" for p in band]
        lower = [f"{num(xs[p.key])},{num(vy(p.low or 0))}" for p in reversed(band)]
        svg.add(
            f"<polygon {attrs(class_='curve-band', points=' '.join(upper + lower), fill=COLORS['band'], fill_opacity='0.6')}/>"
        )
    for p in band:
        svg.add(
            f"<line {attrs(class_='curve-interval', x1=float(xs[p.key]), x2=float(xs[p.key]), y1=float(vy(p.low or 0)), y2=float(vy(p.high or 0)), stroke=COLORS['measured'], stroke_width='1.5', stroke_opacity='0.7')}/>"
        )
    # labels of peaks and valleys avoid every point and every label placed before them
    placed: list[tuple[float, float, float, float]] = [
        (xs[p.key] - 7, vy(p.value) - 7, xs[p.key] + 7, vy(p.value) + 7)
        for p in [*data.designed, *data.measured]
    ]
    for kind, points in (("designed", data.designed), ("measured", data.measured)):
        color = COLORS[kind]
        if len(points) >= 2:
            path = " ".join(f"{num(xs[p.key])},{num(vy(p.value))}" for p in points)
            svg.add(
                f"<polyline {attrs(class_=f'curve-line curve-{kind}', points=path, fill='none', stroke=color, stroke_width='3', stroke_linejoin='round', stroke_dasharray='7 5' if kind == 'designed' else None)}/>"
            )
        for p in points:
            _curve_point(svg, p, xs[p.key], vy(p.value), color, lang, placed)


def _free_y(
    placed: list[tuple[float, float, float, float]],
    box: tuple[float, float, float, float],
    step: float,
) -> float:
    """Shift a label box vertically by ``step`` until it overlaps no placed box; returns the shift."""
    x0, y0, x1, y1 = box
    shift = 0.0
    for _ in range(6):
        if not any(
            x0 < bx1 and bx0 < x1 and y0 + shift < by1 and by0 < y1 + shift
            for bx0, by0, bx1, by1 in placed
        ):
            break
        shift += step
    placed.append((x0, y0 + shift, x1, y1 + shift))
    return shift


def _curve_point(
    svg: Svg,
    p: CurvePoint,
    x: float,
    y: float,
    color: str,
    lang: str,
    placed: list[tuple[float, float, float, float]],
) -> None:
    title = f"{p.key}: {fmt_num(p.value, lang, decimals=1)}"
    if p.low is not None and p.high is not None:
        title += f" [{fmt_num(p.low, lang)}–{fmt_num(p.high, lang)}]"
    if p.n is not None:
        title += f" n={p.n}"
    css = f"curve-point curve-{p.curve}"
    if p.curve == "designed":
        shape = f"<circle {attrs(cx=float(x), cy=float(y), r='5.5', fill='#ffffff', stroke=color, stroke_width='2.5')}/>"
    else:
        d = 6.0
        pts = f"{num(x)},{num(y - d)} {num(x + d)},{num(y)} {num(x)},{num(y + d)} {num(x - d)},{num(y)}"
        small = p.n is not None and p.n < SMALL_SAMPLE_N
        shape = f"<polygon {attrs(points=pts, fill='#ffffff' if small else color, stroke=color, stroke_width='2')}/>"
    svg.add(
        f"<g {attrs(class_=css, data_key=p.key, data_value=fmt_num(p.value, 'en', decimals=2), data_mark=p.mark)}><title>{esc(title)}</title>{shape}</g>"
    )
    if p.mark is not None:
        up = p.mark == "peak"
        text = ("▲ " if up else "▼ ") + label(f"curve.{p.mark}", lang)
        base = y - 11 if up else y + 19
        half = text_width(text, 10, bold=True) / 2
        base += _free_y(placed, (x - half, base - 10, x + half, base + 2), -12 if up else 12)
        svg.add(
            text_block(
                [text],
                x=x,
                y=base,
                size_px=10,
                fill=color,
                anchor="middle",
                weight="bold",
                class_=f"curve-mark curve-{p.mark}",
            )
        )
