"""The ordered funnel: how many customers reach each step, in order, within the window.

Definition (one customer, steps s1…sn at the query's level):

- The customer *enters* at their first s1 event whose timestamp lies in the period (the period
  selects entrants only: every entrant keeps its full window, even past ``until``).
- Step k is reached by the EARLIEST sk event that comes after the event that reached step k-1
  in the customer's sequence (ordered by ``(timestamp, event_id)``), no later than
  ``window_seconds`` after the entry and no later than ``step_window_seconds[k-2]`` after step
  k-1. Other events in between are allowed.
- Steps may be :class:`Step` objects with options (a window or a minimum time from the previous
  step, optional steps, event property filters) and ``exclude`` removes customers who did
  something between two steps; see :mod:`klantreis.engine.funnel_options`.
- ``customers`` of step k counts the customers who reached it; conversion is measured against the
  previous step and against the entrants; times to convert are whole seconds.

The steps are computed as one chain of joins, one per step, over that step's events only; on
a workspace with a sequence index (:mod:`klantreis.engine.sequence`) the same chain is one
compiled pass over the customers' rows (:mod:`klantreis.engine.kernels.funnel`; same result,
see ``tests/test_sequence_funnel.py``). Exclusions, property filters on steps and segment,
persona or attribute breakdowns run the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import UsageError
from .funnel_options import (
    Exclude,
    Step,
    as_exclude,
    as_step,
    events_of,
    excluded_customers,
    optional_reached,
    time_conditions,
)
from .lazy import ibis, ir
from .linking import at_level, node_order
from .query import Prepared, Query, prepare
from .results import Result
from .sequence import Selection, micros, select
from .source import Source

__all__ = ["BREAKDOWNS", "Exclude", "FunnelQuery", "FunnelResult", "Step"]

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

    steps: Sequence[str | Step] | None = None
    window_seconds: float | None = None
    step_window_seconds: Sequence[float | None] | None = None
    breakdown: str | None = None
    exclude: Sequence[str | Exclude] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.steps is not None:
            out["steps"] = [s if isinstance(s, str) else as_step(s).to_dict() for s in self.steps]
        if self.exclude is not None:
            out["exclude"] = [as_exclude(e).to_dict() for e in self.exclude]
        return out

    # -- the analysis --------------------------------------------------------------------------
    def run(self, source: Source) -> FunnelResult:
        p = prepare(source, self)
        steps = self._steps(p)
        specs = self._specs(steps)
        optional = [s.optional for s in specs] if any(s.optional for s in specs) else None
        meta: dict[str, Any] = {"steps": list(steps), "window_seconds": self.window_seconds}
        if not all(s.plain for s in specs):
            meta["step_options"] = [s.to_dict() for s in specs]
        fast = select(p, in_period=False) if self._indexable(specs) else None
        if fast is not None:
            raw = self._raw_indexed(p, fast, specs)
            frame = _finish(raw, steps, breakdown=self.breakdown is not None, optional=optional)
            self._note_unseen(p, steps, frame, meta, fast.names)
            return self._result(p, steps, frame, meta, None)
        chain, excluded = self._chain_parts(p, steps)
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
        frame = _finish(raw, steps, breakdown=self.breakdown is not None, optional=optional)
        if excluded is not None:
            meta["exclude"] = [as_exclude(e).to_dict() for e in self.exclude or ()]
            counted = excluded.select("customer_id").distinct()
            meta["excluded_customers"] = int(source.execute(counted.count()))
        self._note_unseen(p, steps, frame, meta, None)
        return self._result(p, steps, frame, meta, expr)

    def _note_unseen(
        self,
        p: Prepared,
        steps: Sequence[str],
        frame: pd.DataFrame,
        meta: dict[str, Any],
        names: Sequence[str] | None,
    ) -> None:
        """Steps no customer reached whose name occurs nowhere in the data at this level (a
        typo in ``--steps nope`` would otherwise read as "0 customers"): listed in
        ``meta["steps_not_in_data"]`` and ``meta["notes"]``. Only at a level the journey does
        not name (its nodes are checked before the run); ``names``: the level's names in the
        sequence index, else one query over the steps' nodes (all customers, any time)."""
        if node_order(p.journey, p.level):
            return
        reached = frame.groupby("step")["customers"].sum().to_dict() if len(frame) else {}
        empty = [s for s in dict.fromkeys(steps) if int(reached.get(s, 0)) == 0]
        if not empty:
            return
        if names is None:
            nodes = at_level(p.source.events, p.journey, p.level, only_nodes=empty)
            names = [str(n) for n in p.source.execute(nodes.select("node").distinct())["node"]]
        known = set(names)
        unseen = [s for s in empty if s not in known]
        if unseen:
            meta["steps_not_in_data"] = unseen
            quoted = ", ".join(repr(s) for s in unseen)
            meta.setdefault("notes", []).append(
                f"No {p.level} called {quoted} occurs in the data: check the spelling."
            )

    def _result(
        self,
        p: Prepared,
        steps: Sequence[str],
        frame: pd.DataFrame,
        meta: dict[str, Any],
        expr: ir.Table | None,
    ) -> FunnelResult:
        return FunnelResult(
            analysis=self.analysis,
            frame=frame,
            query=self,
            scope=p.scope(),
            denominator=f"customers who entered at step 1 ({steps[0]}) in the period",
            meta=meta,
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
        chain = self._chain(p, steps, breakdown=False)
        ids = chain[index].select("customer_id")
        if status == "dropped":
            if index == 0:
                return []
            specs = self._specs(steps)
            before = max(i for i in range(index) if not specs[i].optional)
            ids = chain[before].select("customer_id").anti_join(ids, "customer_id")
        frame = source.execute(ids.distinct().order_by("customer_id"))
        return [str(c) for c in frame["customer_id"]]

    # -- the parts -------------------------------------------------------------------------------
    def _specs(self, steps: Sequence[str]) -> list[Step]:
        """The steps as :class:`Step` (names given by ``_steps``, options from ``self.steps``)."""
        if not self.steps:
            return [Step(name) for name in steps]
        return [as_step(s) for s in self.steps]

    def _steps(self, p: Prepared) -> list[str]:
        steps = (
            [as_step(s).name for s in self.steps] if self.steps else node_order(p.journey, p.level)
        )
        if not steps:
            raise UsageError(
                f"A funnel at level {p.level!r} needs steps.",
                hint="pass steps, e.g. --steps cart,checkout,payment_done.",
            )
        known = node_order(p.journey, p.level)
        excludes = [as_exclude(e) for e in self.exclude or ()]
        if known:
            unknown = [s for s in steps + [e.name for e in excludes] if s not in known]
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
        self._check_options(steps, excludes)
        if self.breakdown is not None and not (
            self.breakdown in ("segment", "persona", "channel")
            or self.breakdown.startswith("attribute:")
        ):
            raise UsageError(
                f"Unknown breakdown {self.breakdown!r}.",
                hint=f"use one of {', '.join(BREAKDOWNS)}.",
            )
        return steps

    def _check_options(self, steps: list[str], excludes: list[Exclude]) -> None:
        specs = self._specs(steps)
        if specs[0].optional:
            raise UsageError(
                f"The first step {steps[0]!r} cannot be optional: it defines who enters."
            )
        required = [k + 1 for k, s in enumerate(specs) if not s.optional]
        for ex in excludes:
            end = ex.before_step or required[-1]
            if ex.after_step not in required or end not in required or end <= ex.after_step:
                raise UsageError(
                    f"Exclusion {ex.name!r} between steps {ex.after_step} and {end}: both must "
                    f"be required steps ({', '.join(map(str, required))}), the first before "
                    "the second.",
                    hint="after_step and before_step are 1-based step numbers.",
                )

    def _chain(
        self, p: Prepared, steps: Sequence[str], *, breakdown: bool = True
    ) -> list[ir.Table]:
        return self._chain_parts(p, steps, breakdown=breakdown)[0]

    def _chain_parts(
        self, p: Prepared, steps: Sequence[str], *, breakdown: bool = True
    ) -> tuple[list[ir.Table], ir.Table | None]:
        """The reached table of every step, and the excluded customers (None: no exclusions)."""
        specs = self._specs(steps)
        # only the steps' and exclusions' nodes are ever compared, so only they are numbered
        names = [s.name for s in specs] + [as_exclude(e).name for e in self.exclude or ()]
        ev = p.nodes_among(sorted(set(names)))
        first = events_of(ev, specs[0])
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
        chain: list[ir.Table | None] = [reached]
        for k in range(1, len(steps)):
            if specs[k].optional:
                chain.append(None)  # filled in below, between the required steps
                continue
            cand = events_of(ev, specs[k]).select("customer_id", "seq", "t_s")
            j = reached.join(cand, "customer_id")
            conds = [j.seq > j.seq_prev]
            limit = self.step_window_seconds[k - 1] if self.step_window_seconds else None
            conds += time_conditions(j, specs[k], self.window_seconds, limit)
            j = j.filter(*conds)
            nxt = j.group_by(["customer_id", "group", "t0", "t_prev"]).aggregate(
                seq=j.seq.min(), t=j.t_s.argmin(j.seq)
            )
            reached = nxt.select(
                "customer_id", "group", "t0", seq_prev=nxt.seq, t_prev=nxt.t, dt=nxt.t - nxt.t_prev
            )
            chain.append(reached)
        for k, spec in enumerate(specs):
            if spec.optional:
                before = chain[max(i for i in range(k) if not specs[i].optional)]
                after = [chain[i] for i in range(k + 1, len(specs)) if not specs[i].optional]
                limit = self.step_window_seconds[k - 1] if self.step_window_seconds else None
                assert before is not None
                chain[k] = optional_reached(
                    ev,
                    spec,
                    before,
                    after[0] if after else None,
                    window_seconds=self.window_seconds,
                    step_window_seconds=limit,
                )
        tables = [t for t in chain if t is not None]
        excludes = [as_exclude(e) for e in self.exclude or ()]
        excluded = excluded_customers(ev, excludes, tables, window_seconds=self.window_seconds)
        if excluded is not None:
            tables = [t.anti_join(excluded, ["customer_id", "group"]) for t in tables]
        return tables, excluded

    # -- the same chain on the sequence index ----------------------------------------------------
    def _indexable(self, specs: Sequence[Step]) -> bool:
        """Whether the index path implements these options (else the SQL runs)."""
        return (
            not self.exclude
            and self.breakdown in (None, "channel")
            and not any(s.where for s in specs)
        )

    def _raw_indexed(self, p: Prepared, sel: Selection, specs: Sequence[Step]) -> pd.DataFrame:
        """What the SQL of :meth:`run` returns (one row per group and reached step), from the
        sequence index in one compiled pass (see :mod:`klantreis.engine.kernels.funnel`)."""
        from .connect import duckdb_settings
        from .kernels.common import customer_chunks, on_threads
        from .kernels.funnel import funnel, funnel_stats

        ix = sel.index
        code = {name: i for i, name in enumerate(sel.names)}
        n = len(specs)
        required = [k for k, s in enumerate(specs) if not s.optional]
        base = [max([i for i in required if i < k], default=0) for k in range(n)]
        following = [
            min([i for i in required if i > k], default=-1) if s.optional else -1
            for k, s in enumerate(specs)
        ]
        upper = []
        for k, s in enumerate(specs):
            limit = self.step_window_seconds[k - 1] if self.step_window_seconds and k else None
            limits = [v for v in (limit, s.within_seconds) if v is not None]
            upper.append(min(limits) if limits else np.inf)
        lower = [-np.inf if s.min_seconds is None else s.min_seconds for s in specs]
        since, until = p.period.since, p.period.until
        labels = [""]
        group_of_channel = np.zeros(len(ix.channels) + 1, dtype=np.int64)
        if self.breakdown == "channel":  # by channel + 1; no channel (-1) is "(none)"
            names = [NONE_GROUP, *ix.channels]
            labels = sorted(set(names))
            group_of_channel = np.array([labels.index(g) for g in names], dtype=np.int64)
        args = (
            ix.cust, np.asarray(sel.node, dtype=np.int32), ix.ts, ix.t_s, ix.channel,
            sel.keep_customer, sel.keep_channel,
            sel.since if since is None else micros(since),
            sel.until if until is None else micros(until),
            np.array([code.get(s.name, -2) for s in specs], dtype=np.int32),
            np.array([s.optional for s in specs], dtype=np.bool_),
            np.array(base, dtype=np.int64), np.array(following, dtype=np.int64),
            np.array(lower, dtype=np.float64), np.array(upper, dtype=np.float64),
            np.inf if self.window_seconds is None else float(self.window_seconds),
            group_of_channel,
        )  # fmt: skip
        chunks = customer_chunks(ix.cust, int(duckdb_settings()["threads"]))
        parts = on_threads(lambda c: funnel(*args, c[0], c[1]), chunks)
        reached = np.concatenate([r for r, _ in parts])
        group = np.concatenate([g for _, g in parts])
        counts, median, p90, start = funnel_stats(
            reached, group, np.array(base, dtype=np.int64), len(labels)
        )
        at_group, at_step = np.nonzero(counts)
        return pd.DataFrame(
            {
                "group": np.array(labels, dtype=object)[at_group] if len(at_group) else [],
                "step_index": at_step + 1,
                "customers": counts[at_group, at_step],
                "median_seconds_to_convert": median[at_group, at_step],
                "p90_seconds_to_convert": p90[at_group, at_step],
                "median_seconds_from_start": start[at_group, at_step],
            }
        )

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


def _finish(
    raw: pd.DataFrame,
    steps: Sequence[str],
    *,
    breakdown: bool,
    optional: Sequence[bool] | None = None,
) -> pd.DataFrame:
    """Rows per step. With optional steps, conversion and drop-off are measured against the
    previous *required* step, an optional step has no drop-off, and a column ``optional``."""
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
            skippable = bool(optional and optional[k - 1])
            row: dict[str, Any] = {"group": g} if breakdown else {}
            row.update(
                step=name,
                step_index=k,
                customers=n,
                conversion_from_previous=(n / previous) if previous else None,
                conversion_from_start=(n / entrants) if entrants else None,
                drop_off=None if skippable else previous - n,
                drop_off_rate=((previous - n) / previous) if previous and not skippable else None,
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
            if optional:
                row["optional"] = skippable
            rows.append(row)
            if not skippable:
                previous = n
    columns = (
        (["group"] if breakdown else [])
        + [
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
        + (["optional"] if optional else [])
    )
    return pd.DataFrame(rows, columns=columns)


def _num(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)
