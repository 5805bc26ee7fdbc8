"""The front door for maps: ``render_map`` returns the map, ``save_map`` writes it.

Formats: ``svg`` and ``html`` (text), ``png`` and ``pdf`` (bytes, via headless Chromium).
``save_map`` picks the format from the file suffix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from ..errors import UsageError
from ..model import Journey
from .html import map_html
from .map_svg import map_svg
from .mapdata import map_data
from .measured import MeasuredJourney
from .raster import Browser

__all__ = [
    "MAP_FORMATS",
    "as_measured",
    "format_of",
    "render_map",
    "save_map",
    "svg_page",
    "svg_width",
]

MAP_FORMATS = ("html", "svg", "png", "pdf")


def as_measured(measured: MeasuredJourney | Mapping[str, Any] | None) -> MeasuredJourney | None:
    """Accept a :class:`MeasuredJourney`, its dict form, or None."""
    if measured is None or isinstance(measured, MeasuredJourney):
        return measured
    return MeasuredJourney.from_dict(measured)


def format_of(path: str | Path, allowed: tuple[str, ...]) -> str:
    """The format named by a file's suffix; a UsageError for anything not in ``allowed``."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in allowed:
        raise UsageError(
            f"Cannot tell the format of {str(path)!r} from its suffix {('.' + suffix) if suffix else '(none)'!r}.",
            hint=f"use one of: {', '.join('.' + a for a in allowed)}.",
        )
    return suffix


def write_output(path: Path, content: str | bytes) -> Path:
    """Write rendered output (text or bytes) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def svg_page(svg: str, *, lang: str, title: str) -> str:
    """A bare page with only the SVG: what PNG and PDF are rendered from."""
    from .svgdraw import esc

    return (
        f'<!DOCTYPE html><html lang="{esc(lang)}"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        "<style>@page{size:A3 landscape;margin:8mm}html,body{margin:0;padding:0;background:#fff}"
        "svg{display:block}@media print{svg{width:100%;height:auto;max-height:280mm}}</style>"
        f"</head><body>{svg}</body></html>"
    )


def svg_width(svg: str) -> int:
    """The width attribute of an SVG document, in CSS pixels."""
    head = svg[: svg.index(">")]
    start = head.index('width="') + 7
    return int(float(head[start : head.index('"', start)]))


def render_map(
    journey: Journey,
    *,
    fmt: str = "svg",
    measured: MeasuredJourney | Mapping[str, Any] | None = None,
    lang: str | None = None,
    curve_by: Literal["touchpoint", "stage"] = "touchpoint",
    scale: float = 2.0,
    paper: str = "A3",
    browser: Browser | None = None,
) -> str | bytes:
    """The map of ``journey`` as ``svg``/``html`` (str) or ``png``/``pdf`` (bytes).

    ``measured`` adds numbers to the cards and the measured emotion curve; without it every
    touchpoint is a hypothesis and the map says so. ``lang`` defaults to the journey's.
    ``curve_by`` draws the designed curve per touchpoint or as the stage average. ``scale``
    is the PNG's device pixel ratio; ``paper`` the PDF's page size (landscape). Pass an open
    :class:`~klantreis.render.raster.Browser` to reuse one Chromium for many maps.
    """
    if fmt not in MAP_FORMATS:
        raise UsageError(
            f"Unknown map format {fmt!r}.", hint=f"use one of: {', '.join(MAP_FORMATS)}."
        )
    data = map_data(journey, as_measured(measured), lang=lang, curve_by=curve_by)
    svg = map_svg(data)
    if fmt == "svg":
        return svg
    if fmt == "html":
        return map_html(data, svg)
    page = svg_page(svg, lang=data.lang, title=data.title)
    if browser is not None:
        return _raster(browser, fmt, page, svg_width(svg), scale, paper)
    with Browser() as own:
        return _raster(own, fmt, page, svg_width(svg), scale, paper)


def _raster(browser: Browser, fmt: str, page: str, width: int, scale: float, paper: str) -> bytes:
    if fmt == "png":
        return browser.png(page, width_px=width, scale=scale)
    return browser.pdf(page, paper=paper, landscape=True)


def save_map(
    journey: Journey,
    path: str | Path,
    *,
    measured: MeasuredJourney | Mapping[str, Any] | None = None,
    lang: str | None = None,
    curve_by: Literal["touchpoint", "stage"] = "touchpoint",
    scale: float = 2.0,
    paper: str = "A3",
    browser: Browser | None = None,
) -> Path:
    """Write the map to ``path``; the format follows the suffix (.html, .svg, .png, .pdf)."""
    out = Path(path)
    fmt = format_of(out, MAP_FORMATS)
    content = render_map(
        journey,
        fmt=fmt,
        measured=measured,
        lang=lang,
        curve_by=curve_by,
        scale=scale,
        paper=paper,
        browser=browser,
    )
    return write_output(out, content)
