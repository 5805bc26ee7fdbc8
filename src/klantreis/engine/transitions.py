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

import numpy as np
import pandas as pd

from ..errors import UsageError
from .lazy import ibis, ir
from .linking import collapse_repeats
from .query import Prepared, Query, prepare
from .results import Result
from .sequence import Selection, select
from .source import Source

__all__ = ["TransitionsQuery", "TransitionsResult"]

REPEATS = ("keep", "collapse")
MAX_INDEXED_NODES = 2048  # the index path counts edges in a dense k × k table


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
        selection = select(p)
        if selection is not None and len(selection.names) <= MAX_INDEXED_NODES:
            return self._result(p, self._edges_indexed(selection), None)
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

    def _edges_indexed(self, sel: Selection) -> pd.DataFrame:
        """The same edges as the SQL above, from the sequence index in one compiled pass
        (consecutive kept rows of one customer are a transition; see ``kernels.py``)."""
        from .connect import duckdb_settings
        from .kernels.transitions import transitions

        k = len(sel.names)
        ix = sel.index
        node = np.asarray(sel.node, dtype=np.int32)
        counts, customers, median, p90 = transitions(
            ix.cust, node, ix.ts, ix.t_s, ix.channel, sel.keep_customer, sel.keep_channel,
            sel.since, sel.until, k, self.repeats == "collapse",
            threads=int(duckdb_settings()["threads"]),
        )  # fmt: skip
        present = np.flatnonzero(counts)
        names = np.array(sel.names, dtype=object)
        frame = pd.DataFrame(
            {
                "source": names[present // k],
                "target": names[present % k],
                "count": counts[present],
                "customers": customers[present],
                "median_seconds": median[present],
                "p90_seconds": p90[present],
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
