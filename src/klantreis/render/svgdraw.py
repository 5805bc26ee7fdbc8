"""Small helpers to write SVG by hand: escaping, attributes, wrapped text, numbers.

Every piece of text that reaches SVG or HTML goes through :func:`esc` (text and attribute
values alike), so user-written names such as ``<script>`` are shown as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from .textfit import FONT_FAMILY, wrap

__all__ = ["Svg", "attrs", "esc", "num", "text_block"]


def esc(value: object) -> str:
    """Text escaped for an HTML/SVG text node or a double-quoted attribute value."""
    return html.escape(str(value), quote=True)


def num(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros (stable snapshots)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def attrs(**values: object) -> str:
    """``key="value"`` pairs; ``class_`` becomes ``class``, ``_`` in names becomes ``-``.

    ``None`` and ``False`` values are left out; floats are written with :func:`num`.
    """
    parts = []
    for key, value in values.items():
        if value is None or value is False:
            continue
        name = "class" if key == "class_" else key.rstrip("_").replace("_", "-")
        text = num(value) if isinstance(value, float) else str(value)
        parts.append(f'{name}="{esc(text)}"')
    return " ".join(parts)


def text_block(
    lines: Iterable[str],
    *,
    x: float,
    y: float,
    size_px: float,
    line_px: float | None = None,
    class_: str | None = None,
    fill: str | None = None,
    weight: str | None = None,
    anchor: str | None = None,
) -> str:
    """A ``<text>`` with one ``<tspan>`` per line; ``y`` is the first baseline."""
    step = line_px if line_px is not None else size_px * 1.3
    spans = []
    for i, line in enumerate(lines):
        spans.append(f"<tspan {attrs(x=float(x), y=float(y + i * step))}>{esc(line)}</tspan>")
    head = attrs(
        class_=class_,
        font_size=float(size_px),
        fill=fill,
        font_weight=weight,
        text_anchor=anchor,
    )
    return f"<text {head}>{''.join(spans)}</text>"


class Svg:
    """An SVG document built from parts; ``str(svg)`` is the document."""

    def __init__(self, width: float, height: float, *, title: str, class_: str = "") -> None:
        self.width = width
        self.height = height
        self.title = title
        self.class_ = class_
        self.parts: list[str] = []

    def add(self, part: str) -> None:
        self.parts.append(part)

    def wrapped(
        self,
        text: str,
        *,
        x: float,
        y: float,
        width_px: float,
        size_px: float,
        bold: bool = False,
        max_lines: int | None = None,
        class_: str | None = None,
        fill: str | None = None,
    ) -> int:
        """Add wrapped text (first baseline at ``y``); returns the number of lines."""
        lines = wrap(text, width_px, size_px, bold=bold, max_lines=max_lines)
        self.add(
            text_block(
                lines,
                x=x,
                y=y,
                size_px=size_px,
                class_=class_,
                fill=fill,
                weight="bold" if bold else None,
            )
        )
        return len(lines)

    def __str__(self) -> str:
        head = attrs(
            xmlns="http://www.w3.org/2000/svg",
            width=num(self.width),
            height=num(self.height),
            viewBox=f"0 0 {num(self.width)} {num(self.height)}",
            class_=self.class_ or None,
            font_family=FONT_FAMILY,
            role="img",
        )
        body = "\n".join(self.parts)
        return f"<svg {head}>\n<title>{esc(self.title)}</title>\n{body}\n</svg>\n"
