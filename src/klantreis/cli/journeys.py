"""Commands about workspaces and journeys: init, templates, journeys, validate."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import JourneyValidationError, KlantreisError
from ..model import list_templates, load_journey
from ..store import init_workspace
from .context import workspace_of
from .output import emit, format_option

__all__ = ["register"]


@click.command()
@click.argument("directory", type=click.Path(file_okay=False), default=".")
@click.option(
    "--template", "-t", help="Start with this journey template (see 'klantreis templates')."
)
@click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    default="en",
    show_default=True,
    help="Language of the workspace and its template.",
)
@click.option("--name", help="Workspace name (default: the directory name).")
def init(directory: str, template: str | None, lang: str, name: str | None) -> None:
    """Create a workspace in DIRECTORY (default: the current directory).

    Without --template the workspace starts with no journey; analyses then work on raw
    event names (--level event).
    """
    ws = init_workspace(
        directory, template=template, lang="nl" if lang == "nl" else "en", name=name
    )
    click.echo(f"Created workspace {ws.name!r} in {ws.root}")
    for jid in ws.journey_ids():
        j = ws.journey(jid)
        click.echo(
            f"  journey {j.id}: {j.name} ({len(j.stages)} stages, {len(j.touchpoints)} touchpoints)"
        )
    click.echo("Next:")
    click.echo(f"  cd {directory}")
    click.echo("  klantreis journeys                 # the journeys in this workspace")
    click.echo("  klantreis validate journeys/*.yaml # check your edits")


@click.command()
@click.option("--lang", type=click.Choice(["en", "nl"]), help="Only templates in this language.")
@format_option
def templates(lang: str | None, fmt: str) -> None:
    """List the journey templates shipped with klantreis."""
    rows = [
        {
            "template": t.name,
            "lang": t.lang,
            "title": t.title,
            "stages": t.stages,
            "touchpoints": t.touchpoints,
            "description": t.description,
        }
        for t in list_templates(lang)
    ]
    emit(rows, fmt, title="Journey templates")


@click.command()
@format_option
@click.pass_context
def journeys(ctx: click.Context, fmt: str) -> None:
    """List the journeys in the workspace."""
    ws = workspace_of(ctx)
    rows = []
    for j in ws.journeys():
        rows.append(
            {
                "journey": j.id,
                "name": j.name,
                "kind": j.kind,
                "lang": j.lang,
                "stages": len(j.stages),
                "touchpoints": len(j.touchpoints),
                "personas": len(j.personas),
            }
        )
    emit(rows, fmt, title=f"Journeys in {ws.name}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@format_option
def validate(files: tuple[str, ...], fmt: str) -> None:
    """Check journey YAML FILES and report every problem (file, line, field, value, hint).

    Exits 1 when any file has a problem.
    """
    rows: list[dict[str, object]] = []
    failed = 0
    for f in files:
        try:
            j = load_journey(Path(f))
        except JourneyValidationError as exc:
            failed += 1
            rows.extend({"file": f, **p.to_dict()} for p in exc.problems)
            if fmt == "table":
                click.echo(str(exc), err=True)
            continue
        except KlantreisError as exc:
            failed += 1
            rows.append({"file": f, "code": exc.code, "message": exc.message})
            if fmt == "table":
                click.echo(f"{f}: {exc.message}", err=True)
            continue
        if fmt == "table":
            click.echo(f"{f}: ok ({len(j.stages)} stages, {len(j.touchpoints)} touchpoints)")
    if fmt != "table":
        emit(rows, fmt)
    if failed:
        raise SystemExit(1)


def register(group: click.Group) -> None:
    for command in (init, templates, journeys, validate):
        group.add_command(command)
