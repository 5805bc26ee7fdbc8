"""Drivers: which touchpoints move an outcome — being exposed to them, and the score given there.

For an outcome (see :mod:`klantreis.engine.outcomes`: ``nps``, ``promoter``, ``conversion``,
``repeat_purchase``, ``retention``; y in points) and every touchpoint (or stage) of the level:

- ``exposure``: the difference in the outcome between units that had the touchpoint before the
  outcome's cutoff and units that did not, compared within strata of **how far they got** (the
  furthest stage reached before the cutoff) and of the ``adjust`` customer attributes (by
  default the attributes that define the journey's personas), pooled with Mantel–Haenszel
  weights. Customers who go further see more touchpoints: comparing within the same furthest
  stage removes that exposure confounding.
  For ``repeat_purchase`` and ``retention`` the touches in the ``lead_hours`` (24) before the
  second purchase count as the shopping for it, not as its cause.
- ``score``: among units that answered ``metric`` (CSAT by default) about the touchpoint before
  the cutoff, the within-stratum slope of the outcome on their (mean) score: points of outcome
  per point of score.

Every effect has a 95% interval and a two-sided p-value; p-values are adjusted for the number of
tests (``correction``: Benjamini–Hochberg by default, or Holm); ``significant`` = adjusted p <
``alpha``. Effects with fewer than ``min_n`` units on either side are reported but not tested.
Each row carries a plain-language ``sentence``; ``meta.summary`` lists the significant ones.
All sums are computed in the engine per (node, stratum); Python pools a few hundred numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import UsageError
from .inference import Estimate, adjust_pvalues, ols_from_moments, pooled_slope
from .lazy import ibis, ir
from .outcomes import OUTCOMES, outcome_table
from .query import Prepared, Query, prepare
from .results import Result
from .scores import responses_at_level
from .source import Source

__all__ = ["DriversQuery", "DriversResult"]

_LIKELY = {
    "promoter": "likely to be promoters",
    "conversion": "likely to buy",
    "repeat_purchase": "likely to buy again",
    "retention": "likely to still buy after {days:g} days",
}


class DriversResult(Result):
    """Rows: one per node × kind (exposure, score), ordered by adjusted p-value."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "touchpoint",
        "stage",
        "kind",
        "effect",
        "ci_low",
        "ci_high",
        "n_exposed",
        "n_unexposed",
        "p_adjusted",
        "significant",
        "sentence",
    )


@dataclass(frozen=True, kw_only=True)
class DriversQuery(Query):
    analysis: ClassVar[str] = "drivers"

    outcome: str = "nps"
    metric: str = "csat"
    conversion: str | None = None
    retention_days: float = 180.0
    lead_hours: float = 24.0
    adjust: Sequence[str] | None = None
    correction: str = "bh"
    alpha: float = 0.05
    min_n: int = 30

    def run(self, source: Source) -> DriversResult:
        if self.outcome not in OUTCOMES:
            raise UsageError(
                f"Unknown outcome {self.outcome!r}.", hint=f"use one of: {', '.join(OUTCOMES)}."
            )
        p = prepare(source, self)
        if p.level not in ("touchpoint", "stage"):
            raise UsageError(f"Drivers are per touchpoint or stage, not {p.level!r}.")
        units, what = outcome_table(
            p, self.outcome, conversion=self.conversion, retention_days=self.retention_days
        )
        if self.outcome in ("repeat_purchase", "retention") and self.lead_hours > 0:
            # touches in the hours before the second purchase are the shopping for it
            units = units.mutate(cutoff_s=units.cutoff_s - int(self.lead_hours * 3600))
        adjust = self._adjust(p)
        strata = self._strata(p, units, adjust)
        totals = source.execute(
            strata.group_by("stratum").aggregate(
                n=strata.count(), sy=strata.y.sum(), syy=(strata.y * strata.y).sum()
            )
        )
        nodes = p.events
        touched = nodes.join(
            strata.select("customer_id", "cutoff_s", "y", "stratum"), "customer_id"
        )
        touched = touched.filter(touched.cutoff_s.isnull() | (touched.t_s < touched.cutoff_s))
        exposed = touched.select("customer_id", "node", "y", "stratum").distinct()
        exp_expr = exposed.group_by(["node", "stratum"]).aggregate(
            n=exposed.count(), sy=exposed.y.sum(), syy=(exposed.y * exposed.y).sum()
        )
        exp_raw = source.execute(exp_expr)
        other = exposed.select(customer_id="customer_id", node_b="node")
        pairs = exposed.join(other, "customer_id")
        pair_raw = source.execute(pairs.group_by(["node", "node_b"]).aggregate(n=pairs.count()))
        exposure = _exposure_effects(totals, exp_raw, pair_raw)
        score_raw = source.execute(self._score_expr(p, strata))
        rows = self._rows(p, exposure, score_raw)
        frame = pd.DataFrame(rows, columns=[*_COLUMNS[:-1], p.level, "stage"])
        frame = self._finish(frame, p)
        n_units = int(totals["n"].sum()) if len(totals) else 0
        mean_y = float(totals["sy"].sum() / n_units) if n_units else None
        return DriversResult(
            analysis=self.analysis,
            frame=frame,
            query=self,
            scope=p.scope(),
            denominator=f"the {n_units:,} {what}",
            meta={
                "outcome": self.outcome,
                "outcome_mean": mean_y,
                "units": n_units,
                "adjusted_for": ["furthest stage reached", *adjust],
                "correction": self.correction,
                "tests": int(frame["p_value"].notna().sum()) if len(frame) else 0,
                "summary": [
                    s for s, ok in zip(frame["sentence"], frame["significant"], strict=True) if ok
                ],
            },
            expr=exp_expr,
        )

    # -- the parts -------------------------------------------------------------------------------
    def _adjust(self, p: Prepared) -> list[str]:
        if self.adjust is not None:
            return list(self.adjust)
        keys: list[str] = []
        for persona in p.journey.personas if p.journey else []:
            keys.extend(k for k in persona.attributes if k not in keys)
        return keys

    def _strata(self, p: Prepared, units: ir.Table, adjust: list[str]) -> ir.Table:
        journey = p.journey
        assert journey is not None
        order = {s.id: i + 1 for i, s in enumerate(journey.stages_in_order())}
        stage_of = {t.id: order[t.stage] for t in journey.touchpoints}
        ev = p.events
        if p.level == "touchpoint":
            idx = ibis.cases(
                *[(ev.node == k, v) for k, v in stage_of.items()], else_=ibis.literal(0)
            )
        else:
            idx = ibis.cases(*[(ev.node == k, v) for k, v in order.items()], else_=ibis.literal(0))
        ev = ev.mutate(stage_idx=idx)
        j = ev.join(units.select("customer_id", "cutoff_s"), "customer_id")
        j = j.filter(j.cutoff_s.isnull() | (j.t_s < j.cutoff_s))
        far = j.group_by("customer_id").aggregate(furthest=j.stage_idx.max())
        s = units.left_join(far, "customer_id").drop("customer_id_right")
        stratum = s.furthest.fill_null(0).cast("string")
        if adjust:
            c = p.source.customers
            attrs = c.select(
                "customer_id",
                **{f"_a{i}": c.attributes.get(k).fill_null("?") for i, k in enumerate(adjust)},
            ).distinct(on="customer_id", keep="first")
            s = s.left_join(attrs, "customer_id").drop("customer_id_right")
            for i in range(len(adjust)):
                stratum = stratum.concat("|", s[f"_a{i}"].fill_null("?"))
        return s.mutate(stratum=stratum).select("customer_id", "y", "cutoff_s", "stratum")

    def _score_expr(self, p: Prepared, strata: ir.Table) -> ir.Table:
        r = responses_at_level(p)
        r = r.filter((r.metric == self.metric) & r.customer_id.notnull())
        r = r.mutate(t_s=r.timestamp.epoch_seconds().cast("int64"))
        j = r.join(strata, "customer_id")
        j = j.filter(j.cutoff_s.isnull() | (j.t_s < j.cutoff_s))
        per = j.group_by(["customer_id", "node", "stratum"]).aggregate(
            x=j.score.mean(), y=j.y.max()
        )
        return per.group_by(["node", "stratum"]).aggregate(
            n=per.count(),
            sx=per.x.sum(),
            sy=per.y.sum(),
            sxx=(per.x * per.x).sum(),
            sxy=(per.x * per.y).sum(),
            syy=(per.y * per.y).sum(),
        )

    def _rows(
        self, p: Prepared, exposure: dict[str, Estimate], score_raw: pd.DataFrame
    ) -> list[dict[str, Any]]:
        journey = p.journey
        assert journey is not None
        if p.level == "touchpoint":
            nodes = [(t.id, t.stage) for t in journey.touchpoints_in_order()]
        else:
            nodes = [(s.id, s.id) for s in journey.stages_in_order()]
        rows: list[dict[str, Any]] = []
        for node, stage in nodes:
            est = exposure.get(node, Estimate(None, None, 0, 0))
            rows.append(self._row(p, node, stage, "exposure", est))
            sc = score_raw[score_raw["node"] == node]
            slope = pooled_slope(
                *[sc[k].astype(float).tolist() for k in ("n", "sx", "sy", "sxx", "sxy", "syy")]
            )
            rows.append(self._row(p, node, stage, "score", slope))
        return rows

    def _row(self, p: Prepared, node: str, stage: str, kind: str, est: Estimate) -> dict[str, Any]:
        low, high = est.ci
        testable = est.effect is not None and est.n1 >= self.min_n
        if kind == "exposure":
            testable = testable and est.n0 >= self.min_n
        return {
            "kind": kind,
            "effect": est.effect,
            "ci_low": low,
            "ci_high": high,
            "se": est.se,
            "n_exposed": est.n1,
            "n_unexposed": est.n0 if kind == "exposure" else None,
            "p_value": est.p_value if testable else None,
            "small_n": not testable,
            p.level: node,
            "stage": stage,
        }

    def _finish(self, frame: pd.DataFrame, p: Prepared) -> pd.DataFrame:
        if not len(frame):
            return pd.DataFrame(columns=[p.level, "stage", *_COLUMNS])
        adjusted = adjust_pvalues(
            [None if pd.isna(v) else float(v) for v in frame["p_value"]], self.correction
        )
        frame["p_adjusted"] = adjusted
        frame["significant"] = [a is not None and a < self.alpha for a in adjusted]
        frame["sentence"] = [self._sentence(r, p.level) for r in frame.to_dict(orient="records")]
        frame["_order"] = [2.0 if a is None else a for a in adjusted]
        frame = frame.sort_values(["_order", p.level, "kind"]).drop(columns="_order")
        return frame[[p.level, "stage", *_COLUMNS]].reset_index(drop=True)

    def _sentence(self, r: Mapping[Any, Any], level: str) -> str:
        node = r[level]
        effect, low, high = r["effect"], r["ci_low"], r["ci_high"]
        if effect is None or pd.isna(effect):
            return f"{node}: not enough data to estimate an effect."
        half = (high - low) / 2 if low is not None and high is not None else float("nan")
        size = f"{abs(effect):.0f} points (±{half:.0f})"
        if r["kind"] == "exposure":
            who = f"Customers who had {node}"
            if self.outcome == "nps":
                text = f"{who} gave an NPS {size} {'higher' if effect > 0 else 'lower'}"
            else:
                likely = _LIKELY[self.outcome].format(days=self.retention_days)
                text = f"{who} were {size} {'more' if effect > 0 else 'less'} {likely}"
            text += " than customers who got as far in the journey without it"
        else:
            what = "NPS" if self.outcome == "nps" else f"{self.outcome.replace('_', ' ')} rate"
            size = f"{abs(effect):.1f} points (±{half:.1f})"
            text = (
                f"Each extra point of {self.metric.upper()} at {node} goes with "
                f"{'+' if effect > 0 else '−'}{size} of {what}"
            )
        if r["small_n"]:
            return text + f" (fewer than {self.min_n} customers: not tested)."
        if not r["significant"]:
            return text + " (not significant after correction for multiple tests)."
        return text + "."


def _exposure_effects(
    totals: pd.DataFrame, exp_raw: pd.DataFrame, pair_raw: pd.DataFrame
) -> dict[str, Estimate]:
    """One least-squares fit: y ~ stratum dummies + an exposure dummy per node (all at once)."""
    strata = [str(s) for s in totals["stratum"]]
    nodes = sorted({str(n) for n in exp_raw["node"]})
    col = {("s", s): i for i, s in enumerate(strata)}
    col.update({("n", n): len(strata) + i for i, n in enumerate(nodes)})
    k = len(col)
    xtx = np.zeros((k, k))
    xty = np.zeros(k)
    for rec in totals.to_dict(orient="records"):
        i = col[("s", str(rec["stratum"]))]
        xtx[i, i] = float(rec["n"])
        xty[i] = float(rec["sy"])
    for rec in exp_raw.to_dict(orient="records"):
        i, j = col[("n", str(rec["node"]))], col[("s", str(rec["stratum"]))]
        xtx[i, j] = xtx[j, i] = float(rec["n"])
        xty[i] += float(rec["sy"])
    for rec in pair_raw.to_dict(orient="records"):
        xtx[col[("n", str(rec["node"]))], col[("n", str(rec["node_b"]))]] = float(rec["n"])
    n = int(totals["n"].sum()) if len(totals) else 0
    beta, se = ols_from_moments(xtx, xty, float(totals["syy"].sum()) if n else 0.0, n)
    out: dict[str, Estimate] = {}
    for node in nodes:
        i = col[("n", node)]
        n1 = int(xtx[i, i])
        ok = not np.isnan(beta[i]) and not np.isnan(se[i])
        out[node] = Estimate(
            float(beta[i]) if ok else None, float(se[i]) if ok else None, n1, n - n1
        )
    return out


_COLUMNS = [
    "kind",
    "effect",
    "ci_low",
    "ci_high",
    "se",
    "n_exposed",
    "n_unexposed",
    "p_value",
    "small_n",
    "p_adjusted",
    "significant",
    "sentence",
]
