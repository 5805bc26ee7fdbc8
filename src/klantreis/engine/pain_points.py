"""Pain points: touchpoints (or stages) ranked by reach × severity, with the evidence.

Per node, over the customers in scope with an event at the level in the period:

- ``reach_share`` = customers with an event at the node / customers with any event at the level;
- ``score_badness``: CSAT 1 − top-2-box share; NPS (100 − NPS) / 200; CES/custom
  1 − (mean − scale_min) / (scale_max − scale_min) (a higher score = better);
- ``drop_off_share``: customers whose last node is this one and who never reached a conversion
  touchpoint / customers reached;
- ``time_lost``: the median seconds until the customer's next event after this node, relative to
  the largest such median over all nodes (0…1).

``severity`` = the mean of the components that have data; ``priority`` = reach_share × severity;
rows are ranked by priority (``rank`` 1 = fix first).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import UsageError
from .lazy import ibis, ir
from .query import Prepared, Query, prepare
from .results import Result
from .scores import score_cells
from .sequence import Selection, select
from .source import Source

__all__ = ["PainPointsQuery", "PainPointsResult"]


class PainPointsResult(Result):
    """Rows: one per node, ranked by priority (reach × severity)."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "rank",
        "touchpoint",
        "stage",
        "priority",
        "reach_share",
        "score_value",
        "drop_off_share",
        "median_seconds_after",
    )


@dataclass(frozen=True, kw_only=True)
class PainPointsQuery(Query):
    analysis: ClassVar[str] = "pain-points"

    metric: str = "csat"
    top_k: int | None = None

    def run(self, source: Source) -> PainPointsResult:
        p = prepare(source, self)
        if p.level not in ("touchpoint", "stage"):
            raise UsageError(f"Pain points are per touchpoint or stage, not {p.level!r}.")
        conv = [t.id for t in p.journey.conversion_touchpoints()] if p.journey else []
        expr: ir.Table | None = None
        indexed = self._indexed(p, conv)
        if indexed is not None:
            raw, customers = indexed
        else:
            raw, customers, expr = self._sql(p, conv)
        cells, _ = score_cells(p, metric=self.metric, trend=None)
        score = {str(r[p.level]): r for r in cells.to_dict(orient="records")}
        rows: list[dict[str, Any]] = []
        waits = pd.to_numeric(raw["median_seconds_after"], errors="coerce")
        max_wait = float(waits.max()) if len(raw) and waits.notna().any() else 0.0
        for rec in raw.to_dict(orient="records"):
            node = str(rec["node"])
            n = int(rec["reach_customers"])
            drop = int(rec["drop_off_customers"]) if pd.notna(rec["drop_off_customers"]) else 0
            wait = (
                None if pd.isna(rec["median_seconds_after"]) else float(rec["median_seconds_after"])
            )
            cell = score.get(node)
            badness = _badness(cell, self.metric) if cell else None
            time_lost = (wait / max_wait) if wait is not None and max_wait > 0 else None
            parts = [x for x in (badness, drop / n if n else None, time_lost) if x is not None]
            severity = sum(parts) / len(parts) if parts else 0.0
            reach_share = n / customers if customers else 0.0
            rows.append(
                {
                    p.level: node,
                    "priority": reach_share * severity,
                    "reach_customers": n,
                    "reach_share": reach_share,
                    "severity": severity,
                    "score_metric": self.metric,
                    "score_value": cell["value"] if cell else None,
                    "score_n": int(cell["n"]) if cell else 0,
                    "score_badness": badness,
                    "drop_off_customers": drop,
                    "drop_off_share": drop / n if n else None,
                    "median_seconds_after": wait,
                    "time_lost": time_lost,
                }
            )
        frame = pd.DataFrame(rows)
        if len(frame):
            frame = frame.sort_values(["priority", p.level], ascending=[False, True])
            frame.insert(0, "rank", range(1, len(frame) + 1))
            if self.top_k is not None:
                frame = frame.head(self.top_k)
        return PainPointsResult(
            analysis=self.analysis,
            frame=frame.reset_index(drop=True),
            query=self,
            scope=p.scope(),
            denominator=f"the {customers:,} customers with an event at the {p.level} level",
            meta={"customers": customers, "conversion_touchpoints": conv},
            expr=expr,
        )

    def _sql(self, p: Prepared, conv: list[str]) -> tuple[pd.DataFrame, int, ir.Table]:
        """Per node ``reach_customers``, ``median_seconds_after`` and ``drop_off_customers``,
        and the customers with an event at the level in the period, in SQL."""
        source = p.source
        nodes = p.in_period
        order = ibis.window(group_by=nodes.customer_id, order_by=nodes.seq)
        nodes = nodes.mutate(after=nodes.t_s.lead().over(order) - nodes.t_s)
        reach = nodes.group_by("node").aggregate(
            reach_customers=nodes.customer_id.nunique(), median_seconds_after=nodes.after.median()
        )
        per_customer = nodes.group_by("customer_id").aggregate(
            last=nodes.node.argmax(nodes.seq),
            converted=nodes.touchpoint.isin(conv).any() if conv else ibis.literal(False),
        )
        lost = per_customer.filter(~per_customer.converted.fill_null(False))
        drops = lost.group_by(node=lost["last"]).aggregate(drop_off_customers=lost.count())
        expr = reach.left_join(drops, "node").drop("node_right")
        raw = source.execute(expr)
        customers = int(source.execute(nodes.customer_id.nunique()))
        return raw, customers, expr

    def _indexed(self, p: Prepared, conv: list[str]) -> tuple[pd.DataFrame, int] | None:
        """What :meth:`_sql` computes, from the sequence index in one compiled pass; None when
        the index does not apply. A customer's next event is the next kept row of its run."""
        selection = select(p)
        if selection is None or p.journey is None:
            return None
        touchpoints: Selection | None = selection
        if p.level == "stage":  # conversion is reaching a conversion *touchpoint*
            touchpoints = select(dataclasses.replace(p, level="touchpoint"))
        if touchpoints is None:
            return None
        from .kernels.pain_points import pain_points

        ids = [t.id for t in p.journey.touchpoints]
        assert touchpoints.names == ids
        conversion = np.zeros(len(ids), dtype=np.bool_)
        conversion[[ids.index(c) for c in conv]] = True
        ix = selection.index
        node = np.asarray(selection.node, dtype=np.int32)
        tp = node if touchpoints is selection else np.asarray(touchpoints.node, dtype=np.int32)
        k = len(selection.names)
        reach, median, drops, customers = pain_points(
            ix.cust, node, tp, ix.ts, ix.t_s, ix.channel, selection.keep_customer,
            selection.keep_channel, selection.since, selection.until, k, conversion,
        )  # fmt: skip
        present = np.flatnonzero(reach)
        raw = pd.DataFrame(
            {
                "node": np.array(selection.names, dtype=object)[present],
                "reach_customers": reach[present],
                "median_seconds_after": median[present],
                "drop_off_customers": drops[present],
            }
        )
        return raw, int(customers)


def _badness(cell: Mapping[Any, Any], metric: str) -> float | None:
    value = cell["value"]
    if value is None or pd.isna(value):
        return None
    if metric == "csat":
        return 1.0 - float(value)
    if metric == "nps":
        return (100.0 - float(value)) / 200.0
    low, high = float(cell["scale_min"]), float(cell["scale_max"])
    if high <= low:
        return None
    return 1.0 - (float(cell["mean_score"]) - low) / (high - low)
