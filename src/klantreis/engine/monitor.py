"""Monitor: KPI series per touchpoint (or stage) per week or month, and alerts on significant change.

Series (node × KPI × period; ``trend`` = ``week`` (Monday) or ``month``):

- ``reach``: units with an event at the node in the period;
- ``conversion``: the share of those units that bought in the same period (purchases: see
  :mod:`klantreis.engine.outcomes`);
- ``csat`` (top-2-box share), ``nps`` (points), ``ces`` (mean): the responses about the node;
- ``time``: the median hours from the unit's previous event to its event at the node (the wait
  before the node; looking back, so the last period is not cut short by the end of the data).

Alerts compare the LAST period with the one before it, per series, when both have at least
``min_n`` observations: reach — a Poisson test of the two counts; conversion and CSAT — the
two-proportion z test; NPS — z on the difference with the standard NPS variance; CES — Welch's
z on the means; time — Welch's z on the mean log hours. The p-values are adjusted for the
number of series tested (``correction``: Holm by default — the chance of ANY false alert stays
below ``alpha``, which suits alerts that wake people up — or Benjamini–Hochberg); an alert is
raised when the adjusted p-value is below ``alpha``. Rows: the series; ``tables["alerts"]`` and
``meta["alerts"]``: the alerts, each with a message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import UsageError
from .feedback_index import score_aggregates
from .inference import adjust_pvalues, two_proportions
from .lazy import ibis, ir
from .outcomes import purchases
from .query import Prepared, Query, prepare
from .results import Result
from .scores import TRENDS, responses_at_level
from .sequence import Selection, SequenceIndex, select
from .source import Source
from .stats import nps_variance, p_value_two_sided

__all__ = ["KPIS", "MonitorQuery", "MonitorResult"]

KPIS = ("reach", "conversion", "csat", "nps", "ces", "time")
MAX_INDEXED_CELLS = 8_000_000  # the index path counts in dense node × period tables
MAX_INDEXED_DAYS = 4_000_000  # ... and looks up each row's period in a table of days
_DAY_US = 86_400_000_000


class MonitorResult(Result):
    """Rows: one per node × KPI × period."""

    display_columns: ClassVar[tuple[str, ...]] = ("node", "kpi", "period", "n", "value")


@dataclass(frozen=True, kw_only=True)
class MonitorQuery(Query):
    analysis: ClassVar[str] = "monitor"

    trend: str = "week"
    kpis: Sequence[str] | None = None
    conversion: str | Sequence[str] | None = None
    min_n: int = 30
    alpha: float = 0.05
    correction: str = "holm"

    def run(self, source: Source) -> MonitorResult:
        if self.trend not in TRENDS:
            raise UsageError(f"Unknown trend {self.trend!r}.", hint="use week or month.")
        kpis = list(self.kpis) if self.kpis else list(KPIS)
        bad = [k for k in kpis if k not in KPIS]
        if bad:
            raise UsageError(f"Unknown KPI {bad[0]!r}.", hint=f"use one of: {', '.join(KPIS)}.")
        p = prepare(source, self)
        unit = TRENDS[self.trend]
        cells: list[pd.DataFrame] = []
        expr = self._behaviour_expr(p, unit, kpis)
        indexed = self._cells_indexed(p, kpis)
        if indexed is not None:
            cells.extend(indexed)
        elif expr is not None:
            cells.append(source.execute(expr))
        if any(k in kpis for k in ("csat", "nps", "ces")):
            cells.append(self._scores(p, unit, kpis))
        if "time" in kpis and indexed is None:
            cells.append(source.execute(self._time_expr(p, unit)))
        filled = [c for c in cells if len(c)]
        raw = pd.concat(filled, ignore_index=True) if filled else None
        series = self._series(raw)
        alerts = self._alerts(series)
        return MonitorResult(
            analysis=self.analysis,
            frame=series[["node", "kpi", "period", "n", "value"]].reset_index(drop=True),
            query=self,
            scope=p.scope(),
            denominator="per KPI: units reached (reach, conversion), responses (scores), "
            "events after an earlier one (time)",
            meta={
                "trend": self.trend,
                "alerts": alerts.to_dict(orient="records"),
                "tested_series": int(alerts.attrs.get("tested", 0)),
                "correction": self.correction,
                "level": p.level,
            },
            tables={"alerts": alerts},
            expr=expr,
        )

    # -- cells ---------------------------------------------------------------------------------
    def _behaviour_expr(self, p: Prepared, unit: str, kpis: list[str]) -> ir.Table | None:
        if "reach" not in kpis and "conversion" not in kpis:
            return None
        nodes = p.in_period.mutate(period=p.in_period.timestamp.truncate(unit))
        reached = nodes.select("customer_id", "node", "period").distinct()
        if "conversion" in kpis:
            buys, _ = purchases(p, self.conversion)
            bought = (
                buys.mutate(period=buys.timestamp.truncate(unit))
                .select("customer_id", "period")
                .distinct()
                .mutate(bought=ibis.literal(1))
            )
            reached = reached.left_join(bought, ["customer_id", "period"]).select(
                "customer_id", "node", "period", "bought"
            )
        else:
            reached = reached.mutate(bought=ibis.null().cast("int64"))
        return reached.group_by(["node", "period"]).aggregate(
            kind=ibis.literal("behaviour"),
            n=reached.count(),
            x=reached.bought.count().cast("float64"),
            mean=ibis.null().cast("float64"),
            std=ibis.null().cast("float64"),
            median=ibis.null().cast("float64"),
        )

    def _scores(self, p: Prepared, unit: str, kpis: list[str]) -> pd.DataFrame:
        metrics = [k for k in ("csat", "nps", "ces") if k in kpis]
        indexed = score_aggregates(p, metric=None, trend=self.trend)  # the responses index
        if indexed is not None:
            raw = indexed[indexed["metric"].isin(metrics)]
            if not len(raw):
                return pd.DataFrame()
            raw = raw.rename(columns={"mean_score": "mean", "std_score": "std"})
            return raw.assign(kind=raw["metric"]).reset_index(drop=True)
        r = responses_at_level(p)
        r = r.filter(r.metric.isin(metrics))
        r = r.mutate(period=r.timestamp.truncate(unit))
        agg = r.group_by(["node", "period", "metric"]).aggregate(
            n=r.count(),
            top2=(r.score >= r.scale_max - 1).cast("int64").sum(),
            promoters=(r.score >= 9).cast("int64").sum(),
            detractors=(r.score <= 6).cast("int64").sum(),
            mean=r.score.mean(),
            std=r.score.std(),
        )
        raw = p.source.execute(agg)
        if not len(raw):
            return pd.DataFrame()
        return raw.assign(kind=raw["metric"])

    def _time_expr(self, p: Prepared, unit: str) -> ir.Table:
        ev = p.events  # all times: the previous step may lie before the period
        w = ibis.window(group_by=ev.customer_id, order_by=ev.seq)
        ev = ev.mutate(wait=(ev.t_s - ev.t_s.lag().over(w)) / 3600.0)
        cond = p.period.condition(ev.timestamp)
        ev = ev.filter(ev.wait.notnull() & cond if cond is not None else ev.wait.notnull())
        ev = ev.mutate(period=ev.timestamp.truncate(unit), lw=(ev.wait + 1.0).ln())
        return ev.group_by(["node", "period"]).aggregate(
            kind=ibis.literal("time"),
            n=ev.count(),
            x=ibis.null().cast("float64"),
            mean=ev.lw.mean(),
            std=ev.lw.std(),
            median=ev.wait.median(),
        )

    def _cells_indexed(self, p: Prepared, kpis: list[str]) -> list[pd.DataFrame] | None:
        """The behaviour and time cells from the sequence index (one compiled pass; see
        :mod:`klantreis.engine.kernels.monitor`), or None when it does not apply (the SQL
        above runs). Same cells as ``_behaviour_expr`` and ``_time_expr``."""
        behaviour = "reach" in kpis or "conversion" in kpis
        time = "time" in kpis
        if not behaviour and not time:
            return None
        sel = select(p)  # since/until: the period of the counted rows; waits look back further
        if sel is None or not len(sel.names):
            return None
        ix = sel.index
        if "conversion" in kpis:
            buy = _purchases_indexed(p, sel, self.conversion)
            if buy is None:
                return None
            buy_code, buy_lut = buy
        else:
            buy_code, buy_lut = ix.event, np.zeros(len(ix.events) + 1, dtype=bool)
        if not ix.n_events:
            return []
        from .kernels.monitor import monitor_cells, period_code, period_table

        month = self.trend == "month"
        t_min, t_max = _time_range(ix)
        lo, hi = max(sel.since, t_min), min(sel.until - 1, t_max)
        if hi < lo:
            return []
        first = int(period_code(lo, month))
        n_periods = int(period_code(hi, month)) - first + 1
        k = len(sel.names)
        first_day, last_day = t_min // _DAY_US, t_max // _DAY_US
        if k * n_periods > MAX_INDEXED_CELLS or last_day - first_day > MAX_INDEXED_DAYS:
            return None
        periods = period_table(first_day, last_day, month)
        node = np.asarray(sel.node, dtype=np.int32)
        reached, bought, waits, mean, std, median = monitor_cells(
            ix.cust, node, ix.ts, ix.t_s, ix.channel, sel.keep_customer, sel.keep_channel,
            sel.since, sel.until, first_day, periods, first, n_periods, k, buy_code, buy_lut,
            behaviour, time,
        )  # fmt: skip
        names = np.array(sel.names, dtype=object)
        starts = _period_starts(first, n_periods, month)
        out: list[pd.DataFrame] = []
        if behaviour:
            at = np.flatnonzero(reached)
            out.append(
                pd.DataFrame(
                    {
                        "node": names[at // n_periods],
                        "period": starts[at % n_periods],
                        "kind": "behaviour",
                        "n": reached[at],
                        "x": bought[at].astype(np.float64),
                        "mean": np.nan,
                        "std": np.nan,
                        "median": np.nan,
                    }
                )
            )
        if time:
            at = np.flatnonzero(waits)
            out.append(
                pd.DataFrame(
                    {
                        "node": names[at // n_periods],
                        "period": starts[at % n_periods],
                        "kind": "time",
                        "n": waits[at],
                        "x": np.nan,
                        "mean": mean[at],
                        "std": std[at],
                        "median": median[at],
                    }
                )
            )
        return out

    # -- series and alerts ---------------------------------------------------------------------
    def _series(self, raw: pd.DataFrame | None) -> pd.DataFrame:
        columns = ["node", "kpi", "period", "n", "value", "_stat"]
        if raw is None or not len(raw):
            return pd.DataFrame(columns=columns)
        kpis = list(self.kpis) if self.kpis else list(KPIS)
        rows: list[dict[str, Any]] = []
        for rec in raw.to_dict(orient="records"):
            kind = rec["kind"]
            base = {"node": str(rec["node"]), "period": pd.Timestamp(rec["period"]).date()}
            n = int(rec["n"])
            if kind == "behaviour":
                if "reach" in kpis:
                    rows.append({**base, "kpi": "reach", "n": n, "value": float(n), "_stat": (n,)})
                if "conversion" in kpis and n:
                    x = int(rec["x"])
                    rows.append(
                        {**base, "kpi": "conversion", "n": n, "value": x / n, "_stat": (x, n)}
                    )
            elif kind == "csat":
                x = int(rec["top2"])
                rows.append({**base, "kpi": "csat", "n": n, "value": x / n, "_stat": (x, n)})
            elif kind == "nps":
                pro, det = int(rec["promoters"]), int(rec["detractors"])
                rows.append(
                    {**base, "kpi": "nps", "n": n, "value": 100.0 * (pro - det) / n,
                     "_stat": (pro, det, n)}
                )  # fmt: skip
            else:  # ces and time: mean (of log hours for time) and its spread
                std = float(rec["std"]) if pd.notna(rec["std"]) else float("nan")
                value = float(rec["mean"]) if kind == "ces" else float(rec["median"])
                rows.append(
                    {**base, "kpi": "ces" if kind == "ces" else "time", "n": n, "value": value,
                     "_stat": (float(rec["mean"]), std, n)}
                )  # fmt: skip
        frame = pd.DataFrame(rows, columns=columns)
        frame["period"] = [d.isoformat() for d in frame["period"]]
        return frame.sort_values(["node", "kpi", "period"]).reset_index(drop=True)

    def _alerts(self, series: pd.DataFrame) -> pd.DataFrame:
        columns = [
            "node", "kpi", "period", "previous_period", "value", "previous_value", "change",
            "n", "previous_n", "p_value", "p_adjusted", "direction", "message",
        ]  # fmt: skip
        tests: list[dict[str, Any]] = []
        if len(series):
            last = series["period"].max()
            periods = sorted(set(series["period"]))
            prev = periods[-2] if len(periods) > 1 else None
            for (node, kpi), part in series.groupby(["node", "kpi"], sort=True):
                cur = part[part["period"] == last]
                old = part[part["period"] == prev]
                if prev is None or not len(cur) or not len(old):
                    continue
                a, b = cur.iloc[0], old.iloc[0]
                if min(int(a["n"]), int(b["n"])) < self.min_n:
                    continue
                pv = _p_value(str(kpi), a["_stat"], b["_stat"])
                if pv is None:
                    continue
                tests.append(
                    {
                        "node": node, "kpi": kpi, "period": last, "previous_period": prev,
                        "value": float(a["value"]), "previous_value": float(b["value"]),
                        "change": float(a["value"]) - float(b["value"]),
                        "n": int(a["n"]), "previous_n": int(b["n"]), "p_value": pv,
                    }
                )  # fmt: skip
        adjusted = adjust_pvalues([t["p_value"] for t in tests], self.correction)
        alerts = []
        for t, adj in zip(tests, adjusted, strict=True):
            if adj is None or adj >= self.alpha:
                continue
            t["p_adjusted"] = adj
            t["direction"] = "up" if t["change"] > 0 else "down"
            t["message"] = _message(t)
            alerts.append(t)
        frame = pd.DataFrame(alerts, columns=columns)
        frame.attrs["tested"] = len(tests)
        return frame


def _purchases_indexed(
    p: Prepared, sel: Selection, conversion: str | Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The purchases of :func:`klantreis.engine.outcomes.purchases` on the index: row ``i`` is
    one when ``lut[code[i] + 1]`` (any channel, all times; the kernel keeps the scope). Events
    named ``conversion``, else the events linked to a conversion touchpoint; None when there is
    no conversion touchpoint (the SQL path raises the error)."""
    ix = sel.index
    if conversion is not None:
        names = {conversion} if isinstance(conversion, str) else set(conversion)
        return np.asarray(ix.event), np.array([False] + [e in names for e in ix.events])
    conv = {t.id for t in p.journey.conversion_touchpoints()} if p.journey else set()
    if not conv:
        return None
    linked = sel if p.level == "touchpoint" else select(replace(p, level="touchpoint"))
    if linked is None:
        return None
    lut = np.array([False] + [name in conv for name in linked.names])
    return np.asarray(linked.node, dtype=np.int32), lut


_TIME_RANGES: dict[str, tuple[int, int]] = {}  # index directory → first and last timestamp


def _time_range(index: SequenceIndex) -> tuple[int, int]:
    """The first and last timestamp (µs) of the index (a version never changes: kept)."""
    key = str(index.path)
    got = _TIME_RANGES.get(key)
    if got is None:
        got = int(index.ts.min()), int(index.ts.max())
        if len(_TIME_RANGES) > 8:
            _TIME_RANGES.clear()
        _TIME_RANGES[key] = got
    return got


def _period_starts(first: int, n_periods: int, month: bool) -> np.ndarray:
    """The first moment of the periods ``first ..`` (as SQL ``date_trunc`` gives them)."""
    codes = np.arange(first, first + n_periods, dtype=np.int64)
    if month:
        years, months = codes // 12, codes % 12
        out = (years - 1970) * 12 + months
        return out.astype("datetime64[M]").astype("datetime64[us]")
    return (codes * 7 - 3).astype("datetime64[D]").astype("datetime64[us]")


def _p_value(kpi: str, cur: tuple[Any, ...], old: tuple[Any, ...]) -> float | None:
    if kpi == "reach":
        a, b = cur[0], old[0]
        return p_value_two_sided((a - b) / math.sqrt(a + b)) if a + b > 0 else None
    if kpi in ("conversion", "csat"):
        return two_proportions(int(cur[0]), int(cur[1]), int(old[0]), int(old[1]))[3]
    if kpi == "nps":
        va = nps_variance(cur[0], cur[1], cur[2])
        vb = nps_variance(old[0], old[1], old[2])
        diff = (cur[0] - cur[1]) / cur[2] - (old[0] - old[1]) / old[2]
        se = math.sqrt(va + vb)
        return p_value_two_sided(diff / se) if se > 0 else None
    (ma, sa, na), (mb, sb, nb) = cur, old
    if math.isnan(sa) or math.isnan(sb):
        return None
    se = math.sqrt(sa * sa / na + sb * sb / nb)
    return p_value_two_sided((ma - mb) / se) if se > 0 else None


_KPI_WORDS = {
    "reach": ("customers reached", "{:,.0f}"),
    "conversion": ("conversion", "{:.1%}"),
    "csat": ("CSAT (top-2 share)", "{:.1%}"),
    "nps": ("NPS", "{:+.0f}"),
    "ces": ("CES", "{:.2f}"),
    "time": ("median hours waited before it", "{:,.1f}"),
}


def _message(t: dict[str, Any]) -> str:
    word, fmt = _KPI_WORDS[str(t["kpi"])]
    return (
        f"{t['node']}: {word} went {t['direction']} from {fmt.format(t['previous_value'])} "
        f"({t['previous_period']}, n={t['previous_n']:,}) to {fmt.format(t['value'])} "
        f"({t['period']}, n={t['n']:,}); adjusted p = {t['p_adjusted']:.2g}."
    )
