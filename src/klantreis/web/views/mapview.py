"""The visual map of a journey with its live numbers, drawn by ``klantreis.render``.

The web app does not draw: it asks the renderer for the SVG (which escapes every text) and,
when the analytics engine and data are there, passes the measured numbers along.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import KlantreisError
from ...model import Journey
from .measures import measured_journey

if TYPE_CHECKING:
    from ..app import WebApp

__all__ = ["map_view"]


def map_view(app: WebApp, journey: Journey, *, lang: str) -> dict[str, Any]:
    """``{"svg": ..., "measured": ..., "note": ...}``; svg is None when no renderer is there."""
    try:
        from ...render.map_svg import map_svg
        from ...render.mapdata import map_data
    except ImportError:
        return {"svg": None, "measured": None, "note": "The map renderer is not installed."}
    measured, note = measured_journey(app, journey)
    try:
        svg = map_svg(map_data(journey, measured, lang=lang))
    except KlantreisError as exc:
        return {"svg": None, "measured": None, "note": exc.message}
    return {"svg": svg, "measured": measured.to_dict() if measured else None, "note": note}
