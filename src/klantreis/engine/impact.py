"""Impact: what fixing each pain point is worth — extra conversions, retained customers, revenue.

Per touchpoint (or stage), over the units with an event at the level in the period:

- ``drop_off_share`` = units whose journey ends there without a purchase / units reached;
  the benchmark is ``target_drop_off`` or, by default, the median over the nodes where at
  least ``min_n`` reached units did not buy (nodes after the purchase cannot lose a sale); ``conversion_after`` = the share of the units that went on from the node (their last
  node is another one) that bought.
  **extra_conversions** = reached × max(0, drop_off_share − benchmark) × conversion_after;
- ``repeat_share`` = buyers who reached the node and bought again / buyers who reached it;
  the benchmark is ``target_repeat`` or the median over nodes with ``min_n`` buyers.
  **extra_retained** = buyers reached × max(0, benchmark − repeat_share);
- **extra_revenue** = extra_conversions × the mean first order + extra_retained × the mean
  revenue of a repeat buyer's later purchases.

Each estimate has a 95% interval from the binomial uncertainty of the node's shares (delta
method; the benchmark is taken as given). It is an association: it assumes the gap to the
benchmark is the node's doing (see ``drivers`` for effects adjusted for how far customers got).
Rows are ranked by extra revenue (``rank`` 1 = most valuable fix); ``pain_rank`` is the node's
rank in ``pain-points`` (reach × severity). Purchases: see :mod:`klantreis.engine.outcomes`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from ..errors import UsageError
from .lazy import ibis
from .outcomes import purchases
from .pain_points import PainPointsQuery
from .query import Query, prepare
from .results import Result
from .source import Source
from .stats import Z95

__all__ = ["ImpactQuery", "ImpactResult"]


class ImpactResult(Result):
    """Rows: one per node, ranked by extra revenue."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "rank",
        "touchpoint",
        "stage",
        "extra_conversions",
        "extra_conversions_low",
        "extra_conversions_high",
        "extra_retained",
        "extra_revenue",
        "extra_revenue_low",
        "extra_revenue_high",
        "pain_rank",
    )


@dataclass(frozen=True, kw_only=True)
class ImpactQuery(Query):
    analysis: ClassVar[str] = "impact"

    target_drop_off: float | None = None
    target_repeat: float | None = None
    conversion: str | Sequence[str] | None = None
    metric: str = "csat"
    min_n: int = 30
    top_k: int | None = None

    def run(self, source: Source) -> ImpactResult:
        for name in ("target_drop_off", "target_repeat"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise UsageError(f"{name} is a share from 0 to 1, got {value}.")
        p = prepare(source, self)
        if p.level not in ("touchpoint", "stage"):
            raise UsageError(f"Impact is per touchpoint or stage, not {p.level!r}.")
        buys, what = purchases(p, self.conversion)
        order = ibis.window(group_by=buys.customer_id, order_by=[buys.timestamp, buys.event_id])
        buys = buys.mutate(k=ibis.row_number().over(order))
        per_buyer = buys.group_by("customer_id").aggregate(
            n_buys=buys.count(),
            first_value=buys.value.min(where=buys.k == 0),
            later_value=buys.value.sum(where=buys.k > 0),
        )
        nodes = p.in_period
        last = nodes.group_by("customer_id").aggregate(last=nodes.node.argmax(nodes.seq))
        units = last.left_join(per_buyer, "customer_id").drop("customer_id_right")
        units = units.mutate(
            bought=units.n_buys.notnull().cast("int64"),
            repeat=(units.n_buys >= 2).fill_null(False).cast("int64"),
        )
        reached = nodes.select("customer_id", "node").distinct()
        j = reached.join(units, "customer_id")
        ends = (j["last"] == j.node).cast("int64")
        expr = j.group_by("node").aggregate(
            reached=j.count(),
            dropped=(ends * (1 - j.bought)).sum(),
            went_on=(1 - ends).sum(),
            went_on_bought=((1 - ends) * j.bought).sum(),
            buyers=j.bought.sum(),
            repeaters=j.repeat.sum(),
        )
        raw = source.execute(expr)
        money = source.execute(
            per_buyer.aggregate(
                first=per_buyer.first_value.mean(),
                later=per_buyer.later_value.sum() / (per_buyer.n_buys >= 2).cast("int64").sum(),
            )
        )
        first_value = _num(money["first"].iloc[0]) if len(money) else 0.0
        later_value = _num(money["later"].iloc[0]) if len(money) else 0.0
        conv = (
            {t.id for t in p.journey.conversion_touchpoints()} if p.journey is not None else set()
        )
        if p.level == "stage" and p.journey is not None:
            conv = {t.stage for t in p.journey.touchpoints if t.id in conv}
        frame, bench_drop, bench_rep = self._frame(p.level, raw, conv, first_value, later_value)
        if p.level == "touchpoint" and p.journey is not None and len(frame):
            stage_of = {t.id: t.stage for t in p.journey.touchpoints}
            frame.insert(2, "stage", [stage_of.get(str(n)) for n in frame["touchpoint"]])
        frame = self._with_pain_rank(source, frame, p.level)
        if self.top_k is not None:
            frame = frame.head(self.top_k)
        return ImpactResult(
            analysis=self.analysis,
            frame=frame.reset_index(drop=True),
            query=self,
            scope=p.scope(),
            denominator=f"customers with an event at the {p.level} level (purchases: {what})",
            meta={
                "benchmark_drop_off": bench_drop,
                "benchmark_repeat": bench_rep,
                "mean_first_order": first_value,
                "mean_later_revenue_per_repeat_buyer": later_value,
                "benchmark": "target" if self.target_drop_off is not None else "median node",
            },
            expr=expr,
        )

    def _frame(
        self,
        level: str,
        raw: pd.DataFrame,
        conv: set[str],
        first_value: float,
        later_value: float,
    ) -> tuple[pd.DataFrame, float | None, float | None]:
        recs = raw.to_dict(orient="records")
        drops = [
            float(r["dropped"]) / float(r["reached"])
            for r in recs
            if str(r["node"]) not in conv and r["reached"] - r["buyers"] >= max(1, self.min_n)
        ]
        repeats = [
            float(r["repeaters"]) / float(r["buyers"]) for r in recs if r["buyers"] >= self.min_n
        ]
        bench_drop = self.target_drop_off if self.target_drop_off is not None else _median(drops)
        bench_rep = self.target_repeat if self.target_repeat is not None else _median(repeats)
        rows: list[dict[str, Any]] = []
        for r in recs:
            n = int(r["reached"])
            d = float(r["dropped"]) / n if n else 0.0
            on = int(r["went_on"])
            c = float(r["went_on_bought"]) / on if on else 0.0
            gap = max(0.0, d - bench_drop) if bench_drop is not None else 0.0
            extra = n * gap * c
            var = (n * c) ** 2 * d * (1 - d) / max(n, 1)
            if on:
                var += (n * gap) ** 2 * c * (1 - c) / on
            nb = int(r["buyers"])
            rep = float(r["repeaters"]) / nb if nb else 0.0
            rgap = max(0.0, bench_rep - rep) if bench_rep is not None and nb else 0.0
            retained = nb * rgap
            rvar = nb**2 * rep * (1 - rep) / nb if nb and rgap > 0 else 0.0
            half = Z95 * math.sqrt(var)
            rhalf = Z95 * math.sqrt(rvar)
            revenue = extra * first_value + retained * later_value
            rev_half = math.sqrt((half * first_value) ** 2 + (rhalf * later_value) ** 2)
            rows.append(
                {
                    level: str(r["node"]),
                    "reached": n,
                    "drop_off_share": d,
                    "conversion_after": c,
                    "extra_conversions": extra,
                    "extra_conversions_low": max(0.0, extra - half),
                    "extra_conversions_high": extra + half,
                    "buyers": nb,
                    "repeat_share": rep if nb else None,
                    "extra_retained": retained,
                    "extra_retained_low": max(0.0, retained - rhalf),
                    "extra_retained_high": retained + rhalf,
                    "extra_revenue": revenue,
                    "extra_revenue_low": max(0.0, revenue - rev_half),
                    "extra_revenue_high": revenue + rev_half,
                }
            )
        frame = pd.DataFrame(rows)
        if len(frame):
            frame = frame.sort_values(["extra_revenue", level], ascending=[False, True])
            frame.insert(0, "rank", range(1, len(frame) + 1))
        return frame, bench_drop, bench_rep

    def _with_pain_rank(self, source: Source, frame: pd.DataFrame, level: str) -> pd.DataFrame:
        if not len(frame):
            return frame
        options = {
            k: getattr(self, k)
            for k in ("journey", "level", "segment", "persona", "since", "until", "unit")
        }
        pain = PainPointsQuery(metric=self.metric, **options).run(source).frame
        ranks = dict(zip(pain[level].astype(str), pain["rank"], strict=True)) if len(pain) else {}
        frame["pain_rank"] = [ranks.get(str(n)) for n in frame[level]]
        return frame


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def _num(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)
