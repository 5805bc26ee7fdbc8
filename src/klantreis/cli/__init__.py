"""The ``klantreis`` command line: a thin skin over the library.

Each command parses its input, calls one library function and formats the result. Commands
live in one module per group (``journeys``, ...) and are registered in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from ..errors import KlantreisError

__all__ = ["COMMAND_MODULES", "cli", "main"]

#: Modules that add commands to the ``cli`` group (each has ``register(group)``).
COMMAND_MODULES = [
    "klantreis.cli.journeys",
    "klantreis.cli.analyze",
    "klantreis.cli.advanced",
    "klantreis.cli.monitor",
    "klantreis.cli.ingest",
    "klantreis.cli.render",
    "klantreis.cli.simulate",
    "klantreis.cli.web",
]


class _Group(click.Group):
    """Turns KlantreisError into ``Error: ...`` on stderr with exit 1 (data) or 2 (usage)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KlantreisError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="klantreis")
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False),
    envvar="KLANTREIS_WORKSPACE",
    help="Workspace directory (default: the current directory or a parent; "
    "also KLANTREIS_WORKSPACE).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, debug: bool) -> None:
    """klantreis: customer journey mapping and journey analytics.

    The designed journey and the measured one, on one map.
    """
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    ctx.obj["debug"] = debug


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(cli)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="klantreis")
