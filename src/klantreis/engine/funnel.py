"""The ordered funnel: how many customers reach each step, in order, within the window.

Definition (one customer, steps s1…sn at the query's level):

- The customer *enters* at their first s1 event whose timestamp lies in the period (the period
  selects entrants only: every entrant keeps its full window, even past ``until``).
- Step k is reached by the EARLIEST sk event that comes after the event that reached step k-1
  in the customer's sequence (ordered by ``(timestamp, event_id)``), no later than
  ``window_seconds`` after the entry and no later than ``step_window_seconds[k-2]`` after step
  k-1. Other events in between are allowed.
- ``customers`` of step k counts the customers who reached it; conversion is measured against the
  previous step and against the entrants; times to convert are whole seconds.

The steps are computed as one chain of joins, one per step, over that step's events only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import pandas as pd

from ..errors import UsageError
from .linking import node_order
from .query import Prepared, Query, prepare
from .results import Result
from .source import Source

__all__ = ["BREAKDOWNS", "FunnelQuery", "FunnelResult"]

BREAKDOWNS = ("segment", "persona", "channel", "attribute:KEY")
NONE_GROUP = "(none)"


class FunnelResult(Result):
    """Rows: one per step (per group with a breakdown)."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "group",
        "step",
        "customers",
        "conversion_from_previous",
        "conversion_from_start",
        "drop_off",
        "median_seconds_to_convert",
        "p90_seconds_to_convert",
    )


@dataclass(frozen=True, kw_only=True)
class FunnelQuery(Query):
    """Ordered funnel. ``steps`` default to the stages (stage level) or touchpoints in order."""

    analysis: ClassVar[str] = "funnel"
    default_level: ClassVar[str] = "stage"

    steps: Sequence[str] | None = None
    window_seconds: float | None = None
    step_window_seconds: Sequence[float | None] | None = None
    breakdown: str | None = None

    # -- the analysis --------------------------------------------------------------------------
    def run(self, source: Source) -> FunnelResult:
        p = prepare(source, self)
        steps = self._steps(p)
        chain = self._chain(p, steps)
        parts = []
        for k, reached in enumerate(chain):
            parts.append(
                reached.group_by("group").aggregate(
                    step_index=ibis.literal(k + 1, type="int64"),
                    customers=reached.count(),
                    median_seconds_to_convert=reached.dt.median(),
                    p90_seconds_to_convert=reached.dt.quantile(0.9),
                    median_seconds_from_start=(reached.t_prev - reached.t0).median(),
                )
            )
        expr = ibis.union(*parts) if len(parts) > 1 else parts[0]
        raw = source.execute(expr)
        frame = _finish(raw, steps, breakdown=self.breakdown is not None)
        return FunnelResult(
            analysis=self.analysis,
            frame=frame,
            query=self,
            scope=p.scope(),
            denominator=f"customers who entered at step 1 ({steps[0]}) in the period",
            meta={"steps": list(steps), "window_seconds": self.window_seconds},
            expr=expr,
        )

    def customers_at(
        self, source: Source, step: str | int, *, status: str = "reached"
    ) -> list[str]:
        """The ids of the customers who reached (or ``status="dropped"``: reached the previous
        step but not) ``step`` (a name or 1-based index), sorted."""
        p = prepare(source, self)
        steps = self._steps(p)
        if isinstance(step, int):
            index = step - 1
            if not 0 <= index < len(steps):
                raise UsageError(f"Step {step} is out of range 1..{len(steps)}.")
        elif step in steps:
            index = list(steps).index(step)
        else:
            raise UsageError(f"Unknown step {step!r}. Steps: {', '.join(steps)}.")
        if status not in ("reached", "dropped"):
            raise UsageError(f"Unknown status {status!r}.", hint="use reached or dropped.")
        chain = self._chain(p, steps[: index + 1], breakdown=False)
        ids = chain[index].select("customer_id")
        if status == "dropped":
            if index == 0:
                return []
            ids = chain[index - 1].select("customer_id").anti_join(ids, "customer_id")
        frame = source.execute(ids.distinct().order_by("customer_id"))
        return [str(c) for c in frame["customer_id"]]

    # -- the parts -------------------------------------------------------------------------------
    def _steps(self, p: Prepared) -> list[str]:
        steps = list(self.steps) if self.steps else node_order(p.journey, p.level)
        if not steps:
            raise UsageError(
                f"A funnel at level {p.level!r} needs steps.",
                hint="pass steps, e.g. --steps cart,checkout,payment_done.",
            )
        known = node_order(p.journey, p.level)
        if known:
            unknown = [s for s in steps if s not in known]
            if unknown:
                raise UsageError(
                    f"Unknown {p.level} {unknown[0]!r} in the funnel steps. "
                    f"Known {p.level}s: {', '.join(known)}."
                )
        if self.step_window_seconds is not None and len(self.step_window_seconds) != len(steps) - 1:
            raise UsageError(
                f"step_window_seconds has {len(self.step_window_seconds)} values for "
                f"{len(steps)} steps; give one per step after the first ({len(steps) - 1}).",
            )
        if self.breakdown is not None and not (
            self.breakdown in ("segment", "persona", "channel")
            or self.breakdown.startswith("attribute:")
        ):
            raise UsageError(
                f"Unknown breakdown {self.breakdown!r}.",
                hint=f"use one of {', '.join(BREAKDOWNS)}.",
            )
        return steps

    def _chain(
        self, p: Prepared, steps: Sequence[str], *, breakdown: bool = True
    ) -> list[ir.Table]:
        ev = p.events
        first = ev.filter(ev.node == steps[0])
        cond = p.period.condition(first.timestamp)
        if cond is not None:
            first = first.filter(cond)
        entry = first.group_by("customer_id").aggregate(
            seq_prev=first.seq.min(),
            t0=first.t_s.argmin(first.seq),
            entry_channel=first.channel.argmin(first.seq),
        )
        entry = self._grouped(p, entry) if breakdown else entry.mutate(group=ibis.literal(""))
        reached = entry.select(
            "customer_id",
            "group",
            "t0",
            "seq_prev",
            t_prev=entry.t0,
            dt=ibis.null().cast("int64"),
        )
        chain = [reached]
        for k in range(1, len(steps)):
            cand = ev.filter(ev.node == steps[k]).select("customer_id", "seq", "t_s")
            j = reached.join(cand, "customer_id")
            conds = [j.seq > j.seq_prev]
            if self.window_seconds is not None:
                conds.append(j.t_s - j.t0 <= self.window_seconds)
            limit = self.step_window_seconds[k - 1] if self.step_window_seconds else None
            if limit is not None:
                conds.append(j.t_s - j.t_prev <= limit)
            j = j.filter(*conds)
            nxt = j.group_by(["customer_id", "group", "t0", "t_prev"]).aggregate(
                seq=j.seq.min(), t=j.t_s.argmin(j.seq)
            )
            reached = nxt.select(
                "customer_id", "group", "t0", seq_prev=nxt.seq, t_prev=nxt.t, dt=nxt.t - nxt.t_prev
            )
            chain.append(reached)
        return chain

    def _grouped(self, p: Prepared, entry: ir.Table) -> ir.Table:
        none = ibis.literal(NONE_GROUP)
        if self.breakdown is None:
            return entry.mutate(group=ibis.literal(""))
        if self.breakdown == "channel":
            return entry.mutate(group=entry.entry_channel.fill_null(none))
        customers = p.source.customers
        if self.breakdown.startswith("attribute:"):
            key = self.breakdown.partition(":")[2]
            attrs = customers.select("customer_id", group=customers.attributes.get(key)).distinct(
                on="customer_id", keep="first"
            )
            joined = entry.left_join(attrs, "customer_id")
            return joined.mutate(group=joined.group.fill_null(none)).drop("customer_id_right")
        from .filters import customers_matching

        if p.journey is None:
            raise UsageError(f"A breakdown by {self.breakdown} needs a journey.")
        items = p.journey.segments if self.breakdown == "segment" else p.journey.personas
        if not items:
            raise UsageError(f"Journey {p.journey.id!r} has no {self.breakdown}s to break down by.")
        members = ibis.union(
            *[
                customers_matching(customers, it.attributes).mutate(group=ibis.literal(it.id))
                for it in items
            ]
        )
        return entry.join(members, "customer_id")


def _finish(raw: pd.DataFrame, steps: Sequence[str], *, breakdown: bool) -> pd.DataFrame:
    groups = sorted(raw.loc[raw.step_index == 1, "group"].astype(str).unique()) if len(raw) else []
    if not breakdown:
        groups = [""]
    rows: list[dict[str, Any]] = []
    for g in groups:
        sub = raw[raw.group.astype(str) == g].set_index("step_index")
        entrants = int(sub.loc[1, "customers"]) if 1 in sub.index else 0
        previous = entrants
        for k, name in enumerate(steps, start=1):
            have = k in sub.index
            n = int(sub.loc[k, "customers"]) if have else 0
            row: dict[str, Any] = {"group": g} if breakdown else {}
            row.update(
                step=name,
                step_index=k,
                customers=n,
                conversion_from_previous=(n / previous) if previous else None,
                conversion_from_start=(n / entrants) if entrants else None,
                drop_off=previous - n,
                drop_off_rate=((previous - n) / previous) if previous else None,
                median_seconds_to_convert=_num(sub.loc[k, "median_seconds_to_convert"])
                if have and k > 1
                else None,
                p90_seconds_to_convert=_num(sub.loc[k, "p90_seconds_to_convert"])
                if have and k > 1
                else None,
                median_seconds_from_start=_num(sub.loc[k, "median_seconds_from_start"])
                if have and k > 1
                else None,
                entrants=entrants,
            )
            rows.append(row)
            previous = n
    columns = (["group"] if breakdown else []) + [
        "step",
        "step_index",
        "customers",
        "conversion_from_previous",
        "conversion_from_start",
        "drop_off",
        "drop_off_rate",
        "median_seconds_to_convert",
        "p90_seconds_to_convert",
        "median_seconds_from_start",
        "entrants",
    ]
    return pd.DataFrame(rows, columns=columns)


def _num(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)
