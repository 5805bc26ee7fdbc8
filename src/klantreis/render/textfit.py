"""Text width and line wrapping for SVG, which has no automatic wrapping.

Widths come from the advance widths of DejaVu Sans (the font Debian's Chromium uses and that
``scripts/setup-system.sh`` installs), in thousandths of an em, for printable ASCII; other
characters are measured by their base letter (é as e) or as a wide glyph. Viewers with a
narrower font (Arial, Helvetica) only get a little more room, never an overflow.
"""

from __future__ import annotations

import unicodedata

__all__ = ["FONT_FAMILY", "text_width", "truncate", "wrap"]

#: CSS font stack used by every renderer (no web fonts: everything works offline).
FONT_FAMILY = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', Arial, sans-serif"

# fmt: off
_REGULAR = [
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698,
    770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732,
    684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
    634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,
    525, 636, 337, 636, 838,
]
_BOLD = [
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696,
    696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734,
    830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812,
    774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716,
    712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652,
    582, 712, 365, 712, 838,
]
# fmt: on


def _char_width(ch: str, table: list[int]) -> int:
    code = ord(ch)
    if 32 <= code < 127:
        return table[code - 32]
    base = unicodedata.normalize("NFD", ch)[0]
    if 32 <= ord(base) < 127:
        return table[ord(base) - 32]
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1000
    if unicodedata.category(ch).startswith("M"):
        return 0
    return 1000 if unicodedata.category(ch) == "So" else 700


def text_width(text: str, size_px: float, *, bold: bool = False) -> float:
    """Approximate rendered width of ``text`` in pixels at ``size_px``."""
    table = _BOLD if bold else _REGULAR
    return sum(_char_width(c, table) for c in text) * size_px / 1000


def _split_long(word: str, width_px: float, size_px: float, bold: bool) -> list[str]:
    parts: list[str] = []
    current = ""
    for ch in word:
        if current and text_width(current + ch, size_px, bold=bold) > width_px:
            parts.append(current)
            current = ch
        else:
            current += ch
    if current:
        parts.append(current)
    return parts


def wrap(
    text: str,
    width_px: float,
    size_px: float,
    *,
    bold: bool = False,
    max_lines: int | None = None,
) -> list[str]:
    """Lines of ``text`` that each fit ``width_px``; words longer than a line are broken.

    With ``max_lines`` the last kept line ends in an ellipsis when text was cut.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, size_px, bold=bold) <= width_px:
                current = candidate
                continue
            if current:
                lines.append(current)
            if text_width(word, size_px, bold=bold) <= width_px:
                current = word
            else:
                pieces = _split_long(word, width_px, size_px, bold)
                lines.extend(pieces[:-1])
                current = pieces[-1]
        lines.append(current)
    while len(lines) > 1 and lines[-1] == "":
        lines.pop()
    if max_lines is not None and len(lines) > max_lines:
        kept = lines[:max_lines]
        kept[-1] = truncate(kept[-1] + " …", width_px, size_px, bold=bold)
        return kept
    return lines


def truncate(text: str, width_px: float, size_px: float, *, bold: bool = False) -> str:
    """``text`` cut to fit ``width_px``, ending in an ellipsis when cut."""
    if text_width(text, size_px, bold=bold) <= width_px:
        return text
    out = text
    while out and text_width(out + "…", size_px, bold=bold) > width_px:
        out = out[:-1]
    return out.rstrip() + "…"
