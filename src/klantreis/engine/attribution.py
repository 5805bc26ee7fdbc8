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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ..errors import UsageError
from .linking import link
from .markov import CONVERSION, NULL, SEPARATOR, START, chain_from_transitions
from .query import Prepared, Query, prepare
from .results import Result
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
        bare, conversions, what = _path_touches(
            p, conversion=self.conversion, lookback_days=self.lookback_days
        )
        touches = _positions(bare)
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
        level = p.level
        frames: list[pd.DataFrame] = []
        notes: list[str] = []
        heuristic = [m for m in models if m in HEURISTIC_MODELS]
        expr = _heuristic_expr(touches, heuristic, self.half_life_days) if heuristic else None
        if expr is not None:
            raw = source.execute(expr)
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
            assert transitions is not None
            frames.append(self._markov(p, transitions, totals))
        if "shapley" in models:
            nodes = sorted(str(n) for n in source.execute(bare.select("node").distinct())["node"])
            if len(nodes) > self.shapley_max_channels and self.models is None:
                notes.append(
                    f"shapley skipped: {len(nodes)} {level}s exceed the exact limit of "
                    f"{self.shapley_max_channels} (set shapley_max_channels or use a coarser level)"
                )
            else:
                frames.append(self._shapley(p, bare, nodes, totals))
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
                f"the {totals['conversions']:,.0f} conversions ({what}) with at least one touch, "
                f"and their value {totals['value']:,.2f}"
            ),
            meta={
                "conversions_are": what,
                "conversions": totals["conversions"],
                "value": totals["value"],
                "conversions_without_touch": totals["without_touch"],
                "paths": totals["paths"],
                "converting_paths": totals["conversions"],
                "markov_conversion_probability": totals.get("markov_probability"),
                "notes": notes,
            },
            tables={"comparison": comparison},
            expr=expr,
        )

    # -- the parts -------------------------------------------------------------------------------
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
            into = transitions[transitions["target"] == CONVERSION]
            n = int(into["n"].sum())
            value = float(into["value"].fillna(0.0).sum())
            return {
                "conversions": float(n),
                "value": value,
                "without_touch": n_all - n,
                "paths": int(transitions.loc[transitions["source"] == START, "n"].sum()),
            }
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
        self, p: Prepared, touches: ir.Table, nodes: list[str], totals: dict[str, Any]
    ) -> pd.DataFrame:
        if len(nodes) > self.shapley_max_channels:
            shapley_values([], [], [], len(nodes), max_channels=self.shapley_max_channels)
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
        raw = p.source.execute(per_mask)
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
