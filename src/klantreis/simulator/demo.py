"""The demo workspace: three journeys with simulated data and planted truth, ready to explore.

``build_demo`` creates a workspace (Dutch by default) with
- the Dutch webshop (template ``five-phases.nl``),
- the B2B software purchase, buyer journey followed by customer journey (``b2b.en``),
- the podiatrist journey with its extra service steps (``podiatrist.nl``),
simulates customers for each journey, writes the files and their ``truth.json`` to
``imports/<journey>/`` and ingests them into the workspace's store.

Journeys share one event table, so every row says which journey it belongs to: customer ids
start with the journey id (``five-phases-17``), every customer has the attribute ``journey``
and every event the property ``journey``. Event names may repeat across journeys (two
templates both use ``page_view``); analyses of one journey select its customers by the
``journey`` attribute (see docs/simulator.md, "Several journeys in one workspace").
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UsageError, WorkspaceExists
from ..store import Workspace, init_workspace
from ..store.workspace import CONFIG_FILE
from .run import simulate

__all__ = ["DEMO_JOURNEYS", "DemoJourney", "DemoResult", "build_demo"]


@dataclass(frozen=True)
class DemoJourney:
    template: str
    lang: str
    plants: tuple[str, ...]
    share: float  # customers relative to the --customers setting


DEMO_JOURNEYS: tuple[DemoJourney, ...] = (
    DemoJourney(
        "five-phases", "nl", ("pain:checkout", "slow:delivery", "driver:customer-service"), 1.0
    ),
    DemoJourney(
        "b2b", "en", ("pain:data-import", "slow:supplier-selection", "driver:business-review"), 0.5
    ),
    DemoJourney(
        "podiatrist", "nl", ("pain:insurance-info", "slow:check-in", "driver:consultation"), 0.6
    ),
)


@dataclass
class DemoResult:
    """The demo workspace and what went into it (one row per journey)."""

    directory: Path
    journeys: list[dict[str, Any]]
    ingested: bool
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "journeys": self.journeys,
            "ingested": self.ingested,
            "seconds": round(self.seconds, 2),
            "notes": self.notes,
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.journeys)


def build_demo(
    directory: str | Path = "demo-workspace",
    *,
    customers: int = 4000,
    seed: int = 2024,
    force: bool = False,
    progress: bool = False,
    echo: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build the demo workspace in ``directory`` (``customers`` for the webshop; fewer for the others).

    ``force`` replaces an existing demo workspace (only a directory that is a klantreis workspace).
    """
    if customers < 10:
        raise UsageError(f"The demo needs at least 10 customers per journey, got {customers}.")
    began = time.perf_counter()
    root = Path(directory).expanduser().resolve()
    if (root / CONFIG_FILE).exists():
        if not force:
            raise WorkspaceExists(
                f"{str(root)!r} already exists.",
                hint="remove it, pass --force to replace it, or choose another directory.",
            )
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise UsageError(
            f"{str(root)!r} exists and is not empty; the demo will not write into it.",
            hint="choose a new directory.",
        )
    ws = init_workspace(root, lang="nl", name="klantreis demo")
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    ingested = _can_ingest(ws)
    if not ingested:
        notes.append(
            "This klantreis has no ingestion yet: the simulated files are in imports/ "
            "and were not loaded into the store."
        )
    for i, spec in enumerate(DEMO_JOURNEYS):
        journey = ws.add_template(spec.template, spec.lang)
        # One event table holds all three journeys: each journey's audience is its customers.
        journey.audience = {"journey": journey.id}
        ws.save_journey(journey)
        n = max(10, int(customers * spec.share))
        known = {t.id for t in journey.touchpoints} | {s.id for s in journey.stages}
        plants = [p for p in spec.plants if p.split(":")[1] in known]
        out = root / "imports" / journey.id
        if echo:
            echo(f"Simulating {n:,} customers for {journey.id} ({journey.name}) ...")
        res = simulate(
            journey,
            customers=n,
            seed=seed + i,
            out=out,
            plant=plants,
            customer_prefix=f"{journey.id}-",
            progress=progress,
        )
        if ingested:
            _ingest(ws, res.paths, progress=progress)
        rows.append(
            {
                "journey": journey.id,
                "name": journey.name,
                "lang": journey.lang,
                "customers": res.rows["customers"],
                "accounts": res.rows["accounts"],
                "events": res.rows["events"],
                "responses": res.rows["responses"],
                "planted": ", ".join(plants),
                "truth": str(res.truth_path.relative_to(root)) if res.truth_path else None,
            }
        )
    ws.config["default_journey"] = DEMO_JOURNEYS[0].template
    ws.save_config()
    return DemoResult(
        directory=root,
        journeys=rows,
        ingested=ingested,
        seconds=time.perf_counter() - began,
        notes=notes,
    )


def _can_ingest(ws: Workspace) -> bool:
    return all(
        callable(getattr(ws, name, None))
        for name in ("ingest_events", "ingest_feedback", "ingest_customers", "ingest_accounts")
    )


def _ingest(ws: Workspace, paths: dict[str, Path], *, progress: bool) -> None:
    steps = (
        ("customers", "ingest_customers"),
        ("accounts", "ingest_accounts"),
        ("events", "ingest_events"),
        ("responses", "ingest_feedback"),
    )
    for table, method in steps:
        getattr(ws, method)(paths[table], progress=progress)
