"""Crash safety and one writer at a time, tested with real processes (SIGKILL, a held lock)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

import klantreis
from klantreis.cli import cli
from klantreis.errors import WorkspaceLocked

N_GOOD = 1500


def make_csv(path: Path) -> Path:
    lines = ["event_id,customer_id,timestamp,event,page"]
    for i in range(N_GOOD):
        lines.append(f"e{i},c{i % 37},2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z,view,p{i % 7}")
        if i % 500 == 0:
            lines.append(f"bad{i},c1,not-a-time,view,x")
    lines.append("e7,c7,2024-01-01T00:00:07Z,view,p0")  # a duplicate
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ingest_in_child(root: Path, src: Path, env: dict[str, str]) -> None:
    os.environ.update(env)
    klantreis.open(root).ingest_events(src, progress=False)


def snapshot(ws: klantreis.Workspace) -> tuple[pd.DataFrame, pd.DataFrame]:
    files = [str(p) for p in ws.data_files("events")]
    events = duckdb.sql(
        "SELECT * EXCLUDE (ingest_id) FROM read_parquet($f) ORDER BY event_id", params={"f": files}
    ).df()
    q = ws.quarantine().drop(columns=["ingest_id", "quarantined_at"])
    return events.reset_index(drop=True), q.reset_index(drop=True)


def wait_for(predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


@pytest.fixture
def clean_run(tmp_path) -> tuple[pd.DataFrame, pd.DataFrame]:
    src = make_csv(tmp_path / "events.csv")
    ws = klantreis.init(tmp_path / "clean")
    report = ws.ingest_events(src, progress=False)
    assert (report.accepted, report.duplicates, report.quarantined) == (N_GOOD, 1, 3)
    return snapshot(ws)


def test_sigkill_mid_ingest_then_rerun_equals_a_clean_run(tmp_path, clean_run):
    src = make_csv(tmp_path / "events.csv")
    ws = klantreis.init(tmp_path / "ws")
    # a first, committed ingest that the crashes must not damage
    first = tmp_path / "first.csv"
    first.write_text("customer_id,timestamp,event\nz1,2023-01-01T00:00:00Z,old\n", encoding="utf-8")
    ws.ingest_events(first, progress=False)
    committed_before = ws.data_files("events")
    staging = ws.data_dir / ".staging"
    slow = {
        "KLANTREIS_INGEST_BATCH_ROWS": "100",
        "KLANTREIS_INGEST_PAUSE_S": "0.02",
        "KLANTREIS_INGEST_COMMIT_PAUSE_S": "30",
    }
    moments = {
        # killed while staging batches
        "staging": lambda: any(staging.glob("*/good.parquet")),
        # killed when the new file is in place under data/events/ but not yet registered
        "before-commit": lambda: (
            len(list((ws.data_dir / "events").glob("*.parquet"))) > len(committed_before)
        ),
    }
    fork = multiprocessing.get_context("fork")  # a child process without paying the imports again
    for n, (_moment, reached) in enumerate(moments.items(), start=1):
        proc = fork.Process(target=ingest_in_child, args=(ws.root, src, slow))
        proc.start()
        wait_for(reached)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
        assert proc.exitcode == -signal.SIGKILL
        # consistent: only the first ingest is visible; the killed one is not committed
        assert ws.data_files("events") == committed_before
        assert ws.quarantine().empty
        assert ws.ingest_log()["status"].tolist() == ["running"] + ["aborted"] * (n - 1) + [
            "committed"
        ]

    report = ws.ingest_events(src, progress=False)  # the same command again
    assert (report.accepted, report.duplicates, report.quarantined) == (N_GOOD, 1, 3)
    assert ws.ingest_log()["status"].tolist() == ["committed", "aborted", "aborted", "committed"]
    assert not staging.exists() or not any(staging.iterdir())
    on_disk = sorted((ws.data_dir / "events").glob("*.parquet"))
    assert on_disk == sorted(ws.data_files("events"))  # nothing left behind

    events, quarantine = snapshot(ws)
    clean_events, clean_quarantine = clean_run
    events = events[events["customer_id"] != "z1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(events, clean_events)
    pd.testing.assert_frame_equal(quarantine, clean_quarantine)


def hold_lock(root: Path, locked: Any) -> None:
    with klantreis.open(root).write_lock(command="nightly import"):
        locked.set()
        time.sleep(60)


def test_second_writer_is_told_who_holds_the_lock_and_readers_keep_working(workspace, tmp_path):
    src = tmp_path / "e.csv"
    src.write_text("customer_id,timestamp,event\nc1,2024-01-01T00:00:00Z,x\n", encoding="utf-8")
    workspace.ingest_events(src, progress=False)
    fork = multiprocessing.get_context("fork")
    locked = fork.Event()
    holder = fork.Process(target=hold_lock, args=(workspace.root, locked))
    holder.start()
    try:
        assert locked.wait(timeout=60)
        with pytest.raises(WorkspaceLocked, match=rf"pid {holder.pid} on .*nightly import"):
            workspace.ingest_events(src, progress=False)
        with pytest.raises(WorkspaceLocked, match="nightly import"):
            workspace.forget_customer("c1")
        # readers never take the lock
        assert len(workspace.data_files("events")) == 1
        assert workspace.export_customer("c1")["counts"]["events"] == 1
        result = CliRunner().invoke(cli, ["-w", str(workspace.root), "ingest", "events", str(src)])
        assert result.exit_code == 1
        assert f"being written by pid {holder.pid}" in result.output
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(timeout=30)
    # the operating system released the dead holder's lock
    assert workspace.ingest_events(src, progress=False).duplicates == 1
