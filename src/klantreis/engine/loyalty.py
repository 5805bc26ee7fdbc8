"""Loyalty: loyal versus new customers — purchases per customer, spend and share of revenue.

Purchases are the events linked to the journey's conversion touchpoints, or the events named
``conversion``; revenue is the sum of their ``value`` (a missing value counts as 0). Customers
with at least one purchase in the period are grouped by their number of purchases: ``groups``
gives the lower bounds, by default ``(1, 2, 4)`` → ``1``, ``2-3``, ``4+``. ``meta.repeat_rate``
= customers with 2+ purchases / customers with a purchase.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from ..errors import UsageError
from .lazy import ibis
from .linking import link
from .query import Query, prepare
from .results import Result
from .source import Source

__all__ = ["LoyaltyQuery", "LoyaltyResult", "group_labels"]


class LoyaltyResult(Result):
    """Rows: one per purchase-count group, in order."""


def group_labels(bounds: Sequence[int]) -> list[str]:
    labels = []
    for i, low in enumerate(bounds):
        if i == len(bounds) - 1:
            labels.append(f"{low}+")
        else:
            high = bounds[i + 1] - 1
            labels.append(str(low) if high == low else f"{low}-{high}")
    return labels


@dataclass(frozen=True, kw_only=True)
class LoyaltyQuery(Query):
    analysis: ClassVar[str] = "loyalty"
    default_level: ClassVar[str] = "event"

    conversion: str | None = None
    groups: Sequence[int] = (1, 2, 4)

    def run(self, source: Source) -> LoyaltyResult:
        bounds = list(self.groups)
        if not bounds or bounds[0] < 1 or any(b >= c for b, c in itertools.pairwise(bounds)):
            raise UsageError(
                f"groups must be increasing lower bounds starting at 1 or more, got {bounds}."
            )
        p = prepare(source, self)
        events = p.keep_customers(p.source.events)
        cond = p.period.condition(events.timestamp)
        if cond is not None:
            events = events.filter(cond)
        if self.conversion is not None:
            purchases = events.filter(events.event == self.conversion)
            what = f"events named {self.conversion!r}"
        else:
            conv = [t.id for t in p.journey.conversion_touchpoints()] if p.journey else []
            if not conv:
                raise UsageError(
                    "Loyalty needs purchases: the journey has no conversion touchpoint.",
                    hint="pass --conversion EVENT, or mark touchpoints with conversion: true.",
                )
            linked = link(events, p.journey)
            purchases = linked.filter(linked.touchpoint.isin(conv))
            what = f"conversion touchpoints {', '.join(conv)}"
        per = purchases.group_by("customer_id").aggregate(
            purchases=purchases.count(), revenue=purchases.value.fill_null(0).sum()
        )
        labels = group_labels(bounds)
        label = ibis.cases(
            *[
                (per.purchases >= b, lab)
                for b, lab in reversed(list(zip(bounds, labels, strict=True)))
            ],
            else_=ibis.null().cast("string"),
        )
        grouped = per.mutate(group=label)
        grouped = grouped.filter(grouped.group.notnull())
        expr = grouped.group_by("group").aggregate(
            customers=grouped.count(),
            purchases=grouped.purchases.sum(),
            revenue=grouped.revenue.sum(),
        )
        raw = source.execute(expr).set_index("group")
        total_customers = int(raw["customers"].sum()) if len(raw) else 0
        total_revenue = float(raw["revenue"].sum()) if len(raw) else 0.0
        rows: list[dict[str, Any]] = []
        for lab in labels:
            n = int(raw.loc[lab, "customers"]) if lab in raw.index else 0
            revenue = float(raw.loc[lab, "revenue"]) if lab in raw.index else 0.0
            rows.append(
                {
                    "group": lab,
                    "customers": n,
                    "purchases": int(raw.loc[lab, "purchases"]) if lab in raw.index else 0,
                    "revenue": revenue,
                    "revenue_per_customer": revenue / n if n else None,
                    "share_of_customers": n / total_customers if total_customers else None,
                    "share_of_revenue": revenue / total_revenue if total_revenue else None,
                }
            )
        repeaters = sum(int(r["customers"]) for r in rows[1:]) if bounds[0] == 1 else None
        return LoyaltyResult(
            analysis=self.analysis,
            frame=pd.DataFrame(rows),
            query=self,
            scope=p.scope(),
            denominator=f"customers with a purchase ({what}) in the period, and their revenue",
            meta={
                "purchases_are": what,
                "customers_with_purchase": total_customers,
                "revenue": total_revenue,
                "repeat_rate": (repeaters / total_customers)
                if repeaters is not None and total_customers
                else None,
            },
            expr=expr,
        )
