"""The quarantine (rows that failed validation) and the ingest log, for reading and export.

Quarantined rows keep the source row as JSON (``raw``, under the source's own column names)
so they can be exported, fixed and ingested again with the same mapping.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UsageError
from .database import read_connection

__all__ = [
    "INGEST_LOG_COLUMNS",
    "QUARANTINE_COLUMNS",
    "export_quarantine",
    "ingest_log",
    "quarantine_rows",
]

QUARANTINE_COLUMNS = [
    "ingest_id",
    "table_name",
    "source_file",
    "source_line",
    "field",
    "value",
    "reason",
    "message",
    "customer_id",
    "raw",
    "quarantined_at",
]
INGEST_LOG_COLUMNS = [
    "ingest_id",
    "table_name",
    "status",
    "started_at",
    "finished_at",
    "sources",
    "format",
    "rows_read",
    "accepted",
    "duplicates",
    "quarantined",
    "replaced",
    "command",
    "options",
    "message",
]


def quarantine_rows(
    db_path: Path,
    *,
    table: str | None = None,
    ingest_id: int | None = None,
    reason: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Quarantined rows in ingest, file and line order, optionally filtered."""
    with read_connection(db_path) as con:
        if con is None:
            return pd.DataFrame(columns=QUARANTINE_COLUMNS)
        sql = (
            f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM quarantine "
            "WHERE ($t IS NULL OR table_name = $t) AND ($i IS NULL OR ingest_id = $i) "
            "AND ($r IS NULL OR reason = $r) "
            "ORDER BY ingest_id, source_file, source_line NULLS LAST"
        )
        params: dict[str, Any] = {"t": table, "i": ingest_id, "r": reason}
        if limit is not None:
            sql += " LIMIT $n"
            params["n"] = int(limit)
        return con.execute(sql, params).fetchdf()


def ingest_log(db_path: Path) -> pd.DataFrame:
    """Every ingest, newest first."""
    with read_connection(db_path) as con:
        if con is None:
            return pd.DataFrame(columns=INGEST_LOG_COLUMNS)
        return con.execute(
            f"SELECT {', '.join(INGEST_LOG_COLUMNS)} FROM ingest_log ORDER BY ingest_id DESC"
        ).fetchdf()


def export_quarantine(rows: pd.DataFrame, dest: str | Path) -> int:
    """Write the source rows of quarantined ``rows`` to ``dest`` (.csv or .ndjson/.jsonl/.json).

    The file has the source's own columns, ready to be fixed and ingested again. Returns the
    number of rows written.
    """
    path = Path(dest)
    records: list[dict[str, Any]] = []
    for raw in rows["raw"] if len(rows) else []:
        try:
            obj = json.loads(raw) if raw else {}
        except ValueError:
            obj = {"raw": raw}
        records.append(obj if isinstance(obj, dict) else {"raw": obj})
    suffix = path.suffix.lower()
    if suffix in {".ndjson", ".jsonl", ".json"}:
        with path.open("w", encoding="utf-8") as fh:
            if suffix == ".json":
                json.dump(records, fh, ensure_ascii=False, indent=2)
            else:
                for r in records:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif suffix in {".csv", ".tsv"}:
        columns: list[str] = []
        for r in records:
            columns.extend(k for k in r if k not in columns)
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(
                fh, fieldnames=columns, delimiter="\t" if suffix == ".tsv" else ","
            )
            writer.writeheader()
            for r in records:
                writer.writerow(
                    {
                        k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                        for k, v in r.items()
                    }
                )
    else:
        raise UsageError(
            f"Cannot export the quarantine to {str(path)!r}: unknown suffix {suffix or '(none)'}.",
            hint="use .csv, .tsv, .ndjson, .jsonl or .json.",
        )
    return len(records)
