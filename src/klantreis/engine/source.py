"""The data an analysis reads: the canonical tables (events, responses, customers) as Ibis tables.

A :class:`Source` is made from a workspace (its committed Parquet files, read by DuckDB or Spark),
from in-memory pandas DataFrames (tests, notebooks) or from an Ibis URL where the tables already
live. Column names and types follow :mod:`klantreis.store.schema`.
"""

from __future__ import annotations

import atexit
import contextlib
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import JourneyNotFound
from ..model import Journey
from ..store.schema import CUSTOMERS, EVENTS, RESPONSES, Table
from .connect import backend_kind, connect, duckdb_settings
from .lazy import ibis, ir

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from ..store import Workspace

__all__ = ["TABLES", "Source", "arrow_schema", "ibis_schema", "open_source", "read_table"]

TABLES: dict[str, Table] = {"events": EVENTS, "responses": RESPONSES, "customers": CUSTOMERS}

_IBIS_TYPES = {
    "VARCHAR": "string",
    "TIMESTAMP": "timestamp",
    "DOUBLE": "float64",
    "BIGINT": "int64",
    "MAP(VARCHAR, VARCHAR)": "map<string, string>",
}
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "MAP(VARCHAR, VARCHAR)": pa.map_(pa.string(), pa.string()),
}


def ibis_schema(table: Table) -> ibis.Schema:
    return ibis.schema({c.name: _IBIS_TYPES[c.type] for c in table.columns})


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type]) for c in table.columns])


class Source:
    """The canonical tables on one backend, plus the journeys they can be linked with.

    A workspace source connects and reads its tables on first use (``con``, ``events``, …):
    an analysis that the sequence or responses index answers never needs Ibis or a connection.
    """

    def __init__(
        self,
        con: BaseBackend | None = None,
        events: ir.Table | None = None,
        responses: ir.Table | None = None,
        customers: ir.Table | None = None,
        *,
        journeys: dict[str, Journey] | None = None,
        default_journey: str | None = None,
        workspace: Workspace | None = None,
        files: dict[str, list[Path]] | None = None,
        engine: str = "duckdb",
        _keep: list[Any] | None = None,
    ) -> None:
        self._con = con
        given = {"events": events, "responses": responses, "customers": customers}
        self._tables: dict[str, ir.Table] = {k: v for k, v in given.items() if v is not None}
        self.journeys: dict[str, Journey] = journeys or {}
        self.default_journey = default_journey
        self.workspace = workspace
        self.files = files  # the workspace's files per table, as read
        self.engine_name = engine  # as given to open_source (con is made from it when needed)
        self._keep: list[Any] = _keep or []
        self._index: Any = None  # the loaded sequence index (sequence.py)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = self.workspace.root if self.workspace is not None else "frames"
        return f"Source({where}, engine={self.engine!r})"

    @property
    def con(self) -> BaseBackend:
        """The Ibis backend (connected on first use)."""
        if self._con is None:
            with self._lock:
                if self._con is None:
                    self._con = connect(self.engine_name)
        return self._con

    @property
    def events(self) -> ir.Table:
        return self.table("events")

    @property
    def responses(self) -> ir.Table:
        return self.table("responses")

    @property
    def customers(self) -> ir.Table:
        return self.table("customers")

    def table(self, name: str) -> ir.Table:
        """A canonical table as an Ibis table (read on first use)."""
        got = self._tables.get(name)
        if got is None:
            con = self.con
            with self._lock:
                got = self._tables.get(name)
                if got is None:
                    got = self._tables[name] = _open_table(con, name, self.files)
        return got

    def with_tables(self, **tables: ir.Table) -> Source:
        """A copy on the same backend with some canonical tables replaced (e.g. re-keyed)."""
        out = Source(
            self.con,
            **{name: tables.get(name, self.table(name)) for name in TABLES},
            journeys=self.journeys,
            default_journey=self.default_journey,
            workspace=self.workspace,
            files=self.files,
            engine=self.engine_name,
            _keep=self._keep,
        )
        out._index = self._index
        return out

    @property
    def engine(self) -> str:
        """``duckdb``, ``pyspark`` or the Ibis backend's name (see ``connect.backend_kind``)."""
        if self._con is None and self.engine_name.strip() in ("", "duckdb"):
            return "duckdb"  # known without connecting
        return backend_kind(self.con)

    def journey(self, journey: str | Journey | None) -> Journey | None:
        """The journey to link with: given, by id, the default, or None when there is none."""
        if isinstance(journey, Journey):
            return journey
        if self.workspace is not None:
            if journey is None and not self.workspace.journey_ids():
                return None
            return self.workspace.journey(journey, copy=False)  # analyses only read it
        if journey is None:
            if self.default_journey is not None:
                return self.journeys[self.default_journey]
            return next(iter(self.journeys.values())) if len(self.journeys) == 1 else None
        if journey not in self.journeys:
            known = ", ".join(self.journeys) or "(none)"
            raise JourneyNotFound(f"No journey {journey!r}. Known journeys: {known}.")
        return self.journeys[journey]

    def execute(self, expr: ir.Expr) -> Any:
        return self.con.execute(expr)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_frames(
        cls,
        events: pd.DataFrame | None = None,
        *,
        responses: pd.DataFrame | None = None,
        customers: pd.DataFrame | None = None,
        journeys: list[Journey] | None = None,
        engine: str = "duckdb",
    ) -> Source:
        """A source over in-memory DataFrames (missing columns are added as nulls)."""
        con = connect(engine)
        frames = {"events": events, "responses": responses, "customers": customers}
        tables: dict[str, ir.Table] = {}
        keep: list[Any] = []
        for name, frame in frames.items():
            arrow = _to_arrow(frame, TABLES[name])
            if backend_kind(con) == "duckdb":
                tables[name] = ibis.memtable(arrow)
            else:  # Spark: through Parquet, which keeps nulls as nulls (pandas would send NaN)
                tmp = tempfile.TemporaryDirectory(prefix="klantreis-")
                keep.append(tmp)
                path = Path(tmp.name) / f"{name}.parquet"
                pq.write_table(arrow, path)
                tables[name] = con.read_parquet(str(path))
        js = {j.id: j for j in journeys or []}
        return cls(
            con,
            tables["events"],
            tables["responses"],
            tables["customers"],
            journeys=js,
            engine=engine,
            _keep=keep,
        )


def open_source(data: Any, *, engine: str = "duckdb") -> Source:
    """A :class:`Source` for a workspace (or pass a Source through unchanged).

    On DuckDB one source per workspace object and thread is kept while the data stays the same
    (the same registered files, each with the same size and modification time): its connection
    and tables are made once, and the registry is read again only when the workspace database
    changed. It holds no answers: every analysis still computes its result from the files.
    """
    if isinstance(data, Source):
        return data
    from ..store import Workspace

    if not isinstance(data, Workspace):
        raise TypeError(f"expected a Workspace or a Source, got {type(data).__name__}")
    if "://" in engine:  # the tables live behind the URL
        return Source(workspace=data, engine=engine)
    if (engine.strip() or "duckdb") != "duckdb":  # Spark shares one session already
        return Source(workspace=data, files=_registered(data), engine=engine)
    key = (id(data), threading.get_ident(), tuple(sorted(duckdb_settings().items())))
    stamp = _registry_stamp(data)
    with _opened_lock:
        entry = _opened.get(key)
    if entry is not None and stamp is not None and entry.stamp == stamp:
        files = entry.source.files
    else:
        files = _registered(data)
    assert files is not None
    versions = _versions(files)
    if entry is not None and entry.versions == versions:
        source = entry.source
    else:
        source = Source(workspace=data, files=files, engine=engine)
    with _opened_lock:
        _opened.pop(key, None)
        while len(_opened) >= 8:
            _opened.pop(next(iter(_opened)))
        _opened[key] = _Opened(source, stamp, versions)
    return source


def read_table(con: BaseBackend, name: str, files: list[Path]) -> ir.Table:
    """THE read of one canonical table's committed files; every workspace source reads here.

    Adopted files (source files kept as they are, ``store/adopt.py``) lack the provenance
    columns, which are filled in the same way on both engines: ``source_file`` and ``ingest_id``
    from the registry, ``source_line`` from the row's position in the file (on DuckDB by the
    store's ``scan_sql``, on Spark by ``_spark_adopted``).
    """
    if not files:
        return _empty(con, TABLES[name])
    paths = [str(p) for p in files]
    adopted = getattr(files, "adopted", None)
    if not adopted:
        return con.read_parquet(paths)
    if backend_kind(con) == "duckdb":
        from ..store.adopt import scan_sql

        # a view, as Ibis' own read_parquet makes (its con.sql fails on this DuckDB version)
        view = _view_name(name, paths)
        con.con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {scan_sql(name, paths, adopted)}")
        return con.table(view)
    return _spark_adopted(con, name, paths, adopted)


def _view_name(name: str, paths: list[str]) -> str:
    """A temp view's name for one table over exactly these files (the same files, the same
    view: replacing it changes nothing a table read before relies on)."""
    import hashlib

    digest = hashlib.sha1("\n".join(paths).encode()).hexdigest()[:16]
    return f"klantreis_{name}_{digest}"


def _spark_adopted(con: BaseBackend, name: str, paths: list[str], adopted: Any) -> ir.Table:
    """Spark: each adopted file read on its own with its provenance as columns (the row's
    position is ``_metadata.row_index``), unioned by name with the canonical files."""
    from pyspark.sql import functions as F

    session = con._session
    columns = [c.name for c in TABLES[name].columns]
    parts = []
    canonical = [p for p in paths if p not in adopted]
    if canonical:
        parts.append(session.read.parquet(*canonical).select(*columns))
    for p in paths:
        if p in adopted:
            df = session.read.parquet(p)
            df = df.select(
                *[c for c in columns if c in df.columns],
                F.lit(adopted[p].source_file).alias("source_file"),
                (F.col("_metadata.row_index") + F.lit(1)).cast("long").alias("source_line"),
                F.lit(int(adopted[p].ingest_id)).cast("long").alias("ingest_id"),
            )
            parts.append(df.select(*columns))
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    view = _view_name(name, paths)
    union.createOrReplaceTempView(view)
    return con.table(view)


def _open_table(con: BaseBackend, name: str, files: dict[str, list[Path]] | None) -> ir.Table:
    if files is None:  # an Ibis URL: the tables live there (an empty table where one is missing)
        return con.table(name) if name in con.list_tables() else _empty(con, TABLES[name])
    return read_table(con, name, files[name])


@dataclass
class _Opened:
    source: Source
    stamp: tuple[Any, ...] | None  # the workspace database's files when the registry was read
    versions: tuple[Any, ...]  # every registered file with its size and modification time


_opened: dict[tuple[Any, ...], _Opened] = {}
_opened_lock = threading.Lock()

#: A database file changed more recently than this is not trusted to show a later change by a
#: different modification time (coarse file-system clocks): the registry is read again.
_RACY_NS = 2_500_000_000


def _close_kept() -> None:
    """Closes the kept sources' DuckDB connections (DuckDB then deletes its spill files) and
    forgets them; at exit, also for a process that skips the interpreter's teardown (the CLI
    runs the ``atexit`` handlers, then ``os._exit``)."""
    with _opened_lock:
        entries = list(_opened.values())
        _opened.clear()
    for entry in entries:
        con = entry.source._con
        if con is not None:
            with contextlib.suppress(Exception):  # closing what is already closed
                con.disconnect()


atexit.register(_close_kept)


def _registered(ws: Workspace) -> dict[str, list[Path]]:
    by_table = ws.data_files_by_table(list(TABLES))  # one registry read for all tables
    return {t: by_table[t] for t in TABLES}  # DataFiles: they know which files are adopted


def _registry_stamp(ws: Workspace) -> tuple[Any, ...] | None:
    """Size, modification time and inode of the workspace database and its write-ahead log;
    None when one of them changed just now (then the registry is read)."""
    db = Path(ws.database_path)
    now = time.time_ns()
    out: list[Any] = []
    for path in (db, db.with_name(db.name + ".wal")):
        try:
            st = path.stat()
        except FileNotFoundError:
            out.append(None)
            continue
        if now - st.st_mtime_ns < _RACY_NS:
            return None
        out.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)


def _versions(files: dict[str, list[Path]]) -> tuple[Any, ...]:
    out: list[tuple[Any, ...]] = []
    for table, paths in files.items():
        for p in paths:
            try:
                st = p.stat()
            except FileNotFoundError:
                out.append((table, str(p), None))
                continue
            out.append((table, str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _empty(con: BaseBackend, table: Table) -> ir.Table:
    arrow = arrow_schema(table).empty_table()
    if backend_kind(con) == "duckdb":
        return ibis.memtable(arrow)
    tmp = Path(tempfile.gettempdir()) / "klantreis-empty"
    tmp.mkdir(exist_ok=True)
    path = tmp / f"{table.name}.parquet"  # the same empty file for every process: no clean-up
    if not path.exists():
        pq.write_table(arrow, path)
    return con.read_parquet(str(path))


def _to_arrow(frame: pd.DataFrame | None, table: Table) -> pa.Table:
    schema = arrow_schema(table)
    if frame is None or len(frame.columns) == 0:
        return schema.empty_table()
    unknown = [c for c in frame.columns if c not in table.names]
    if unknown:
        raise ValueError(f"unknown {table.name} columns {unknown}; known: {table.names}")
    columns = []
    for f in schema:
        if f.name in frame.columns:
            values = frame[f.name]
            if pa.types.is_timestamp(f.type):
                values = pd.to_datetime(values, format="ISO8601")
            columns.append(pa.array(_nulls(values), type=f.type, from_pandas=True))
        else:
            columns.append(pa.nulls(len(frame), type=f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _nulls(values: pd.Series) -> Any:
    if values.dtype == object or str(values.dtype) in ("str", "string"):
        return [None if (v is None or (isinstance(v, float) and v != v)) else v for v in values]
    return values
