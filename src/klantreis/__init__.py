"""klantreis: customer journey mapping and journey analytics.

    import klantreis
    ws = klantreis.init("my-workspace", template="five-phases")
    ws = klantreis.open("my-workspace")
    journey = ws.journey()
    result = klantreis.analyze(ws, "funnel")

Public names are loaded on first use (PEP 562), so ``import klantreis`` and the CLI start fast:
the engine (Ibis, pandas), the renderer and the simulator are imported only when needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
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
    from .simulator import (
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

#: public name -> (module, attribute)
_LAZY: dict[str, tuple[str, str]] = {
    "ForgetReport": (".store.report", "ForgetReport"),
    "IngestReport": (".store.report", "IngestReport"),
    "MeasuresResult": (".engine.measure", "MeasuresResult"),
    "ReasonCount": (".store.report", "ReasonCount"),
    "measure_journey": (".engine.measure", "measure_journey"),
    "AttributionQuery": (".engine", "AttributionQuery"),
    "ColumnMapping": (".store.mapping", "ColumnMapping"),
    "ConformanceQuery": (".engine", "ConformanceQuery"),
    "CoverageQuery": (".engine", "CoverageQuery"),
    "DriversQuery": (".engine", "DriversQuery"),
    "FunnelQuery": (".engine", "FunnelQuery"),
    "GapsQuery": (".engine", "GapsQuery"),
    "ImpactQuery": (".engine", "ImpactQuery"),
    "IngestError": (".errors", "IngestError"),
    "Journey": (".model", "Journey"),
    "JourneyNotFound": (".errors", "JourneyNotFound"),
    "JourneyValidationError": (".errors", "JourneyValidationError"),
    "KlantreisError": (".errors", "KlantreisError"),
    "Lanes": (".model", "Lanes"),
    "LocalText": (".model", "LocalText"),
    "LoyaltyQuery": (".engine", "LoyaltyQuery"),
    "MatchRule": (".model", "MatchRule"),
    "MeasuredJourney": (".render", "MeasuredJourney"),
    "MonitorQuery": (".engine", "MonitorQuery"),
    "PagesQuery": (".engine", "PagesQuery"),
    "PainPointsQuery": (".engine", "PainPointsQuery"),
    "PathsQuery": (".engine", "PathsQuery"),
    "Persona": (".model", "Persona"),
    "PersonaBehaviour": (".simulator", "PersonaBehaviour"),
    "PersonasQuery": (".engine", "PersonasQuery"),
    "Plant": (".simulator", "Plant"),
    "Problem": (".errors", "Problem"),
    "Query": (".engine", "Query"),
    "Result": (".engine", "Result"),
    "ScoresQuery": (".engine", "ScoresQuery"),
    "Segment": (".model", "Segment"),
    "SimulationFrames": (".simulator", "SimulationFrames"),
    "SimulationResult": (".simulator", "SimulationResult"),
    "Source": (".engine", "Source"),
    "Stage": (".model", "Stage"),
    "TemplateNotFound": (".errors", "TemplateNotFound"),
    "TimingQuery": (".engine", "TimingQuery"),
    "Touchpoint": (".model", "Touchpoint"),
    "TouchpointMeasure": (".render", "TouchpointMeasure"),
    "TransitionsQuery": (".engine", "TransitionsQuery"),
    "Workspace": (".store", "Workspace"),
    "WorkspaceExists": (".errors", "WorkspaceExists"),
    "WorkspaceLocked": (".errors", "WorkspaceLocked"),
    "WorkspaceNotFound": (".errors", "WorkspaceNotFound"),
    "analyze": (".engine", "analyze"),
    "dump_journey": (".model", "dump_journey"),
    "init": (".store", "init_workspace"),
    "list_templates": (".model", "list_templates"),
    "load_journey": (".model", "load_journey"),
    "load_template": (".model", "load_template"),
    "open": (".store", "open_workspace"),
    "parse_journey": (".model", "parse_journey"),
    "render_map": (".render", "render_map"),
    "render_report": (".render", "render_report"),
    "save_journey": (".model", "save_journey"),
    "save_map": (".render", "save_map"),
    "save_report": (".render", "save_report"),
    "simulate": (".simulator", "simulate"),
    "simulate_frames": (".simulator", "simulate_frames"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'klantreis' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
