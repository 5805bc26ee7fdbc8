"""Self-contained HTML pages: inline CSS and SVG, no scripts, no fonts, no network.

One file that can be mailed around and opened offline. Print rules (``@page``) make the map
fit one A3 landscape page; on screen the map keeps its natural size and scrolls sideways.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .labels import fmt_int, fmt_pct, label
from .map_svg import score_text
from .mapdata import MapData
from .measured import SMALL_SAMPLE_N
from .svgdraw import esc
from .textfit import FONT_FAMILY

__all__ = ["CSS", "map_html", "page", "table"]

CSS = f"""
*{{box-sizing:border-box}}
body{{font-family:{FONT_FAMILY};color:#1d2433;margin:24px;line-height:1.4;background:#fff}}
h1{{font-size:26px;margin:0 0 4px}} h2{{font-size:20px;margin:28px 0 8px;border-bottom:2px solid #1f3a5f;padding-bottom:4px}}
.banner{{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:bold}}
.banner.hypothesis{{background:#fdecea;color:#b3261e;border:1px solid #f1b6b1}}
.banner.measured{{background:#e8f5ec;color:#1e6b3d;border:1px solid #b5dcc3}}
.map-scroll{{overflow-x:auto;border:1px solid #d5dae3;border-radius:6px}}
.map-scroll svg{{display:block;max-width:none;height:auto}}
table{{border-collapse:collapse;margin:8px 0 16px;font-size:13px}}
th,td{{border:1px solid #d5dae3;padding:5px 8px;text-align:left;vertical-align:top}}
th{{background:#e9edf4}} td.num{{text-align:right;font-variant-numeric:tabular-nums}}
.warn{{color:#b3261e;font-weight:bold}}
.kpis{{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}}
.kpi{{border:1px solid #d5dae3;border-radius:6px;padding:10px 14px;min-width:160px}}
.kpi .v{{font-size:24px;font-weight:bold}} .kpi .l{{font-size:12px;color:#5b6475}}
.chart{{margin:8px 0 20px;overflow-x:auto}} .chart svg{{max-width:100%;height:auto}}
.muted{{color:#5b6475;font-size:12px}}
footer{{margin-top:24px;color:#5b6475;font-size:12px}}
@page{{size:A3 landscape;margin:10mm}}
@media print{{
  body{{margin:0}}
  .map-scroll{{overflow:visible;border:none}}
  .map-scroll svg{{width:100%;max-height:270mm}}
  h2{{break-after:avoid}} table,.chart,.kpis{{break-inside:avoid}}
  section.pagebreak{{break-before:page}}
}}
"""


def page(title: str, body: str, *, lang: str) -> str:
    """A complete HTML document; ``title`` is escaped, ``body`` is trusted (already built)."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<footer>{esc(label('page.generated', lang))}</footer>\n</body>\n</html>\n"
    )


def table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Sequence[int] = ()
) -> str:
    """An HTML table; every cell is escaped. Columns in ``numeric`` are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            css = ' class="num"' if i in numeric else ""
            cells.append(f"<td{css}>{esc('' if cell is None else cell)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def banner(data: MapData) -> str:
    lang = data.lang
    if not data.has_measured:
        return f'<p class="banner hypothesis">{esc(label("page.hypothesis_banner", lang))}</p>'
    counts = data.evidence_counts()
    total = sum(counts.values())
    text = label("page.measured_banner", lang, measured=total - counts["hypothesis"], total=total)
    return f'<p class="banner measured">{esc(text)}</p>'


def details_table(data: MapData) -> str:
    """Every touchpoint with its numbers: the map's data next to the picture."""
    lang = data.lang
    headers = [
        label("col.stage", lang),
        label("col.touchpoint", lang),
        label("col.channel", lang),
        label("col.owner", lang),
        label("col.expected_emotion", lang),
        label("col.evidence", lang),
        label("col.reach", lang),
        label("col.conversion", lang),
        label("col.score", lang),
    ]
    rows = []
    for col in data.columns:
        for c in col.cards:
            m = c.measure
            reach = fmt_int(m.reach_customers, lang) if m and m.reach_customers is not None else ""
            conv = ""
            if m and m.conversion_share is not None:
                conv = fmt_pct(m.conversion_share, lang)
                if m.conversion_n is not None:
                    conv += f" (n={fmt_int(m.conversion_n, lang)})"
            score = ""
            if m and m.has_score and m.score_value is not None:
                score = score_text(m, lang)
            if m and m.small_sample():
                score += f" ⚠ n<{SMALL_SAMPLE_N}"
            emotion = "" if c.expected_emotion is None else f"{c.expected_emotion:+d}"
            rows.append(
                [
                    col.name,
                    c.name,
                    c.channel_label,
                    c.owner or "",
                    emotion,
                    label(f"evidence.{c.evidence}", lang),
                    reach,
                    conv,
                    score,
                ]
            )
    return table(headers, rows, numeric=(4, 6))


def map_html(data: MapData, svg: str) -> str:
    """The map page: title, evidence banner, the map SVG and the touchpoint table."""
    lang = data.lang
    body = (
        f"<h1>{esc(data.title)}</h1>\n"
        f'<p class="muted">{esc(label("map.title", lang))} · {esc(data.journey)}</p>\n'
        f"{banner(data)}\n"
        f'<div class="map-scroll">{svg}</div>\n'
        f"<h2>{esc(label('page.details', lang))}</h2>\n{details_table(data)}\n"
    )
    return page(f"{label('map.title', lang)}: {data.title}", body, lang=lang)
