"""Run one step in a fresh subprocess and measure it: wall times and the step's own peak RSS.

Every step runs in its own process so steps never share caches or memory: the parent starts
``python -m benchmarks.worker SPEC OUT``, waits for it with ``os.wait4`` (whose ``ru_maxrss``
is the peak resident set of that one child, in KiB on Linux) and reads the worker's JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Measured", "median", "run_command", "run_step"]

ROOT = Path(__file__).resolve().parent.parent


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Measured:
    """What one subprocess reported, plus its wall time and peak RSS as seen by the parent."""

    ok: bool
    wall_seconds: float
    peak_rss_mib: float
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("RETENTIONEERING_NO_TRACK", "1")  # no telemetry calls from the peer
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    if extra:
        env.update(extra)
    return env


def run_command(
    argv: list[str], *, env: dict[str, str] | None = None, timeout_s: float | None = None
) -> Measured:
    """Run ``argv`` once; wall time from start to exit and the process's peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=_env(env), cwd=ROOT)
        deadline = None if timeout_s is None else began + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    rss = usage.ru_maxrss / 1024.0
    if proc.returncode != 0:
        tail = (stderr.strip().splitlines() or ["(no output)"])[-1]
        return Measured(False, wall, rss, {"stdout": stdout}, f"exit {proc.returncode}: {tail}")
    return Measured(True, wall, rss, {"stdout": stdout})


def run_step(spec: dict[str, Any], *, timeout_s: float | None = None) -> Measured:
    """Run ``benchmarks.worker`` on ``spec`` in a fresh process; its JSON answer in ``data``."""
    with tempfile.TemporaryDirectory(prefix="kr-bench-") as tmp:
        spec_path = Path(tmp) / "spec.json"
        out_path = Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec))
        m = run_command(
            [sys.executable, "-m", "benchmarks.worker", str(spec_path), str(out_path)],
            timeout_s=timeout_s,
        )
        if m.ok and out_path.exists():
            m.data = json.loads(out_path.read_text())
        elif m.ok:
            m.ok, m.error = False, "the worker wrote no answer"
        return m
