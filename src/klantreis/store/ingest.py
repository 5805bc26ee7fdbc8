"""Ingest: sources in, canonical Parquet files out, exactly once and all or nothing.

One ingest runs in three steps, under the workspace's write lock:

1. **Stage** (streamed, in batches of ``batch_rows``): a reader turns each source into Arrow
   batches; one DuckDB query per batch parses and checks them (``canonical.py``); good rows
   go to a staging Parquet file, rejected ones to a staging quarantine file.
2. **Deduplicate** (DuckDB, one pass over the keys): rows whose id (event_id / response_id)
   is already committed, or repeats earlier in this ingest, are dropped. When there is none
   the staged file *is* the new file; otherwise one anti-join writes it. Customers and
   accounts are replaced by id: the latest row wins, identical rows count as duplicates.
3. **Commit**: the new file is moved under ``data/<table>/`` and registered, the quarantine
   rows inserted and the ingest log updated in one DuckDB transaction. Until then nothing is
   visible; a writer killed at any moment leaves only unregistered files, which the next
   writer deletes.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import IngestError, JourneyError, UsageError
from .adopt import adoptable, check, stage_copies
from .canonical import (
    LINE_COLUMN,
    MAP_COLUMN,
    REQUIRED_SOURCE,
    canonical_query,
    constant_text,
    extras_map,
)
from .database import (
    STAGING_DIR,
    canonical_table,
    committed_files,
    now_utc,
    read_connection,
    recover,
    write_transaction,
)
from .dedupe import Outcome, deduplicate
from .direct import DirectPlan, plan_direct, run_direct
from .lock import write_lock
from .mapping import ColumnMapping
from .parquet import QUARANTINE_SCHEMA, arrow_schema, parquet_writer
from .readers import RawBatch, Rejected, detect_format, read_source
from .report import IngestReport, ReasonCount

__all__ = ["BATCH_ROWS", "IngestOptions", "ingest"]

#: Rows per batch (``KLANTREIS_INGEST_BATCH_ROWS`` overrides it).
BATCH_ROWS = 500_000
_MAX_REASONS = 5
# test hooks (crash tests): sleep after each batch, and between publishing and committing
_PAUSE_ENV = "KLANTREIS_INGEST_PAUSE_S"
_COMMIT_PAUSE_ENV = "KLANTREIS_INGEST_COMMIT_PAUSE_S"


@dataclass(frozen=True)
class IngestOptions:
    """Everything an ingest needs besides the source (see :func:`ingest`)."""

    table: str
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    timezone: str = "UTC"
    strict: bool = False
    fmt: str | None = None
    progress: bool = True
    scales: Mapping[str, tuple[float, float]] | None = None
    batch_rows: int = BATCH_ROWS
    command: str | None = None


def _sources(source: Any) -> list[Any]:
    """Paths (files, or directories of files) and DataFrames as one list."""
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    out: list[Any] = []
    for item in items:
        if isinstance(item, (str, Path)):
            p = Path(item).expanduser()
            if p.is_dir():
                out.extend(
                    sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
                )
            elif not p.exists():
                raise UsageError(
                    f"No file {str(p)!r}.", hint="check the path; globs are expanded by the shell."
                )
            else:
                out.append(p)
        elif hasattr(item, "columns") and hasattr(item, "to_dict"):
            out.append(item)
        else:
            raise UsageError(
                f"Cannot ingest a {type(item).__name__}: give file paths or a pandas DataFrame."
            )
    if not out:
        raise UsageError("Nothing to ingest: no source files given.")
    return out


def _check_timezone(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    found = con.execute("SELECT 1 FROM pg_timezone_names() WHERE name = $tz", {"tz": tz}).fetchall()
    if not found:
        raise UsageError(
            f"Unknown time zone {tz!r}.",
            hint="use an IANA name such as UTC or Europe/Amsterdam.",
        )


def _known_touchpoints(ws: Any) -> list[str] | None:
    try:
        journeys = ws.journeys()
    except JourneyError as exc:
        raise IngestError(
            f"Cannot check touchpoint ids: a journey of the workspace does not load ({exc.message}).",
            hint="fix it ('klantreis validate journeys/*.yaml') and ingest again.",
        ) from exc
    ids = sorted({t.id for j in journeys for t in j.touchpoints})
    return ids or None


@contextmanager
def _progress_bar(enabled: bool, label: str) -> Iterator[Any]:
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=None, rate="")
        yield (bar, task)


def _pause(variable: str = _PAUSE_ENV) -> None:
    seconds = os.environ.get(variable)
    if seconds:
        time.sleep(float(seconds))


class _Stager:
    """Step 1: write good rows and quarantined rows of every batch to staging files."""

    def __init__(self, staging: Path, table: str, ingest_id: int) -> None:
        self.staging = staging
        self.table = table
        self.ingest_id = ingest_id
        self.schema = arrow_schema(table)
        self.map_column = next((f.name for f in self.schema if pa.types.is_map(f.type)), None)
        self.good_path = staging / "good.parquet"
        self.bad_path = staging / "quarantine.parquet"
        self.good: pq.ParquetWriter | None = None
        self.bad: pq.ParquetWriter | None = None
        self.good_rows = 0
        self.bad_rows = 0
        self.at = now_utc()
        # good rows are written by one background thread (Parquet encoding releases the GIL),
        # so reading and checking the next batch overlaps with writing this one
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="klantreis-stage")
        self._pending: deque[Future[None]] = deque()

    def write_good(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self.good is None:
            self.good = parquet_writer(self.good_path, self.schema)
        while len(self._pending) >= 2:  # at most two batches in memory waiting to be written
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self.good.write_table, table))
        self.good_rows += table.num_rows

    def write_bad(self, rows: dict[str, list[Any]]) -> None:
        n = len(rows["reason"])
        if n == 0:
            return
        rows["ingest_id"] = [self.ingest_id] * n
        rows["table_name"] = [self.table] * n
        rows["quarantined_at"] = [self.at] * n
        table = pa.table({f.name: pa.array(rows[f.name], type=f.type) for f in QUARANTINE_SCHEMA})
        if self.bad is None:
            self.bad = pq.ParquetWriter(self.bad_path, QUARANTINE_SCHEMA, compression="zstd")
        self.bad.write_table(table)
        self.bad_rows += n

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True)
            for w in (self.good, self.bad):
                if w is not None:
                    w.close()


@contextmanager
def _closing(stager: _Stager) -> Iterator[_Stager]:
    """Close the staging writers (waiting for the writer thread) also when staging fails."""
    try:
        yield stager
    except BaseException:
        with suppress(Exception):
            stager.close()
        raise
    stager.close()


def _stage_batch(
    work: duckdb.DuckDBPyConnection,
    batch: RawBatch,
    stager: _Stager,
    opts: IngestOptions,
    touchpoints: list[str] | None,
    cache: dict[pa.Schema, Any],
) -> list[str]:
    """Check one batch; returns the source columns that were ignored."""
    data = batch.data
    if batch.rejected:
        _write_rejected(stager, batch.source_file, batch.rejected)
    if data.num_rows == 0:
        return []
    if batch.flexible:  # columns no record of this batch has are empty, not absent
        wanted = set(opts.mapping.columns.values()) | {
            c for c in REQUIRED_SOURCE[opts.table] if c not in opts.mapping.columns
        }
        for name in sorted(wanted - set(data.column_names)):
            data = data.append_column(name, pa.nulls(data.num_rows, type=pa.string()))
    query = cache.get(data.schema)
    if query is None:
        query = canonical_query(
            opts.table,
            data.schema,
            columns=opts.mapping.columns,
            date_format=opts.mapping.date_format,
            touchpoints=touchpoints,
            scales=opts.scales,
            source_name=repr(batch.source_file),
            timezone=opts.timezone,
        )
        cache[data.schema] = query
    map_array: pa.Array | None = None
    if query.map_mode == "sql":
        data = data.append_column(MAP_COLUMN, extras_map(data, query.map_extras))
    elif query.map_mode == "extras":
        map_array = extras_map(data, query.map_extras)
    elif query.map_mode == "given":
        given = data[query.map_given]
        map_array = given.combine_chunks().cast(pa.map_(pa.string(), pa.string()))
    work.register("raw_batch", data)
    try:
        result = work.sql(
            query.sql,
            params={**query.params, "ingest_id": stager.ingest_id},
        ).to_arrow_table()
    finally:
        work.unregister("raw_batch")
    if not result["source_line"].equals(data[LINE_COLUMN]):  # keep rows aligned with the input
        order = pc.sort_indices(result["source_line"])
        result = result.take(order)
        input_order = pc.sort_indices(data[LINE_COLUMN])
        data = data.take(input_order)
        if map_array is not None:
            map_array = map_array.take(input_order)
    if map_array is not None:
        result = result.append_column(stager.map_column or "", map_array)
    if "source_file" in stager.schema.names:  # a constant: cheaper made in Arrow than exported
        result = result.append_column(
            "source_file", constant_text(batch.source_file, result.num_rows)
        )
    bad_mask = pc.is_valid(result["_reason"])
    n_bad = pc.sum(bad_mask).as_py() or 0
    if n_bad == 0:
        good = result.select(stager.schema.names)
    else:
        good = result.filter(pc.invert(bad_mask)).select(stager.schema.names)
        bad = result.filter(bad_mask)
        raw_rows = data.filter(bad_mask).drop_columns(
            [c for c in (LINE_COLUMN, MAP_COLUMN) if c in data.column_names]
        )
        work.register("bad_raw", raw_rows)
        try:
            raws = work.sql(
                "SELECT CAST(to_json(b) AS VARCHAR) AS raw FROM bad_raw b"
            ).to_arrow_table()
        finally:
            work.unregister("bad_raw")
        customer = (
            bad["customer_id"].to_pylist()
            if "customer_id" in bad.column_names
            else [None] * bad.num_rows
        )
        stager.write_bad(
            {
                "source_file": [batch.source_file] * bad.num_rows,
                "source_line": bad["source_line"].to_pylist(),
                "field": bad["_field"].to_pylist(),
                "value": bad["_value"].to_pylist(),
                "reason": bad["_reason"].to_pylist(),
                "message": bad["_message"].to_pylist(),
                "customer_id": customer,
                "raw": raws["raw"].to_pylist(),
            }
        )
    stager.write_good(good.cast(stager.schema))
    return query.ignored_columns


def _write_rejected(stager: _Stager, source_file: str, rejected: Sequence[Rejected]) -> None:
    stager.write_bad(
        {
            "source_file": [source_file] * len(rejected),
            "source_line": [r.source_line for r in rejected],
            "field": [r.field for r in rejected],
            "value": [r.value for r in rejected],
            "reason": [r.reason for r in rejected],
            "message": [r.message for r in rejected],
            "customer_id": [r.customer_id for r in rejected],
            "raw": [r.raw for r in rejected],
        }
    )


def _reasons(work: duckdb.DuckDBPyConnection, stager: _Stager) -> list[ReasonCount]:
    if stager.bad_rows == 0:
        return []
    rows = work.execute(
        "SELECT reason, count(*) AS n, min_by(field, file_row_number), min_by(message, file_row_number), "
        "min_by(source_file, file_row_number), min_by(source_line, file_row_number), "
        "min_by(value, file_row_number), min(file_row_number) AS first "
        "FROM read_parquet($f, file_row_number = true) GROUP BY reason ORDER BY n DESC, first LIMIT $k",
        {"f": str(stager.bad_path), "k": _MAX_REASONS},
    ).fetchall()
    return [
        ReasonCount(
            reason=r[0],
            count=int(r[1]),
            field=r[2],
            message=r[3] or "",
            first_file=r[4],
            first_line=int(r[5]) if r[5] is not None else None,
            first_value=r[6],
        )
        for r in rows
    ]


def _new_ingest(db_path: Path, opts: IngestOptions, sources: list[Any]) -> int:
    import json

    with write_transaction(db_path) as con:
        ingest_id = int(con.execute("SELECT nextval('ingest_id_seq')").fetchall()[0][0])
        con.execute(
            "INSERT INTO ingest_log (ingest_id, table_name, status, started_at, sources, format, "
            "command, options) VALUES ($id, $t, 'running', $at, $src, $fmt, $cmd, $opt)",
            {
                "id": ingest_id,
                "t": opts.table,
                "at": now_utc(),
                "src": json.dumps([_name(s) for s in sources]),
                "fmt": opts.fmt,
                "cmd": opts.command,
                "opt": json.dumps(
                    {
                        "mapping": opts.mapping.to_dict(),
                        "timezone": opts.timezone,
                        "strict": opts.strict,
                        "scales": {k: list(v) for k, v in (opts.scales or {}).items()},
                    }
                ),
            },
        )
    return ingest_id


def _name(source: Any) -> str:
    return str(source) if isinstance(source, Path) else "<DataFrame>"


def _finish_log(con: duckdb.DuckDBPyConnection, report: IngestReport, message: str | None) -> None:
    con.execute(
        "UPDATE ingest_log SET status = $s, finished_at = $at, format = $fmt, rows_read = $r, "
        "accepted = $a, duplicates = $d, quarantined = $q, replaced = $rep, message = $m "
        "WHERE ingest_id = $id",
        {
            "s": report.status,
            "at": now_utc(),
            "fmt": ",".join(report.formats),
            "r": report.rows_read,
            "a": report.accepted,
            "d": report.duplicates,
            "q": report.quarantined,
            "rep": report.replaced,
            "m": message,
            "id": report.ingest_id,
        },
    )


def ingest(ws: Any, source: Any, opts: IngestOptions) -> IngestReport:
    """Ingest ``source`` (paths or DataFrames) into ``opts.table`` of workspace ``ws``."""
    canonical_table(opts.table)
    sources = _sources(source)
    formats = sorted(
        {detect_format(s, opts.fmt) if isinstance(s, Path) else "dataframe" for s in sources}
    )
    touchpoints = _known_touchpoints(ws) if opts.table == "responses" else None
    data_dir: Path = ws.data_dir
    db_path: Path = ws.database_path
    batch_rows = int(os.environ.get("KLANTREIS_INGEST_BATCH_ROWS") or opts.batch_rows)
    started = time.perf_counter()
    with write_lock(data_dir, command=opts.command) as took:
        if took:
            recover(data_dir)
        ingest_id = _new_ingest(db_path, opts, sources)
        staging = data_dir / STAGING_DIR / str(ingest_id)
        staging.mkdir(parents=True, exist_ok=True)
        try:
            report = _run(
                ws, sources, opts, ingest_id, staging, formats, touchpoints, batch_rows, started
            )
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, Exception):
                with write_transaction(db_path) as con:
                    con.execute(
                        "UPDATE ingest_log SET status = 'failed', finished_at = $at, message = $m "
                        "WHERE ingest_id = $id",
                        {"at": now_utc(), "m": str(exc)[:2000], "id": ingest_id},
                    )
            raise
        shutil.rmtree(staging, ignore_errors=True)
    if report.status == "rejected":
        first = "; ".join(r.describe() for r in report.reasons[:3])
        error = IngestError(
            f"Strict ingest refused: {report.quarantined:,} of {report.rows_read:,} rows failed "
            f"validation, so nothing was stored. {first}",
            hint="fix the rows (or drop --strict to store the good rows and quarantine the rest).",
        )
        error.report = report  # type: ignore[attr-defined]
        raise error
    return report


def _run(
    ws: Any,
    sources: list[Any],
    opts: IngestOptions,
    ingest_id: int,
    staging: Path,
    formats: list[str],
    touchpoints: list[str] | None,
    batch_rows: int,
    started: float,
) -> IngestReport:
    data_dir: Path = ws.data_dir
    tmp = staging / "duckdb-tmp"
    work = duckdb.connect(
        ":memory:",
        config={"temp_directory": str(tmp), "memory_limit": "2GB", "threads": os.cpu_count() or 1},
    )
    try:
        work.execute("SET enable_progress_bar = false")
        _check_timezone(work, opts.timezone)
        work.execute(f"SET TimeZone = '{opts.timezone}'")  # validated above: a known IANA name
        reader_con = work.cursor()  # its own connection: a result streams while `work` checks
        stager = _Stager(staging, opts.table, ingest_id)
        notes: dict[str, int] = {}
        ignored: list[str] = []
        cache: dict[pa.Schema, Any] = {}
        plan = plan_direct(
            sources,
            table=opts.table,
            mapping=opts.mapping,
            fmt=opts.fmt,
            timezone=opts.timezone,
        )
        if plan is not None:
            stager.close()
            with read_connection(ws.database_path) as con:
                committed = committed_files(con, opts.table)
            as_they_are = _run_adopt(work, plan, stager, opts, data_dir, committed, started)
            if as_they_are is not None:
                outcome, reasons = as_they_are, list[ReasonCount]()
            else:
                outcome, reasons = _run_direct(
                    work, plan, stager, opts, data_dir, committed, started
                )
            ignored = plan.ignored_columns
        else:
            outcome, reasons = _run_batched(
                work,
                reader_con,
                sources,
                stager,
                opts,
                touchpoints,
                batch_rows,
                started,
                notes,
                ignored,
                cache,
                ws,
            )
    finally:
        work.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return _publish(
        ws, sources, opts, ingest_id, formats, stager, outcome, reasons, notes, ignored, started
    )


def _run_adopt(
    work: duckdb.DuckDBPyConnection,
    plan: DirectPlan,
    stager: _Stager,
    opts: IngestOptions,
    data_dir: Path,
    committed: list[str],
    started: float,
) -> Outcome | None:
    """Keep clean canonical source files as they are (``adopt.py``); None: they do not
    qualify, and the direct path rewrites them."""

    def qualify(files: list[Path]) -> bool:
        return all(
            adoptable(f, table=opts.table, mapping=opts.mapping, timezone=opts.timezone, fmt=None)
            for f in files
        )

    def discard(paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    if opts.fmt not in (None, "parquet") or not qualify(plan.files):
        return None
    with _progress_bar(opts.progress, f"ingest {opts.table}: checking") as bar:
        copies = stage_copies(plan.files, stager.staging)
        # the copies are what would be stored: their schema again (a source may change meanwhile)
        result = (
            check(work, copies, [str(data_dir / p) for p in committed]) if qualify(copies) else None
        )
        _pause()
        if result is None or not (result.ok or result.all_committed):
            discard(copies)
            return None
        done = sum(result.rows)
        stager.good_rows = done
        if bar is not None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar[0].update(bar[1], completed=done, rate=f"{rate:,.0f} rows/s")
    if not result.ok:  # the same rows again: every row a duplicate, nothing to store
        discard(copies)
        return Outcome([], 0, done)
    rows = dict(zip(copies, result.rows, strict=True))
    discard([c for c in copies if not rows[c]])
    kept = [c for c in copies if rows[c]]
    sources = dict(zip(copies, map(str, plan.files), strict=True))
    return Outcome([(c, rows[c]) for c in kept], done, 0, adopted={c: sources[c] for c in kept})


def _run_direct(
    work: duckdb.DuckDBPyConnection,
    plan: DirectPlan,
    stager: _Stager,
    opts: IngestOptions,
    data_dir: Path,
    committed: list[str],
    started: float,
) -> tuple[Outcome, list[ReasonCount]]:
    """The direct Parquet path (``direct.py``): DuckDB reads the files; progress by step."""
    with _progress_bar(opts.progress, f"ingest {opts.table}: checking") as bar:

        def checked(bad_rows: int) -> None:
            _pause()
            if bar is not None:
                bar[0].update(bar[1], description=f"ingest {opts.table}: writing")

        result = run_direct(
            work,
            plan,
            table=opts.table,
            ingest_id=stager.ingest_id,
            good_path=stager.good_path,
            quarantine_path=stager.bad_path,
            quarantined_at=stager.at,
            on_file=checked,
        )
        if bar is not None:
            done = result.good_rows + result.bad_rows
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar[0].update(bar[1], completed=done, rate=f"{rate:,.0f} rows/s")
    stager.good_rows, stager.bad_rows = result.good_rows, result.bad_rows
    return deduplicate(work, stager, data_dir, committed), _reasons(work, stager)


def _run_batched(
    work: duckdb.DuckDBPyConnection,
    reader_con: duckdb.DuckDBPyConnection,
    sources: list[Any],
    stager: _Stager,
    opts: IngestOptions,
    touchpoints: list[str] | None,
    batch_rows: int,
    started: float,
    notes: dict[str, int],
    ignored: list[str],
    cache: dict[pa.Schema, Any],
    ws: Any,
) -> tuple[Outcome, list[ReasonCount]]:
    """The batched path: read, check and stage in batches, then deduplicate."""
    with _progress_bar(opts.progress, f"ingest {opts.table}") as bar, _closing(stager):
        for src in sources:
            for batch in read_source(
                src,
                table=opts.table,
                fmt=opts.fmt,
                batch_rows=batch_rows,
                delimiter=opts.mapping.delimiter,
                con=reader_con,
            ):
                for col in _stage_batch(work, batch, stager, opts, touchpoints, cache):
                    if col not in ignored:
                        ignored.append(col)
                for k, v in batch.notes.items():
                    notes[k] = notes.get(k, 0) + v
                if bar is not None:
                    done = stager.good_rows + stager.bad_rows
                    rate = done / max(time.perf_counter() - started, 1e-9)
                    bar[0].update(bar[1], completed=done, rate=f"{rate:,.0f} rows/s")
                _pause()
    with read_connection(ws.database_path) as con:
        committed = committed_files(con, opts.table)
    outcome = deduplicate(work, stager, ws.data_dir, committed)
    return outcome, _reasons(work, stager)


def _publish(
    ws: Any,
    sources: list[Any],
    opts: IngestOptions,
    ingest_id: int,
    formats: list[str],
    stager: _Stager,
    outcome: Outcome,
    reasons: list[ReasonCount],
    notes: dict[str, int],
    ignored: list[str],
    started: float,
) -> IngestReport:
    """Commit: move the new files in place and register them in one transaction."""
    data_dir: Path = ws.data_dir
    status = "rejected" if opts.strict and stager.bad_rows else "committed"
    folder = data_dir / opts.table
    folder.mkdir(parents=True, exist_ok=True)
    # (relative path, rows, bytes, the source of an adopted file)
    published: list[tuple[str, int, int, str | None]] = []
    replaced_files: list[tuple[str, int, int, str | None]] = []
    if status == "committed":
        for path, rows in outcome.new_files:
            dest = folder / f"part-{ingest_id:08d}-{secrets.token_hex(4)}.parquet"
            os.replace(path, dest)
            rel = dest.relative_to(data_dir).as_posix()
            published.append((rel, rows, dest.stat().st_size, outcome.adopted.get(path)))
        for _old, new, rows in outcome.rewritten:
            if new is not None:
                dest = folder / f"part-{ingest_id:08d}-{secrets.token_hex(4)}.parquet"
                os.replace(new, dest)
                rel = dest.relative_to(data_dir).as_posix()
                replaced_files.append((rel, rows, dest.stat().st_size, None))
    _pause(_COMMIT_PAUSE_ENV)
    report = IngestReport(
        ingest_id=ingest_id,
        table=opts.table,
        status=status,
        sources=[_name(s) for s in sources],
        formats=formats,
        rows_read=stager.good_rows + stager.bad_rows,
        accepted=outcome.accepted if status == "committed" else 0,
        duplicates=outcome.duplicates,
        quarantined=stager.bad_rows,
        replaced=outcome.replaced if status == "committed" else 0,
        reasons=reasons,
        notes=notes,
        ignored_columns=ignored,
        files=[p for p, _, _, _ in published],
        adopted=sum(1 for *_, src in published if src is not None),
        seconds=time.perf_counter() - started,
    )
    at = now_utc()
    with write_transaction(ws.database_path) as con:
        if status == "committed":
            for rel, rows, size, src in [*published, *replaced_files]:
                con.execute(
                    "INSERT INTO data_files (path, table_name, rows, bytes, ingest_id, "
                    "committed_at, source_file) VALUES ($p, $t, $r, $b, $id, $at, $src)",
                    {
                        "p": rel,
                        "t": opts.table,
                        "r": rows,
                        "b": size,
                        "id": ingest_id,
                        "at": at,
                        "src": src,
                    },
                )
            for old_rel, _new, _rows in outcome.rewritten:
                con.execute("DELETE FROM data_files WHERE path = $p", {"p": old_rel})
            if stager.bad_rows:
                # a row quarantined before for the same reason (the same file ingested again)
                # is not stored twice
                con.execute(
                    "INSERT INTO quarantine SELECT n.* FROM read_parquet($f) n "
                    "WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.table_name = n.table_name "
                    "AND q.source_file IS NOT DISTINCT FROM n.source_file "
                    "AND q.source_line IS NOT DISTINCT FROM n.source_line "
                    "AND q.reason = n.reason AND q.raw IS NOT DISTINCT FROM n.raw)",
                    {"f": str(stager.bad_path)},
                )
        _finish_log(con, report, None if status == "committed" else "strict: nothing stored")
    for old_rel, _new, _rows in outcome.rewritten:
        (data_dir / old_rel).unlink(missing_ok=True)
    return report
