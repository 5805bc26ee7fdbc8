"""Timing: time between consecutive steps, and where customers lose time.

- Main rows (``source`` → ``target``): for each pair of consecutive steps (the journey's stages or
  touchpoints in designed order, or the given ``steps``), the seconds from a customer's FIRST
  event at the source to their first event at the target that comes after it, over the customers
  with both; ``median_seconds``, ``p90_seconds``, and ``long_waits`` = customers waiting longer
  than ``long_wait_days``.
- ``tables["loops"]``: returns to an earlier step (a directly-follows move to a node earlier in the
  order): per node, how many moves went back to it and how many customers made one.
- ``tables["repeats"]``: repeated contacts of the same kind: a node occurring again within
  ``repeat_window_days`` of the customer's previous occurrence of it.

Only events in the period count. Durations are whole seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from ..errors import UsageError
from .lazy import ibis, ir
from .linking import node_order
from .query import Query, prepare
from .results import Result
from .source import Source

__all__ = ["TimingQuery", "TimingResult"]

DAY_SECONDS = 86400


class TimingResult(Result):
    """Rows: one per consecutive pair of steps; ``tables``: ``loops`` and ``repeats``."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "source",
        "target",
        "customers",
        "median_seconds",
        "p90_seconds",
        "long_waits",
    )


@dataclass(frozen=True, kw_only=True)
class TimingQuery(Query):
    analysis: ClassVar[str] = "timing"
    default_level: ClassVar[str] = "stage"

    steps: Sequence[str] | None = None
    long_wait_days: float = 7.0
    repeat_window_days: float = 7.0

    def run(self, source: Source) -> TimingResult:
        p = prepare(source, self)
        steps = list(self.steps) if self.steps else node_order(p.journey, p.level)
        if len(steps) < 2:
            raise UsageError(
                f"Timing at level {p.level!r} needs at least two steps.",
                hint="pass steps, e.g. --steps view,cart,pay.",
            )
        nodes = p.in_period
        firsts = nodes.filter(nodes.node.isin(steps))
        firsts = firsts.group_by(["customer_id", "node"]).aggregate(
            seq=firsts.seq.min(), t=firsts.t_s.argmin(firsts.seq)
        )
        long_wait = self.long_wait_days * DAY_SECONDS
        parts = []
        for i, (a, b) in enumerate(itertools.pairwise(steps)):
            fa = firsts.filter(firsts.node == a).select("customer_id", seq_a="seq", t_a="t")
            later = nodes.filter(nodes.node == b).select("customer_id", "seq", "t_s")
            j = fa.join(later, "customer_id")
            j = j.filter(j.seq > j.seq_a)
            nxt = j.group_by(["customer_id", "t_a"]).aggregate(t_b=j.t_s.argmin(j.seq))
            wait = nxt.t_b - nxt.t_a
            parts.append(
                nxt.aggregate(
                    pair=ibis.literal(i, type="int64"),
                    customers=nxt.count(),
                    median_seconds=wait.median(),
                    p90_seconds=wait.quantile(0.9),
                    long_waits=(wait > long_wait).cast("int64").sum(),
                )
            )
        expr = ibis.union(*parts)
        raw = source.execute(expr).set_index("pair")
        rows = []
        for i, (a, b) in enumerate(itertools.pairwise(steps)):
            n = int(raw.loc[i, "customers"]) if i in raw.index else 0
            have = n > 0
            waits = int(raw.loc[i, "long_waits"] or 0) if have else 0
            rows.append(
                {
                    "source": a,
                    "target": b,
                    "customers": n,
                    "median_seconds": float(raw.loc[i, "median_seconds"]) if have else None,
                    "p90_seconds": float(raw.loc[i, "p90_seconds"]) if have else None,
                    "long_waits": waits,
                    "long_wait_share": waits / n if n else None,
                }
            )
        frame = pd.DataFrame(rows)
        return TimingResult(
            analysis=self.analysis,
            frame=frame,
            query=self,
            scope=p.scope(),
            denominator="customers who reached both steps of a pair",
            meta={"steps": steps, "long_wait_seconds": long_wait},
            tables={
                "loops": source.execute(self._loops(nodes, steps)),
                "repeats": source.execute(self._repeats(nodes)),
            },
            expr=expr,
        )

    def _loops(self, nodes: ir.Table, steps: list[str]) -> ir.Table:
        rank = ibis.cases(*[(nodes.node == s, i) for i, s in enumerate(steps)], else_=ibis.null())
        ranked = nodes.filter(nodes.node.isin(steps)).mutate(rank=rank)
        order = ibis.window(group_by=ranked.customer_id, order_by=ranked.seq)
        moves = ranked.mutate(prev_rank=ranked["rank"].lag().over(order))
        back = moves.filter(moves["rank"] < moves.prev_rank)
        return (
            back.group_by("node")
            .aggregate(returns=back.count(), customers=back.customer_id.nunique())
            .order_by([ibis.desc("returns"), "node"])
        )

    def _repeats(self, nodes: ir.Table) -> ir.Table:
        order = ibis.window(group_by=[nodes.customer_id, nodes.node], order_by=nodes.seq)
        gaps = nodes.mutate(gap=nodes.t_s - nodes.t_s.lag().over(order))
        rep = gaps.filter(gaps.gap <= self.repeat_window_days * DAY_SECONDS)
        return (
            rep.group_by("node")
            .aggregate(repeats=rep.count(), customers=rep.customer_id.nunique())
            .order_by([ibis.desc("repeats"), "node"])
        )
