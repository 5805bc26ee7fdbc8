"""A new process: the kernels come from Numba's on-disk cache without Numba refreshing its whole
target (``engine/kernels/jit.py``), and the CLI ends without the interpreter's teardown
(``cli.end_without_teardown``). Each must give there exactly what it gives in this process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import klantreis

#: One call per kernel family and level (the channel level goes through ``code_of_pair``).
CALLS: dict[str, dict[str, Any]] = {
    "funnel": {
        "analysis": "funnel",
        "level": "event",
        "steps": ["ad_click", "add_to_cart", "checkout_start", "purchase"],
    },
    "transitions": {"analysis": "transitions", "level": "touchpoint"},
    "paths": {"analysis": "paths", "level": "stage", "top_k": 5},
    "attribution": {
        "analysis": "attribution",
        "level": "channel",
        "models": ["markov"],
        "conversion": "purchase",
    },
    "scores": {"analysis": "scores", "level": "touchpoint"},
    "pain-points": {"analysis": "pain-points", "level": "touchpoint"},
}

CHILD = """
import json, sys
import klantreis
from numba.core import caching
from klantreis.engine.kernels import jit

ws = klantreis.open(sys.argv[1])
calls = json.loads(sys.argv[2])
rows = {}
for name, options in calls.items():
    options = dict(options)
    rows[name] = klantreis.analyze(ws, options.pop("analysis"), **options).records()
hits = misses = 0
patched = []
for module in [m for n, m in list(sys.modules.items()) if n.startswith("klantreis.engine.kernels.")]:
    for f in vars(module).values():
        if hasattr(f, "stats") and hasattr(f, "py_func"):
            hits += sum(f.stats.cache_hits.values())
            misses += sum(f.stats.cache_misses.values())
            patched.append(getattr(f._cache.load_overload, "__func__", None) is jit._load_without_refresh)
print(json.dumps({
    "rows": rows,
    "hits": hits,
    "misses": misses,
    "patched": bool(patched) and all(patched),
    "numba_own": caching.Cache.load_overload is not jit._load_without_refresh,
    "refreshed": "numba.core.typing.cffi_utils" in sys.modules,
}))
"""


@pytest.fixture(scope="module")
def ws(simulated: Any) -> klantreis.Workspace:
    w: klantreis.Workspace = simulated("start", customers=800, seed=13)
    return w


def _env(**extra: str) -> dict[str, str]:
    import os

    env = dict(os.environ, KLANTREIS_SEQUENCE_INDEX="always", **extra)
    env.pop("KLANTREIS_WORKSPACE", None)
    return env


def test_kernels_in_a_new_process_load_from_the_cache_and_agree(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    here = {}
    for name, options in CALLS.items():
        options = dict(options)
        here[name] = json.loads(
            json.dumps(klantreis.analyze(ws, options.pop("analysis"), **options).records())
        )  # every kernel is now compiled and in the cache
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ws.root), json.dumps(CALLS)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    there = json.loads(done.stdout)
    assert there["patched"]  # every kernel's cache loads without the refresh
    assert there["numba_own"]  # other Numba code keeps Numba's loading
    assert there["hits"] >= len(CALLS)  # at least one kernel per analysis, all from the cache
    assert there["misses"] == 0
    assert not there["refreshed"]  # Numba's target was never refreshed
    for name in CALLS:
        assert there["rows"][name] == here[name], name
    assert here["funnel"][0]["customers"] > 0


def test_cli_ends_with_its_output_exit_code_and_atexit_handlers(
    ws: klantreis.Workspace, tmp_path: Path
) -> None:
    steps = ",".join(CALLS["funnel"]["steps"])
    argv = ["-w", str(ws.root), "analyze", "funnel", "--level", "event", "--steps", steps]
    script = (  # registered first, so it runs last: after the engine's own handler
        "import atexit, sys\n"
        "def last():\n"
        "    kept = sys.modules['klantreis.engine.source']._opened\n"
        "    print(f'atexit ran, {len(kept)} sources kept', file=sys.stderr)\n"
        "atexit.register(last)\n"
        "from klantreis.cli import main\n"
        "main()\n"
    )

    def cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("capture_output", True)
        return subprocess.run(
            [sys.executable, "-c", script, *argv, *args],
            text=True,
            env=_env(),
            timeout=300,
            **kwargs,
        )

    done = cli("--format", "json")
    assert done.returncode == 0, done.stderr
    options = dict(CALLS["funnel"])
    expected = klantreis.analyze(ws, options.pop("analysis"), **options).records()
    assert json.loads(done.stdout) == json.loads(json.dumps(expected))
    assert "atexit ran, 0 sources kept" in done.stderr  # its DuckDB connection was closed

    bad = cli("--window", "soon")
    assert bad.returncode == 2
    assert "Duration 'soon' is not understood" in bad.stderr
    assert "atexit ran" in bad.stderr

    # main(argv) in a script: the process goes on after it (no early exit)
    later = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom klantreis.cli import main\ntry:\n"
         "    main(sys.argv[1:])\nexcept SystemExit as exc:\n    print('after', exc.code)\n",
         *argv, "--format", "json"],
        capture_output=True, text=True, env=_env(), timeout=300,
    )  # fmt: skip
    assert later.returncode == 0, later.stderr
    assert later.stdout.rstrip().endswith("after 0")

    out = tmp_path / "out.csv"  # output written to a file is complete at exit
    with out.open("w") as fh:
        done = cli("--format", "csv", capture_output=False, stdout=fh, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("step,")
    assert len(lines) == 1 + len(expected)
