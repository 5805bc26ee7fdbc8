"""open_source: one source per workspace and data version, connected only when SQL runs."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pandas as pd
import pytest

import klantreis
from klantreis.engine import source as source_module
from klantreis.engine.source import open_source


def _events(customers: list[str], day: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [f"{c}-{day}" for c in customers],
            "customer_id": customers,
            "timestamp": [f"2024-01-{day:02d}T10:00:00" for _ in customers],
            "event": ["visit" for _ in customers],
        }
    )


def _age_database(ws: klantreis.Workspace) -> None:
    """Makes the workspace database look written a minute ago (the registry stamp is trusted
    only for files not changed in the last seconds)."""
    for path in (ws.database_path, Path(f"{ws.database_path}.wal")):
        if path.exists():
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60_000_000_000))


@pytest.fixture
def ws(workspace: klantreis.Workspace) -> klantreis.Workspace:
    workspace.ingest_events(_events(["a", "b"], 1), progress=False)
    _age_database(workspace)
    return workspace


def test_the_same_source_while_the_data_stays_the_same(ws: klantreis.Workspace) -> None:
    first = open_source(ws)
    assert open_source(ws) is first
    assert first.files is not None and first.files["events"] == ws.data_files("events")


def test_a_new_source_after_an_ingest(ws: klantreis.Workspace) -> None:
    first = open_source(ws)
    first_files = list(first.files["events"]) if first.files else []
    ws.ingest_events(_events(["c"], 2), progress=False)
    second = open_source(ws)
    assert second is not first
    assert second.files is not None and len(second.files["events"]) == len(first_files) + 1
    counted = klantreis.analyze(ws, "transitions", level="event").scope.customers_total
    assert counted == 3  # the new customer is read


def test_the_registry_is_not_read_while_the_database_is_unchanged(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_source(ws)
    reads: list[int] = []
    real = type(ws).data_files_by_table
    monkeypatch.setattr(
        type(ws), "data_files_by_table", lambda self, t: reads.append(1) or real(self, t)
    )
    open_source(ws)
    assert reads == []
    ws.database_path.touch()  # written just now: read again, same files, same source
    first = open_source(ws)
    assert reads == [1] and open_source(ws) is first


def test_a_source_per_thread(ws: klantreis.Workspace) -> None:
    here = open_source(ws)
    there: list[object] = []
    t = threading.Thread(target=lambda: there.append(open_source(ws)))
    t.start()
    t.join()
    assert there[0] is not here  # DuckDB connections are not shared between threads


def test_no_connection_until_sql_runs(ws: klantreis.Workspace) -> None:
    source = source_module.Source(
        workspace=ws, files={"events": [], "responses": [], "customers": []}
    )
    assert source.engine == "duckdb" and source._con is None
    assert source.events.count().execute() == 0  # connects and reads on first use
    assert source._con is not None


def test_an_analysis_the_index_answers_opens_no_connection(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    ws.ingest_events(_events(["a", "b"], 2), progress=False)
    result = klantreis.analyze(ws, "transitions", level="event")
    assert result.expr is None
    assert result.frame["count"].tolist() == [2]  # visit → visit for a and b
    assert open_source(ws)._con is None
