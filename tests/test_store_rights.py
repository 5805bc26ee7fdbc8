"""Customers' data rights: export everything on one customer; forget them everywhere, audited."""

from __future__ import annotations

import hashlib
import json

import duckdb

import klantreis
from klantreis.store.rights import audit_log

EVENTS = """\
customer_id,timestamp,event,account_id,email
anna,2024-01-01T10:00:00Z,view,acme,anna@example.com
anna,2024-01-02T10:00:00Z,buy,acme,anna@example.com
bert,2024-01-01T11:00:00Z,view,,
anna,bad-time,view,acme,anna@example.com
"""
FEEDBACK = """\
customer_id,timestamp,metric,score
anna,2024-01-03T10:00:00Z,nps,9
bert,2024-01-03T10:00:00Z,nps,3
anna,2024-01-04T10:00:00Z,nps,11
"""


def load(ws: klantreis.Workspace, tmp_path) -> None:
    (tmp_path / "e.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "f.csv").write_text(FEEDBACK, encoding="utf-8")
    (tmp_path / "c.csv").write_text(
        "customer_id,account_id,city\nanna,acme,Utrecht\nbert,,Delft\n", encoding="utf-8"
    )
    (tmp_path / "a.csv").write_text(
        "account_id,industry\nacme,retail\nother,bank\n", encoding="utf-8"
    )
    ws.ingest_events(tmp_path / "e.csv", progress=False)
    ws.ingest_feedback(tmp_path / "f.csv", progress=False)
    ws.ingest_customers(tmp_path / "c.csv", progress=False)
    ws.ingest_accounts(tmp_path / "a.csv", progress=False)


def count(ws: klantreis.Workspace, table: str, customer: str) -> int:
    files = [str(p) for p in ws.data_files(table)]
    if not files:
        return 0
    row = duckdb.sql(
        "SELECT count(*) FROM read_parquet($f) WHERE customer_id = $c",
        params={"f": files, "c": customer},
    ).fetchall()
    return int(row[0][0])


def test_export_holds_every_row_on_the_customer(workspace, tmp_path):
    load(workspace, tmp_path)
    data = workspace.export_customer("anna")
    assert data["counts"] == {
        "events": 2,
        "responses": 1,
        "customers": 1,
        "accounts": 1,
        "quarantine": 2,
    }
    assert [e["event"] for e in data["tables"]["events"]] == ["view", "buy"]
    assert data["tables"]["events"][0]["timestamp"] == "2024-01-01T10:00:00"
    assert data["tables"]["events"][0]["properties"] == {"email": "anna@example.com"}
    assert data["tables"]["customers"][0]["attributes"] == {"city": "Utrecht"}
    assert data["tables"]["accounts"][0]["account_id"] == "acme"
    assert sorted(q["reason"] for q in data["quarantine"]) == [
        "bad_timestamp",
        "score_out_of_scale",
    ]
    json.dumps(data)  # plain JSON


def test_forget_removes_the_customer_everywhere_and_audits_without_the_id(workspace, tmp_path):
    load(workspace, tmp_path)
    # a cache table of another module that keeps customer ids
    con = duckdb.connect(str(workspace.database_path))
    con.execute("CREATE TABLE journey_cache (customer_id VARCHAR, n INTEGER)")
    con.execute("INSERT INTO journey_cache VALUES ('anna', 1), ('bert', 2)")
    con.close()
    before = {t: workspace.data_files(t) for t in ("events", "responses", "customers")}

    report = workspace.forget_customer("anna")
    assert report.rows_removed == {
        "events": 2,
        "responses": 1,
        "customers": 1,
        "quarantine": 2,
        "cache:journey_cache": 1,
    }
    assert report.files_rewritten == 3
    for table in ("events", "responses", "customers"):
        assert count(workspace, table, "anna") == 0
        assert workspace.data_files(table) != before[table]
        assert all(not p.exists() for p in before[table])  # old files are gone from disk
    assert count(workspace, "events", "bert") == 1
    assert count(workspace, "responses", "bert") == 1
    assert workspace.export_customer("anna")["counts"] == {
        "events": 0,
        "responses": 0,
        "customers": 0,
        "accounts": 0,
        "quarantine": 0,
        "cache:journey_cache": 0,
    }

    log = audit_log(workspace.database_path)
    assert len(log) == 1
    entry = log[0]
    assert entry["action"] == "forget"
    assert json.loads(entry["rows_removed"])["events"] == 2
    assert "anna" not in json.dumps(log)
    salt = (
        duckdb.connect(str(workspace.database_path), read_only=True)
        .execute("SELECT value FROM store_meta WHERE key = 'salt'")
        .fetchall()[0][0]
    )
    assert entry["subject_hash"] == hashlib.sha256(f"{salt}\x1fanna".encode()).hexdigest()
    assert report.subject_hash == entry["subject_hash"]

    # forgetting again finds nothing; the erasure is still recorded
    again = workspace.forget_customer("anna")
    assert again.total_rows == 0 and again.files_rewritten == 0
    assert len(audit_log(workspace.database_path)) == 2


def test_forget_the_only_customer_of_a_file_unregisters_it(workspace, tmp_path):
    (tmp_path / "e.csv").write_text(
        "customer_id,timestamp,event\nsolo,2024-01-01,x\n", encoding="utf-8"
    )
    workspace.ingest_events(tmp_path / "e.csv", progress=False)
    report = workspace.forget_customer("solo")
    assert report.rows_removed["events"] == 1
    assert workspace.data_files("events") == []
    assert list((workspace.data_dir / "events").glob("*.parquet")) == []


def test_export_keeps_every_pair_of_a_map_with_a_repeated_key(workspace, tmp_path):
    """A Parquet source may hold a map with a key twice; DuckDB will not hand such a map to
    Python, so the export reads its entries: both pairs kept, other maps as objects."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 3
    src = tmp_path / "dup.parquet"
    pq.write_table(
        pa.table(
            {
                "event_id": ["e0", "e1", "e2"],
                "customer_id": ["c", "c", "d"],
                "account_id": pa.array([None] * n, pa.string()),
                "contact_id": pa.array([None] * n, pa.string()),
                "session_id": ["s"] * n,
                "timestamp": pa.array(
                    [dt.datetime(2024, 1, 1, 0, 0, i) for i in range(n)], pa.timestamp("us")
                ),
                "event": ["a", "b", "c"],
                "channel": ["web"] * n,
                "value": pa.array([None] * n, pa.float64()),
                "properties": pa.array(
                    [[("k", "1"), ("k", "2")], [("p", "v")], []],
                    type=pa.map_(pa.string(), pa.string()),
                ),
            }
        ),
        src,
    )
    workspace.ingest_events(src, progress=False)
    held = workspace.export_customer("c")["tables"]["events"]
    assert [r["properties"] for r in held] == [[["k", "1"], ["k", "2"]], {"p": "v"}]
    assert [r["properties"] for r in workspace.export_customer("d")["tables"]["events"]] == [{}]
    json.dumps(held)  # JSON-ready
