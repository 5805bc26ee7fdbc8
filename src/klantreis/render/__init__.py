"""Pure functions from journeys and results to HTML, SVG, PNG, PDF and slides.

Compute, then draw: nothing here queries data. Measured numbers come in as a
:class:`MeasuredJourney` (plain data, see ``measured.py``); charts take the analyses' result
frames. ``render_*`` returns the content, ``save_*`` writes a file and picks the format by suffix.
"""

from .mapdata import MapData, map_data
from .maps import MAP_FORMATS, render_map, save_map
from .measured import MeasuredJourney, TouchpointMeasure, measured_from_scores
from .raster import Browser
from .report import REPORT_FORMATS, ReportData, render_report, report_data, save_report

__all__ = [
    "MAP_FORMATS",
    "REPORT_FORMATS",
    "Browser",
    "MapData",
    "MeasuredJourney",
    "ReportData",
    "TouchpointMeasure",
    "map_data",
    "measured_from_scores",
    "render_map",
    "render_report",
    "report_data",
    "save_map",
    "save_report",
]
