"""klantreis itself: ingest (Parquet and CSV) and each analysis through the public Python API.

Analysis steps: the first call in the fresh process is the *agreement call* (no period, the
parameters the peers use; timed as ``first_seconds``: opening the workspace, connecting, the first
query, loading the compiled kernels; imports are not timed, as for the peers). Then ``runs`` timed calls, each with a period it has not run before in this process
(``since`` = the simulation start + k days), so no cache can answer them; their median is the
analysis time on a prepared workspace.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import Any

__all__ = ["ANALYSES", "CONVERSION", "FUNNEL_STEPS", "answer_of", "run"]

#: The ordered funnel the peers compute too (raw event names).
FUNNEL_STEPS = ["ad_click", "add_to_cart", "checkout_start", "purchase"]
#: The conversion event of the Markov attribution (the peer gets the same definition).
CONVERSION = "purchase"
PERIOD_START = dt.date(2024, 1, 1)

#: name → options of ``klantreis.analyze``; event level where a peer computes the same thing.
ANALYSES: dict[str, dict[str, Any]] = {
    "funnel": {"analysis": "funnel", "level": "event", "steps": FUNNEL_STEPS},
    "transitions": {"analysis": "transitions", "level": "event"},
    "paths": {"analysis": "paths", "level": "event", "top_k": 20, "repeats": "keep"},
    "attribution": {
        "analysis": "attribution",
        "level": "channel",
        "models": ["markov"],
        "conversion": CONVERSION,
    },
    "scores": {"analysis": "scores", "level": "touchpoint"},
}


def since(k: int) -> str:
    """The k-th period start not used before (k >= 1)."""
    return (PERIOD_START + dt.timedelta(days=k)).isoformat()


def answer_of(name: str, result: Any) -> Any:
    """The part of a result the agreement checks compare (plain JSON)."""
    f = result.frame
    if name == "funnel":
        return [int(n) for n in f["customers"]]
    if name == "transitions":
        return [
            [str(s), str(t), int(n)] for s, t, n in zip(f.source, f.target, f["count"], strict=True)
        ]
    if name == "paths":
        top = f[~f.is_other]
        return {
            "top": [[list(p), int(n)] for p, n in zip(top.path, top.customers, strict=True)],
            "customers": int(result.meta.get("customers_with_path", 0)),
        }
    if name == "attribution":
        m = f[f.model == "markov"]
        return {str(c): float(v) for c, v in zip(m["channel"], m["conversions"], strict=True)}
    return {"rows": len(f)}


def _analysis(spec: dict[str, Any]) -> dict[str, Any]:
    import importlib
    import pkgutil

    import ibis  # noqa: F401

    import klantreis
    import klantreis.engine
    import klantreis.engine.kernels as kernels

    # Imports are not timed, for klantreis as for the peers. klantreis imports its parts on
    # first use, so the engine, its SQL layer (Ibis) and the kernel modules (Numba)
    # are imported here; the first call still loads the kernels' machine code from Numba's
    # cache, and that is timed.
    for module in pkgutil.iter_modules(kernels.__path__):
        importlib.import_module(f"{kernels.__name__}.{module.name}")

    name = spec["analysis"]
    options = dict(ANALYSES[name])
    analysis = options.pop("analysis")
    began = time.perf_counter()
    ws = klantreis.open(spec["workspace"])
    first = klantreis.analyze(ws, analysis, **options)
    first_seconds = time.perf_counter() - began
    times = []
    for k in range(1, int(spec["runs"]) + 1):
        t0 = time.perf_counter()
        klantreis.analyze(ws, analysis, since=since(k), **options)
        times.append(time.perf_counter() - t0)
    return {"first_seconds": first_seconds, "times": times, "answer": answer_of(name, first)}


def _ingest(spec: dict[str, Any]) -> dict[str, Any]:
    import klantreis
    import klantreis.engine.kernels.distinct  # imports are not timed (loading the kernel is)
    import klantreis.store.ingest

    os.environ.update(spec.get("env") or {})  # this worker process only
    base = Path(spec["scratch"])
    times, accepted, adopted = [], [], []
    for k in range(int(spec["runs"])):
        root = base / f"ingest-{k}"
        shutil.rmtree(root, ignore_errors=True)
        ws = klantreis.init(root, template=spec["journey"])
        t0 = time.perf_counter()
        report = ws.ingest_events(spec["source"], progress=False)
        times.append(time.perf_counter() - t0)
        accepted.append(report.accepted)
        adopted.append(report.adopted)
        shutil.rmtree(root, ignore_errors=True)
    return {"times": times, "accepted": accepted, "adopted": adopted}


def _prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """The workspace the analyses run on: events, responses and customers ingested."""
    import klantreis

    root = Path(spec["workspace"])
    shutil.rmtree(root, ignore_errors=True)
    ws = klantreis.init(root, template=spec["journey"])
    sim = Path(spec["simulation"])
    t0 = time.perf_counter()
    events = ws.ingest_events(sim / "events.parquet", progress=False)
    responses = ws.ingest_feedback(sim / "responses.parquet", progress=False)
    customers = ws.ingest_customers(sim / "customers.parquet", progress=False)
    seconds = time.perf_counter() - t0
    from klantreis.engine.sequence import build_index

    t1 = time.perf_counter()
    build_index(ws)  # derived data an analysis would otherwise build on its first call
    return {
        "seconds": seconds,
        "index_seconds": time.perf_counter() - t1,
        "events": events.accepted,
        "responses": responses.accepted,
        "customers": customers.accepted,
        "event_files": [str(p) for p in ws.data_files("events")],
    }


def run(step: str, spec: dict[str, Any]) -> dict[str, Any]:
    if step == "analysis":
        return _analysis(spec)
    if step == "ingest":
        return _ingest(spec)
    if step == "prepare":
        return _prepare(spec)
    raise ValueError(f"unknown step ours.{step}")
