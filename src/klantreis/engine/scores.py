"""Scores: CSAT, NPS, CES and custom metrics per touchpoint, stage, channel or event.

Responses are placed by level: ``touchpoint`` = the response's touchpoint, else the touchpoint
its ``event`` links to (match rules on event name and channel); ``stage`` = that touchpoint's
stage; ``channel`` = the response's channel, else the touchpoint's; ``event`` = its event.

Per cell (node × metric [× period]):

- ``csat``: ``value`` = top-2-box share (score ≥ scale_max − 1, e.g. 4–5 on 1–5), 0…1, with the
  Wilson 95% interval;
- ``nps``: ``value`` = %promoters (9–10) − %detractors (0–6), in points −100…100, with the interval
  ± 1.96·√((p + d − (p − d)²)/n);
- ``ces`` and custom metrics: ``value`` = the mean score, with the t 95% interval.

``n`` is always the number of responses behind the cell; ``small_n`` flags n < ``min_n`` (30).
The period filters responses by their timestamp; ``trend="week"|"month"`` adds a ``period``
column (week starts on Monday; ISO 8601 date).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from ..errors import UsageError
from .feedback_index import score_aggregates
from .lazy import ibis, ir
from .linking import check_level, link
from .query import Prepared, Query, prepare
from .results import Result
from .source import Source
from .stats import mean_interval, nps_interval, wilson_interval

__all__ = ["TRENDS", "ScoresQuery", "ScoresResult", "score_cells"]

TRENDS = {"week": "W", "month": "M"}


class ScoresResult(Result):
    """Rows: one per node × metric (× period), ordered by node, metric and period."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "touchpoint",
        "stage",
        "channel",
        "event",
        "metric",
        "period",
        "n",
        "value",
        "ci_low",
        "ci_high",
        "small_n",
    )


@dataclass(frozen=True, kw_only=True)
class ScoresQuery(Query):
    analysis: ClassVar[str] = "scores"

    metric: str | None = None
    trend: str | None = None
    min_n: int = 30

    def run(self, source: Source) -> ScoresResult:
        if self.trend is not None and self.trend not in TRENDS:
            raise UsageError(f"Unknown trend {self.trend!r}.", hint="use week or month.")
        p = prepare(source, self)
        cells, expr = score_cells(p, metric=self.metric, trend=self.trend, min_n=self.min_n)
        return ScoresResult(
            analysis=self.analysis,
            frame=cells,
            query=self,
            scope=p.scope(),
            denominator="the responses in each cell (n)",
            meta={"min_n": self.min_n},
            expr=expr,
        )


def responses_at_level(p: Prepared) -> ir.Table:
    """Responses in scope and period with ``node`` at the prepared level (null rows dropped)."""
    r = p.source.responses
    if p.in_scope is not None:
        r = r.semi_join(p.in_scope, "customer_id")
    cond = p.period.condition(r.timestamp)
    if cond is not None:
        r = r.filter(cond)
    check_level(p.level, p.journey)
    if p.level == "event":
        node = r.event
        r = r.mutate(node=node)
    else:
        as_events = r.rename(given_touchpoint="touchpoint").mutate(
            properties=ibis.null().cast("map<string, string>")
        )
        linked = link(as_events, p.journey)
        tp = linked.given_touchpoint.fill_null(linked.touchpoint)
        linked = linked.mutate(tp=tp)
        tps = p.journey.touchpoints if p.journey is not None else []
        if p.level == "touchpoint":
            linked = linked.mutate(node=linked.tp)
        elif p.level == "stage":
            linked = linked.mutate(node=_lookup(linked.tp, {t.id: t.stage for t in tps}))
        else:
            tp_channel = _lookup(linked.tp, {t.id: t.channel for t in tps})
            linked = linked.mutate(node=linked.channel.fill_null(tp_channel))
        r = linked
    return r.filter(r.node.notnull())


def _lookup(key: ir.StringValue, mapping: dict[str, str]) -> ir.StringValue:
    null = ibis.null().cast("string")
    if not mapping:
        return null
    return ibis.cases(*[(key == k, v) for k, v in mapping.items()], else_=null)


def score_cells(
    p: Prepared, *, metric: str | None, trend: str | None, min_n: int = 30
) -> tuple[pd.DataFrame, ir.Table | None]:
    """The score cells, and the query that computed them (None: the responses index did)."""
    agg = None
    raw = score_aggregates(p, metric=metric, trend=trend)
    if raw is None:
        agg = _score_query(p, metric=metric, trend=trend)
        raw = p.source.execute(agg)
    assert raw is not None
    rows = [_cell({str(k): v for k, v in rec.items()}, min_n) for rec in raw.to_dict("records")]
    columns = [
        p.level,
        "metric",
        *(["period"] if trend else []),
        "n",
        "value",
        "ci_low",
        "ci_high",
        "small_n",
        "mean_score",
        "std_score",
        "promoters",
        "passives",
        "detractors",
        "scale_min",
        "scale_max",
    ]
    frame = pd.DataFrame(rows, columns=[*columns, "_node"])
    frame[p.level] = frame["_node"]
    frame = frame.drop(columns="_node")[columns]
    if trend and len(frame):
        frame["period"] = [pd.Timestamp(v).date().isoformat() for v in frame["period"]]
    return frame, agg


def _score_query(p: Prepared, *, metric: str | None, trend: str | None) -> ir.Table:
    """The SQL of the score cells (the definition the responses index reproduces)."""
    r = responses_at_level(p)
    if metric is not None:
        r = r.filter(r.metric == metric)
    keys: dict[str, Any] = {"node": r.node, "metric": r.metric}
    if trend is not None:
        keys["period"] = r.timestamp.truncate(TRENDS[trend])
    agg = r.group_by(**keys).aggregate(
        n=r.count(),
        mean_score=r.score.mean(),
        std_score=r.score.std(),
        top2=(r.score >= r.scale_max - 1).cast("int64").sum(),
        promoters=(r.score >= 9).cast("int64").sum(),
        detractors=(r.score <= 6).cast("int64").sum(),
        scale_min=r.scale_min.min(),
        scale_max=r.scale_max.max(),
    )
    order = ["node", "metric"] + (["period"] if trend else [])
    return agg.order_by(order)


def _cell(rec: dict[str, Any], min_n: int) -> dict[str, Any]:
    n = int(rec["n"])
    metric = str(rec["metric"])
    mean = float(rec["mean_score"])
    std = None if rec["std_score"] is None or pd.isna(rec["std_score"]) else float(rec["std_score"])
    out: dict[str, Any] = {
        "_node": rec["node"],
        "metric": metric,
        "n": n,
        "small_n": n < min_n,
        "mean_score": mean,
        "std_score": std,
        "promoters": None,
        "passives": None,
        "detractors": None,
        "scale_min": float(rec["scale_min"]),
        "scale_max": float(rec["scale_max"]),
    }
    if "period" in rec:
        out["period"] = rec["period"]
    if metric == "csat":
        top2 = int(rec["top2"])
        out["value"] = top2 / n
        out["ci_low"], out["ci_high"] = wilson_interval(top2, n)
    elif metric == "nps":
        pro, det = int(rec["promoters"]), int(rec["detractors"])
        out["value"] = 100.0 * (pro - det) / n
        out["ci_low"], out["ci_high"] = nps_interval(pro, det, n)
        out["promoters"], out["detractors"] = pro / n, det / n
        out["passives"] = (n - pro - det) / n
    else:
        out["value"] = mean
        out["ci_low"], out["ci_high"] = mean_interval(mean, std, n)
    for key in ("ci_low", "ci_high"):
        if out[key] is not None and math.isnan(out[key]):
            out[key] = None
    return out
