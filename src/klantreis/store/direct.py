"""The direct Parquet path of an events ingest: DuckDB reads the source files itself.

The common case — Parquet files whose columns already carry the canonical names (or a mapping
onto them), with ``properties`` as a MAP(VARCHAR, VARCHAR) column or absent, and no extra
columns — needs no Python-side batches. It replaces step 1 (stage) of ``ingest.py``:

1. **Quarantine** (one statement over every file): the canonical checks of ``canonical.py``
   run over ``read_parquet(file, file_row_number = true)``; rows that fail them are written,
   with reason, file, 1-based row number and the raw row as JSON, to the staging quarantine
   file (the same rows the batched path writes).
2. **Good rows** (one parallel ``COPY`` over every file): the canonical rows, keyed (the
   content key where there is no ``event_id``), in file order and then row order, written
   once as zstd Parquet to the staging good file.

Steps 2 (deduplicate) and 3 (commit: rename and register in one transaction) are the
batched path's own, so exactly-once, atomicity and the report are unchanged, and the stored
rows are identical (same order too). DuckDB streams both statements and spills to the
connection's ``temp_directory`` under its ``memory_limit``.

Sources with extra columns (packed into ``properties``) take the batched path: packing them
in SQL measured slower than its Arrow packing. ``KLANTREIS_INGEST_DIRECT=0`` forces the
batched path (for comparisons).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .canonical import LINE_COLUMN, MAP_COLUMN, canonical_query, quote_ident
from .mapping import ColumnMapping
from .parquet import QUARANTINE_SCHEMA, arrow_schema
from .readers import detect_format

__all__ = ["ROW_GROUP_ROWS", "DirectPlan", "DirectResult", "plan_direct", "run_direct"]

#: Rows per row group of the staged / committed file. DuckDB encodes row groups in parallel:
#: 1M-row groups left one core idle for most of a 5M-row ingest (11.2 s against 6.5 s with
#: 122,880 rows, DuckDB's default, measured on the 2-core machine; benchmarks/changes.md).
ROW_GROUP_ROWS = 122_880
_OFF_ENV = "KLANTREIS_INGEST_DIRECT"  # "0": always use the batched path
_EXTRAS_ENV = "KLANTREIS_INGEST_DIRECT_EXTRAS"  # "1": extra columns too (for measuring)
_RAW = "__klantreis_raw"


@dataclass
class DirectPlan:
    """What the direct path runs: one canonical query per file, over the file itself."""

    files: list[Path]
    queries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class DirectResult:
    good_rows: int  # rows that passed the checks (in the staged good file)
    bad_rows: int  # rows quarantined (in the staged quarantine file)


def _plain_extra(t: pa.DataType) -> bool:
    """Types whose text is the same in Arrow and DuckDB (the batched path casts in Arrow)."""
    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_integer(t)
        or pa.types.is_boolean(t)
    )


def plan_direct(
    sources: list[Any],
    *,
    table: str,
    mapping: ColumnMapping,
    fmt: str | None,
    timezone: str,
) -> DirectPlan | None:
    """The direct plan for these sources, or None when the batched path must run."""
    if os.environ.get(_OFF_ENV) == "0" or table != "events":
        return None
    if not sources or not all(isinstance(s, Path) for s in sources):
        return None
    if any(detect_format(s, fmt) != "parquet" for s in sources):
        return None
    plan = DirectPlan(files=list(sources))
    for i, path in enumerate(plan.files):
        try:
            schema = pq.read_schema(path)
        except Exception:
            return None  # let the batched path report the unreadable file
        if any(pa.types.is_dictionary(f.type) for f in schema):
            return None
        map_column = "properties"
        given = mapping.columns.get(map_column) or (
            map_column
            if map_column in schema.names and map_column not in mapping.columns.values()
            else None
        )
        with_line = schema.append(pa.field(LINE_COLUMN, pa.int64()))
        probe = canonical_query(
            table,
            with_line,
            columns=mapping.columns,
            date_format=mapping.date_format,
            source_name=repr(str(path)),
            timezone=timezone,
        )
        if probe.map_mode == "extras":
            # extra columns packed into the map in SQL cost more than the batched path's
            # Arrow packing (5M rows, 2 extras: 16.4 s against 12.7 s), so they take that path
            if probe.map_extras and os.environ.get(_EXTRAS_ENV) != "1":
                return None
            if not all(_plain_extra(schema.field(n).type) for n in probe.map_extras):
                return None
            carry_map = quote_ident(MAP_COLUMN)
        elif probe.map_mode == "given" and given is not None:
            t = schema.field(given).type
            if not (_plain_extra(t.key_type) and pa.types.is_string(t.item_type)):
                return None
            carry_map = f"CAST({quote_ident(given)} AS MAP(VARCHAR, VARCHAR))"
        else:
            return None
        query = canonical_query(
            table,
            with_line,
            columns=mapping.columns,
            date_format=mapping.date_format,
            source_name=repr(str(path)),
            timezone=timezone,
            relation=_relation(i, schema, probe.map_extras if probe.map_mode == "extras" else []),
            carry=[(carry_map, map_column), (quote_ident(_RAW), "_raw")],
        )
        # every file's parameters get their own names: the files run in one statement
        sql = re.sub(r"\$(p\d+)\b", rf"$f{i}_\1", query.sql)
        params = {f"f{i}_{k}": v for k, v in query.params.items()}
        params[f"file{i}"] = str(path)
        for j, name in enumerate(probe.map_extras if probe.map_mode == "extras" else []):
            params[f"f{i}_key{j}"] = name
        plan.queries.append((sql, params))
        for col in query.ignored_columns:
            if col not in plan.ignored_columns:
                plan.ignored_columns.append(col)
    return plan


def _relation(i: int, schema: pa.Schema, extras: list[str]) -> str:
    """The source file as the canonical query expects a batch: every column, the 1-based row
    number, the extra columns packed into a map (nulls skipped, source column order) and
    the raw row (for the quarantine's JSON)."""
    if extras:
        entries = ", ".join(
            f"{{'k': $f{i}_key{j}, 'v': CAST({quote_ident(n)} AS VARCHAR)}}"
            for j, n in enumerate(extras)
        )
        the_map = f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"
    else:
        the_map = "map_from_entries(CAST([] AS STRUCT(k VARCHAR, v VARCHAR)[]))"
    raw = ", ".join(f"{quote_ident(n)} := {quote_ident(n)}" for n in schema.names)
    return (
        f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {quote_ident(LINE_COLUMN)}, "
        f"{the_map} AS {quote_ident(MAP_COLUMN)}, struct_pack({raw}) AS {quote_ident(_RAW)} "
        f"FROM read_parquet($file{i}, file_row_number = true)) raw_batch"
    )


def run_direct(
    work: duckdb.DuckDBPyConnection,
    plan: DirectPlan,
    *,
    table: str,
    ingest_id: int,
    good_path: Path,
    quarantine_path: Path,
    quarantined_at: Any,
    on_file: Any = None,
) -> DirectResult:
    """Run the plan: the quarantine file, then the new committed file (see the module doc)."""
    schema = arrow_schema(table)
    canonical = {c.name: c.type for c in _columns(table)}
    parts: list[str] = []
    params: dict[str, Any] = {"ingest_id": ingest_id}
    bad_parts: list[str] = []
    for i, (sql, query_params) in enumerate(plan.queries):
        params.update(query_params)
        name = f"$file{i}"
        parts.append(
            f"SELECT *, {i} AS _file, {name} AS _source_file FROM ({sql}) WHERE _reason IS NULL"
        )
        bad_parts.append(
            f"SELECT {name} AS source_file, source_line, _field AS field, _value AS value, "
            f"_reason AS reason, _message AS message, customer_id, "
            f"CAST(to_json(_raw) AS VARCHAR) AS raw, {i} AS _file "
            f"FROM ({sql}) WHERE _reason IS NOT NULL"
        )
    # quarantine: few rows; one statement for all files (in file order, then row order)
    q_cols = ", ".join(
        f"CAST({_q_expr(f.name)} AS {_duck(f.type)}) AS {quote_ident(f.name)}"
        for f in QUARANTINE_SCHEMA
    )
    q_params = {**params, "table_name": table, "at": quarantined_at}
    bad_sql = f"SELECT {q_cols} FROM ({' UNION ALL '.join(bad_parts)}) ORDER BY _file, source_line"
    # one scan: the COPY says how many rows it wrote (none: the empty file is dropped)
    copied = work.execute(
        f"COPY ({bad_sql}) TO $dest (FORMAT parquet, COMPRESSION zstd)",
        {**q_params, "dest": str(quarantine_path)},
    ).fetchall()
    bad_rows = int(copied[0][0]) if copied else 0
    if bad_rows == 0:
        quarantine_path.unlink(missing_ok=True)
    if on_file is not None:
        on_file(bad_rows)

    cols = []
    for f in schema:
        if f.name == "source_file":
            expr = "_source_file"
        elif f.name == "ingest_id":
            expr = "$ingest_id"
        else:
            expr = quote_ident(f.name)
        cols.append(f"CAST({expr} AS {canonical[f.name]}) AS {quote_ident(f.name)}")
    good = " UNION ALL ".join(parts)
    # one file: DuckDB keeps the row order of a scan (preserve_insertion_order); several:
    # file order, then row order, so that "the first row of an id wins" means what it did
    order = " ORDER BY _file, source_line" if len(parts) > 1 else ""
    written = work.execute(
        f"COPY (SELECT {', '.join(cols)} FROM ({good}){order}) TO $dest "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})",
        {**params, "dest": str(good_path)},
    ).fetchall()
    good_rows = int(written[0][0]) if written else 0
    if good_rows == 0:
        good_path.unlink(missing_ok=True)
    return DirectResult(good_rows, bad_rows)


def _columns(table: str) -> Any:
    from .database import canonical_table

    return canonical_table(table).columns


def _q_expr(name: str) -> str:
    return {
        "ingest_id": "$ingest_id",
        "table_name": "$table_name",
        "quarantined_at": "$at",
    }.get(name, quote_ident(name))


_DUCK = {"int64": "BIGINT", "string": "VARCHAR", "timestamp[us]": "TIMESTAMP"}


def _duck(t: pa.DataType) -> str:
    return _DUCK[str(t)]
