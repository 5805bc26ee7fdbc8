"""Commands that draw: ``map`` (the journey map) and ``report`` (the stakeholder report).

Measured numbers come from the workspace's data (``klantreis.measure_journey``) when it has
events, from ``--measured FILE.json`` when given, and not at all with ``--no-data`` (the map is
then the team's hypothesis).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import DataError, UsageError, WorkspaceNotFound
from ..model import Journey, load_journey
from ..render import MeasuredJourney, save_map, save_report
from ..store import Workspace
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


_DATA_OPTIONS = ("since", "until", "segment", "persona")


def _data_options(f: Any) -> Any:
    options = [
        click.option(
            "--no-data",
            is_flag=True,
            help="Draw the designed journey only (the hypothesis), even when there is data.",
        ),
        click.option("--since", help="Start of the period (ISO 8601 date or date-time)."),
        click.option("--until", help="End of the period (a date is inclusive)."),
        click.option("--segment", help="Only customers of this segment (journey segment id)."),
        click.option("--persona", help="Only customers of this persona (journey persona id)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _journey(ctx: click.Context, journey: str | None) -> Journey:
    """A YAML path, or a journey id in the workspace (default: the workspace's journey)."""
    if journey is not None and (journey.endswith((".yaml", ".yml")) or Path(journey).is_file()):
        return load_journey(Path(journey))
    return workspace_of(ctx).journey(journey)


def _workspace(ctx: click.Context) -> Workspace | None:
    try:
        return workspace_of(ctx)
    except WorkspaceNotFound:
        return None


def _measures(
    ctx: click.Context, journey: Journey, params: dict[str, Any], *, priorities: bool
) -> tuple[MeasuredJourney | dict[str, Any] | None, Any]:
    """(measured numbers, the measures result or None): from --measured, the data, or none."""
    filters = {k: params[k] for k in _DATA_OPTIONS if params[k] is not None}
    if params["measured_file"] is not None or params["no_data"]:
        if filters:
            given = ", ".join(f"--{k}" for k in filters)
            raise UsageError(
                f"{given} filter(s) the workspace's data, which "
                f"{'--measured' if params['measured_file'] else '--no-data'} does not use.",
                hint="leave out the filters, or --measured/--no-data.",
            )
        if params["measured_file"] is not None and params["no_data"]:
            raise UsageError("--measured and --no-data exclude each other.")
        return _read_measured(params["measured_file"]), None
    ws = _workspace(ctx)
    if ws is None or not ws.data_files("events"):
        if filters:
            raise UsageError(
                "There is no measured data to filter: the workspace has no events.",
                hint="ingest events first (klantreis ingest events FILE), or leave out the filters.",
            )
        return None, None
    from ..engine.measure import measure_journey

    result = measure_journey(ws, journey, priorities=priorities, **filters)
    return result.measured, result


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
@_data_options
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
    curve: str,
    paper: str,
    **params: Any,
) -> None:
    """Draw the journey map of JOURNEY (an id in the workspace or a YAML file) to a file.

    Stages are columns, lanes are rows, touchpoints are cards marked by their evidence, and
    the designed and measured emotion curves run across the map. The numbers on the cards
    come from the workspace's data when it has events (--no-data: none).
    """
    j = _journey(ctx, journey)
    measured, _ = _measures(ctx, j, params, priorities=False)
    path = save_map(
        j,
        output,
        measured=measured,
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
@_data_options
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
    paper: str,
    **params: Any,
) -> None:
    """Write the journey report of JOURNEY: map, key figures, pain points, priorities, method.

    The numbers and the priorities (ranked pain points with their estimated impact) come from
    the workspace's data when it has events. Without measured data the report says clearly
    that the map is a hypothesis.
    """
    from ..render.priorities import priority_rows

    j = _journey(ctx, journey)
    measured, result = _measures(ctx, j, params, priorities=True)
    rows = priority_rows(result.priorities, j, lang=lang) if result is not None else None
    path = save_report(
        j,
        output,
        measured=measured,
        priorities=rows or None,
        lang=lang,
        paper=paper,
    )
    click.echo(f"Wrote {path}")


def register(group: click.Group) -> None:
    for command in (map_command, report):
        group.add_command(command)
