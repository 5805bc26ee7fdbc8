"""klantreis: customer journey mapping and journey analytics.

import klantreis
ws = klantreis.init("my-workspace", template="five-phases")
ws = klantreis.open("my-workspace")
journey = ws.journey()
"""

from __future__ import annotations

__version__ = "0.1.0"

from .engine import (
    AttributionQuery,
    ConformanceQuery,
    CoverageQuery,
    DriversQuery,
    FunnelQuery,
    GapsQuery,
    ImpactQuery,
    LoyaltyQuery,
    MonitorQuery,
    PagesQuery,
    PainPointsQuery,
    PathsQuery,
    PersonasQuery,
    Query,
    Result,
    ScoresQuery,
    Source,
    TimingQuery,
    TransitionsQuery,
    analyze,
)
from .engine.measure import MeasuresResult, measure_journey
from .errors import (
    IngestError,
    JourneyNotFound,
    JourneyValidationError,
    KlantreisError,
    Problem,
    TemplateNotFound,
    WorkspaceExists,
    WorkspaceLocked,
    WorkspaceNotFound,
)
from .model import (
    Journey,
    Lanes,
    LocalText,
    MatchRule,
    Persona,
    Segment,
    Stage,
    Touchpoint,
    dump_journey,
    list_templates,
    load_journey,
    load_template,
    parse_journey,
    save_journey,
)
from .render import (
    MeasuredJourney,
    TouchpointMeasure,
    render_map,
    render_report,
    save_map,
    save_report,
)
from .simulate import (
    PersonaBehaviour,
    Plant,
    SimulationFrames,
    SimulationResult,
    simulate,
    simulate_frames,
)
from .store import Workspace
from .store import init_workspace as init
from .store import open_workspace as open
from .store.mapping import ColumnMapping
from .store.report import ForgetReport, IngestReport, ReasonCount

__all__ = [
    "AttributionQuery",
    "ColumnMapping",
    "ConformanceQuery",
    "CoverageQuery",
    "DriversQuery",
    "ForgetReport",
    "FunnelQuery",
    "GapsQuery",
    "ImpactQuery",
    "IngestError",
    "IngestReport",
    "Journey",
    "JourneyNotFound",
    "JourneyValidationError",
    "KlantreisError",
    "Lanes",
    "LocalText",
    "LoyaltyQuery",
    "MatchRule",
    "MeasuredJourney",
    "MeasuresResult",
    "MonitorQuery",
    "PagesQuery",
    "PainPointsQuery",
    "PathsQuery",
    "Persona",
    "PersonaBehaviour",
    "PersonasQuery",
    "Plant",
    "Problem",
    "Query",
    "ReasonCount",
    "Result",
    "ScoresQuery",
    "Segment",
    "SimulationFrames",
    "SimulationResult",
    "Source",
    "Stage",
    "TemplateNotFound",
    "TimingQuery",
    "Touchpoint",
    "TouchpointMeasure",
    "TransitionsQuery",
    "Workspace",
    "WorkspaceExists",
    "WorkspaceLocked",
    "WorkspaceNotFound",
    "__version__",
    "analyze",
    "dump_journey",
    "init",
    "list_templates",
    "load_journey",
    "load_template",
    "measure_journey",
    "open",
    "parse_journey",
    "render_map",
    "render_report",
    "save_journey",
    "save_map",
    "save_report",
    "simulate",
    "simulate_frames",
]
