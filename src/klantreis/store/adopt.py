"""Adoption: a clean canonical Parquet file of events is kept as it is, not rewritten.

Rewriting is the floor of every other ingest path: on the 2-core machine DuckDB needs 7.3 s to
merely copy 10M events from Parquet to Parquet (pyarrow 4.5 s to read them, 5.4 s to write),
so no rewrite reaches 4M events/s. A file that already holds exactly the canonical columns
(``store/schema.py`` without the provenance columns) with the canonical types, and whose rows
all pass the checks unchanged, would be rewritten into the same values. Such a file is copied
into the store byte for byte and registered with its source (ADR 0013) — the same idea as
DuckLake's ``ducklake_add_data_files`` or Iceberg's ``add_files``.

When a file is adopted
    - the table is ``events``, the format Parquet, the time zone ``UTC`` (naive timestamps are
      then stored as they are) and no column mapping renames anything;
    - its columns are the canonical ones minus ``source_file``, ``source_line`` and
      ``ingest_id``, in any order, with exactly the canonical types and no dictionary types, and
      no row group holds more than ``MAX_ROW_GROUP_ROWS`` rows (scans run in parallel by row
      group);
    - every row passes the checks without a change: ``event_id``, ``customer_id`` and ``event``
      present and not empty, a timestamp, no empty ``account_id``, ``contact_id``,
      ``session_id`` or ``channel`` (the canonical form stores those as NULL);
    - no ``event_id`` repeats within the ingest or is committed already.

These are checked on the staged copy in one scan (:func:`check`); a file that fails any of
them takes the direct path (``direct.py``), which rewrites, quarantines and deduplicates as
before, so the stored rows are the same either way. ``KLANTREIS_INGEST_ADOPT=0`` turns
adoption off.

How adopted files are read
    Row *n* of an adopted file is line *n* of its source file, ingested by the registered
    ingest: :func:`scan_sql` fills ``source_file``, ``source_line`` and ``ingest_id`` from the
    registry and the row number, so every reader of the committed files sees the canonical
    table. Rewriting an adopted file (``forget``) writes a canonical file with the filled
    columns.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .database import Adopted, canonical_table, sql_literal
from .mapping import ColumnMapping
from .parquet import arrow_schema

__all__ = [
    "MAX_ROW_GROUP_ROWS",
    "PROVENANCE",
    "AdoptCheck",
    "adoptable",
    "check",
    "scan_sql",
    "stage_copies",
]

#: The columns an adopted file lacks; readers fill them (:func:`scan_sql`).
PROVENANCE = ("source_file", "source_line", "ingest_id")
#: pyarrow's default row group (1Mi rows); larger groups would scan on one core.
MAX_ROW_GROUP_ROWS = 1 << 20
_OFF_ENV = "KLANTREIS_INGEST_ADOPT"  # "0": never adopt (for comparisons)
_MAY_BE_NULL = ("account_id", "contact_id", "session_id", "channel")


def adoptable(
    path: Path, *, table: str, mapping: ColumnMapping, timezone: str, fmt: str | None
) -> bool:
    """Whether ``path`` may be adopted as far as its schema tells (the rows: :func:`check`)."""
    if os.environ.get(_OFF_ENV) == "0" or table != "events" or timezone != "UTC":
        return False
    if fmt not in (None, "parquet") or any(k != v for k, v in mapping.columns.items()):
        return False
    try:
        meta = pq.ParquetFile(path).metadata
        schema = meta.schema.to_arrow_schema()
    except Exception:
        return False  # the direct path reports an unreadable file
    want = {f.name: f.type for f in arrow_schema(table) if f.name not in PROVENANCE}
    if sorted(schema.names) != sorted(want):
        return False
    for f in schema:
        got = f.type
        if got != want[f.name] and not (
            pa.types.is_map(got)
            and pa.types.is_map(want[f.name])
            and pa.types.is_string(got.key_type)
            and pa.types.is_string(got.item_type)
        ):
            return False
    groups = (meta.row_group(i).num_rows for i in range(meta.num_row_groups))
    return all(n <= MAX_ROW_GROUP_ROWS for n in groups)


def stage_copies(sources: Sequence[Path], staging: Path) -> list[Path]:
    """Byte copies of the sources in the staging directory (checked and published from
    there, so a source changed or deleted meanwhile cannot change what is stored)."""
    copies = []
    for i, src in enumerate(sources):
        dest = staging / f"adopt-{i:04d}.parquet"
        shutil.copyfile(src, dest)
        copies.append(dest)
    return copies


@dataclass(frozen=True)
class AdoptCheck:
    rows: list[int]  # rows per file
    failing: int  # rows the canonical form would change or quarantine
    repeated: int  # event ids (by hash) seen twice within the ingest
    clashing: int  # rows whose event id is committed already

    @property
    def ok(self) -> bool:
        """Every row is new and passes the checks unchanged: adopt the files."""
        return self.failing == 0 and self.repeated == 0 and self.clashing == 0

    @property
    def all_committed(self) -> bool:
        """Every row passes and its id is committed already (the same files ingested
        again): nothing to store, every row a duplicate."""
        return self.failing == 0 and self.repeated == 0 and self.clashing == sum(self.rows)


def check(
    work: duckdb.DuckDBPyConnection, files: Sequence[Path], committed: Sequence[str]
) -> AdoptCheck:
    """The row checks and the event id hashes of the staged copies: one scan of the ids when
    the files' statistics prove the row checks (a file written by pyarrow or DuckDB has
    them), else a scan of the checked columns first.

    Equal ids have equal hashes, so no repeated hash proves no repeated id; a collision only
    sends the ingest down the direct path, which compares the ids themselves. Committed ids
    are compared exactly (they decide between adopting, all duplicates and the direct path).
    """
    names = [str(f) for f in files]
    metas = [pq.ParquetFile(f).metadata for f in files]  # each footer read once
    rows = [m.num_rows for m in metas]
    failing = 0  # proven by the files' statistics when they can: then only the ids are read
    if not all(_clean_by_statistics(m) for m in metas):
        empty = " OR ".join(f"{c} = ''" for c in _MAY_BE_NULL)
        failing = int(
            work.execute(
                "SELECT count(*) FILTER (WHERE event_id IS NULL OR event_id = '' OR customer_id "
                "IS NULL OR customer_id = '' OR timestamp IS NULL OR event IS NULL OR event = '' "
                f"OR {empty}) FROM read_parquet($f)",
                {"f": names},
            ).fetchall()[0][0]
        )
    repeated = _repeated_hashes(work, names, sum(rows)) if failing == 0 else 0
    clashing = 0
    if committed and failing == 0 and repeated == 0:
        clashing = int(
            work.execute(
                "SELECT count(*) FROM read_parquet($f) s SEMI JOIN (SELECT event_id "
                "FROM read_parquet($old, union_by_name = true)) c USING (event_id)",
                {"f": names, "old": list(committed)},
            ).fetchall()[0][0]
        )
    return AdoptCheck(rows, failing, repeated, clashing)


def _repeated_hashes(work: duckdb.DuckDBPyConnection, names: list[str], n: int) -> int:
    """How many of the files' event id hashes repeat an earlier one. DuckDB hashes the ids on
    every core; a compiled pass counts the repeats (``engine/kernels/distinct.py``: 0.35 s in
    all at 10M events against 0.85–1.5 s for DuckDB's ``count(DISTINCT …)``), with one array
    of 8 bytes per event."""
    import numpy as np

    from ..engine.kernels.distinct import repeated_count

    hashes = np.empty(n, dtype=np.uint64)
    at = 0
    reader = work.sql(
        "SELECT hash(event_id) AS h FROM read_parquet($f)", params={"f": names}
    ).to_arrow_reader(MAX_ROW_GROUP_ROWS)
    for batch in reader:
        m = batch.num_rows
        if at + m > n:
            raise RuntimeError(f"adopt: the files hold more than the {n:,} rows their footers say")
        hashes[at : at + m] = batch.column(0).to_numpy()
        at += m
    if at != n:
        raise RuntimeError(f"adopt: read {at:,} of the {n:,} rows the files' footers say")
    return int(repeated_count(hashes))


def _clean_by_statistics(meta: pq.FileMetaData) -> bool:
    """True when the column statistics of every row group prove the row checks pass: no
    NULL in the required columns, and no empty string anywhere (the smallest string is the
    empty one, so a minimum above it rules it out; a truncated minimum is still a lower
    bound). False when a statistic is missing or does not prove it: then the rows are read."""
    required = {"event_id", "customer_id", "timestamp", "event"}
    text = required - {"timestamp"} | set(_MAY_BE_NULL)
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        for j in range(group.num_columns):
            column = group.column(j)
            name = column.path_in_schema
            if name not in required and name not in text:
                continue
            stats = column.statistics
            if stats is None or not stats.has_null_count:
                return False
            if name in required and stats.null_count != 0:
                return False
            some = name in text and stats.null_count < group.num_rows
            if some and (not stats.has_min_max or len(stats.min) == 0):  # str or bytes
                return False
    return True


def scan_sql(table: str, files: Sequence[str | Path], adopted: Mapping[str, Adopted]) -> str:
    """A DuckDB relation (a parenthesised query) over committed files of ``table``: the
    canonical columns in canonical order, with the provenance of adopted files filled in.

    ``adopted`` maps the path of each adopted file, as given in ``files``, to its source.
    """
    listed = "[" + ", ".join(sql_literal(str(f)) for f in files) + "]"
    mine = {str(f): adopted[str(f)] for f in files if str(f) in adopted}
    columns = [c.name for c in canonical_table(table).columns]
    if not mine:
        return f"(SELECT * FROM read_parquet({listed}))"

    def by_file(value: dict[str, str]) -> str:
        cases = " ".join(f"WHEN {sql_literal(f)} THEN {v}" for f, v in value.items())
        return f"CASE filename {cases} END"

    filled = {
        "source_file": by_file({f: sql_literal(a.source_file) for f, a in mine.items()}),
        "source_line": "file_row_number + 1",
        "ingest_id": f"CAST({by_file({f: str(int(a.ingest_id)) for f, a in mine.items()})} "
        "AS BIGINT)",
    }
    # files of both kinds: the canonical ones carry the columns, adopted rows read NULL there
    mixed = len(mine) < len(files)
    select = ", ".join(
        (f"coalesce({c}, {filled[c]}) AS {c}" if mixed else f"{filled[c]} AS {c}")
        if c in filled
        else c
        for c in columns
    )
    return (
        f"(SELECT {select} FROM read_parquet({listed}, union_by_name = true, "
        "filename = true, file_row_number = true))"
    )
