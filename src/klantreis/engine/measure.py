"""The measured journey: the numbers the map and the report show, computed by the analyses.

:func:`measure_journey` runs, on one source and with one scope (period, segment, persona):

- ``scores`` (level touchpoint): the score a card shows — CSAT when the touchpoint has CSAT
  answers, else NPS, else CES, else the first other metric — with its n and 95% interval;
- ``pain-points`` (level touchpoint): ``reach_customers`` (customers with at least one event at
  the touchpoint in the period) and, ranked by reach × severity, the priorities;
- ``funnel`` (level touchpoint, steps ``[touchpoint, next conversion touchpoint]``) for every
  touchpoint that comes before a conversion touchpoint in the designed order:
  ``conversion_share`` = the share of the ``conversion_n`` customers who entered at the
  touchpoint in the period (each with their full window) that reached the next conversion
  touchpoint after it. Conversion touchpoints themselves and the touchpoints after the last one
  have no conversion;
- ``impact`` (with ``priorities=True`` and a conversion touchpoint): the estimated extra
  conversions and revenue per touchpoint, with 95% intervals.

The result is plain data: one row per touchpoint with the fields of the documented
``--measured`` JSON (``result.measured`` is exactly that JSON; the renderers take it as it is)
and the priorities as a table. Nothing here draws, and nothing here speaks a language.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import UsageError
from .analyze import analyze
from .impact import ImpactQuery
from .lazy import ibis
from .pain_points import PainPointsQuery
from .query import Prepared, Query, prepare
from .results import Result, Scope, jsonable
from .scores import ScoresQuery
from .sequence import select
from .source import Source, open_source

__all__ = ["MEASURED_FIELDS", "MeasuresQuery", "MeasuresResult", "measure_journey"]

#: The fields of a touchpoint in the measured JSON (``klantreis.render.TouchpointMeasure``).
MEASURED_FIELDS = (
    "reach_customers",
    "conversion_share",
    "conversion_n",
    "score_metric",
    "score_value",
    "score_ci_low",
    "score_ci_high",
    "score_n",
    "score_min",
    "score_max",
)

#: Which score a card shows when a touchpoint has several metrics (others follow by name).
METRIC_PREFERENCE = ("csat", "nps", "ces")

#: The range of the engine's score *value* (CSAT is a top-2-box share, NPS is in points).
_VALUE_SCALES = {"csat": (0.0, 1.0), "nps": (-100.0, 100.0)}

_PRIORITY_COLUMNS = [
    "rank",
    "touchpoint",
    "stage",
    "owner",
    "priority",
    "reach_customers",
    "reach_share",
    "severity",
    "score_metric",
    "score_value",
    "score_n",
    "score_badness",
    "drop_off_share",
    "median_seconds_after",
    "time_lost",
    "extra_conversions",
    "extra_conversions_low",
    "extra_conversions_high",
    "extra_revenue",
    "extra_revenue_low",
    "extra_revenue_high",
]


class MeasuresResult(Result):
    """Rows: one per touchpoint of the journey, in the designed order.

    Columns: ``touchpoint``, ``stage``, the :data:`MEASURED_FIELDS` (None when not measured)
    and ``conversion_target`` (the conversion touchpoint the conversion is measured to).
    Tables: ``priorities`` (ranked pain points with their evidence and estimated impact).
    """

    display_columns: ClassVar[tuple[str, ...]] = (
        "touchpoint",
        "stage",
        "reach_customers",
        "conversion_share",
        "conversion_n",
        "score_metric",
        "score_value",
        "score_n",
    )

    @property
    def measured(self) -> dict[str, Any] | None:
        """The measured journey as the documented ``--measured`` JSON; None without any number."""
        touchpoints: dict[str, dict[str, Any]] = {}
        for row in self.frame.to_dict(orient="records"):
            values = {k: jsonable(row[k]) for k in MEASURED_FIELDS}
            values = {k: v for k, v in values.items() if v is not None}
            if set(values) - {"score_min", "score_max"}:
                touchpoints[str(row["touchpoint"])] = values
        if not touchpoints:
            return None
        return {
            "period": self.meta.get("period"),
            "source": self.meta.get("source"),
            "touchpoints": touchpoints,
        }

    @property
    def priorities(self) -> pd.DataFrame:
        return self.tables.get("priorities", pd.DataFrame(columns=_PRIORITY_COLUMNS))


@dataclass(frozen=True, kw_only=True)
class MeasuresQuery(Query):
    """The map's and the report's numbers (level touchpoint; see the module doc).

    ``priorities``: also rank the pain points and estimate their impact (the report needs
    them, the map does not). ``window_seconds``: the conversion window of the funnels.
    """

    analysis: ClassVar[str] = "measures"
    default_level: ClassVar[str] = "touchpoint"

    priorities: bool = True
    window_seconds: float | None = None

    def run(self, source: Source) -> MeasuresResult:
        journey = source.journey(self.journey)
        if journey is None:
            raise UsageError(
                "Measuring a journey needs a journey, and there is none.",
                hint="pass a journey id (klantreis journeys lists them).",
            )
        if self.level not in (None, "touchpoint"):
            raise UsageError(f"The map's numbers are per touchpoint, not {self.level!r}.")
        common: dict[str, Any] = {
            "journey": journey,
            "level": "touchpoint",
            "segment": self.segment,
            "persona": self.persona,
            "since": self.since,
            "until": self.until,
            "unit": self.unit,
        }
        scores = analyze(source, ScoresQuery(**common))
        pains = analyze(source, PainPointsQuery(**common))
        order = [t.id for t in journey.touchpoints_in_order()]
        stage_of = {t.id: t.stage for t in journey.touchpoints}
        rows: dict[str, dict[str, Any]] = {
            tp: {"touchpoint": tp, "stage": stage_of[tp]} for tp in order
        }
        for tp, score in _chosen_scores(scores.frame).items():
            if tp in rows:
                rows[tp].update(score)
        reach = {
            str(r["touchpoint"]): int(r["reach_customers"])
            for r in pains.frame.to_dict(orient="records")
        }
        for tp, customers in reach.items():
            if tp in rows:
                rows[tp]["reach_customers"] = customers
        conversions = [t.id for t in journey.touchpoints_in_order() if t.conversion]
        targets = _conversion_targets(order, conversions)
        for tp, (entrants, converted) in self._conversions(source, common, targets).items():
            if entrants:
                rows[tp].update(
                    conversion_share=converted / entrants,
                    conversion_n=entrants,
                    conversion_target=targets[tp],
                )
        frame = pd.DataFrame(
            list(rows.values()),
            columns=["touchpoint", "stage", *MEASURED_FIELDS, "conversion_target"],
        )
        frame = frame.astype({"conversion_share": float, "score_value": float})
        tables: dict[str, pd.DataFrame] = {}
        if self.priorities:
            tables["priorities"] = self._priorities(source, common, pains.frame, conversions)
        scope = pains.scope
        meta = {
            "period": _period(self.since, self.until),
            "source": _source_text(source, scope, scores.frame, conversions),
            "customers": int(pains.meta.get("customers", 0)),
            "responses": int(scores.frame.n.sum()) if len(scores.frame) else 0,
            "conversion_touchpoints": conversions,
            "window_seconds": self.window_seconds,
        }
        return MeasuresResult(
            analysis=self.analysis,
            frame=frame,
            query=self,
            scope=scope,
            denominator=(
                "reach: customers with an event at the touchpoint in the period; conversion: "
                "those who entered at the touchpoint in the period; scores: responses (n)"
            ),
            meta=meta,
            tables=tables,
        )

    def _conversions(
        self, source: Source, common: dict[str, Any], targets: dict[str, str]
    ) -> dict[str, tuple[int, int]]:
        """Per touchpoint: (entrants, converted) of the two-step funnel [touchpoint, target].

        One query for all touchpoints, equal to ``FunnelQuery(steps=[tp, target])`` per
        touchpoint (tested): a customer enters at their first event at the touchpoint in the
        period and converts with any event at the target after it (within the window).
        """
        if not targets:
            return {}
        p = prepare(source, dataclasses.replace(self, **common))
        indexed = self._conversions_indexed(p, targets)
        if indexed is not None:
            return indexed
        first = p.in_period.filter(p.in_period.node.isin(list(targets)))
        entry = first.group_by(["customer_id", "node"]).aggregate(
            seq0=first.seq.min(), t0=first.t_s.argmin(first.seq)
        )
        entry = entry.mutate(
            target=ibis.cases(*[(entry.node == tp, c) for tp, c in targets.items()])
        )
        ev = p.events
        buys = ev.filter(ev.node.isin(sorted(set(targets.values())))).select(
            "customer_id", target="node", seq_c="seq", t_c="t_s"
        )
        j = entry.join(buys, ["customer_id", "target"])
        conds = [j.seq_c > j.seq0]
        if self.window_seconds is not None:
            conds.append(j.t_c - j.t0 <= self.window_seconds)
        j = j.filter(*conds)
        converted = j.select("customer_id", "node").distinct()
        flagged = entry.left_join(converted.mutate(hit=ibis.literal(1)), ["customer_id", "node"])
        expr = flagged.group_by(flagged.node).aggregate(
            entrants=flagged.count(), converted=flagged.hit.count()
        )
        raw = source.execute(expr)
        return {
            str(r["node"]): (int(r["entrants"]), int(r["converted"]))
            for r in raw.to_dict(orient="records")
        }

    def _conversions_indexed(
        self, p: Prepared, targets: dict[str, str]
    ) -> dict[str, tuple[int, int]] | None:
        """:meth:`_conversions` from the sequence index in one compiled pass (None when the
        index does not apply). The selection's period bounds apply to the entries only: the
        kernel takes target events at all times, as ``p.events`` has them (``seq`` order is the
        index's row order)."""
        selection = select(p)
        if selection is None:
            return None
        from .kernels.measure import conversions

        code = {name: i for i, name in enumerate(selection.names)}
        target = np.full(len(selection.names), -1, dtype=np.int64)
        for tp, to in targets.items():
            target[code[tp]] = code[to]
        ix = selection.index
        window = math.inf if self.window_seconds is None else float(self.window_seconds)
        entrants, converted = conversions(
            ix.cust, np.asarray(selection.node, dtype=np.int32), ix.ts, ix.t_s, ix.channel,
            selection.keep_customer, selection.keep_channel, selection.since, selection.until,
            target, window,
        )  # fmt: skip
        return {
            name: (int(entrants[i]), int(converted[i]))
            for i, name in enumerate(selection.names)
            if entrants[i]
        }

    def _priorities(
        self,
        source: Source,
        common: dict[str, Any],
        pains: pd.DataFrame,
        conversions: list[str],
    ) -> pd.DataFrame:
        if pains.empty:
            return pd.DataFrame(columns=_PRIORITY_COLUMNS)
        journey = common["journey"]
        owner = {t.id: t.owner for t in journey.touchpoints}
        stage_of = {t.id: t.stage for t in journey.touchpoints}
        out = pains.reindex(columns=[c for c in _PRIORITY_COLUMNS if c in pains.columns]).copy()
        out["stage"] = [stage_of.get(str(t)) for t in out["touchpoint"]]
        out["owner"] = [owner.get(str(t)) for t in out["touchpoint"]]
        impact_columns = [c for c in _PRIORITY_COLUMNS if c.startswith("extra_")]
        if conversions and len(out):
            impact = analyze(source, ImpactQuery(**common)).frame
            keep = impact[["touchpoint", *impact_columns]]
            out = out.merge(keep, on="touchpoint", how="left")
        return out.reindex(columns=_PRIORITY_COLUMNS).reset_index(drop=True)


def measure_journey(
    data: Any,
    journey: Any = None,
    *,
    since: Any = None,
    until: Any = None,
    segment: str | None = None,
    persona: str | None = None,
    priorities: bool = True,
    window_seconds: float | None = None,
    engine: str = "duckdb",
) -> MeasuresResult:
    """The measured numbers of ``journey`` (an id or a Journey; None = the default journey).

    ``data`` is a workspace or a :class:`~klantreis.engine.Source`. Pass ``result.measured`` to
    ``klantreis.render_map``/``save_map``/``save_report`` (``measured=``) and
    ``result.priorities`` to the report.
    """
    source = open_source(data, engine=engine)
    query = MeasuresQuery(
        journey=journey,
        since=since,
        until=until,
        segment=segment,
        persona=persona,
        priorities=priorities,
        window_seconds=window_seconds,
    )
    return query.run(source)


def _chosen_scores(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per touchpoint the score a card shows (see METRIC_PREFERENCE)."""
    out: dict[str, dict[str, Any]] = {}
    if frame.empty:
        return out

    def rank(metric: str) -> tuple[int, str]:
        m = metric.lower()
        return (METRIC_PREFERENCE.index(m) if m in METRIC_PREFERENCE else len(METRIC_PREFERENCE), m)

    rows = sorted(frame.to_dict(orient="records"), key=lambda r: rank(str(r["metric"])))
    for row in rows:
        tp = str(row["touchpoint"])
        if tp in out or int(row["n"]) == 0:
            continue
        metric = str(row["metric"]).lower()
        low, high = _VALUE_SCALES.get(metric, (float(row["scale_min"]), float(row["scale_max"])))
        out[tp] = {
            "score_metric": metric,
            "score_value": _num(row["value"]),
            "score_ci_low": _num(row["ci_low"]),
            "score_ci_high": _num(row["ci_high"]),
            "score_n": int(row["n"]),
            "score_min": low,
            "score_max": high,
        }
    return out


def _conversion_targets(order: list[str], conversions: list[str]) -> dict[str, str]:
    """Each touchpoint before a conversion touchpoint → the first conversion touchpoint after it."""
    out: dict[str, str] = {}
    position = {tp: i for i, tp in enumerate(order)}
    for tp in order:
        if tp in conversions:
            continue
        after = [c for c in conversions if position[c] > position[tp]]
        if after:
            out[tp] = after[0]
    return out


def _period(since: Any, until: Any) -> str | None:
    """The period as given (a date ``until`` is inclusive), e.g. ``2024-01-01 – 2024-03-31``."""
    if since is None and until is None:
        return None
    text = [
        str(v.isoformat() if hasattr(v, "isoformat") else v) if v else "…" for v in (since, until)
    ]
    return " – ".join(text)


def _source_text(source: Source, scope: Scope, scores: pd.DataFrame, conversions: list[str]) -> str:
    """Where the numbers come from and their denominators, in one line."""
    responses = int(scores.n.sum()) if len(scores) else 0
    parts = [
        f"klantreis engine ({source.engine})",
        f"{scope.customers_in_scope} of {scope.customers_total} customers in scope",
        f"{responses} responses",
    ]
    if conversions:
        parts.append(f"conversion = reaching {' or '.join(conversions)} later")
    return "; ".join(parts)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f
