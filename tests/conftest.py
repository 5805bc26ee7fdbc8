from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import klantreis


@pytest.fixture
def workspace(tmp_path: Path) -> klantreis.Workspace:
    """A fresh workspace with the five-phases journey."""
    return klantreis.init(tmp_path / "ws", template="five-phases")


@pytest.fixture(autouse=True)
def _no_workspace_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLANTREIS_WORKSPACE", raising=False)


def spark_enabled() -> bool:
    return os.environ.get("KLANTREIS_SKIP_SPARK") != "1"


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``simulated(name, customers=, seed=)``: a new five-phases workspace holding simulated
    events, responses and customers (the index parity tests). A simulation is made once per
    (customers, seed) in the session and ingested into a workspace of its own per call, so a
    test module may change its workspace."""
    made: dict[tuple[int, int], Path] = {}

    def make(name: str, *, customers: int, seed: int) -> klantreis.Workspace:
        sim = made.get((customers, seed))
        if sim is None:
            sim = tmp_path_factory.mktemp(f"sim-{customers}-{seed}")
            klantreis.simulate("five-phases", customers=customers, out=sim, seed=seed)
            made[(customers, seed)] = sim
        w = klantreis.init(tmp_path_factory.mktemp(name) / "ws", template="five-phases")
        w.ingest_events(sim / "events.parquet", progress=False)
        w.ingest_feedback(sim / "responses.parquet", progress=False)
        w.ingest_customers(sim / "customers.parquet", progress=False)
        return w

    return make
