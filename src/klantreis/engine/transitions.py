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

from ..errors import UsageError
from .linking import collapse_repeats
from .query import Query, prepare
from .results import Result
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
        frame = source.execute(edges)
        frame["count"] = frame["count"].astype("int64")
        frame["customers"] = frame["customers"].astype("int64")
        return TransitionsResult(
            analysis=self.analysis,
            frame=frame.reset_index(drop=True),
            query=self,
            scope=p.scope(),
            denominator="all transitions in the period (share)",
            expr=edges,
        )
