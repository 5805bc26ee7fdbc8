"""The engine: the only code that touches Ibis, DuckDB and Spark. One module per analysis.

connect   backends (duckdb, spark, Ibis URLs)        source   the canonical tables as Ibis tables
linking   events → touchpoints → stages, levels      filters  segment / persona / period
query     the common options and their preparation   results  Result and Scope
analyze   the front door and the registry of analyses
funnel, timing, transitions, paths, scores (+ stats), gaps, pain_points, pages, loyalty, coverage
"""

from __future__ import annotations

from .analyze import ANALYSES, analyze, make_query
from .attribution import AttributionQuery, AttributionResult
from .conformance import ConformanceQuery, ConformanceResult
from .connect import ENGINES, connect, spark_session
from .coverage import CoverageQuery, CoverageResult
from .drivers import DriversQuery, DriversResult
from .funnel import FunnelQuery, FunnelResult
from .gaps import GapsQuery, GapsResult
from .impact import ImpactQuery, ImpactResult
from .linking import LEVELS, at_level, link
from .loyalty import LoyaltyQuery, LoyaltyResult
from .monitor import MonitorQuery, MonitorResult
from .pages import PagesQuery, PagesResult
from .pain_points import PainPointsQuery, PainPointsResult
from .paths import PathsQuery, PathsResult
from .personas import PersonasQuery, PersonasResult
from .query import Query
from .results import Result, Scope
from .scores import ScoresQuery, ScoresResult
from .source import Source, open_source
from .timing import TimingQuery, TimingResult
from .transitions import TransitionsQuery, TransitionsResult

for _q in (
    FunnelQuery,
    TimingQuery,
    TransitionsQuery,
    PathsQuery,
    ScoresQuery,
    GapsQuery,
    PainPointsQuery,
    PagesQuery,
    LoyaltyQuery,
    CoverageQuery,
    AttributionQuery,
    DriversQuery,
    ConformanceQuery,
    PersonasQuery,
    ImpactQuery,
    MonitorQuery,
):
    ANALYSES[_q.analysis] = _q

__all__ = [
    "ANALYSES",
    "ENGINES",
    "LEVELS",
    "AttributionQuery",
    "AttributionResult",
    "ConformanceQuery",
    "ConformanceResult",
    "CoverageQuery",
    "CoverageResult",
    "DriversQuery",
    "DriversResult",
    "FunnelQuery",
    "FunnelResult",
    "GapsQuery",
    "GapsResult",
    "ImpactQuery",
    "ImpactResult",
    "LoyaltyQuery",
    "LoyaltyResult",
    "MonitorQuery",
    "MonitorResult",
    "PagesQuery",
    "PagesResult",
    "PainPointsQuery",
    "PainPointsResult",
    "PathsQuery",
    "PathsResult",
    "PersonasQuery",
    "PersonasResult",
    "Query",
    "Result",
    "Scope",
    "ScoresQuery",
    "ScoresResult",
    "Source",
    "TimingQuery",
    "TimingResult",
    "TransitionsQuery",
    "TransitionsResult",
    "analyze",
    "at_level",
    "connect",
    "link",
    "make_query",
    "open_source",
    "spark_session",
]
