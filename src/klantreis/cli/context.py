"""Helpers shared by the command modules: the open workspace of the current command."""

from __future__ import annotations

import click

from ..store import Workspace, open_workspace

__all__ = ["workspace_of"]


def workspace_of(ctx: click.Context) -> Workspace:
    """The workspace named by ``--workspace``/``KLANTREIS_WORKSPACE`` or found from cwd."""
    root = ctx.find_root()
    return open_workspace((root.obj or {}).get("workspace"))
