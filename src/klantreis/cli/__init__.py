"""The ``klantreis`` command line: a thin skin over the library.

Each command parses its input, calls one library function and formats the result. Commands
live in one module per group (``journeys``, ...) and are listed in ``COMMANDS`` (loaded on first use).
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import KlantreisError

__all__ = ["COMMANDS", "cli", "end_without_teardown", "main"]

#: Each command and the modules that build it (each module has ``register(group)``). Modules
#: are imported only when their command runs (or for its ``--help``), so a command pays only for
#: the libraries it uses: ``klantreis init`` never imports the engine.
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("klantreis.cli.journeys",),
    "templates": ("klantreis.cli.journeys",),
    "journeys": ("klantreis.cli.journeys",),
    "validate": ("klantreis.cli.journeys",),
    "ingest": ("klantreis.cli.ingest",),
    "ingests": ("klantreis.cli.ingest",),
    "quarantine": ("klantreis.cli.ingest",),
    "export": ("klantreis.cli.ingest",),
    "forget": ("klantreis.cli.ingest",),
    "analyze": ("klantreis.cli.analyze", "klantreis.cli.advanced"),
    "monitor": ("klantreis.cli.monitor",),
    "map": ("klantreis.cli.render",),
    "report": ("klantreis.cli.render",),
    "simulate": ("klantreis.cli.simulate",),
    "demo": ("klantreis.cli.simulate",),
    "serve": ("klantreis.cli.web",),
    "users": ("klantreis.cli.web",),
    "keys": ("klantreis.cli.web",),
    "share": ("klantreis.cli.web",),
    "survey-link": ("klantreis.cli.web",),
}

#: Each command's summary as ``klantreis --help`` lists it (the first paragraph of its help), so
#: listing the commands imports none of their modules (that took 1 s: the web app, the
#: renderers, the engine). ``tests/test_cli_basics.py`` requires each to be the command's own.
SUMMARIES: dict[str, str] = {
    "analyze": "Journey analytics: funnel, timing, transitions, paths, scores, gaps, pain points, pages, loyalty and coverage (see docs/analyses.md for every field).",
    "demo": "Build a demo workspace in DIRECTORY with three journeys and simulated data, then serve it.",
    "export": "Write everything held on CUSTOMER as JSON (every table, quarantine, caches).",
    "forget": "Erase CUSTOMER from every table, the quarantine and caches; the erasure is audited.",
    "ingest": "Bring measured data into the workspace: events, feedback, customers, accounts.",
    "ingests": "The ingest log: every ingest with its status and counts, newest first.",
    "init": "Create a workspace in DIRECTORY (default: the current directory).",
    "journeys": "List the journeys in the workspace.",
    "keys": "API keys (scopes: read, write, admin, collect).",
    "map": "Draw the journey map of JOURNEY (an id in the workspace or a YAML file) to a file.",
    "monitor": "KPIs per touchpoint over time; alert (webhook, e-mail) on significant change.",
    "quarantine": "Rows that failed validation: list them (the default) or export them to fix and re-ingest.",
    "report": "Write the journey report of JOURNEY: map, key figures, pain points, priorities, method.",
    "serve": "Serve the web app and the HTTP API (with /openapi.json) of the workspace.",
    "share": "Print a read-only share link to a journey's map.",
    "simulate": "Simulate customers walking a journey; write events, responses, customers, accounts.",
    "survey-link": "Print a signed survey link for an e-mail (carries the customer id; cannot be forged).",
    "templates": "List the journey templates shipped with klantreis.",
    "users": "Users of the web app (roles: viewer, editor, admin).",
    "validate": "Check journey YAML FILES and report every problem (file, line, field, value, hint).",
}

_registered: dict[str, click.Group] = {}


def _load(name: str) -> click.Command | None:
    modules = COMMANDS.get(name)
    if modules is None:
        return None
    group = click.Group()
    for module in modules:
        if module not in _registered:
            _registered[module] = click.Group()
            importlib.import_module(module).register(_registered[module])
        group.commands.update(_registered[module].commands)
    return group.commands.get(name)


class _Group(click.Group):
    """Loads commands lazily (see COMMANDS) and turns KlantreisError into ``Error: ...`` on
    stderr with exit 1 (data) or 2 (usage)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _load(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list as click writes it, from ``SUMMARIES`` (no command module loaded)."""
        listed = [click.Command(name, help=SUMMARIES[name]) for name in self.list_commands(ctx)]
        click.Group(commands=listed).format_commands(ctx, formatter)

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


_without_teardown: list[bool] = []


def end_without_teardown() -> None:
    """Lets the running command end its process without Python's interpreter teardown.

    A command that has nothing left to write once it returns (an analysis: its output is printed,
    its files closed) calls this. ``main`` then flushes the output, runs the ``atexit`` handlers
    (coverage, logging, temporary directories) and calls ``os._exit``, skipping only the teardown:
    Python clearing every module and collecting every object. With pandas, Numba and DuckDB
    loaded that takes 0.3 s, a fifth of an analysis in a fresh process. Only ``main()`` called
    without ``argv`` does this, i.e. the ``klantreis`` command running its own command line;
    ``main(argv)`` and ``cli`` called in-process (tests, notebooks, scripts) end as before.
    """
    _without_teardown.append(True)


def main(argv: list[str] | None = None) -> None:
    """The ``klantreis`` command: runs ``argv`` (default: this process's command line)."""
    try:
        cli.main(args=argv, prog_name="klantreis")
    except SystemExit as exc:
        own = argv is None  # the process's own command line: nothing runs after it
        if own and _without_teardown and (exc.code is None or isinstance(exc.code, int)):
            _exit_now(exc.code or 0)
        raise


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader that went away (`| head`)
            code = code or 1
    atexit._run_exitfuncs()
    os._exit(code)
