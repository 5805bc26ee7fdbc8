"""The responses index: survey answers as small integers, for the scores per node.

Like the sequence index (:mod:`klantreis.engine.sequence`, ADR 0012), derived data kept in
``data/_index/responses-<digest of the registered responses files>/`` and rebuilt when they
change: per response its timestamp (µs), customer code (-1: none), given touchpoint, event,
channel and metric codes (-1: none), score and scale. ``score_cells`` then aggregates per
(node, metric[, period]) with ``np.bincount`` instead of a query that links every answer again.

Linking is the SQL linking itself, evaluated once per (event, channel) pair, exactly as the SQL
path links responses (``scores.responses_at_level``: no event properties, so a rule on a
property never matches an answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .sequence import (
    AUTO_MIN_BYTES,
    BUILD_ERRORS,
    applies,
    build_versioned,
    codes_at_level,
    link_pairs,
    log,
    remember,
    table_files,
)

if TYPE_CHECKING:
    import pandas as pd

    from .query import Prepared
    from .source import Source

__all__ = ["ResponsesIndex", "responses_index_for", "score_aggregates"]

_COLUMNS = {
    "ts": np.int64,
    "cust": np.int32,
    "touchpoint": np.int32,
    "event": np.int32,
    "channel": np.int32,
    "metric": np.int32,
    "score": np.float64,
    "scale_min": np.float64,
    "scale_max": np.float64,
}
_DICTS = ("touchpoint", "event", "channel", "metric")
_loaded: dict[str, ResponsesIndex] = {}


@dataclass
class ResponsesIndex:
    path: Path
    arrays: dict[str, np.ndarray]
    names: dict[str, list[str]]
    n_customers: int = 0
    linked: dict[str, np.ndarray] = field(default_factory=dict)  # match rules → by_pair

    def __len__(self) -> int:
        return len(self.arrays["ts"])

    @classmethod
    def load(cls, path: Path) -> ResponsesIndex:
        meta = json.loads((path / "meta.json").read_text())
        arrays = {name: np.load(path / f"{name}.npy", mmap_mode="r") for name in _COLUMNS}
        return cls(path, arrays, {k: list(meta[k]) for k in _DICTS}, int(meta["customers"]))


def responses_index_for(source: Source) -> ResponsesIndex | None:
    """The responses index of a workspace source on DuckDB (built if missing), or None."""
    if source.workspace is None:
        return None
    files = table_files(source, "responses")
    key = applies(source, files, AUTO_MIN_BYTES // 4)
    if key is None:
        return None
    try:
        path = build_versioned(source.workspace, "responses", files, _write, key=key)
    except BUILD_ERRORS as exc:
        log.warning("not using the responses index: %s", exc)
        return None
    opened = _loaded.get(str(path))
    if opened is None:
        opened = ResponsesIndex.load(path)
        remember(_loaded, str(path), opened)
    return opened


def _write(files: list[Path], out: Path) -> None:
    import duckdb

    from .connect import duckdb_settings

    con = duckdb.connect(config={k: str(v) for k, v in duckdb_settings().items()})
    try:
        con.execute("SET enable_progress_bar = false")
        names = [str(f) for f in files]
        con.execute(
            "CREATE TEMP TABLE r AS SELECT timestamp, customer_id, touchpoint, event, channel, "
            "metric, score, scale_min, scale_max FROM read_parquet($f)",
            {"f": names},
        )
        dicts: dict[str, list[str]] = {}
        for col in (*_DICTS, "customer_id"):
            rows = con.execute(
                f"SELECT DISTINCT {col} FROM r WHERE {col} IS NOT NULL ORDER BY 1"
            ).fetchall()
            dicts[col] = [v[0] for v in rows]
            con.execute(
                f"CREATE TEMP TABLE d_{col} AS SELECT unnest($v::VARCHAR[]) AS {col}, "
                f"(generate_subscripts($v::VARCHAR[], 1) - 1)::INTEGER AS code",
                {"v": dicts[col]},
            )
        con.execute(
            "COPY (SELECT customer_id, code FROM d_customer_id) TO $p (FORMAT parquet)",
            {"p": str(out / "customers.parquet")},
        )
        joins = " ".join(f"LEFT JOIN d_{c} USING ({c})" for c in (*_DICTS, "customer_id"))
        codes = ", ".join(f"coalesce(d_{c}.code, -1) AS {c}" for c in _DICTS)
        table = con.sql(
            f"SELECT epoch_us(timestamp) AS ts, coalesce(d_customer_id.code, -1) AS cust, "
            f"{codes}, score, scale_min, scale_max FROM r {joins}"
        ).to_arrow_table()
        for name, dt in _COLUMNS.items():
            column = table.column(name).to_numpy(zero_copy_only=False).astype(dt)
            np.save(out / f"{name}.npy", column)
        meta: dict[str, Any] = {k: dicts[k] for k in _DICTS}
        meta |= {"responses": table.num_rows, "customers": len(dicts["customer_id"])}
        (out / "meta.json").write_text(json.dumps(meta))
    finally:
        con.close()


# -- the scores of one query ----------------------------------------------------------------

_PERIODS = ("week", "month")


def _nodes(p: Prepared, index: ResponsesIndex) -> tuple[np.ndarray, list[str]]:
    """Per response the node code at the level (-1: none), and the node names."""
    a, names = index.arrays, index.names
    if p.level == "event":
        return np.asarray(a["event"]), list(names["event"])
    journey = p.journey
    if journey is None:  # only the channel level goes without a journey: the own channel
        return np.asarray(a["channel"], dtype=np.int32), list(names["channel"])
    # the journey's touchpoint for every (event, channel) pair (None included), then per answer
    n_ch = len(names["channel"]) + 1
    tp_names = [t.id for t in journey.touchpoints]
    tp_names += sorted(set(names["touchpoint"]) - set(tp_names))  # answers name others too
    rules = json.dumps(
        [[t.id, [r.model_dump(mode="json") for r in t.match]] for t in journey.touchpoints]
    )
    rules += json.dumps(tp_names)  # the codes are positions in tp_names
    by_pair = index.linked.get(rules)
    if by_pair is None:
        events: list[str | None] = [None, *names["event"]]
        by_pair = link_pairs(p.source, journey, events, names["channel"], tp_names)
        index.linked = {rules: by_pair}  # one journey version at a time
    code = {n: i for i, n in enumerate(tp_names)}
    given = np.array([code[n] for n in names["touchpoint"]] + [-1], dtype=np.int32)
    tp = given[np.asarray(a["touchpoint"])]  # index -1 → the appended -1
    missing = tp < 0
    pair = (np.asarray(a["event"])[missing] + 1) * n_ch + np.asarray(a["channel"])[missing] + 1
    tp[missing] = by_pair[pair]
    return codes_at_level(p.level, journey, tp, tp_names, a["channel"], names["channel"])


def _extreme(group: np.ndarray, values: np.ndarray, size: int, pick: np.ufunc) -> np.ndarray:
    """Per group the min or max of ``values``: scales take a handful of distinct values, so one
    ``bincount`` per value (``ufunc.at`` over a million rows is ten times slower)."""
    out = np.full(size, np.inf if pick is np.minimum else -np.inf)
    for v in np.unique(values):
        seen = np.bincount(group[values == v], minlength=size) > 0
        out[seen] = pick(out[seen], v)
    return out


def score_aggregates(p: Prepared, *, metric: str | None, trend: str | None) -> pd.DataFrame | None:
    """The SQL ``score_cells`` aggregate (node, metric[, period], n, mean_score, std_score,
    top2, promoters, detractors, scale_min, scale_max; ordered) from the responses index, or
    None when the index does not apply."""
    if p.query.unit != "customer" or (trend is not None and trend not in _PERIODS):
        return None
    index = responses_index_for(p.source)
    if index is None:
        return None
    import pandas as pd

    from .sequence import micros

    a = index.arrays
    node, node_names = _nodes(p, index)
    keep = node >= 0
    if p.in_scope is not None:  # answers without a customer are out, as in the SQL semi-join
        wanted = np.zeros(index.n_customers + 1, dtype=bool)  # [-1] (no customer) stays False
        wanted[p.scope_codes(index.path / "customers.parquet")] = True
        keep &= wanted[np.asarray(a["cust"])]
    ts = np.asarray(a["ts"])
    if p.period.since is not None:
        keep &= ts >= micros(p.period.since)
    if p.period.until is not None:
        keep &= ts < micros(p.period.until)
    metrics = index.names["metric"]
    m = np.asarray(a["metric"])
    if metric is not None:
        keep &= m == (metrics.index(metric) if metric in metrics else -2)
    rows = np.flatnonzero(keep)
    node, m, ts = node[rows], m[rows], ts[rows]
    score = np.asarray(a["score"])[rows]
    lo, hi = np.asarray(a["scale_min"])[rows], np.asarray(a["scale_max"])[rows]
    n_m = len(metrics)
    if trend is None:
        period = np.zeros(len(rows), dtype=np.int64)
        starts: list[Any] = [None]
    else:
        days = ts // 86_400_000_000
        if trend == "week":  # weeks start on Monday; 1970-01-01 was a Thursday
            first = (days + 3) // 7 * 7 - 3
        else:
            first = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
            first = first.astype(np.int64)
        starts_arr, period = np.unique(first, return_inverse=True)
        starts = [pd.Timestamp(int(d), unit="D") for d in starts_arr]
    n_p = len(starts)
    group = (node.astype(np.int64) * n_m + m) * n_p + period
    size = len(node_names) * n_m * n_p
    n = np.bincount(group, minlength=size)
    total = np.bincount(group, weights=score, minlength=size)
    present = np.flatnonzero(n)
    mean = np.zeros(size)
    mean[present] = total[present] / n[present]
    dev = np.bincount(group, weights=(score - mean[group]) ** 2, minlength=size)
    std = np.full(size, np.nan)
    several = present[n[present] > 1]
    std[several] = np.sqrt(dev[several] / (n[several] - 1))
    top2 = np.bincount(group, weights=(score >= hi - 1), minlength=size)
    promoters = np.bincount(group, weights=(score >= 9), minlength=size)
    detractors = np.bincount(group, weights=(score <= 6), minlength=size)
    s_min, s_max = _extreme(group, lo, size, np.minimum), _extreme(group, hi, size, np.maximum)
    g_node, rest = np.divmod(present, n_m * n_p)
    g_metric, g_period = np.divmod(rest, n_p)
    frame = pd.DataFrame(
        {
            "node": [node_names[i] for i in g_node],
            "metric": [metrics[i] for i in g_metric],
            **({"period": [starts[i] for i in g_period]} if trend is not None else {}),
            "n": n[present],
            "mean_score": mean[present],
            "std_score": std[present],
            "top2": top2[present].astype(np.int64),
            "promoters": promoters[present].astype(np.int64),
            "detractors": detractors[present].astype(np.int64),
            "scale_min": s_min[present],
            "scale_max": s_max[present],
        }
    )
    order = ["node", "metric"] + (["period"] if trend is not None else [])
    return frame.sort_values(order, kind="stable").reset_index(drop=True)
