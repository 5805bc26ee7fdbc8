"""Commands that draw: ``map`` (the journey map) and ``report`` (the stakeholder report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import DataError
from ..model import Journey, load_journey
from ..render import MeasuredJourney, save_map, save_report
from .context import workspace_of

__all__ = ["register"]

_lang = click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    help="Language of the labels (default: the journey's language).",
)
_measured = click.option(
    "--measured",
    "measured_file",
    type=click.Path(dir_okay=False, exists=True),
    help="JSON file with measured numbers per touchpoint (see docs/maps-and-reports.md).",
)


def _journey(ctx: click.Context, journey: str | None) -> Journey:
    """A YAML path, or a journey id in the workspace (default: the workspace's journey)."""
    if journey is not None and (journey.endswith((".yaml", ".yml")) or Path(journey).is_file()):
        return load_journey(Path(journey))
    return workspace_of(ctx).journey(journey)


def _read_measured(path: str | None) -> MeasuredJourney | None:
    if path is None:
        return None
    try:
        raw: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path!r} is not valid JSON: {exc.msg} (line {exc.lineno}).",
            hint='write {"touchpoints": {"checkout": {"reach_customers": 1200}}}.',
        ) from exc
    return MeasuredJourney.from_dict(raw)


@click.command(name="map")
@click.argument("journey", required=False)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file; the format follows the suffix: .html, .svg, .png or .pdf.",
)
@_lang
@_measured
@click.option(
    "--curve",
    type=click.Choice(["touchpoint", "stage"]),
    default="touchpoint",
    show_default=True,
    help="Draw the emotion curve per touchpoint or as the average per stage.",
)
@click.option(
    "--paper",
    type=click.Choice(["A3", "A4"]),
    default="A3",
    show_default=True,
    help="PDF page size (landscape).",
)
@click.pass_context
def map_command(
    ctx: click.Context,
    journey: str | None,
    output: str,
    lang: str | None,
    measured_file: str | None,
    curve: str,
    paper: str,
) -> None:
    """Draw the journey map of JOURNEY (an id in the workspace or a YAML file) to a file.

    Stages are columns, lanes are rows, touchpoints are cards marked by their evidence, and
    the designed and measured emotion curves run across the map.
    """
    path = save_map(
        _journey(ctx, journey),
        output,
        measured=_read_measured(measured_file),
        lang=lang,
        curve_by="stage" if curve == "stage" else "touchpoint",
        paper=paper,
    )
    click.echo(f"Wrote {path}")


@click.command()
@click.argument("journey", required=False)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file; the format follows the suffix: .html, .pdf or .pptx.",
)
@_lang
@_measured
@click.option(
    "--paper",
    type=click.Choice(["A3", "A4"]),
    default="A3",
    show_default=True,
    help="PDF page size (landscape).",
)
@click.pass_context
def report(
    ctx: click.Context,
    journey: str | None,
    output: str,
    lang: str | None,
    measured_file: str | None,
    paper: str,
) -> None:
    """Write the journey report of JOURNEY: map, key figures, pain points, priorities, method.

    Without measured data the report says clearly that the map is a hypothesis.
    """
    path = save_report(
        _journey(ctx, journey),
        output,
        measured=_read_measured(measured_file),
        lang=lang,
        paper=paper,
    )
    click.echo(f"Wrote {path}")


def register(group: click.Group) -> None:
    for command in (map_command, report):
        group.add_command(command)
