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
    #: per (match rules, level): every answer's node code and the node names (one journey version)
    linked: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)
    _kinds: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.arrays["ts"])

    def kinds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per answer what the score cells count, as one small code (derived once per index):
        ``kind = ((top2 * 3 + nps class) * len(lows) + low) * len(highs) + high``, where top2 is
        ``score >= scale_max - 1``, the NPS class 0 passive, 1 promoter (≥ 9), 2 detractor (≤ 6),
        and low/high the positions of ``scale_min``/``scale_max`` in the sorted distinct scale
        values ``lows``/``highs`` (answers use a handful of scales). Returns kind, lows, highs."""
        if self._kinds is None:
            a = self.arrays
            score, lo, hi = np.asarray(a["score"]), np.asarray(a["scale_min"]), a["scale_max"]
            hi = np.asarray(hi)
            lows, low = np.unique(lo, return_inverse=True)
            highs, high = np.unique(hi, return_inverse=True)
            nps = (score >= 9).astype(np.int64) + 2 * (score <= 6)
            kind = ((score >= hi - 1) * 3 + nps) * len(lows) + low
            kind = kind * len(highs) + high
            self._kinds = (kind.astype(np.int32), lows, highs)
        return self._kinds

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
    """Per response the node code at the level (-1: none), and the node names. Linked once per
    version of the journey's match rules and level (derived data, like the index itself)."""
    a, names = index.arrays, index.names
    if p.level == "event":
        return np.asarray(a["event"]), list(names["event"])
    journey = p.journey
    if journey is None:  # only the channel level goes without a journey: the own channel
        return np.asarray(a["channel"], dtype=np.int32), list(names["channel"])
    # the journey's touchpoint for every (event, channel) pair (None included), then per answer
    tp_names = [t.id for t in journey.touchpoints]
    tp_names += sorted(set(names["touchpoint"]) - set(tp_names))  # answers name others too
    key = json.dumps(
        [
            [
                [t.id, t.stage, t.channel, [r.model_dump(mode="json") for r in t.match]]
                for t in journey.touchpoints
            ],
            [s.id for s in journey.stages_in_order()],
            tp_names,
            p.level,
        ]
    )
    got = index.linked.get(key)
    if got is not None:
        return got
    n_ch = len(names["channel"]) + 1
    events: list[str | None] = [None, *names["event"]]
    by_pair = link_pairs(p.source, journey, events, names["channel"], tp_names, keep_in=index.path)
    code = {n: i for i, n in enumerate(tp_names)}
    given = np.array([code[n] for n in names["touchpoint"]] + [-1], dtype=np.int32)
    tp = given[np.asarray(a["touchpoint"])]  # index -1 → the appended -1
    missing = tp < 0
    pair = (np.asarray(a["event"])[missing] + 1) * n_ch + np.asarray(a["channel"])[missing] + 1
    tp[missing] = by_pair[pair]
    got = codes_at_level(p.level, journey, tp, tp_names, a["channel"], names["channel"])
    if len(index.linked) >= 4:  # a few (journey version, level) pairs at a time
        index.linked = {}
    index.linked[key] = got
    return got


def _scale_extremes(present: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``present`` (cells × distinct values, which values occur in the cell; values
    sorted) the smallest and largest value that occurs, nulls (NaN) ignored as SQL does."""
    valid = ~np.isnan(values)
    seen, vals = present[:, valid], values[valid]
    low, high = np.full(len(present), np.nan), np.full(len(present), np.nan)
    if len(vals):
        some = seen.any(axis=1)
        low[some] = vals[seen.argmax(axis=1)][some]
        high[some] = vals[len(vals) - 1 - seen[:, ::-1].argmax(axis=1)][some]
    return low, high


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
    m = m[rows]
    kind, lows, highs = index.kinds()
    n_m = len(metrics)
    if trend is None:
        group = node[rows].astype(np.int64) * n_m + m
        starts: list[Any] = [None]
    else:
        days = ts[rows] // 86_400_000_000
        if trend == "week":  # weeks start on Monday; 1970-01-01 was a Thursday
            first = (days + 3) // 7 * 7 - 3
        else:
            first = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
            first = first.astype(np.int64)
        starts_arr, period = np.unique(first, return_inverse=True)
        starts = [pd.Timestamp(int(d), unit="D") for d in starts_arr]
        group = (node[rows].astype(np.int64) * n_m + m) * len(starts) + period
    n_p = len(starts)
    score = np.asarray(a["score"])[rows]
    size = len(node_names) * n_m * n_p
    n_kinds = 6 * len(lows) * len(highs)
    # one count per (cell, kind): n, top-2, promoters, detractors and the scales in one pass
    counts = np.bincount(group * n_kinds + kind[rows], minlength=size * n_kinds)
    counts = counts.reshape(size, 2, 3, len(lows), len(highs))
    n = counts.sum(axis=(1, 2, 3, 4))
    total = np.bincount(group, weights=score, minlength=size)
    present = np.flatnonzero(n)
    mean = np.zeros(size)
    mean[present] = total[present] / n[present]
    dev = np.bincount(group, weights=(score - mean[group]) ** 2, minlength=size)
    std = np.full(size, np.nan)
    several = present[n[present] > 1]
    std[several] = np.sqrt(dev[several] / (n[several] - 1))
    counts = counts[present]
    top2 = counts[:, 1].sum(axis=(1, 2, 3))
    promoters = counts[:, :, 1].sum(axis=(1, 2, 3))
    detractors = counts[:, :, 2].sum(axis=(1, 2, 3))
    s_min = _scale_extremes(counts.sum(axis=(1, 2, 4)) > 0, lows)[0]
    s_max = _scale_extremes(counts.sum(axis=(1, 2, 3)) > 0, highs)[1]
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
            "top2": top2.astype(np.int64),
            "promoters": promoters.astype(np.int64),
            "detractors": detractors.astype(np.int64),
            "scale_min": s_min,
            "scale_max": s_max,
        }
    )
    order = ["node", "metric"] + (["period"] if trend is not None else [])
    return frame.sort_values(order, kind="stable").reset_index(drop=True)
