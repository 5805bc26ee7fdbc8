"""Multi-touch attribution: heuristic models, Markov removal effects and Shapley values.

Paths (the definition every model shares). At the query's level (default ``channel``), a
customer's touches in the period are ordered by ``(timestamp, event_id)``; every conversion ends
a path made of the touches since the previous conversion (the first path starts at the first
touch); the touches after the last conversion form a path without conversion. A conversion is
an event linked to one of the journey's conversion touchpoints, or an event named
``conversion``; conversion events are not touches themselves. ``lookback_days`` drops touches
longer than that before the conversion. A conversion without any touch before it cannot be
attributed: it is counted in ``meta.conversions_without_touch``.

Models (``models``; all by default):

- ``first_touch`` / ``last_touch``: the whole conversion to the first / last touch;
- ``linear``: 1/n to each of the path's n touches;
- ``time_decay``: weight 2^(−age / half-life) with age = time from touch to conversion,
  normalised per path (``half_life_days``, 7 by default);
- ``position_based``: 40% first, 40% last, 20% shared by the touches in between (a path of one
  touch: 100%; two touches: 50/50);
- ``markov``: removal effects on the absorbing Markov chain of order ``markov_order`` (see
  :mod:`klantreis.engine.markov`; Anderl et al. 2016, as ChannelAttribution);
- ``shapley``: Shapley values of the conversion-rate game over channel coalitions (see
  :mod:`klantreis.engine.shapley`; exact up to ``shapley_max_channels`` channels).

Every model shares out the same total: the conversions with at least one touch (``conversions``)
and their summed ``value`` (revenue). The paths are built in the engine (window functions);
Python only receives per-node sums, per-transition counts and per-channel-set counts.

On the sequence index (:mod:`klantreis.engine.sequence`) the same inputs come from arrays:
Markov alone (no ``lookback_days``) from one pass of a compiled kernel
(:mod:`klantreis.engine.kernels.attribution`), the other models and ``lookback_days`` from NumPy
passes over the prepared rows with the conversions marked; the model code is the same. Markov
orders above 1 and a ``channel`` filter (which these paths do not apply) run the SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import UsageError
from .lazy import ibis, ir
from .linking import link
from .markov import CONVERSION, NULL, SEPARATOR, START, chain_from_transitions
from .query import Prepared, Query, prepare
from .results import Result
from .sequence import Nodes, SequenceIndex, nodes_for, select
from .shapley import MAX_CHANNELS, shapley_values
from .source import Source

__all__ = ["HEURISTIC_MODELS", "MODELS", "AttributionQuery", "AttributionResult", "build_paths"]

HEURISTIC_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
MODELS = (*HEURISTIC_MODELS, "markov", "shapley")
#: The source (and target) of the extra row that carries the count of all conversions.
_ALL_CONVERSIONS = "(all conversions)"


class AttributionResult(Result):
    """Rows: one per model × node (conversions and value attributed; Markov removal effect)."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "model",
        "channel",
        "touchpoint",
        "stage",
        "event",
        "conversions",
        "conversion_share",
        "value",
        "removal_effect",
    )


@dataclass
class _Inputs:
    """What the models read: the same numbers whether the paths were built in SQL or on the
    sequence index (``nodes`` and ``per_mask`` are only computed for Shapley)."""

    what: str  # what the conversions are (for the denominator)
    totals: dict[str, Any]  # conversions, value, without_touch, paths
    transitions: pd.DataFrame | None  # source, target, n, value (Markov)
    heuristic: pd.DataFrame | None  # node, {model}_conversions, {model}_value
    nodes: Callable[[], list[str]] | None  # the distinct nodes of the touches, sorted
    per_mask: Callable[[list[str]], pd.DataFrame] | None  # mask, paths, conversions, value
    expr: ir.Table | None = None


@dataclass(frozen=True, kw_only=True)
class AttributionQuery(Query):
    analysis: ClassVar[str] = "attribution"
    default_level: ClassVar[str] = "channel"

    models: Sequence[str] | None = None
    conversion: str | None = None
    half_life_days: float = 7.0
    markov_order: int = 1
    lookback_days: float | None = None
    shapley_max_channels: int = MAX_CHANNELS

    def run(self, source: Source) -> AttributionResult:
        models = list(self.models) if self.models else list(MODELS)
        bad = [m for m in models if m not in MODELS]
        if bad:
            raise UsageError(f"Unknown model {bad[0]!r}.", hint=f"use one of: {', '.join(MODELS)}.")
        if self.markov_order < 1:
            raise UsageError(f"markov_order must be 1 or more, got {self.markov_order}.")
        if self.half_life_days <= 0:
            raise UsageError(f"half_life_days must be positive, got {self.half_life_days}.")
        p = prepare(source, self)
        inputs = _indexed_inputs(self, p, models) or self._sql_inputs(p, models)
        totals = inputs.totals
        level = p.level
        frames: list[pd.DataFrame] = []
        notes: list[str] = []
        heuristic = [m for m in models if m in HEURISTIC_MODELS]
        if inputs.heuristic is not None:
            raw = inputs.heuristic
            for m in heuristic:
                frames.append(
                    pd.DataFrame(
                        {
                            "model": m,
                            level: raw["node"].astype(str),
                            "conversions": raw[f"{m}_conversions"].astype(float),
                            "value": raw[f"{m}_value"].astype(float),
                            "removal_effect": None,
                        }
                    )
                )
        if "markov" in models:
            assert inputs.transitions is not None
            frames.append(self._markov(p, inputs.transitions, totals))
        if "shapley" in models:
            assert inputs.nodes is not None
            nodes = inputs.nodes()
            if len(nodes) > self.shapley_max_channels and self.models is None:
                notes.append(
                    f"shapley skipped: {len(nodes)} {level}s exceed the exact limit of "
                    f"{self.shapley_max_channels} (set shapley_max_channels or use a coarser level)"
                )
            else:
                frames.append(self._shapley(p, inputs, nodes, totals))
        frame = _finish(frames, level, models, totals)
        comparison = (
            frame.pivot_table(index=level, columns="model", values="conversions", aggfunc="sum")
            .reindex(columns=[m for m in models if m in set(frame["model"])])
            .reset_index()
            if len(frame)
            else pd.DataFrame(columns=[level])
        )
        comparison.columns.name = None
        return AttributionResult(
            analysis=self.analysis,
            frame=frame,
            query=self,
            scope=p.scope(),
            denominator=(
                f"the {totals['conversions']:,.0f} conversions ({inputs.what}) with at least one "
                f"touch, and their value {totals['value']:,.2f}"
            ),
            meta={
                "conversions_are": inputs.what,
                "conversions": totals["conversions"],
                "value": totals["value"],
                "conversions_without_touch": totals["without_touch"],
                "paths": totals["paths"],
                "converting_paths": totals["conversions"],
                "markov_conversion_probability": totals.get("markov_probability"),
                "notes": notes,
            },
            tables={"comparison": comparison},
            expr=inputs.expr,
        )

    # -- the parts -------------------------------------------------------------------------------
    def _sql_inputs(self, p: Prepared, models: list[str]) -> _Inputs:
        """The models' inputs from the paths built in SQL (see the module doc)."""
        bare, conversions, what = _path_touches(
            p, conversion=self.conversion, lookback_days=self.lookback_days
        )
        transitions = None
        n_all: int | None = None
        if "markov" in models:
            # the count of all conversions rides along in the same query, as one more row
            everything = conversions.aggregate(n=conversions.count()).select(
                source=ibis.literal(_ALL_CONVERSIONS),
                target=ibis.literal(_ALL_CONVERSIONS),
                n="n",
                value=ibis.literal(0.0, type="float64"),
            )
            raw = p.source.execute(
                _transitions_expr(bare, self.markov_order).union(everything, distinct=False)
            )
            is_all = raw["source"] == _ALL_CONVERSIONS
            n_all = int(raw.loc[is_all, "n"].sum())
            transitions = raw[~is_all].reset_index(drop=True)
        totals = self._totals(p, bare, conversions, transitions, n_all)
        heuristic = [m for m in models if m in HEURISTIC_MODELS]
        expr = (
            _heuristic_expr(_positions(bare), heuristic, self.half_life_days) if heuristic else None
        )
        return _Inputs(
            what=what,
            totals=totals,
            transitions=transitions,
            heuristic=p.source.execute(expr) if expr is not None else None,
            nodes=lambda: sorted(
                str(n) for n in p.source.execute(bare.select("node").distinct())["node"]
            ),
            per_mask=lambda nodes: _per_mask_sql(p, bare, nodes),
            expr=expr,
        )

    def _totals(
        self,
        p: Prepared,
        touches: ir.Table,
        conversions: ir.Table,
        transitions: pd.DataFrame | None,
        n_all: int | None = None,
    ) -> dict[str, Any]:
        """Paths, conversions with a touch (and their value), conversions without a touch.

        From the Markov transition counts when they are there (every path has one transition
        out of ``(start)``, every converting path one into ``(conversion)``, carrying its value),
        else from one query over the paths: a conversion has a touch exactly when its path has
        touches, and then every touch of that path is ``converted`` and carries its value.
        """
        if n_all is None:
            n_all = int(p.source.execute(conversions.select("customer_id").count()))
        if transitions is not None:
            return _totals_of_transitions(transitions, n_all)
        per_path = touches.group_by(["customer_id", "path_no"]).aggregate(
            converted=touches.converted.max(), conv_value=touches.conv_value.max()
        )
        stats = per_path.aggregate(
            paths=per_path.count(),
            n=per_path.converted.cast("int64").sum(),
            value=per_path.conv_value.sum(where=per_path.converted),
        )
        row = p.source.execute(stats)
        n = 0 if pd.isna(row["n"].iloc[0]) else int(row["n"].iloc[0])
        value = row["value"].iloc[0]
        return {
            "conversions": float(n),
            "value": 0.0 if pd.isna(value) else float(value),
            "without_touch": n_all - n,
            "paths": int(row["paths"].iloc[0]),
        }

    def _markov(self, p: Prepared, raw: pd.DataFrame, totals: dict[str, Any]) -> pd.DataFrame:
        chain = chain_from_transitions(
            [str(s) for s in raw["source"]],
            [str(t) for t in raw["target"]],
            raw["n"].tolist(),
            [0.0 if pd.isna(v) else float(v) for v in raw["value"]],
        )
        effects = chain.removal_effects()
        value_effects = chain.removal_effects(value=True)
        total_effect = sum(effects.values())
        total_value_effect = sum(value_effects.values())
        totals["markov_probability"] = chain.conversion_probability() if len(raw) else None
        rows = []
        for c in chain.channels():
            share = effects[c] / total_effect if total_effect > 0 else 0.0
            vshare = value_effects[c] / total_value_effect if total_value_effect > 0 else 0.0
            rows.append(
                {
                    "model": "markov",
                    p.level: c,
                    "conversions": share * totals["conversions"],
                    "value": vshare * totals["value"],
                    "removal_effect": effects[c],
                }
            )
        return pd.DataFrame(
            rows, columns=["model", p.level, "conversions", "value", "removal_effect"]
        )

    def _shapley(
        self, p: Prepared, inputs: _Inputs, nodes: list[str], totals: dict[str, Any]
    ) -> pd.DataFrame:
        if len(nodes) > self.shapley_max_channels:
            shapley_values([], [], [], len(nodes), max_channels=self.shapley_max_channels)
        assert inputs.per_mask is not None
        raw = inputs.per_mask(nodes)
        masks = [int(m) for m in raw["mask"]]
        phi = shapley_values(
            masks, raw["paths"].tolist(), raw["conversions"].tolist(), len(nodes),
            max_channels=self.shapley_max_channels,
        )  # fmt: skip
        phi_value = shapley_values(
            masks, raw["paths"].tolist(), raw["value"].tolist(), len(nodes),
            max_channels=self.shapley_max_channels,
        )  # fmt: skip
        total_phi, total_phi_value = float(phi.sum()), float(phi_value.sum())
        rows = []
        for i, n in enumerate(nodes):
            rows.append(
                {
                    "model": "shapley",
                    p.level: n,
                    "conversions": phi[i] / total_phi * totals["conversions"] if total_phi else 0.0,
                    "value": phi_value[i] / total_phi_value * totals["value"]
                    if total_phi_value
                    else 0.0,
                    "removal_effect": None,
                }
            )
        return pd.DataFrame(
            rows, columns=["model", p.level, "conversions", "value", "removal_effect"]
        )


def _totals_of_transitions(transitions: pd.DataFrame, n_all: int) -> dict[str, Any]:
    """The totals from the Markov transition counts (see ``_totals``)."""
    into = transitions[transitions["target"] == CONVERSION]
    n = int(into["n"].sum())
    return {
        "conversions": float(n),
        "value": float(into["value"].fillna(0.0).sum()),
        "without_touch": n_all - n,
        "paths": int(transitions.loc[transitions["source"] == START, "n"].sum()),
    }


def _per_mask_sql(p: Prepared, touches: ir.Table, nodes: list[str]) -> pd.DataFrame:
    """Paths, conversions and value per set of nodes (a bit mask over ``nodes``)."""
    if not nodes:  # no touches at all
        return pd.DataFrame({"mask": [], "paths": [], "conversions": [], "value": []})
    bit = ibis.cases(
        *[(touches.node == n, ibis.literal(1 << i, type="int64")) for i, n in enumerate(nodes)],
        else_=ibis.literal(0, type="int64"),
    )
    distinct = (
        touches.mutate(bit=bit)
        .select("customer_id", "path_no", "bit", "converted", "conv_value")
        .distinct()
    )
    per_path = distinct.group_by(["customer_id", "path_no"]).aggregate(
        mask=distinct.bit.sum(),
        converted=distinct.converted.max(),
        conv_value=distinct.conv_value.max(),
    )
    per_mask = per_path.group_by("mask").aggregate(
        paths=per_path.count(),
        conversions=per_path.converted.cast("int64").sum(),
        value=per_path.conv_value.fill_null(0).sum(),
    )
    result: pd.DataFrame = p.source.execute(per_mask)
    return result


def build_paths(
    p: Prepared, *, conversion: str | None, lookback_days: float | None = None
) -> tuple[ir.Table, ir.Table, str]:
    """The touches with their path, and the conversions (see the module doc).

    touches: customer_id, path_no, node, t_s, pos (1-based), n (touches in the path),
    converted (bool), conv_t_s, conv_value. conversions: customer_id, path_no, t_s, conv_value.
    """
    touches, conversions, what = _path_touches(
        p, conversion=conversion, lookback_days=lookback_days
    )
    return _positions(touches), conversions, what


def _path_touches(
    p: Prepared, *, conversion: str | None, lookback_days: float | None
) -> tuple[ir.Table, ir.Table, str]:
    """:func:`build_paths` without ``pos`` and ``n`` (they cost a window pass of their own)."""
    events = p.keep_customers(p.source.events)
    cond = p.period.condition(events.timestamp)
    if cond is not None:
        events = events.filter(cond)
    linked = link(events, p.journey)
    if conversion is not None:
        is_conv = linked.event == conversion
        what = f"events named {conversion!r}"
    else:
        conv = [t.id for t in p.journey.conversion_touchpoints()] if p.journey else []
        if not conv:
            raise UsageError(
                "Attribution needs conversions: the journey has no conversion touchpoint.",
                hint="pass --conversion EVENT, or mark touchpoints with conversion: true.",
            )
        is_conv = linked.touchpoint.isin(conv).fill_null(False)
        what = f"conversion touchpoints {', '.join(conv)}"
    node = {
        "event": linked.event,
        "touchpoint": linked.touchpoint,
        "stage": linked.stage,
        "channel": linked.channel.fill_null(linked.touchpoint_channel),
    }[p.level]
    rows = linked.select(
        "customer_id",
        "event_id",
        "timestamp",
        node=node,
        is_conv=is_conv.cast("int64"),
        value=linked.value,
        t_s=linked.timestamp.epoch_seconds().cast("int64"),
    )
    rows = rows.filter((rows.is_conv == 1) | rows.node.notnull())
    cum = ibis.cumulative_window(
        group_by=rows.customer_id, order_by=[rows.timestamp, rows.event_id]
    )
    rows = rows.mutate(path_no=rows.is_conv.sum().over(cum) - rows.is_conv)
    conversions = rows.filter(rows.is_conv == 1).select(
        "customer_id", "path_no", "t_s", conv_value=rows.value.fill_null(0.0)
    )
    t = rows.filter(rows.is_conv == 0)
    c = conversions.select(
        "customer_id", "path_no", conv_t_s=conversions.t_s, conv_value=conversions.conv_value
    )
    t = t.left_join(c, ["customer_id", "path_no"]).select(
        "customer_id", "path_no", "event_id", "timestamp", "node", "t_s", "conv_t_s", "conv_value"
    )
    t = t.mutate(converted=t.conv_t_s.notnull())
    if lookback_days is not None:
        t = t.filter(t.conv_t_s.isnull() | (t.conv_t_s - t.t_s <= lookback_days * 86400))
    return t, conversions, what


def _positions(touches: ir.Table) -> ir.Table:
    """The touches with ``pos`` (1-based) and ``n`` (touches in the path)."""
    t = touches
    w = ibis.window(group_by=[t.customer_id, t.path_no], order_by=[t.timestamp, t.event_id])
    whole = ibis.window(group_by=[t.customer_id, t.path_no])
    return t.mutate(pos=ibis.row_number().over(w) + 1, n=t.count().over(whole))


def _heuristic_expr(touches: ir.Table, models: list[str], half_life_days: float) -> ir.Table:
    t = touches.filter(touches.converted)
    half_life_s = half_life_days * 86400.0
    t = t.mutate(decay=(ibis.literal(2.0) ** (-(t.conv_t_s - t.t_s).cast("float64") / half_life_s)))
    whole = ibis.window(group_by=[t.customer_id, t.path_no])
    t = t.mutate(decay_sum=t.decay.sum().over(whole))
    one = ibis.literal(1.0)
    zero = ibis.literal(0.0)
    weights = {
        "first_touch": ibis.ifelse(t.pos == 1, one, zero),
        "last_touch": ibis.ifelse(t.pos == t.n, one, zero),
        "linear": one / t.n.cast("float64"),
        "time_decay": t.decay / t.decay_sum,
        "position_based": ibis.cases(
            (t.n == 1, one),
            (t.n == 2, ibis.literal(0.5)),
            ((t.pos == 1) | (t.pos == t.n), ibis.literal(0.4)),
            else_=ibis.literal(0.2) / (t.n - 2).cast("float64"),
        ),
    }
    aggs: dict[str, Any] = {}
    for m in models:
        aggs[f"{m}_conversions"] = weights[m].sum()
        aggs[f"{m}_value"] = (weights[m] * t.conv_value).sum()
    return t.group_by("node").aggregate(**aggs).order_by("node")


def _transitions_expr(touches: ir.Table, order: int) -> ir.Table:
    """Transition counts of the order-``order`` chain, from ONE window pass over the paths.

    ``touches`` need no ``pos``: the first touch, the previous nodes (the state) and the next
    node (the next state) all come from the same window (partition and order), so the engine
    sorts the touches once.
    """
    t = touches
    w = ibis.window(group_by=[t.customer_id, t.path_no], order_by=[t.timestamp, t.event_id])
    # lags[j] = the node j touches back (lags[0] = this touch's node); nxt = the next node
    cols: dict[str, Any] = {"_first": ibis.row_number().over(w) == 0, "_nxt": t.node.lead().over(w)}
    for j in range(1, order):
        cols[f"_lag{j}"] = t.node.lag(j).over(w)
    t = t.mutate(**cols)
    lags = [t.node, *[t[f"_lag{j}"] for j in range(1, order)]]

    def state_of(last: ir.StringValue, previous: list[ir.StringValue]) -> ir.StringValue:
        state = last
        for prev in previous:
            state = ibis.ifelse(prev.isnull(), state, prev.concat(SEPARATOR, state))
        return state

    state = state_of(lags[0], lags[1:])
    next_state = state_of(t._nxt, lags[: order - 1])
    terminal = ibis.ifelse(t.converted, ibis.literal(CONVERSION), ibis.literal(NULL))
    t = t.mutate(state=state, target=ibis.ifelse(t._nxt.isnull(), terminal, next_state))
    out = t.select(
        source=t.state,
        target=t.target,
        value=ibis.ifelse(t.target == CONVERSION, t.conv_value, ibis.literal(0.0)),
    )
    first = t.filter(t._first)
    start = first.select(
        source=ibis.literal(START), target=first.state, value=ibis.literal(0.0, type="float64")
    )
    both = out.union(start, distinct=False)
    return both.group_by(["source", "target"]).aggregate(n=both.count(), value=both.value.sum())


def _finish(
    frames: list[pd.DataFrame], level: str, models: list[str], totals: dict[str, Any]
) -> pd.DataFrame:
    columns = ["model", level, "conversions", "conversion_share", "value", "removal_effect"]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(frames, ignore_index=True)
    total = totals["conversions"]
    frame["conversion_share"] = frame["conversions"] / total if total else np.nan
    frame["removal_effect"] = frame["removal_effect"].astype(object)
    frame["model"] = pd.Categorical(frame["model"], categories=models, ordered=True)
    frame = frame.sort_values(["model", "conversions", level], ascending=[True, False, True])
    frame["model"] = frame["model"].astype(str)
    frame = frame[columns].reset_index(drop=True)
    frame["removal_effect"] = [
        None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)
        for v in frame["removal_effect"]
    ]
    return frame


# -- the same inputs from the sequence index --------------------------------------------------
#: The index path counts transitions in a dense (nodes + 1) × (nodes + 2) table.
MAX_INDEXED_NODES = 4096


@dataclass
class _Sequence:
    """The touches and conversions of the paths in sequence order, as arrays: ``node`` codes into
    ``names``, and ``len(names)`` marks a conversion; the j-th mark (at ``conv_pos[j]``) is the
    conversion at ``conv_rows[j]`` in the index."""

    index: SequenceIndex
    names: list[str]
    node: np.ndarray
    cust: np.ndarray
    t_s: np.ndarray
    conv_rows: np.ndarray
    conv_pos: np.ndarray

    @property
    def mark(self) -> int:
        return len(self.names)

    @cached_property
    def conv_t_s(self) -> np.ndarray:
        return np.asarray(self.index.t_s[self.conv_rows])

    @cached_property
    def conv_value(self) -> np.ndarray:
        """The conversions' values, nulls as 0."""
        return np.nan_to_num(np.asarray(self.index.value[self.conv_rows]), nan=0.0)

    def conversion_of_touches(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which rows are touches, the conversions before each touch, and the touches'
        conversion (-1: none): the customer's next conversion."""
        is_conv = self.node == self.mark
        touch = ~is_conv
        k = np.cumsum(is_conv, dtype=np.int64)[touch]  # conversions before the touch
        cust = self.cust[touch]
        conv = np.full(len(k), -1, dtype=np.int64)
        m = len(self.conv_pos)
        if m:
            ours = k < m
            ours[ours] = self.cust[self.conv_pos[k[ours]]] == cust[ours]
            conv[ours] = k[ours]
        return touch, k, conv


@dataclass
class _IndexedPaths:
    """The touches of the paths as arrays in sequence order (the paths of the module doc).

    ``node`` codes into ``names``; ``first`` / ``last`` mark a path's first / last touch;
    ``conv`` is the position of the touch's conversion in ``conv_t_s`` / ``conv_value``, -1 for a
    touch of a path without a conversion.
    """

    names: list[str]
    node: np.ndarray
    t_s: np.ndarray
    conv: np.ndarray
    first: np.ndarray
    conv_t_s: np.ndarray
    conv_value: np.ndarray

    @classmethod
    def of(cls, seq: _Sequence) -> _IndexedPaths:
        touch, k, conv = seq.conversion_of_touches()
        cust = seq.cust[touch]  # the path of a touch: (customer, conversions before it)
        first = np.ones(len(k), dtype=bool)
        first[1:] = (cust[1:] != cust[:-1]) | (k[1:] != k[:-1])
        return cls(
            seq.names, seq.node[touch], seq.t_s[touch], conv, first, seq.conv_t_s, seq.conv_value
        )

    @property
    def starts(self) -> np.ndarray:
        return np.flatnonzero(self.first)

    def present(self, mask: np.ndarray | None = None) -> np.ndarray:
        """The node codes with a touch (among ``mask``)."""
        node = self.node if mask is None else self.node[mask]
        return np.flatnonzero(np.bincount(node, minlength=len(self.names)))


def _indexed_inputs(q: AttributionQuery, p: Prepared, models: list[str]) -> _Inputs | None:
    """The models' inputs from the sequence index, or None when it does not apply (then the
    SQL runs): Markov of order 1, no channel filter (the SQL paths read every channel)."""
    if q.markov_order != 1 or p.query.channel:
        return None
    conv_tps: list[str] = []
    if q.conversion is not None:
        what = f"events named {q.conversion!r}"
    else:
        conv_tps = [t.id for t in p.journey.conversion_touchpoints()] if p.journey else []
        if not conv_tps:
            return None  # the SQL path raises the error
        what = f"conversion touchpoints {', '.join(conv_tps)}"
    if q.lookback_days is None and set(models) == {"markov"}:  # one compiled pass
        return _markov_compiled(p, q.conversion, conv_tps, what)
    nodes = nodes_for(p)
    if nodes is None or len(nodes.names) > MAX_INDEXED_NODES:
        return None
    found = _conversions(p, nodes, q.conversion, conv_tps)
    if found is None:
        return None
    seq = _sequence(nodes, *found)
    del nodes
    if q.lookback_days is not None:
        seq = _within_lookback(seq, q.lookback_days)
    n_all = len(seq.conv_rows)
    heuristic = [m for m in models if m in HEURISTIC_MODELS]
    paths = _IndexedPaths.of(seq) if heuristic or "markov" not in models else None
    transitions = None
    if "markov" in models:
        transitions = _transitions_indexed(seq)
        totals = _totals_of_transitions(transitions, n_all)
    else:
        assert paths is not None
        converted = paths.conv[paths.first]
        converted = converted[converted >= 0]
        totals = {
            "conversions": float(len(converted)),
            "value": float(paths.conv_value[converted].sum()),
            "without_touch": n_all - len(converted),
            "paths": int(paths.first.sum()),
        }

    def shapley_paths() -> _IndexedPaths:
        nonlocal paths
        if paths is None:
            paths = _IndexedPaths.of(seq)
        return paths

    return _Inputs(
        what=what,
        totals=totals,
        transitions=transitions,
        heuristic=(
            _heuristic_indexed(shapley_paths(), heuristic, q.half_life_days) if heuristic else None
        ),
        nodes=lambda: sorted(seq.names[c] for c in shapley_paths().present()),
        per_mask=lambda names: _per_mask_indexed(shapley_paths(), names),
    )


def _markov_compiled(
    p: Prepared, conversion: str | None, touchpoints: list[str], what: str
) -> _Inputs | None:
    """The Markov transitions from one pass of the compiled kernel over the selection."""
    sel = select(p)
    if sel is None or len(sel.names) > MAX_INDEXED_NODES:
        return None
    index = sel.index
    if conversion is not None:
        conv_code = np.asarray(index.event, dtype=np.int32)
        is_conv = np.zeros(len(index.events) + 1, dtype=bool)
        if conversion in index.events:
            is_conv[index.events.index(conversion) + 1] = True
    else:
        linked = sel if p.level == "touchpoint" else select(replace(p, level="touchpoint"))
        if linked is None:
            return None
        conv_code = np.asarray(linked.node, dtype=np.int32)
        is_conv = np.array([False, *(name in touchpoints for name in linked.names)], dtype=bool)
    from .kernels.attribution import markov_transitions

    counts, starts, values, n_all = markov_transitions(
        index.cust, np.asarray(sel.node, dtype=np.int32), index.ts, conv_code, is_conv,
        index.value, sel.keep_customer, sel.since, sel.until, len(sel.names),
    )  # fmt: skip
    transitions = _transitions_frame(sel.names, counts, starts, values)
    return _Inputs(
        what=what,
        totals=_totals_of_transitions(transitions, int(n_all)),
        transitions=transitions,
        heuristic=None,
        nodes=None,
        per_mask=None,
    )


def _conversions(
    p: Prepared, nodes: Nodes, conversion: str | None, touchpoints: list[str]
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The positions in the index of the conversions (scope and period as ``nodes``), and when
    every conversion is one of ``nodes``, their positions there (else None)."""
    index = nodes.index
    if conversion is None:
        linked = nodes if p.level == "touchpoint" else nodes_for(replace(p, level="touchpoint"))
        if linked is None:
            return None
        codes = [i for i, name in enumerate(linked.names) if name in set(touchpoints)]
        at = np.flatnonzero(np.isin(linked.node, np.array(codes, dtype=np.int32)))
        return linked.rows[at], at if linked is nodes else None
    if conversion not in index.events:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    is_conv = np.asarray(index.event) == index.events.index(conversion)
    rows = np.flatnonzero(is_conv)
    if p.in_scope is not None:
        wanted = np.zeros(index.n_customers, dtype=bool)
        wanted[p.scope_codes()] = True
        rows = rows[wanted[index.cust[rows]]]
    ts = index.ts[rows]
    keep = np.ones(len(rows), dtype=bool)
    if p.period.since is not None:
        keep &= ts >= np.datetime64(p.period.since, "us").astype(np.int64)
    if p.period.until is not None:
        keep &= ts < np.datetime64(p.period.until, "us").astype(np.int64)
    rows = rows[keep]
    at = np.flatnonzero(is_conv[nodes.rows])  # the conversions that are nodes
    return rows, at if len(at) == len(rows) else None


def _sequence(nodes: Nodes, conv_rows: np.ndarray, at: np.ndarray | None) -> _Sequence:
    """The nodes with the conversions marked: a conversion that is a node (at ``at``) is not a
    touch; one that is not is put in its place in the sequence. Takes over ``nodes``' arrays."""
    index = nodes.index
    rows, n, mark = nodes.rows, len(nodes.rows), len(nodes.names)
    if at is not None:
        nodes.node[at] = mark
        return _Sequence(index, nodes.names, nodes.node, nodes.cust, nodes.t_s, conv_rows, at)
    at = np.searchsorted(rows, conv_rows)  # where each conversion sits among the node rows
    inside = np.zeros(len(conv_rows), dtype=bool)
    fits = at < n
    inside[fits] = rows[at[fits]] == conv_rows[fits]
    # a node row moves up by the conversions outside the nodes before it
    out = ~inside
    where = np.arange(n) + np.cumsum(np.bincount(at[out], minlength=n + 1)[:n])
    pos = np.empty(len(conv_rows), dtype=np.int64)
    pos[inside] = where[at[inside]]
    pos[out] = at[out] + np.arange(int(out.sum()))
    size = n + int(out.sum())
    node = np.empty(size, dtype=np.int32)
    cust = np.empty(size, dtype=np.int32)
    t_s = np.empty(size, dtype=np.int64)
    node[where], cust[where], t_s[where] = nodes.node, nodes.cust, nodes.t_s
    node[pos] = mark
    cust[pos[out]] = index.cust[conv_rows[out]]
    t_s[pos[out]] = index.t_s[conv_rows[out]]
    return _Sequence(index, nodes.names, node, cust, t_s, conv_rows, pos)


def _within_lookback(seq: _Sequence, lookback_days: float) -> _Sequence:
    """Drops the touches longer than ``lookback_days`` before their conversion."""
    touch, _, conv = seq.conversion_of_touches()
    ok = conv >= 0
    late_touch = np.zeros(len(conv), dtype=bool)
    late_touch[ok] = seq.conv_t_s[conv[ok]] - seq.t_s[touch][ok] > lookback_days * 86400
    keep = np.ones(len(seq.node), dtype=bool)
    keep[touch] = ~late_touch
    node = seq.node[keep]
    return _Sequence(
        seq.index,
        seq.names,
        node,
        seq.cust[keep],
        seq.t_s[keep],
        seq.conv_rows,
        np.flatnonzero(node == seq.mark),
    )


def _transitions_indexed(seq: _Sequence) -> pd.DataFrame:
    """What :func:`_transitions_expr` computes at order 1 (source, target, n, value): a touch
    goes to the customer's next row, a touch or a conversion, else to ``(null)``; a path starts
    at a customer's first row or after a conversion."""
    k = seq.mark
    width = k + 2  # targets: the nodes, (conversion) = k, (null) = k + 1
    node, cust = seq.node, seq.cust
    table = np.zeros((k + 1) * width, dtype=np.int64)  # sources: the nodes, a conversion = k
    firsts = np.zeros(k + 1, dtype=np.int64)  # customers' first rows
    if len(node):
        code = node[:-1].astype(np.int32)  # below (4097 × 4098): no overflow
        np.multiply(code, width, out=code)
        np.add(code, node[1:], out=code)
        last = np.flatnonzero(cust[1:] != cust[:-1])  # a customer's last row: to (null)
        code[last] = node[last] * width + k + 1
        table += np.bincount(code, minlength=(k + 1) * width)
        table[int(node[-1]) * width + k + 1] += 1
        firsts += np.bincount(node[last + 1], minlength=k + 1)
        firsts[int(node[0])] += 1
    square = table.reshape(k + 1, width)
    starts = square[k, :k] + firsts[:k]
    pos = seq.conv_pos  # a conversion's touch is the row before, when it is the customer's touch
    prev = pos - 1
    ok = prev >= 0
    ok[ok] = (cust[prev[ok]] == cust[pos[ok]]) & (node[prev[ok]] != k)
    values = np.bincount(node[prev[ok]], weights=seq.conv_value[ok], minlength=k)
    return _transitions_frame(seq.names, square[:k], starts, values)


def _transitions_frame(
    names: list[str], counts: np.ndarray, starts: np.ndarray, values: np.ndarray
) -> pd.DataFrame:
    """The transitions as :func:`_transitions_expr` gives them (source, target, n, value), from
    ``counts`` (nodes × (nodes + 2): to the nodes, (conversion), (null)), the paths starting at
    each node and the value of the conversions each node leads to."""
    k = len(names)
    labels = [*names, CONVERSION, NULL]
    source, target = np.nonzero(counts)
    begin = np.flatnonzero(starts)
    return pd.DataFrame(
        {
            "source": [START] * len(begin) + [labels[s] for s in source],
            "target": [labels[t] for t in begin] + [labels[t] for t in target],
            "n": np.concatenate([starts[begin], counts[source, target]]).astype(np.int64),
            "value": np.concatenate(
                [np.zeros(len(begin)), np.where(target == k, values[source], 0.0)]
            ),
        }
    )


def _heuristic_indexed(
    paths: _IndexedPaths, models: list[str], half_life_days: float
) -> pd.DataFrame:
    """What :func:`_heuristic_expr` computes: per node the weights of the converting paths."""
    path = np.cumsum(paths.first) - 1
    starts = paths.starts
    size = np.diff(starts, append=len(paths.node))
    keep = paths.conv >= 0
    path = path[keep]
    node = paths.node[keep]
    conv = paths.conv[keep]
    pos = (np.flatnonzero(keep) - starts[path] + 1).astype(np.float64)
    n = size[path].astype(np.float64)
    value = paths.conv_value[conv]
    weights: dict[str, Callable[[], np.ndarray]] = {
        "first_touch": lambda: (pos == 1).astype(np.float64),
        "last_touch": lambda: (pos == n).astype(np.float64),
        "linear": lambda: 1.0 / n,
        "time_decay": lambda: _decay_weights(
            paths.conv_t_s[conv] - paths.t_s[keep], path, half_life_days
        ),
        "position_based": lambda: np.select(
            [n == 1, n == 2, (pos == 1) | (pos == n)],
            [1.0, 0.5, 0.4],
            0.2 / np.maximum(n - 2, 1),
        ),
    }
    codes = paths.present(keep)
    out: dict[str, Any] = {"node": [paths.names[c] for c in codes]}
    for m in models:
        w = weights[m]()
        out[f"{m}_conversions"] = np.bincount(node, weights=w, minlength=len(paths.names))[codes]
        out[f"{m}_value"] = np.bincount(node, weights=w * value, minlength=len(paths.names))[codes]
    return pd.DataFrame(out).sort_values("node").reset_index(drop=True)


def _decay_weights(age_s: np.ndarray, path: np.ndarray, half_life_days: float) -> np.ndarray:
    """2^(−age / half-life), normalised per path."""
    decay = np.power(2.0, -age_s.astype(np.float64) / (half_life_days * 86400.0))
    sums = np.bincount(path, weights=decay)
    return decay / sums[path]


def _per_mask_indexed(paths: _IndexedPaths, names: list[str]) -> pd.DataFrame:
    """What :func:`_per_mask_sql` computes: paths, conversions, value per set of nodes."""
    bit = np.zeros(len(paths.names), dtype=np.int64)
    code = {name: i for i, name in enumerate(paths.names)}
    for i, name in enumerate(names):
        bit[code[name]] = 1 << i
    starts = paths.starts
    if len(starts) == 0:
        return pd.DataFrame({"mask": [], "paths": [], "conversions": [], "value": []})
    mask = np.bitwise_or.reduceat(bit[paths.node], starts)
    conv = paths.conv[starts]
    converted = conv >= 0
    value = np.zeros(len(conv))
    value[converted] = paths.conv_value[conv[converted]]
    present, group = np.unique(mask, return_inverse=True)
    return pd.DataFrame(
        {
            "mask": present,
            "paths": np.bincount(group, minlength=len(present)),
            "conversions": np.bincount(group, weights=converted, minlength=len(present)).astype(
                np.int64
            ),
            "value": np.bincount(group, weights=value, minlength=len(present)),
        }
    )
