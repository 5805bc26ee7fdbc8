"""Adoption (store/adopt.py): a clean canonical Parquet file is kept as it is, and every reader
sees exactly the rows and provenance the rewriting path would have stored."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

import klantreis
from klantreis.engine.source import open_source
from klantreis.store import adopt
from klantreis.store.adopt import adoptable, scan_sql
from klantreis.store.mapping import ColumnMapping
from klantreis.store.workspace import init_workspace

N = 1000

#: every canonical column but the provenance ones, with the canonical types; ids e0..e999
_CLEAN = """COPY (SELECT 'e' || i AS event_id, 'c' || (i % 37) AS customer_id,
 CASE WHEN i % 4 = 0 THEN 'a' || (i % 5) END AS account_id, CAST(NULL AS VARCHAR) AS contact_id,
 's' || (i // 5) AS session_id, TIMESTAMP '2024-01-01' + to_seconds(i * 7) AS "timestamp",
 ['visit', 'cart', 'buy'][1 + i % 3] AS event, CASE WHEN i % 9 > 0 THEN 'web' END AS channel,
 CASE WHEN i % 3 = 2 THEN i / 10.0 END AS value,
 CASE WHEN i % 11 = 0 THEN NULL ELSE MAP {'page': 'p' || (i % 13)} END AS properties
 FROM range($lo, $hi) t(i) ORDER BY i) TO $f (FORMAT parquet)"""


def _clean(path: Path, lo: int = 0, hi: int = N) -> Path:
    duckdb.execute(_CLEAN, {"f": str(path), "lo": lo, "hi": hi})
    return path


def _variant(clean: Path, path: Path, select: str) -> Path:
    """The clean file rewritten with ``SELECT {select} FROM`` it."""
    duckdb.execute(
        f"COPY (SELECT {select} FROM read_parquet($src)) TO $f (FORMAT parquet)",
        {"src": str(clean), "f": str(path)},
    )
    return path


def _stored(ws: klantreis.Workspace) -> pd.DataFrame:
    """The committed events as every reader sees them (provenance filled for adopted files)."""
    files = ws.data_files("events")
    sql = f"SELECT * FROM {scan_sql('events', files, files.adopted)} ORDER BY event_id"
    return duckdb.sql(sql).df()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return _clean(tmp_path / "events.parquet")


def test_a_clean_file_is_kept_as_it_is_and_reads_as_the_rewrite_would(
    tmp_path: Path, clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = init_workspace(tmp_path / "adopted")
    report = ws.ingest_events(clean, progress=False)
    assert (report.rows_read, report.accepted, report.duplicates, report.quarantined) == (
        N,
        N,
        0,
        0,
    )
    assert report.adopted == 1 and "kept as it is" in report.summary()
    (stored,) = ws.data_files("events")
    assert _sha(stored) == _sha(clean)  # byte for byte: nothing rewritten
    assert ws.data_files("events").adopted[str(stored)].source_file == str(clean)

    monkeypatch.setenv("KLANTREIS_INGEST_ADOPT", "0")
    other = init_workspace(tmp_path / "rewritten")
    again = other.ingest_events(clean, progress=False)
    assert again.adopted == 0 and again.accepted == N
    assert not other.data_files("events").adopted
    monkeypatch.delenv("KLANTREIS_INGEST_ADOPT")

    mine, theirs = _stored(ws), _stored(other)
    pd.testing.assert_frame_equal(mine, theirs)  # every column, provenance included
    # provenance by hand: event e<i> is row i + 1 of the source
    assert mine.set_index("event_id").loc["e41", "source_line"] == 42
    assert set(mine["source_file"]) == {str(clean)} and set(mine["ingest_id"]) == {1}
    assert mine["account_id"].isna().sum() == N - N // 4  # NULLs stay NULL

    # the engine reads the same table: the analyses agree on both paths of the engine
    for mode in ("never", "always"):
        monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", mode)
        for analysis, opts in [
            ("transitions", {"level": "event"}),
            ("funnel", {"steps": ["visit", "cart", "buy"], "level": "event"}),
            ("paths", {"level": "event"}),
        ]:
            a = klantreis.analyze(ws, analysis, **opts).frame
            b = klantreis.analyze(other, analysis, **opts).frame
            pd.testing.assert_frame_equal(a, b)
    events = open_source(ws).events
    lines = events.filter(events.event_id == "e999").source_line.execute().tolist()
    assert lines == [N]


def test_without_statistics_the_rows_are_read(tmp_path: Path, clean: Path) -> None:
    bare = tmp_path / "no-stats.parquet"
    pq.write_table(pq.read_table(clean), bare, write_statistics=False)
    stats = adopt._clean_by_statistics
    assert not stats(pq.ParquetFile(bare).metadata) and stats(pq.ParquetFile(clean).metadata)
    ws = init_workspace(tmp_path / "ws")
    report = ws.ingest_events(bare, progress=False)
    assert (report.accepted, report.adopted) == (N, 1)  # the scan proved it instead


def test_the_same_file_again_adds_nothing(tmp_path: Path, clean: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    ws.ingest_events(clean, progress=False)
    files = list(ws.data_files("events"))
    again = ws.ingest_events(clean, progress=False)
    assert (again.accepted, again.duplicates, again.quarantined, again.adopted) == (0, N, 0, 0)
    assert list(ws.data_files("events")) == files
    assert len(_stored(ws)) == N


def test_an_id_repeated_within_the_file_is_rewritten_once(tmp_path: Path, clean: Path) -> None:
    twice = tmp_path / "twice.parquet"  # e7's row again at the end: 1001 rows, 1000 ids
    rows = "read_parquet($src, file_row_number = true)"
    duckdb.execute(
        f"COPY (SELECT * EXCLUDE (k, file_row_number) FROM (SELECT *, 0 AS k FROM {rows} "
        f"UNION ALL SELECT *, 1 AS k FROM {rows} WHERE event_id = 'e7') "
        "ORDER BY k, file_row_number) TO $f (FORMAT parquet)",
        {"src": str(clean), "f": str(twice)},
    )
    assert adopt._clean_by_statistics(pq.ParquetFile(twice).metadata)  # only the ids decide
    ws = init_workspace(tmp_path / "ws")
    report = ws.ingest_events(twice, progress=False)
    assert (report.accepted, report.duplicates, report.adopted) == (N, 1, 0)
    stored = _stored(ws)
    assert len(stored) == N and stored["event_id"].is_unique
    assert stored.set_index("event_id").loc["e7", "source_line"] == 8  # the first row wins


def test_an_overlapping_file_is_rewritten_without_its_duplicates(
    tmp_path: Path, clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = init_workspace(tmp_path / "ws")
    ws.ingest_events(clean, progress=False)
    overlap = _clean(tmp_path / "overlap.parquet", 500, 1500)  # e500..e1499
    report = ws.ingest_events(overlap, progress=False)
    assert (report.accepted, report.duplicates, report.adopted) == (500, 500, 0)
    files = ws.data_files("events")
    assert len(files) == 2 and len(files.adopted) == 1  # one adopted, one canonical
    stored = _stored(ws)
    assert len(stored) == 1500 and stored["event_id"].is_unique
    row = stored.set_index("event_id").loc["e1200"]  # row 701 of the second file
    assert (row["source_file"], row["source_line"], row["ingest_id"]) == (str(overlap), 701, 2)
    row = stored.set_index("event_id").loc["e10"]
    assert (row["source_file"], row["source_line"], row["ingest_id"]) == (str(clean), 11, 1)
    # both kinds of file in one workspace: the sequence index reads them as the SQL does
    frames = {}
    for mode in ("never", "always"):
        monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", mode)
        frames[mode] = klantreis.analyze(ws, "transitions", level="event").frame
    pd.testing.assert_frame_equal(frames["never"], frames["always"])
    assert int(frames["never"]["count"].sum()) == 1500 - 37  # one fewer step than events


def test_files_that_need_a_change_are_rewritten(tmp_path: Path, clean: Path) -> None:
    """Each case would store other values than the file holds: the direct path runs."""
    ws = init_workspace(tmp_path / "ws")
    empty = _variant(
        clean,
        tmp_path / "empty-channel.parquet",
        "* REPLACE (CASE WHEN event_id = 'e3' THEN '' ELSE channel END AS channel)",
    )
    report = ws.ingest_events(empty, progress=False)
    assert (report.accepted, report.adopted) == (N, 0)
    assert pd.isna(_stored(ws).set_index("event_id").loc["e3", "channel"])  # '' stored as NULL

    bad = _variant(
        clean,
        tmp_path / "bad.parquet",
        "* REPLACE ('x' || event_id AS event_id, "
        "CASE WHEN event_id = 'e5' THEN NULL ELSE customer_id END AS customer_id)",
    )
    report = ws.ingest_events(bad, progress=False)
    assert (report.accepted, report.quarantined, report.adopted) == (N - 1, 1, 0)
    assert report.reasons[0].reason == "missing_customer" and report.reasons[0].first_line == 6

    # what the schema alone rules out
    def ok(path: Path, **kw: object) -> bool:
        args: dict = {"table": "events", "mapping": ColumnMapping(), "timezone": "UTC", "fmt": None}
        return adoptable(path, **{**args, **kw})

    assert ok(clean)
    assert not ok(clean, timezone="Europe/Amsterdam")  # naive times are shifted to UTC
    assert not ok(clean, table="responses")
    assert not ok(clean, mapping=ColumnMapping(columns={"customer_id": "event_id"}))
    extra = _variant(clean, tmp_path / "extra.parquet", "*, 1 AS page")
    assert not ok(extra)  # an extra column goes into properties
    assert not ok(_variant(clean, tmp_path / "narrow.parquet", "* EXCLUDE (contact_id)"))
    ms = 'CAST("timestamp" AS TIMESTAMP_MS) AS "timestamp"'
    assert not ok(_variant(clean, tmp_path / "ms.parquet", f"* REPLACE ({ms})"))  # another unit
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(adopt, "MAX_ROW_GROUP_ROWS", N - 1)
        assert not ok(clean)  # one row group of 1000 rows: too large


def test_rights_on_an_adopted_file(tmp_path: Path, clean: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    ws.ingest_events(clean, progress=False)
    held = ws.export_customer("c3")
    lines = sorted(r["source_line"] for r in held["tables"]["events"])
    assert lines == [i + 1 for i in range(N) if i % 37 == 3]
    assert {r["source_file"] for r in held["tables"]["events"]} == {str(clean)}

    before = _stored(ws)
    report = ws.forget_customer("c3")
    assert report.rows_removed["events"] == len(lines)
    files = ws.data_files("events")
    assert len(files) == 1 and not files.adopted  # rewritten as a canonical file
    after = _stored(ws)
    expected = before[before["customer_id"] != "c3"].reset_index(drop=True)
    pd.testing.assert_frame_equal(after, expected)  # the provenance written out unchanged


def _ingest_in_child(root: Path, src: Path) -> None:
    os.environ["KLANTREIS_INGEST_PAUSE_S"] = "30"  # after the check, before the commit
    klantreis.open(root).ingest_events(src, progress=False)


def test_sigkill_while_adopting_then_rerun(tmp_path: Path, clean: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    staging = ws.data_dir / ".staging"
    fork = multiprocessing.get_context("fork")
    proc = fork.Process(target=_ingest_in_child, args=(ws.root, clean))
    proc.start()
    deadline = time.monotonic() + 60
    while not any(staging.glob("*/adopt-*.parquet")):
        assert time.monotonic() < deadline, "the child never staged its copy"
        time.sleep(0.01)
    time.sleep(0.2)  # the check is running or done; the child sleeps before publishing
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL
    assert ws.data_files("events") == []  # nothing committed
    report = ws.ingest_events(clean, progress=False)  # the same command again
    assert (report.accepted, report.adopted) == (N, 1)
    assert ws.ingest_log()["status"].tolist() == ["committed", "aborted"]  # newest first
    assert sorted((ws.data_dir / "events").glob("*.parquet")) == list(ws.data_files("events"))
    assert not staging.exists() or not any(staging.iterdir())
    assert len(_stored(ws)) == N


@pytest.mark.spark
def test_spark_reads_adopted_files_with_their_provenance(tmp_path: Path, clean: Path) -> None:
    if os.environ.get("KLANTREIS_SKIP_SPARK") == "1":
        pytest.skip("KLANTREIS_SKIP_SPARK=1")
    ws = init_workspace(tmp_path / "ws")
    ws.ingest_events(clean, progress=False)
    ws.ingest_events(_clean(tmp_path / "overlap.parquet", 500, 1500), progress=False)
    assert len(ws.data_files("events").adopted) == 1  # one adopted file, one canonical
    events = open_source(ws, engine="spark").events
    columns = ["event_id", "customer_id", "timestamp", "source_file", "source_line", "ingest_id"]
    spark = events.select(*columns).to_pandas().sort_values("event_id").reset_index(drop=True)
    duck = _stored(ws)[columns]
    pd.testing.assert_frame_equal(spark, duck, check_dtype=False)
    assert spark.set_index("event_id").loc["e41", "source_line"] == 42
