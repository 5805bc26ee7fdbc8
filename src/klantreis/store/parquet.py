"""How the store writes Parquet files: the Arrow schema of each table and one writer setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .database import canonical_table

__all__ = ["QUARANTINE_SCHEMA", "arrow_schema", "parquet_writer", "write_query"]

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "MAP(VARCHAR, VARCHAR)": pa.map_(pa.string(), pa.string()),
}

QUARANTINE_SCHEMA = pa.schema(
    [
        ("ingest_id", pa.int64()),
        ("table_name", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("field", pa.string()),
        ("value", pa.string()),
        ("reason", pa.string()),
        ("message", pa.string()),
        ("customer_id", pa.string()),
        ("raw", pa.string()),
        ("quarantined_at", pa.timestamp("us")),
    ]
)


_DICTIONARY_COLUMNS = frozenset(
    {
        "customer_id",
        "account_id",
        "contact_id",
        "event",
        "channel",
        "touchpoint",
        "metric",
        "source_file",
    }
)


def parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A writer for the store's files: zstd, dictionary encoding only where values repeat
    (names, ids of customers, map keys and values), not on unique ids (3x faster to write)."""
    dictionary = [f.name for f in schema if f.name in _DICTIONARY_COLUMNS]
    dictionary += [
        f"{f.name}.key_value.{part}"
        for f in schema
        if pa.types.is_map(f.type)
        for part in ("key", "value")
    ]
    return pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=dictionary)


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow (and Parquet) schema of a canonical table."""
    return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in canonical_table(table).columns])


def write_query(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any],
    dest: Path,
    schema: pa.Schema,
    *,
    batch_rows: int = 500_000,
) -> int:
    """Stream a query's result into a Parquet file; returns the row count (0: no file)."""
    reader = con.sql(sql, params=params or None).to_arrow_reader(batch_rows)
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            if writer is None:
                writer = parquet_writer(dest, schema)
            writer.write_batch(batch.cast(schema))
            rows += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows
