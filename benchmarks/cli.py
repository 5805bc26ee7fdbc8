"""klantreis through the CLI: a fresh ``klantreis`` process per call, start-up and imports count.

Each call uses a period not used before (``--since``), so nothing can be answered from a cache;
the wall time and the peak RSS of the process are measured by the parent (``wait4``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .dataset import KLANTREIS
from .measure import Measured, run_command
from .ours import CONVERSION, FUNNEL_STEPS, since

__all__ = ["COMMANDS", "available", "run_cli"]

#: analysis → the ``klantreis analyze`` arguments that match ``ours.ANALYSES``.
COMMANDS: dict[str, list[str]] = {
    "funnel": ["funnel", "--level", "event", "--steps", ",".join(FUNNEL_STEPS)],
    "transitions": ["transitions", "--level", "event"],
    "paths": ["paths", "--level", "event", "--top-k", "20", "--repeats", "keep"],
    "attribution": [
        "attribution",
        "--level",
        "channel",
        "--models",
        "markov",
        "--conversion",
        CONVERSION,
    ],
    "scores": ["scores", "--level", "touchpoint"],
}


def available(name: str) -> bool:
    """Whether this klantreis has the command (the attribution command may come later)."""
    return run_command([KLANTREIS, "analyze", COMMANDS[name][0], "--help"]).ok


def run_cli(name: str, workspace: Path, *, runs: int, offset: int = 100) -> list[Measured]:
    """``runs`` fresh-process calls, each with its own period start."""
    out = []
    for k in range(runs):
        argv = [KLANTREIS, "-w", str(workspace), "analyze", *COMMANDS[name]]
        argv += ["--since", since(offset + k), "--format", "json"]
        out.append(run_command(argv))
    return out


def summary(measured: list[Measured]) -> dict[str, Any]:
    ok = [m for m in measured if m.ok]
    return {
        "times": [m.wall_seconds for m in ok],
        "peak_rss_mib": max((m.peak_rss_mib for m in measured), default=None),
        "errors": [m.error for m in measured if not m.ok],
    }
