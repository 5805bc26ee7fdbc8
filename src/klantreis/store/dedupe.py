"""Exactly once: which staged rows are new, by id, against the committed files (in DuckDB).

Only the id column is read to find duplicates (distinct hashes within the ingest, a
semi-join on hashes against the committed files); the staged file is rewritten with an exact
anti-join only when one may exist, so a fresh ingest writes its data once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from .parquet import write_query

__all__ = ["KEYS", "Outcome", "Staged", "deduplicate"]

#: The id column of each table.
KEYS = {
    "events": "event_id",
    "responses": "response_id",
    "customers": "customer_id",
    "accounts": "account_id",
}
_REPLACED_BY_ID = {"customers", "accounts"}
_REPLACED_BY_ID = {"customers", "accounts"}


class Staged(Protocol):
    """What deduplication needs to know about the staged rows of an ingest."""

    table: str
    schema: pa.Schema
    staging: Path
    good_path: Path
    good_rows: int


def _map_text(col: str) -> str:
    return (
        f"coalesce(array_to_string(list_transform(list_sort(map_entries({col})), "
        "lambda e: e.key || '=' || coalesce(e.value, '')), chr(30)), '')"
    )


@dataclass
class Outcome:
    new_files: list[tuple[Path, int]]  # (staged file ready to publish, rows)
    accepted: int
    duplicates: int
    replaced: int = 0
    rewritten: list[tuple[str, Path | None, int]] = field(
        default_factory=list
    )  # old rel, new, rows
    #: new files that are source files kept as they are (``adopt.py``): staged path → source
    adopted: dict[Path, str] = field(default_factory=dict)


def deduplicate(
    work: duckdb.DuckDBPyConnection, stager: Staged, data_dir: Path, committed: list[str]
) -> Outcome:
    """Drop rows whose id is committed already or repeats earlier in this ingest.

    Events and responses: the first row of an id wins; when nothing repeats and nothing is
    committed already, the staged file is kept as it is. Customers and accounts: the last
    row of an id wins; a stored identical row makes it a duplicate, a stored different row
    is replaced (the files holding it are rewritten without it).
    """
    table = stager.table
    key = KEYS[table]
    if stager.good_rows == 0:
        return Outcome([], 0, 0)
    staged = str(stager.good_path)
    old = [str(data_dir / p) for p in committed]
    names = ", ".join(f'"{n}"' for n in stager.schema.names)
    out = stager.staging / "deduplicated.parquet"
    if table not in _REPLACED_BY_ID:
        # Pre-checks on 64-bit hashes of the ids (faster than on the text): equal ids have
        # equal hashes, so "no equal hashes" proves "no duplicates". A hash collision only
        # sends the ingest down the exact path below.
        repeated = work.execute(
            f"SELECT count(*) - count(DISTINCT hash({key})) FROM read_parquet($f)", {"f": staged}
        ).fetchall()[0]
        clash = (0,)
        if old:
            clash = work.execute(
                f"SELECT count(*) FROM read_parquet($f) s SEMI JOIN "
                f"(SELECT hash({key}) AS h FROM read_parquet($old, union_by_name = true)) c ON hash(s.{key}) = c.h",
                {"f": staged, "old": old},
            ).fetchall()[0]
        if repeated[0] == 0 and clash[0] == 0:
            return Outcome([(stager.good_path, stager.good_rows)], stager.good_rows, 0)
        committed_ids = (
            f"ANTI JOIN (SELECT {key} FROM read_parquet($old, union_by_name = true)) c USING ({key})"
            if old
            else ""
        )
        sql = (
            f"SELECT {names} FROM read_parquet($f, file_row_number = true) s {committed_ids} "
            f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY file_row_number) = 1 "
            "ORDER BY file_row_number"
        )
        params: dict[str, Any] = {"f": staged, **({"old": old} if old else {})}
        rows = write_query(work, sql, params, out, stager.schema)
        return Outcome([(out, rows)] if rows else [], rows, stager.good_rows - rows)

    # customers / accounts: the latest row per id wins; identical stored rows are duplicates
    content = f"coalesce(account_id, '') || chr(31) || {_map_text('attributes')}"
    latest = (
        f"SELECT {names}, {content} AS _content FROM read_parquet($f, file_row_number = true) "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY file_row_number DESC) = 1"
    )
    if old:
        stored = f"SELECT {key}, {content} AS _content FROM read_parquet($old)"
        work.execute(
            f"CREATE OR REPLACE TEMP TABLE _new AS SELECT n.* FROM ({latest}) n "
            f"ANTI JOIN ({stored}) s ON n.{key} = s.{key} AND n._content = s._content",
            {"f": staged, "old": old},
        )
        replaced_files = work.execute(
            f"SELECT filename, count(*) FILTER (WHERE {key} NOT IN (SELECT {key} FROM _new)) "
            f"FROM read_parquet($old, filename = true) "
            f"GROUP BY filename HAVING bool_or({key} IN (SELECT {key} FROM _new)) ORDER BY filename",
            {"old": old},
        ).fetchall()
        replaced_row = work.execute(
            f"SELECT count(*) FROM _new WHERE {key} IN (SELECT {key} FROM read_parquet($old))",
            {"old": old},
        ).fetchall()[0]
        replaced = int(replaced_row[0])
    else:
        work.execute(f"CREATE OR REPLACE TEMP TABLE _new AS {latest}", {"f": staged})
        replaced_files, replaced = [], 0
    rows = write_query(work, f"SELECT {names} FROM _new ORDER BY {key}", {}, out, stager.schema)
    rewritten: list[tuple[str, Path | None, int]] = []
    for i, (filename, keep) in enumerate(replaced_files):
        rel = Path(filename).resolve().relative_to(data_dir.resolve()).as_posix()
        dest: Path | None = None
        if keep:
            dest = stager.staging / f"rewrite-{i}.parquet"
            write_query(
                work,
                f"SELECT {names} FROM read_parquet($old) WHERE {key} NOT IN (SELECT {key} FROM _new)",
                {"old": filename},
                dest,
                stager.schema,
            )
        rewritten.append((rel, dest, int(keep)))
    return Outcome(
        [(out, rows)] if rows else [], rows, stager.good_rows - rows, replaced, rewritten
    )
