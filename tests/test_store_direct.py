"""The direct Parquet path stores what the batched path stores (rows, quarantine, report)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from klantreis.store.direct import plan_direct
from klantreis.store.mapping import ColumnMapping
from klantreis.store.workspace import init_workspace

_MESSY = """COPY (SELECT CASE WHEN i % 97 = 0 THEN NULL ELSE 'e' || (i % 900) END AS event_id,
 CASE WHEN i % 101 = 0 THEN NULL WHEN i % 103 = 0 THEN '' ELSE 'c' || (i % 30) END AS customer_id,
 's' || (i // 5) AS session_id,
 CASE WHEN i % 107 = 0 THEN NULL ELSE TIMESTAMP '2024-01-01' + to_seconds(i * 7) END AS "timestamp",
 CASE WHEN i % 109 = 0 THEN NULL ELSE ['visit', 'buy'][1 + i % 2] END AS event,
 'web' AS channel, CASE WHEN i % 5 = 2 THEN i / 10.0 END AS value,
 CASE WHEN i % 11 = 0 THEN NULL WHEN i % 3 = 0 THEN MAP {'page': 'p' || i, 'device': 'm'}
      ELSE MAP {'page': 'p'} END AS properties
 FROM range(1000) t(i)) TO $f (FORMAT parquet)"""


def _stored(tmp: Path, src: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.setenv("KLANTREIS_INGEST_DIRECT", mode)
    ws = init_workspace(tmp / f"ws{mode}")
    first = ws.ingest_events(src, progress=False)
    again = ws.ingest_events(src, progress=False)
    files = [str(p) for p in ws.data_files("events")]
    rows = duckdb.execute(
        "SELECT * EXCLUDE (ingest_id) FROM read_parquet($f)", {"f": files}
    ).fetchall()
    with duckdb.connect(str(ws.database_path), read_only=True) as con:
        quarantine = con.execute(
            "SELECT source_file, source_line, field, value, reason, message, customer_id, raw "
            "FROM quarantine ORDER BY source_line, reason"
        ).fetchall()
    counts = [(r.rows_read, r.accepted, r.duplicates, r.quarantined) for r in (first, again)]
    return rows, quarantine, counts


def test_direct_path_stores_the_same_as_batched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "events.parquet"
    duckdb.execute(_MESSY, {"f": str(src)})
    plan = plan_direct([src], table="events", mapping=ColumnMapping(), fmt=None, timezone="UTC")
    assert plan is not None  # canonical columns and a MAP: the direct path applies
    direct = _stored(tmp_path, src, "1", monkeypatch)
    batched = _stored(tmp_path, src, "0", monkeypatch)
    assert direct == batched
    rows, quarantine, counts = direct
    # bad rows by hand: customer NULL (i % 101 == 0) or '' (i % 103 == 0), timestamp NULL
    # (i % 107 == 0), event NULL (i % 109 == 0)
    bad = [i for i in range(1000) if i % 101 == 0 or i % 103 == 0 or i % 107 == 0 or i % 109 == 0]
    assert counts[0][0] == 1000 and counts[0][3] == len(bad)
    assert [q[1] for q in quarantine] == [i + 1 for i in bad]
    assert counts[1][1] == 0  # the second ingest adds nothing
    assert len(rows) == counts[0][1]


def test_extra_columns_take_the_batched_path(tmp_path: Path) -> None:
    src = tmp_path / "extras.parquet"
    duckdb.execute(
        "COPY (SELECT 'c' AS customer_id, TIMESTAMP '2024-01-01' AS \"timestamp\", "
        "'visit' AS event, 'x' AS page) TO $f (FORMAT parquet)",
        {"f": str(src)},
    )
    assert (
        plan_direct([src], table="events", mapping=ColumnMapping(), fmt=None, timezone="UTC")
        is None
    )
