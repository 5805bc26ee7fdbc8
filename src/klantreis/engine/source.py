"""The data an analysis reads: the canonical tables (events, responses, customers) as Ibis tables.

A :class:`Source` is made from a workspace (its committed Parquet files, read by DuckDB or Spark),
from in-memory pandas DataFrames (tests, notebooks) or from an Ibis URL where the tables already
live. Column names and types follow :mod:`klantreis.store.schema`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from ..errors import JourneyNotFound
from ..model import Journey
from ..store.schema import CUSTOMERS, EVENTS, RESPONSES, Table
from .connect import backend_kind, connect

if TYPE_CHECKING:
    from ..store import Workspace

__all__ = ["TABLES", "Source", "arrow_schema", "ibis_schema", "open_source"]

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


@dataclass
class Source:
    """The canonical tables on one backend, plus the journeys they can be linked with."""

    con: BaseBackend
    events: ir.Table
    responses: ir.Table
    customers: ir.Table
    journeys: dict[str, Journey] = field(default_factory=dict)
    default_journey: str | None = None
    workspace: Workspace | None = None
    _keep: list[Any] = field(default_factory=list, repr=False)
    _index: Any = field(default=None, repr=False)  # the loaded sequence index (sequence.py)
    files: dict[str, list[Path]] | None = None  # the workspace's files per table, as read

    @property
    def engine(self) -> str:
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
        return cls(con, tables["events"], tables["responses"], tables["customers"], js, _keep=keep)


def open_source(data: Any, *, engine: str = "duckdb") -> Source:
    """A :class:`Source` for a workspace (or pass a Source through unchanged)."""
    if isinstance(data, Source):
        return data
    from ..store import Workspace

    if not isinstance(data, Workspace):
        raise TypeError(f"expected a Workspace or a Source, got {type(data).__name__}")
    con = connect(engine)
    tables: dict[str, ir.Table] = {}
    read: dict[str, list[Path]] | None = None
    if "://" in engine:
        existing = set(con.list_tables())
        for name, table in TABLES.items():
            tables[name] = con.table(name) if name in existing else _empty(con, table)
    else:
        by_table = data.data_files_by_table(list(TABLES))  # one registry read for all tables
        read = {t: [Path(p) for p in by_table[t]] for t in TABLES}
        for name, table in TABLES.items():
            files = [str(p) for p in by_table[name]]
            tables[name] = con.read_parquet(files) if files else _empty(con, table)
    return Source(
        con,
        tables["events"],
        tables["responses"],
        tables["customers"],
        workspace=data,
        files=read,
    )


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
