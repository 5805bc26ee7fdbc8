"""Gaps: score differences between consecutive touchpoints (or stages) of the journey.

Consecutive = next in the journey's designed order (stages by order, touchpoints by stage then
file order), among the nodes that have responses for the metric. ``difference`` = target − source
in the metric's unit (CSAT share, NPS points, mean score), with a 95% interval and a two-sided
z-test: CSAT √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂); NPS the sum of both NPS variances; means
√(s₁²/n₁ + s₂²/n₂). A CSAT of 3 at purchase and 8 after it shows as a large positive gap: the
point of sale needs attention.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from ..errors import UsageError
from .linking import node_order
from .query import Query, prepare
from .results import Result
from .scores import score_cells
from .source import Source
from .stats import Z95, nps_variance, p_value_two_sided

__all__ = ["GapsQuery", "GapsResult"]


class GapsResult(Result):
    """Rows: one per pair of consecutive nodes with data."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "source",
        "target",
        "metric",
        "source_value",
        "target_value",
        "difference",
        "p_value",
        "significant",
    )


@dataclass(frozen=True, kw_only=True)
class GapsQuery(Query):
    analysis: ClassVar[str] = "gaps"

    metric: str = "csat"
    alpha: float = 0.05

    def run(self, source: Source) -> GapsResult:
        p = prepare(source, self)
        if p.level not in ("touchpoint", "stage"):
            raise UsageError(
                f"Gaps need an order of nodes: level touchpoint or stage, not {p.level!r}."
            )
        cells, expr = score_cells(p, metric=self.metric, trend=None)
        by_node = {str(r[p.level]): r for r in cells.to_dict(orient="records")}
        order = [n for n in node_order(p.journey, p.level) if n in by_node]
        rows = [self._gap(by_node[a], by_node[b], a, b) for a, b in itertools.pairwise(order)]
        columns = [
            "source",
            "target",
            "metric",
            "source_value",
            "target_value",
            "source_n",
            "target_n",
            "difference",
            "ci_low",
            "ci_high",
            "p_value",
            "significant",
        ]
        return GapsResult(
            analysis=self.analysis,
            frame=pd.DataFrame(rows, columns=columns),
            query=self,
            scope=p.scope(),
            denominator="the responses at each node (source_n, target_n)",
            meta={"alpha": self.alpha},
            expr=expr,
        )

    def _gap(
        self, a: Mapping[Any, Any], b: Mapping[Any, Any], name_a: str, name_b: str
    ) -> dict[str, Any]:
        na, nb = int(a["n"]), int(b["n"])
        if self.metric == "csat":
            var = a["value"] * (1 - a["value"]) / na + b["value"] * (1 - b["value"]) / nb
        elif self.metric == "nps":
            var = 100**2 * (
                nps_variance(round(a["promoters"] * na), round(a["detractors"] * na), na)
                + nps_variance(round(b["promoters"] * nb), round(b["detractors"] * nb), nb)
            )
        else:
            sa, sb = a["std_score"], b["std_score"]
            var = (
                math.nan
                if sa is None or sb is None or pd.isna(sa) or pd.isna(sb)
                else sa**2 / na + sb**2 / nb
            )
        diff = float(b["value"] - a["value"])
        se = math.sqrt(var) if var == var else math.nan
        if se and se == se:
            p_value: float | None = p_value_two_sided(diff / se)
            lo: float | None = diff - Z95 * se
            hi: float | None = diff + Z95 * se
        elif se == 0:
            p_value = 1.0 if diff == 0 else 0.0
            lo = hi = diff
        else:
            p_value, lo, hi = None, None, None
        return {
            "source": name_a,
            "target": name_b,
            "metric": self.metric,
            "source_value": float(a["value"]),
            "target_value": float(b["value"]),
            "source_n": na,
            "target_n": nb,
            "difference": diff,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": p_value,
            "significant": bool(p_value is not None and p_value < self.alpha),
        }
