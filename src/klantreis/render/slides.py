"""The journey report as PowerPoint slides (.pptx, python-pptx): map picture and key figures.

Slides: title (with the hypothesis warning when nothing is measured), the map as a picture
(rendered by Chromium), key figures, pain points with evidence, priorities, method notes.
Text is set as plain runs, so user text is never interpreted.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from .labels import label
from .map_svg import map_svg
from .maps import svg_page, svg_width
from .raster import Browser

if TYPE_CHECKING:
    from .report import ReportData

__all__ = ["report_pptx"]

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
INK = RGBColor(0x1D, 0x24, 0x33)
WARN = RGBColor(0xB3, 0x26, 0x1E)
MUTED = RGBColor(0x5B, 0x64, 0x75)
ROWS_PER_SLIDE = 10


def _title(slide: Any, text: str) -> None:
    box = slide.shapes.add_textbox(Inches(0.5), Inches(0.3), SLIDE_W - Inches(1), Inches(0.8))
    p = box.text_frame.paragraphs[0]
    p.text = text
    p.runs[0].font.size = Pt(28)
    p.runs[0].font.bold = True
    p.runs[0].font.color.rgb = INK


def _lines(
    slide: Any, lines: list[str], *, top: float = 1.2, size: int = 16, color: RGBColor = INK
) -> None:
    box = slide.shapes.add_textbox(
        Inches(0.5), Inches(top), SLIDE_W - Inches(1), SLIDE_H - Inches(top + 0.4)
    )
    tf = box.text_frame
    tf.word_wrap = True
    for i, line in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        run = p.add_run()
        run.text = line
        run.font.size = Pt(size)
        run.font.color.rgb = color
        p.space_after = Pt(6)


def _table(slide: Any, headers: list[str], rows: list[list[str]]) -> None:
    shape = slide.shapes.add_table(
        len(rows) + 1,
        len(headers),
        Inches(0.5),
        Inches(1.2),
        SLIDE_W - Inches(1),
        Inches(0.4) * (len(rows) + 1),
    )
    tbl = shape.table
    for j, h in enumerate(headers):
        tbl.cell(0, j).text = h
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            tbl.cell(i, j).text = str(value)
    for cell in (tbl.cell(i, j) for i in range(len(rows) + 1) for j in range(len(headers))):
        for p in cell.text_frame.paragraphs:
            for r in p.runs:
                r.font.size = Pt(12)


def report_pptx(report: ReportData, *, browser: Browser) -> bytes:
    """The report as .pptx bytes; ``browser`` renders the map picture."""
    lang = report.lang
    data = report.map
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    blank = prs.slide_layouts[6]

    slide = prs.slides.add_slide(blank)
    _title(slide, f"{label('report.title', lang)}: {data.title}")
    if not data.has_measured:
        _lines(slide, [label("page.hypothesis_banner", lang)], top=1.4, size=20, color=WARN)
    else:
        counts = data.evidence_counts()
        total = sum(counts.values())
        _lines(
            slide,
            [
                label(
                    "page.measured_banner", lang, measured=total - counts["hypothesis"], total=total
                )
            ],
            top=1.4,
            size=20,
        )

    svg = map_svg(data)
    png = browser.png(
        svg_page(svg, lang=lang, title=data.title), width_px=svg_width(svg), scale=1.5
    )
    slide = prs.slides.add_slide(blank)
    _title(slide, label("report.map", lang))
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        w_px, h_px = im.size
    box_w, box_h = SLIDE_W - Inches(0.6), SLIDE_H - Inches(1.3)
    ratio = min(box_w / w_px, box_h / h_px)
    pic_w, pic_h = Emu(int(w_px * ratio)), Emu(int(h_px * ratio))
    slide.shapes.add_picture(
        io.BytesIO(png), Emu(int((SLIDE_W - pic_w) / 2)), Inches(1.1), width=pic_w, height=pic_h
    )

    slide = prs.slides.add_slide(blank)
    _title(slide, label("report.key_figures", lang))
    _lines(slide, [f"{k}: {v}" for k, v in report.key_figures], size=22)

    headers = [
        label("col.pain_point", lang),
        label("col.stage", lang),
        label("col.owner", lang),
        label("col.evidence", lang),
    ]
    rows = [[p["pain_point"], p["stage"], p["owner"], p["evidence"]] for p in report.pain_points]
    for start in range(0, max(len(rows), 1), ROWS_PER_SLIDE):
        slide = prs.slides.add_slide(blank)
        _title(slide, label("report.pain_points", lang))
        if rows:
            _table(slide, headers, rows[start : start + ROWS_PER_SLIDE])
        else:
            _lines(slide, [label("report.no_pain_points", lang)])

    headers = [
        label("col.rank", lang),
        label("col.pain_point", lang),
        label("col.owner", lang),
        label("col.impact", lang),
        label("col.evidence", lang),
    ]
    rows = [
        [
            str(i + 1),
            str(p.get("pain_point", "")),
            str(p.get("owner", "")),
            str(p.get("estimated_impact", "")),
            str(p.get("evidence", "")),
        ]
        for i, p in enumerate(report.priorities)
    ]
    for start in range(0, max(len(rows), 1), ROWS_PER_SLIDE):
        slide = prs.slides.add_slide(blank)
        _title(slide, label("report.priorities", lang))
        if rows:
            _table(slide, headers, rows[start : start + ROWS_PER_SLIDE])
        else:
            _lines(slide, [label("report.no_priorities", lang)])

    slide = prs.slides.add_slide(blank)
    _title(slide, label("report.method", lang))
    _lines(slide, report.method, size=14, color=MUTED)

    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()
