"""The journey simulator: realistic event and survey data with a known truth.

Customers walk a journey map (personas, stages, touchpoints, delays, loops, purchases, surveys);
pain points, slow spots and drivers of loyalty can be planted and are described in
``truth.json``. See ``docs/simulator.md``.
"""

from .matching import rule_matches, touchpoint_matches
from .model import PersonaBehaviour, Plant, SimulationModel, build_model
from .run import SimulationFrames, SimulationResult, resolve_journey, simulate, simulate_frames

__all__ = [
    "PersonaBehaviour",
    "Plant",
    "SimulationFrames",
    "SimulationModel",
    "SimulationResult",
    "build_model",
    "resolve_journey",
    "rule_matches",
    "simulate",
    "simulate_frames",
    "touchpoint_matches",
]
