"""The journey model: pure data and its YAML form. No database, no network."""

from .checks import check_journey
from .journey import (
    CHANNELS,
    Journey,
    Lanes,
    LocalText,
    MatchRule,
    Persona,
    Segment,
    Stage,
    Touchpoint,
)
from .templates import Template, list_templates, load_template, template_path
from .yamlio import dump_journey, journey_from_data, load_journey, parse_journey, save_journey

__all__ = [
    "CHANNELS",
    "Journey",
    "Lanes",
    "LocalText",
    "MatchRule",
    "Persona",
    "Segment",
    "Stage",
    "Template",
    "Touchpoint",
    "check_journey",
    "dump_journey",
    "journey_from_data",
    "list_templates",
    "load_journey",
    "load_template",
    "parse_journey",
    "save_journey",
    "template_path",
]
