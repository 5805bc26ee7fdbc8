"""Customers' data rights: export everything held on one customer, or forget them.

``export_customer`` gathers every row on the customer from every canonical table, the
accounts they belong to, the quarantine and any cache table (GDPR art. 15, right of access).

``forget_customer`` (art. 17, right to erasure) rewrites each committed Parquet file that
holds the customer without their rows, deletes their quarantined rows and their rows in
cache tables (any other table of the workspace database with a ``customer_id`` column), and
records the erasure in the audit log: the time, a salted SHA-256 of the id (never the id)
and the row counts per table. It is atomic like an ingest: the new files are registered and
the old ones unregistered in one transaction, then the old ones deleted, and so is the derived
sequence index (``data/_index/``, which holds customer ids; it is rebuilt on next use).

A quarantined row is the customer's when its ``customer_id`` is the id or its raw source row
has a field whose value is exactly the id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from ..errors import UsageError
from .adopt import scan_sql
from .database import (
    INDEX_DIR,
    STORE_TABLES,
    now_utc,
    read_connection,
    salt,
    write_transaction,
)
from .parquet import arrow_schema, parquet_writer
from .report import ForgetReport

__all__ = ["CUSTOMER_TABLES", "export_customer", "forget_customer", "subject_hash"]

#: Canonical tables with rows per customer.
CUSTOMER_TABLES = ("events", "responses", "customers")

_QUARANTINE_MATCH = (
    "(customer_id = $id OR (raw IS NOT NULL AND json_valid(raw) "
    "AND list_contains(json_extract_string(raw, '$.*'), $id)))"
)


def _check_id(customer_id: str) -> str:
    cid = str(customer_id).strip()
    if not cid:
        raise UsageError("The customer id is empty.", hint="give the customer_id as stored.")
    return cid


def subject_hash(salt_text: str, customer_id: str) -> str:
    """The audit log's stand-in for a customer id: SHA-256 of the workspace salt and the id."""
    return hashlib.sha256(f"{salt_text}\x1f{customer_id}".encode()).hexdigest()


def _cache_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND column_name = 'customer_id' AND NOT internal ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows if r[0] not in STORE_TABLES]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    out = []
    for row in cur.fetchall():
        rec = dict(zip(names, row, strict=True))
        for k, v in rec.items():
            if isinstance(v, list) and v and isinstance(v[0], tuple):  # MAP as pairs
                rec[k] = dict(v)
            elif isinstance(v, list) and v and isinstance(v[0], dict) and set(v[0]) == _ENTRY:
                pairs = [(e["key"], e["value"]) for e in v]  # MAP as entries (_map_entries)
                keys = [key for key, _ in pairs]
                # a key given twice in the source: every pair kept, as pairs (nothing lost)
                rec[k] = dict(pairs) if len(set(keys)) == len(keys) else [list(p) for p in pairs]
            elif v == [] and k in _MAPS.values():  # an empty map's entries
                rec[k] = {}
        out.append(_jsonable(rec))
    return out


_ENTRY = {"key", "value"}
#: The MAP column of each customer table: exported as its entries, because DuckDB refuses to
#: hand a map with a repeated key (which a Parquet source can hold) to Python.
_MAPS = {"events": "properties", "customers": "attributes", "accounts": "attributes"}


def _map_entries(table: str) -> str:
    column = _MAPS.get(table)
    return f" REPLACE (map_entries({column}) AS {column})" if column else ""


def _committed(ws: Any, tables: Sequence[str]) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """The committed files of ``tables`` (absolute paths as text), and the adopted ones among
    them (``Workspace.data_files_by_table``)."""
    by_table = ws.data_files_by_table(list(tables))
    files = {t: [str(p) for p in paths] for t, paths in by_table.items()}
    adopted = {p: a for paths in by_table.values() for p, a in paths.adopted.items()}
    return files, adopted


def export_customer(ws: Any, customer_id: str) -> dict[str, Any]:
    """Every row held on ``customer_id`` as a JSON-ready dict (tables, quarantine, caches)."""
    cid = _check_id(customer_id)
    tables: dict[str, list[dict[str, Any]]] = {}
    quarantine: list[dict[str, Any]] = []
    caches: dict[str, list[dict[str, Any]]] = {}
    files, adopted = _committed(ws, (*CUSTOMER_TABLES, "accounts"))
    with read_connection(ws.database_path) as con:
        if con is not None:
            quarantine = _rows(
                con,
                f"SELECT * FROM quarantine WHERE {_QUARANTINE_MATCH} ORDER BY ingest_id, source_line",
                {"id": cid},
            )
            for name in _cache_tables(con):
                caches[name] = _rows(
                    con, f"SELECT * FROM {_ident(name)} WHERE customer_id = $id", {"id": cid}
                )
    work = duckdb.connect()
    work.execute("SET enable_progress_bar = false")
    try:
        for t in CUSTOMER_TABLES:
            tables[t] = (
                _rows(
                    work,
                    f"SELECT *{_map_entries(t)} FROM {scan_sql(t, files[t], adopted)} "
                    "WHERE customer_id = $id",
                    {"id": cid},
                )
                if files[t]
                else []
            )
        accounts = sorted(
            {
                r["account_id"]
                for t in ("events", "customers")
                for r in tables[t]
                if r.get("account_id")
            }
        )
        tables["accounts"] = (
            _rows(
                work,
                f"SELECT *{_map_entries('accounts')} FROM read_parquet($f) "
                "WHERE list_contains($a, account_id)",
                {"f": files["accounts"], "a": accounts},
            )
            if files["accounts"] and accounts
            else []
        )
    finally:
        work.close()
    return {
        "customer_id": cid,
        "exported_at": now_utc().isoformat() + "Z",
        "workspace": ws.name,
        "tables": tables,
        "quarantine": quarantine,
        "caches": caches,
        "counts": {
            **{t: len(rows) for t, rows in tables.items()},
            "quarantine": len(quarantine),
            **{f"cache:{k}": len(v) for k, v in caches.items()},
        },
    }


def forget_customer(ws: Any, customer_id: str, *, command: str | None = None) -> ForgetReport:
    """Erase ``customer_id`` from every table, the quarantine and caches; audit it."""
    cid = _check_id(customer_id)
    data_dir: Path = ws.data_dir
    with ws.write_lock(command=command):
        files, adopted = _committed(ws, CUSTOMER_TABLES)
        removed: dict[str, int] = {}
        replace: list[tuple[str, str | None, int, int, str]] = []  # old, new, rows, bytes, table
        work = duckdb.connect()
        work.execute("SET enable_progress_bar = false")
        try:
            for t, paths in files.items():
                removed[t] = 0
                if not paths:
                    continue
                hits = work.execute(
                    "SELECT filename, count(*) FROM read_parquet($f, filename = true, "
                    "union_by_name = true) "
                    "WHERE customer_id = $id GROUP BY filename ORDER BY filename",
                    {"f": paths, "id": cid},
                ).fetchall()
                for filename, n in hits:
                    removed[t] += int(n)
                    old = Path(filename)
                    rel = old.relative_to(data_dir).as_posix()
                    # an adopted file becomes a canonical one, its provenance written out
                    schema = arrow_schema(t) if filename in adopted else pq.read_schema(old)
                    reader = work.sql(
                        f"SELECT * FROM {scan_sql(t, [filename], adopted)} "
                        "WHERE customer_id IS DISTINCT FROM $id",
                        params={"id": cid},
                    ).to_arrow_reader(500_000)
                    dest = old.with_name(f"{old.stem}-e{secrets.token_hex(3)}.parquet")
                    rows = 0
                    writer: pq.ParquetWriter | None = None
                    for batch in reader:
                        if batch.num_rows == 0:
                            continue
                        if writer is None:
                            writer = parquet_writer(dest, schema)
                        writer.write_batch(batch.cast(schema))
                        rows += batch.num_rows
                    if writer is not None:
                        writer.close()
                        replace.append(
                            (
                                rel,
                                dest.relative_to(data_dir).as_posix(),
                                rows,
                                dest.stat().st_size,
                                t,
                            )
                        )
                    else:
                        replace.append((rel, None, 0, 0, t))
        finally:
            work.close()
        at = now_utc()
        with write_transaction(ws.database_path) as con:
            for old_rel, new_rel, rows, size, t in replace:
                ingest_rows = con.execute(
                    "SELECT ingest_id FROM data_files WHERE path = $p", {"p": old_rel}
                ).fetchall()
                con.execute("DELETE FROM data_files WHERE path = $p", {"p": old_rel})
                if new_rel is not None:
                    con.execute(
                        "INSERT INTO data_files (path, table_name, rows, bytes, ingest_id, "
                        "committed_at) VALUES ($p, $t, $r, $b, $i, $at)",
                        {
                            "p": new_rel,
                            "t": t,
                            "r": rows,
                            "b": size,
                            "i": ingest_rows[0][0] if ingest_rows else None,
                            "at": at,
                        },
                    )
            q = con.execute(
                f"DELETE FROM quarantine WHERE {_QUARANTINE_MATCH} RETURNING 1", {"id": cid}
            ).fetchall()
            removed["quarantine"] = len(q)
            for name in _cache_tables(con):
                n = con.execute(
                    f"DELETE FROM {_ident(name)} WHERE customer_id = $id RETURNING 1", {"id": cid}
                ).fetchall()
                removed[f"cache:{name}"] = len(n)
            digest = subject_hash(salt(con), cid)
            audit_id = int(con.execute("SELECT nextval('audit_id_seq')").fetchall()[0][0])
            con.execute(
                "INSERT INTO audit_log VALUES ($id, $at, 'forget', $h, $rows, $files, $cmd)",
                {
                    "id": audit_id,
                    "at": at,
                    "h": digest,
                    "rows": json.dumps(removed, sort_keys=True),
                    "files": len(replace),
                    "cmd": "forget",
                },
            )
        for old_rel, _new, _rows, _size, _t in replace:
            (data_dir / old_rel).unlink(missing_ok=True)
        # derived data (the sequence index holds customer ids): rebuilt from the rewritten files
        shutil.rmtree(data_dir / INDEX_DIR, ignore_errors=True)
    return ForgetReport(
        audit_id=audit_id,
        subject_hash=digest,
        rows_removed=removed,
        files_rewritten=len(replace),
        erased_at=at.isoformat() + "Z",
    )


def audit_log(db_path: Path) -> list[dict[str, Any]]:
    """The audit log (erasures), oldest first."""
    with read_connection(db_path) as con:
        if con is None:
            return []
        return _rows(con, "SELECT * FROM audit_log ORDER BY audit_id", {})
