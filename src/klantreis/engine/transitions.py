"""Transitions: directly-follows counts with durations (the process-mining definition).

For each customer, the nodes of the level are ordered by ``(timestamp, event_id)``; every pair of
consecutive nodes ``(source, target)`` is one transition. So the counts of one customer with n
nodes add up to n − 1, and over all customers to nodes − customers. ``median_seconds`` is the
median time from the source event to the target event (whole seconds). With
``repeats="collapse"`` a node repeating the previous one is dropped first (no self-loops).

Only events in the period count (a transition needs both ends in the period).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ..errors import UsageError
from .linking import collapse_repeats
from .query import Prepared, Query, prepare
from .results import Result
from .sequence import Nodes, distinct_runs, grouped, nodes_for, quantiles
from .source import Source

__all__ = ["TransitionsQuery", "TransitionsResult"]

REPEATS = ("keep", "collapse")


class TransitionsResult(Result):
    """Rows: one per (source, target) edge, most frequent first."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "source",
        "target",
        "count",
        "customers",
        "median_seconds",
        "share",
    )


@dataclass(frozen=True, kw_only=True)
class TransitionsQuery(Query):
    """Directly-follows edges. ``min_count`` drops rare edges; ``top_k`` keeps the k most frequent
    edges per source node; ``focus`` keeps the edges into or out of one node."""

    analysis: ClassVar[str] = "transitions"

    repeats: str = "keep"
    min_count: int = 1
    top_k: int | None = None
    focus: str | None = None

    def run(self, source: Source) -> TransitionsResult:
        if self.repeats not in REPEATS:
            raise UsageError(f"Unknown repeats {self.repeats!r}.", hint="use keep or collapse.")
        p = prepare(source, self)
        fast = nodes_for(p)
        if fast is not None:
            return self._result(p, self._edges_indexed(fast), None)
        nodes = p.in_period
        if self.repeats == "collapse":
            nodes = collapse_repeats(nodes)
        # (timestamp, event_id) is the order ``seq`` numbers: ordering by it directly lets the
        # engine drop the row_number() window that makes ``seq`` (one sort instead of two)
        order = ibis.window(group_by=nodes.customer_id, order_by=[nodes.timestamp, nodes.event_id])
        pairs = nodes.mutate(
            target=nodes.node.lead().over(order), t_next=nodes.t_s.lead().over(order)
        )
        pairs = pairs.filter(pairs.target.notnull())
        seconds = pairs.t_next - pairs.t_s
        edges = pairs.group_by(source=pairs.node, target=pairs.target).aggregate(
            count=pairs.count(),
            customers=pairs.customer_id.nunique(),
            median_seconds=seconds.median(),
            p90_seconds=seconds.quantile(0.9),
        )
        total = edges["count"].sum().as_scalar()
        edges = edges.mutate(share=edges["count"] / total)
        if self.min_count > 1:
            edges = edges.filter(edges["count"] >= self.min_count)
        if self.focus is not None:
            edges = edges.filter((edges.source == self.focus) | (edges.target == self.focus))
        if self.top_k is not None:
            rank = ibis.window(
                group_by=edges.source, order_by=[ibis.desc(edges["count"]), edges.target]
            )
            edges = edges.mutate(_rank=ibis.row_number().over(rank))
            edges = edges.filter(edges._rank < self.top_k).drop("_rank")
        edges = edges.order_by([ibis.desc("count"), "source", "target"])
        return self._result(p, source.execute(edges), edges)

    def _result(self, p: Prepared, frame: pd.DataFrame, expr: ir.Table | None) -> TransitionsResult:
        frame["count"] = frame["count"].astype("int64")
        frame["customers"] = frame["customers"].astype("int64")
        return TransitionsResult(
            analysis=self.analysis,
            frame=frame.reset_index(drop=True),
            query=self,
            scope=p.scope(),
            denominator="all transitions in the period (share)",
            expr=expr,
        )

    def _edges_indexed(self, nodes: Nodes) -> pd.DataFrame:
        """The same edges as the SQL above, from the sequence index: consecutive rows of one
        customer are a transition (one vectorised pass), grouped by edge without a sort."""
        if self.repeats == "collapse":
            nodes = nodes.collapse_repeats()
        k = len(nodes.names)
        same = nodes.cust[1:] == nodes.cust[:-1]
        edge = nodes.node[:-1][same].astype(np.int64) * k + nodes.node[1:][same]
        seconds = (nodes.t_s[1:] - nodes.t_s[:-1])[same]
        cust = nodes.cust[1:][same]
        present, code = np.unique(edge, return_inverse=True) if k * k > 1 << 24 else _dense(edge, k)
        order, bounds = grouped(code, len(present))
        code, cust, seconds = code[order], cust[order], seconds[order]
        counts = np.diff(bounds)
        customers = np.bincount(code[distinct_runs(cust, code)], minlength=len(present))
        q = quantiles(seconds, bounds, (0.5, 0.9))
        names = np.array(nodes.names, dtype=object)
        frame = pd.DataFrame(
            {
                "source": names[present // k] if len(present) else [],
                "target": names[present % k] if len(present) else [],
                "count": counts,
                "customers": customers,
                "median_seconds": q[:, 0],
                "p90_seconds": q[:, 1],
            }
        )
        total = int(counts.sum())
        frame["share"] = frame["count"] / total if total else np.nan
        if self.min_count > 1:
            frame = frame[frame["count"] >= self.min_count]
        if self.focus is not None:
            frame = frame[(frame.source == self.focus) | (frame.target == self.focus)]
        if self.top_k is not None:
            ranked = frame.sort_values(["source", "count", "target"], ascending=[True, False, True])
            frame = ranked.groupby("source", sort=False).head(self.top_k)
        return frame.sort_values(["count", "source", "target"], ascending=[False, True, True])


def _dense(edge: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(edge, return_inverse=True)`` for codes below k², by counting (no sort)."""
    seen = np.bincount(edge, minlength=k * k)
    present = np.flatnonzero(seen)
    remap = np.zeros(k * k, dtype=np.int32)
    remap[present] = np.arange(len(present), dtype=np.int32)
    return present, remap[edge]
