"""The orchestration: ``python -m benchmarks --sizes 1M,10M`` (``make bench SIZES=1M,10M``).

For each size: simulate (cached), prepare the analysis workspace, measure the floor, ingest
Parquet and CSV, every analysis through the Python API and through the CLI, the peers, then the
agreement checks; each size's results go to ``.bench-cache/results/<size>.json`` and the report
to ``docs/benchmarks.md``. Every step runs in its own process (see ``measure``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from . import cli as cli_steps
from .agreement import compare
from .dataset import JOURNEY, dataset, parse_size
from .measure import ROOT, Measured, median, run_step
from .ours import ANALYSES, CONVERSION, FUNNEL_STEPS
from .peers import PEERS, available
from .report import write_report

__all__ = ["bench_size", "main"]


def _log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _failed(m: Measured) -> dict[str, Any]:
    return {"error": m.error, "peak_rss_mib": m.peak_rss_mib}


def bench_size(events: int, args: argparse.Namespace) -> dict[str, Any]:
    cache: Path = args.cache
    t_start = time.perf_counter()
    _log(f"{events:,} events: simulating (cached in {cache})")
    data = dataset(cache, events, csv=not args.no_csv)
    work = cache / "work" / data.label
    workspace = work / "workspace"
    out: dict[str, Any] = {"size": data.label, "customers": data.customers}
    out["simulate_seconds"] = data.simulate_seconds

    _log("preparing the analysis workspace")
    prep = run_step(
        {
            "kind": "ours.prepare",
            "workspace": str(workspace),
            "journey": JOURNEY,
            "simulation": str(data.directory),
        }
    )
    if not prep.ok:
        raise SystemExit(f"preparing the workspace failed: {prep.error}")
    out["events"] = prep.data["events"]
    out["prepare"] = {**prep.data, "peak_rss_mib": prep.peak_rss_mib}
    files = prep.data["event_files"]

    _log("floor: memory bandwidth and reading the needed columns")
    fl = run_step({"kind": "floor", "files": files, "events": out["events"]})
    out["floor"] = {**fl.data, "peak_rss_mib": fl.peak_rss_mib} if fl.ok else _failed(fl)

    out["ingest"] = {}
    # "parquet": the clean canonical file is kept as it is (ADR 0013); "parquet rewritten":
    # the same file with adoption off, what a file with a mapping or a fix to make costs
    sources = {
        "parquet": (data.events_file, {}),
        "parquet rewritten": (
            None if args.no_rewrite else data.events_file,
            {"KLANTREIS_INGEST_ADOPT": "0"},
        ),
        "csv": (data.events_csv, {}),
    }
    for fmt, (source, env) in sources.items():
        if source is None:
            continue
        _log(f"ingest {fmt} × {args.ingest_runs}")
        m = run_step(
            {
                "kind": "ours.ingest",
                "source": str(source),
                "journey": JOURNEY,
                "scratch": str(work / f"ingest-{fmt.replace(' ', '-')}"),
                "runs": args.ingest_runs,
                "env": env,
            }
        )
        if m.ok:
            t = median(m.data["times"])
            out["ingest"][fmt] = {
                "times": m.data["times"],
                "median": t,
                "events_per_s": out["events"] / t if t else None,
                "accepted": m.data["accepted"],
                "adopted": m.data.get("adopted"),
                "peak_rss_mib": m.peak_rss_mib,
            }
        else:
            out["ingest"][fmt] = _failed(m)

    out["analyses"] = {}
    for name in ANALYSES:
        _log(f"analysis {name}: 1 + {args.runs} calls")
        m = run_step(
            {
                "kind": "ours.analysis",
                "analysis": name,
                "workspace": str(workspace),
                "runs": args.runs,
            }
        )
        if m.ok:
            t = median(m.data["times"])
            out["analyses"][name] = {
                "times": m.data["times"],
                "median": t,
                "first_seconds": m.data["first_seconds"],
                "events_per_s": out["events"] / t if t else None,
                "peak_rss_mib": m.peak_rss_mib,
                "answer": m.data["answer"],
            }
        else:
            out["analyses"][name] = _failed(m)

    out["cli"] = {}
    if not args.no_cli:
        for name in cli_steps.COMMANDS:
            if not cli_steps.available(name):
                out["cli"][name] = {"error": f"no command 'klantreis analyze {name}'"}
                continue
            _log(f"CLI {name} × {args.cli_runs}")
            s = cli_steps.summary(cli_steps.run_cli(name, workspace, runs=args.cli_runs))
            s["median"] = median(s["times"])
            out["cli"][name] = s

    out["peers"] = {}
    out["agreement"] = []
    if not args.no_peers and out["events"] <= args.peer_max:
        for peer, analysis in PEERS.items():
            tool = peer.split(".")[0]
            if not available(tool):
                out["peers"][peer] = {
                    "error": f"{tool} is not installed (pip install -e '.[bench]')"
                }
                continue
            runs = []
            rss = 0.0
            error = None
            for k in range(args.peer_runs):
                _log(f"peer {peer} run {k + 1}/{args.peer_runs}")
                m = run_step(
                    {
                        "kind": f"peer.{peer}",
                        "files": [str(data.events_file)],
                        "funnel_steps": FUNNEL_STEPS,
                        "conversion": CONVERSION,
                    },
                    timeout_s=args.peer_timeout,
                )
                rss = max(rss, m.peak_rss_mib)
                if not m.ok:
                    error = m.error
                    break
                runs.append(m.data)
            entry: dict[str, Any] = {"analysis": analysis, "peak_rss_mib": rss, "error": error}
            if runs:
                phases = ["load", "prepare", "analysis"]
                entry["median"] = {p: median([r["timings"][p] for r in runs]) for p in phases}
                entry["median"]["total"] = median([sum(r["timings"].values()) for r in runs])
                entry["runs"] = [r["timings"] for r in runs]
                ours = out["analyses"].get(analysis, {})
                if "answer" in ours:
                    out["agreement"].append(
                        compare(analysis, tool, ours["answer"], runs[0]["answer"]).to_dict()
                    )
            out["peers"][peer] = entry
    elif not args.no_peers:
        out["peers_skipped"] = f"more than --peer-max {args.peer_max:,} events"
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    out["bench_seconds"] = time.perf_counter() - t_start
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--sizes", default="1M,10M,100M", help="event counts, e.g. 1M,10M,100M")
    p.add_argument("--runs", type=int, default=5, help="timed calls per analysis (median)")
    p.add_argument("--ingest-runs", type=int, default=3)
    p.add_argument("--cli-runs", type=int, default=3)
    p.add_argument("--peer-runs", type=int, default=3)
    p.add_argument("--peer-max", type=parse_size, default=parse_size("10M"),
                   help="skip the peers above this many events (they hold everything in pandas)")  # fmt: skip
    p.add_argument("--peer-timeout", type=float, default=1800.0, help="seconds per peer run")
    p.add_argument("--no-peers", action="store_true")
    p.add_argument("--no-cli", action="store_true")
    p.add_argument("--no-csv", action="store_true", help="skip the CSV ingest")
    p.add_argument(
        "--no-rewrite",
        action="store_true",
        help="skip the Parquet ingest with adoption off (KLANTREIS_INGEST_ADOPT=0)",
    )
    p.add_argument("--keep-work", action="store_true", help="keep the workspaces")
    p.add_argument("--merge", action="store_true",
                   help="keep earlier results of other sizes in the report")  # fmt: skip
    p.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite the report from the cached results of earlier runs",
    )
    p.add_argument("--cache", type=Path, default=ROOT / ".bench-cache")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    return p


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    args.cache = args.cache.resolve()
    command = "python -m benchmarks " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    results_dir = args.cache / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    if args.report_only:  # e.g. after editing benchmarks/changes.md: nothing is measured
        kept = sorted(
            (json.loads(f.read_text()) for f in results_dir.glob("*.json")),
            key=lambda r: r.get("events", 0),
        )
        newest = max(kept, key=lambda r: r.get("finished_at", ""), default={})
        write_report(kept, args.out, command=newest.get("command", command))
        _log(f"report written to {args.out} from {len(kept)} cached result(s)")
        return
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    results = []
    for events in sizes:
        r = bench_size(events, args)
        r["command"] = command
        r["finished_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
        (results_dir / f"{r['size']}.json").write_text(json.dumps(r, indent=1, default=str))
        results.append(r)
        _log(f"{r['size']} done in {r['bench_seconds']:.0f} s")
    if args.merge:
        have = {r["size"] for r in results}
        for f in sorted(results_dir.glob("*.json")):
            r = json.loads(f.read_text())
            if r["size"] not in have:
                results.append(r)
    results.sort(key=lambda r: r.get("events", 0))
    write_report(results, args.out, command=command)
    failed = [c for r in results for c in r.get("agreement", []) if not c["ok"]]
    _log(f"report written to {args.out}")
    if failed:
        for c in failed:
            _log(f"DISAGREEMENT {c['analysis']} vs {c['peer']}: {c['detail']}")
        raise SystemExit(1)
