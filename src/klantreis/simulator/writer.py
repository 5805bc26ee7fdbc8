"""Blocks to Arrow tables with the store's canonical columns, and streaming file writers.

``block_tables`` turns one generated block into the four canonical tables (events, responses,
customers, accounts) with exactly the columns and types of ``klantreis.store.schema`` (minus the
columns the store fills: ``source_file``, ``source_line``, ``ingest_id``). ``TableWriter`` streams
them to one Parquet file per table (``properties``/``attributes`` as map<string,string>) or one
CSV file per table (every map key as a plain column, which the store keeps as a property).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..store.schema import ACCOUNTS, CUSTOMERS, EVENTS, RESPONSES, Table
from .engine import METRIC_CES, METRIC_CSAT, METRIC_NPS, SOURCE_TABLE, Block
from .model import DEVICES, SimulationModel

__all__ = [
    "ARROW_SCHEMAS",
    "FILLED_BY_STORE",
    "TABLES",
    "BlockTables",
    "TableWriter",
    "arrow_schema",
    "block_tables",
]

FILLED_BY_STORE = frozenset({"source_file", "source_line", "ingest_id"})
TABLES: tuple[Table, ...] = (EVENTS, RESPONSES, CUSTOMERS, ACCOUNTS)
_MAP = pa.map_(pa.string(), pa.string())
_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "MAP(VARCHAR, VARCHAR)": _MAP,
}
ROLES = ("decision_maker", "user", "influencer", "finance", "it")
STATUSES = ("prospect", "active", "churned")
INDUSTRIES = (
    "software",
    "manufacturing",
    "retail",
    "healthcare",
    "finance",
    "logistics",
    "education",
    "government",
)
SIZES = ("1-49", "50-249", "250-999", "1000+")
METRICS = {
    METRIC_CSAT: ("csat", 1.0, 5.0),
    METRIC_NPS: ("nps", 0.0, 10.0),
    METRIC_CES: ("ces", 1.0, 7.0),
}


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of a canonical table as the simulator writes it."""
    return pa.schema(
        [pa.field(c.name, _TYPES[c.type]) for c in table.columns if c.name not in FILLED_BY_STORE]
    )


ARROW_SCHEMAS = {t.name: arrow_schema(t) for t in TABLES}


@dataclass
class BlockTables:
    """The four tables of a block and, per table, the row offset of every customer (n + 1)."""

    n: int
    tables: dict[str, pa.Table]
    offsets: dict[str, np.ndarray]

    def slice(self, lo: int, hi: int) -> dict[str, pa.Table]:
        """Rows of customers ``lo`` .. ``hi`` (local indices) of every table."""
        return {
            name: t.slice(
                int(self.offsets[name][lo]), int(self.offsets[name][hi] - self.offsets[name][lo])
            )
            for name, t in self.tables.items()
        }


def _offsets(local_customer: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(np.bincount(local_customer, minlength=n)))).astype(
        np.int64
    )


def _take(strings: pa.Array, codes: np.ndarray) -> pa.Array:
    """Strings by code; code -1 gives null."""
    return strings.take(pa.array(codes, mask=codes < 0))


def _map(strings: pa.Array, keys: np.ndarray, vals: np.ndarray) -> pa.Array:
    """A map<string,string> column from (rows, slots) key/value code matrices (-1 = absent)."""
    present = vals >= 0
    counts = present.sum(axis=1)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    return pa.MapArray.from_arrays(
        pa.array(offsets),
        strings.take(pa.array(keys[present])),
        strings.take(pa.array(vals[present])),
    )


def block_tables(
    model: SimulationModel, block: Block, *, with_touchpoint: bool = False
) -> BlockTables:
    """The canonical tables of one block (and a ``touchpoint`` truth column when asked)."""
    strings = pa.array(model.strings)
    n = block.n
    cust_ids = pa.array([f"{model.customer_prefix}{block.first_customer + i}" for i in range(n)])
    journey_code = model.code(model.journey.id)

    # events
    ec = block.ev_customer
    customer = cust_ids.take(pa.array(ec))
    event_id = pc.binary_join_element_wise(
        customer, pc.cast(pa.array(block.ev_seq), pa.string()), "-"
    )
    if model.b2b:
        acc_codes = np.where(block.account >= 0, block.first_customer + block.account, -1)
        acc_names = pa.array([f"a{a}" if a >= 0 else None for a in acc_codes], pa.string())
        account = acc_names.take(pa.array(ec))
        contact = customer
    else:
        account = pa.nulls(len(ec), pa.string())
        contact = pa.nulls(len(ec), pa.string())
    has_session = block.ev_session >= 0
    session = pc.binary_join_element_wise(
        customer, pc.cast(pa.array(block.ev_session, mask=~has_session), pa.string()), "-s"
    )
    variant = block.ev_variant
    events = {
        "event_id": event_id,
        "customer_id": customer,
        "account_id": account,
        "contact_id": contact,
        "session_id": session,
        "timestamp": pa.array(
            model.start_us + np.rint(block.ev_time_s * 1e6).astype(np.int64), pa.timestamp("us")
        ),
        "event": pa.array([v.event for v in model.variants]).take(pa.array(variant)),
        "channel": pa.array([v.channel for v in model.variants]).take(pa.array(variant)),
        "value": pa.array(block.ev_value, mask=np.isnan(block.ev_value)),
    }
    rows = len(ec)
    web = model.variant_web[variant]
    source_codes = np.array([model.code(s) for s in SOURCE_TABLE.flat])
    device_codes = np.array([model.code(d) for d in DEVICES])
    keys = np.concatenate(
        (
            np.full((rows, 1), model.code("journey"), dtype=np.int32),
            model.variant_prop_keys[variant],
            np.full((rows, 1), model.code("source"), dtype=np.int32),
            np.full((rows, 1), model.code("device"), dtype=np.int32),
        ),
        axis=1,
    )
    vals = np.concatenate(
        (
            np.full((rows, 1), journey_code, dtype=np.int32),
            model.variant_prop_vals[variant],
            np.where(block.ev_source >= 0, source_codes[np.maximum(block.ev_source, 0)], -1)[
                :, None
            ],
            np.where(web, device_codes[block.device[ec]], -1)[:, None],
        ),
        axis=1,
    )
    events["properties"] = _map(strings, keys, vals)
    ev_table = pa.table(events, schema=ARROW_SCHEMAS["events"])
    if with_touchpoint:
        tp_ids = pa.array([t.id for t in model.touchpoints])
        ev_table = ev_table.append_column("touchpoint", _take(tp_ids, block.ev_tp))

    # responses
    rc = block.rs_customer
    metric = block.rs_metric
    metric_names = pa.array([METRICS[i][0] for i in range(3)])
    scale_min = np.array([METRICS[i][1] for i in range(3)])[metric]
    scale_max = np.array([METRICS[i][2] for i in range(3)])[metric]
    r_customer = cust_ids.take(pa.array(rc))
    rs_idx = pc.cast(pa.array(np.arange(len(rc)) - _offsets(rc, n)[rc]), pa.string())
    tp_channel = np.array(
        [t.channel if t.channel in _COLLECT_CHANNELS else "email" for t in model.touchpoints]
        + ["email"]
    )
    responses = {
        "response_id": pc.binary_join_element_wise(r_customer, rs_idx, "-r"),
        "customer_id": r_customer,
        "timestamp": pa.array(
            model.start_us + np.rint(block.rs_time_s * 1e6).astype(np.int64), pa.timestamp("us")
        ),
        "touchpoint": _take(pa.array([t.id for t in model.touchpoints]), block.rs_tp),
        "event": _take(pa.array([v.event for v in model.variants]), block.rs_variant),
        "metric": metric_names.take(pa.array(metric)),
        "score": pa.array(block.rs_score.astype(np.float64)),
        "scale_min": pa.array(scale_min),
        "scale_max": pa.array(scale_max),
        "comment": _take(pa.array(model.comments), block.rs_comment),
        "channel": pa.array(tp_channel[block.rs_tp]),
    }
    rs_table = pa.table(responses, schema=ARROW_SCHEMAS["responses"])

    # customers
    attrs: list[tuple[str, list[str | None]]] = [
        ("journey", [model.journey.id] * n),
        ("persona", [model.persona_ids[p] for p in block.persona]),
        ("device", [DEVICES[d] for d in block.device]),
        ("status", [STATUSES[s] for s in block.status]),
    ]
    if model.b2b:
        attrs.append(("role", [ROLES[r] for r in block.role]))
    persona_keys = list(dict.fromkeys(k for a in model.persona_attributes for k in a))
    for key in persona_keys:
        attrs.append((key, [model.persona_attributes[p].get(key) for p in block.persona]))
    if model.b2b:
        of_account = block.acc_index
        attrs.append(("industry", [INDUSTRIES[block.acc_industry[a]] for a in of_account]))
        attrs.append(("account_size", [SIZES[block.acc_size[a]] for a in of_account]))
    for j, (key, values) in enumerate(model.extra_attributes):
        attrs.append((key, [values[v] for v in block.segment_values[:, j]]))
    customers = pa.table(
        {
            "customer_id": cust_ids,
            "account_id": account_per_customer(model, block),
            "attributes": _map_from_lists(attrs, n),
        },
        schema=ARROW_SCHEMAS["customers"],
    )

    # accounts (first contact's row carries the account)
    acc_rows = block.acc_first
    acc_attrs: list[tuple[str, list[str | None]]] = [
        ("journey", [model.journey.id] * len(acc_rows)),
        ("industry", [INDUSTRIES[i] for i in block.acc_industry]),
        ("account_size", [SIZES[s] for s in block.acc_size]),
    ]
    accounts = pa.table(
        {
            "account_id": pa.array([f"a{block.first_customer + a}" for a in acc_rows], pa.string()),
            "attributes": _map_from_lists(acc_attrs, len(acc_rows)),
        },
        schema=ARROW_SCHEMAS["accounts"],
    )
    acc_marker = np.zeros(n, dtype=np.int64)
    acc_marker[acc_rows] = 1
    return BlockTables(
        n=n,
        tables={
            "events": ev_table,
            "responses": rs_table,
            "customers": customers,
            "accounts": accounts,
        },
        offsets={
            "events": _offsets(ec, n),
            "responses": _offsets(rc, n),
            "customers": np.arange(n + 1, dtype=np.int64),
            "accounts": np.concatenate(([0], np.cumsum(acc_marker))).astype(np.int64),
        },
    )


_COLLECT_CHANNELS = frozenset(
    {"website", "webshop", "app", "call_centre", "phone", "chat", "email"}
)


def account_per_customer(model: SimulationModel, block: Block) -> pa.Array:
    if not model.b2b:
        return pa.nulls(block.n, pa.string())
    return pa.array([f"a{block.first_customer + a}" for a in block.account], pa.string())


def _map_from_lists(attrs: list[tuple[str, list[str | None]]], n: int) -> pa.Array:
    """A map column from (key, value per row) lists; a later key replaces an earlier one."""
    rows: list[dict[str, str]] = [{} for _ in range(n)]
    for key, values in attrs:
        for i, v in enumerate(values):
            if v is not None:
                rows[i][key] = v
    return pa.array([list(r.items()) for r in rows], type=_MAP)


# -- writing -------------------------------------------------------------------------------
FileFormat = Literal["parquet", "csv"]


class TableWriter:
    """Streams the four tables to ``DIR/<table>.parquet`` or ``DIR/<table>.csv``."""

    def __init__(self, directory: Path, fmt: FileFormat, *, map_keys: dict[str, list[str]]) -> None:
        self.directory = directory
        self.fmt = fmt
        self.map_keys = map_keys
        self.paths = {t.name: directory / f"{t.name}.{fmt}" for t in TABLES}
        self.rows = {t.name: 0 for t in TABLES}
        self._writers: dict[str, Any] = {}
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            if self.fmt == "csv":
                table = _flatten(table, self.map_keys.get(name, []))
            writer = self._writers.get(name)
            if writer is None:
                if self.fmt == "parquet":
                    writer = pq.ParquetWriter(self.paths[name], table.schema, compression="zstd")
                else:
                    writer = pacsv.CSVWriter(self.paths[name], table.schema)
                self._writers[name] = writer
            if table.num_rows:
                writer.write_table(table) if self.fmt == "parquet" else writer.write(table)
            self.rows[name] += table.num_rows

    def close(self) -> None:
        for name in self.paths:
            if name not in self._writers:  # an empty table still gets a file with its columns
                empty = ARROW_SCHEMAS[name].empty_table()
                self.write({name: empty})
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def _flatten(table: pa.Table, keys: list[str]) -> pa.Table:
    """CSV form: the map column replaced by one plain column per key."""
    map_name = "properties" if "properties" in table.column_names else "attributes"
    if map_name not in table.column_names:
        return table
    col = table.column(map_name).combine_chunks()
    out = table.drop_columns([map_name])
    for key in keys:
        name = key if key not in out.column_names else f"{map_name}.{key}"
        out = out.append_column(name, pc.map_lookup(col, key, "first"))
    return out
