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
a workspace with a sequence index (:mod:`klantreis.engine.sequence`) the same chain is a binary
search per step over the positions of that step's events (same result, see
``tests/test_sequence_funnel.py``). Exclusions, property filters on steps and segment, persona
or attribute breakdowns run the SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
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
from .linking import node_order
from .query import Prepared, Query, prepare
from .results import Result
from .sequence import SequenceIndex, _node_codes, grouped, quantiles
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
        fast = _step_rows(p, [s.name for s in specs]) if self._indexable(specs) else None
        if fast is not None:
            raw = self._raw_indexed(p, fast, specs)
            frame = _finish(raw, steps, breakdown=self.breakdown is not None, optional=optional)
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
        return self._result(p, steps, frame, meta, expr)

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

    def _raw_indexed(self, p: Prepared, rows: _StepRows, specs: Sequence[Step]) -> pd.DataFrame:
        """What the SQL of :meth:`run` returns (one row per group and reached step), from the
        sequence index. Its rows are in sequence order, so "after" is a later row of the same
        customer, and the earliest step-k event after row r is a binary search in the rows of
        the step's events. Times only grow along a customer's rows, so an upper limit (a
        window) holds for a later event only if it holds for the earliest one."""
        first = rows.of(specs[0].name)
        ts = rows.ts[first]
        cust = rows.cust[first]
        # the entry: the customer's first step-1 row in the period (times grow along a
        # customer's rows, so the rows in the period are consecutive)
        new = np.ones(len(first), dtype=bool)
        new[1:] = cust[1:] != cust[:-1]
        since, until = p.period.since, p.period.until
        if since is not None or until is not None:
            keep = np.ones(len(first), dtype=bool)
            if since is not None:
                keep &= ts >= _micros(since)
            if until is not None:
                keep &= ts < _micros(until)
            new[1:] |= ~keep[:-1]
            new &= keep
        at = np.flatnonzero(new)
        entry, cust, t0 = first[at], cust[at], _seconds(ts[at])
        del ts, new, at
        group, labels = self._groups_indexed(rows, entry)
        # per entrant and step: the row that reached it (-1: not reached) and its time
        reached: list[np.ndarray] = [entry]
        times: list[np.ndarray] = [t0]
        base: list[int] = [0]  # the required step each step is measured from
        for k in range(1, len(specs)):
            base.append(max(i for i in range(k) if not specs[i].optional))
            reached.append(entry)  # optional steps are filled in below
            times.append(t0)
            if not specs[k].optional:
                reached[k], times[k] = self._next_indexed(
                    rows, specs, k, cust, t0, reached[base[k]], times[base[k]], None
                )
        for k, spec in enumerate(specs):
            if spec.optional:
                after = [i for i in range(k + 1, len(specs)) if not specs[i].optional]
                reached[k], times[k] = self._next_indexed(
                    rows,
                    specs,
                    k,
                    cust,
                    t0,
                    reached[base[k]],
                    times[base[k]],
                    reached[after[0]] if after else None,
                )
        return _raw_frame(reached, times, base, t0, group, labels)

    def _next_indexed(
        self,
        rows: _StepRows,
        specs: Sequence[Step],
        k: int,
        cust: np.ndarray,
        t0: np.ndarray,
        prev: np.ndarray,
        t_prev: np.ndarray,
        following: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per entrant: the earliest row of step k after ``prev`` (the row of the step it is
        measured from; -1: not reached), before ``following`` when that is reached (optional
        steps), within the windows; -1 when there is none."""
        spec = specs[k]
        cand = rows.of(spec.name)
        row = np.full(len(prev), -1, dtype=np.int64)
        t_out = np.zeros(len(prev), dtype=np.int64)
        live = np.flatnonzero(prev >= 0)
        if len(live) == 0 or len(cand) == 0:
            return row, t_out
        who, after = cust[live], prev[live]
        last = len(cand) - 1
        hi: np.ndarray | None = None
        if len(live) * 4 > len(cand) + rows.index.n_customers:  # many: by the customers' rows
            # the customer's rows of the step are cand[lo:hi]; the answer is the first after
            # ``prev``: cand[lo], unless some are at or before ``prev`` (binary search)
            bounds = rows.bounds(spec.name)
            lo, hi = bounds[who], bounds[who + 1]
            behind = np.flatnonzero((lo < hi) & (cand[np.minimum(lo, last)] <= after))
            at = lo
            at[behind] = np.searchsorted(cand, after[behind], side="right")
        else:  # few: a binary search each
            at = np.searchsorted(cand, after, side="right")
        if spec.min_seconds is not None:  # and at least min_seconds after that step
            earliest = t_prev[live] + spec.min_seconds
            at = np.maximum(at, _search_time(rows, cand, who, earliest))
        if hi is None:  # is it the customer's own row (not a later customer's)?
            hi = np.where(rows.cust[cand[np.minimum(at, last)]] == who, last + 1, 0)
        ok = at < hi
        got = cand[at[ok]]
        live = live[ok]
        if following is not None:
            nxt = following[live]
            ok = (nxt < 0) | (got < nxt)
            live, got = live[ok], got[ok]
        t = _seconds(rows.ts[got])
        ok = np.ones(len(live), dtype=bool)
        if self.window_seconds is not None:
            ok &= t - t0[live] <= self.window_seconds
        limit = self.step_window_seconds[k - 1] if self.step_window_seconds else None
        for upper in (limit, spec.within_seconds):
            if upper is not None:
                ok &= t - t_prev[live] <= upper
        if not ok.all():
            live, got, t = live[ok], got[ok], t[ok]
        row[live] = got
        t_out[live] = t
        return row, t_out

    def _groups_indexed(self, rows: _StepRows, entry: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Each entrant's group code and the group names (entry channel, or one group "")."""
        if self.breakdown is None:
            return np.zeros(len(entry), dtype=np.int64), [""]
        channel = np.asarray(rows.index.channel[entry]).astype(np.int64)
        names = [NONE_GROUP, *rows.index.channels]  # by code + 1; no channel (-1): "(none)"
        labels = sorted(set(names))
        remap = np.array([labels.index(n) for n in names], dtype=np.int64)
        return remap[channel + 1], labels

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


def _raw_frame(
    reached: Sequence[np.ndarray],
    times: Sequence[np.ndarray],
    base: Sequence[int],
    t0: np.ndarray,
    group: np.ndarray,
    labels: Sequence[str],
) -> pd.DataFrame:
    """The SQL's raw rows from per-entrant arrays: per group and step the customers who
    reached it, median and p90 of the seconds from the step it is measured from, and the median
    seconds from the entry."""
    n_groups = len(labels)
    out: list[pd.DataFrame] = []
    for k, row in enumerate(reached):
        hit = np.flatnonzero(row >= 0)
        if n_groups > 1:
            order, bounds = grouped(group[hit], n_groups)
            hit = hit[order]
        else:
            bounds = np.array([0, len(hit)], dtype=np.int64)
        counts = np.diff(bounds)
        if k:
            t = times[k][hit]
            q = quantiles(t - times[base[k]][hit], bounds, (0.5, 0.9))
            start = quantiles(t - t0[hit], bounds, (0.5,))[:, 0]
        else:  # the entry: no time to convert (the SQL's are null)
            q = np.full((n_groups, 2), np.nan)
            start = np.zeros(n_groups)
        present = np.flatnonzero(counts)
        out.append(
            pd.DataFrame(
                {
                    "group": [labels[int(i)] for i in present],
                    "step_index": k + 1,
                    "customers": counts[present],
                    "median_seconds_to_convert": q[present, 0],
                    "p90_seconds_to_convert": q[present, 1],
                    "median_seconds_from_start": start[present],
                }
            )
        )
    return pd.concat(out, ignore_index=True)


@dataclass
class _StepRows:
    """The rows of the sequence index that are events of the funnel's steps (scope and channel
    filter applied; all times), per step name, with the index's ``cust`` and ``ts``."""

    index: SequenceIndex
    cust: np.ndarray
    ts: np.ndarray
    by_name: dict[str, np.ndarray]

    _bounds: dict[str, np.ndarray] = field(default_factory=dict)

    def of(self, name: str) -> np.ndarray:
        """The rows of a step's node, ascending (in sequence order)."""
        return self.by_name[name]

    def bounds(self, name: str) -> np.ndarray:
        """Where each customer's rows start in ``of(name)`` (length customers + 1)."""
        if name not in self._bounds:
            n = self.index.n_customers
            out = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.cust[self.of(name)], minlength=n), out=out[1:])
            self._bounds[name] = out
        return self._bounds[name]


def _step_rows(p: Prepared, names: Sequence[str]) -> _StepRows | None:
    """The rows of the steps' nodes, as :func:`klantreis.engine.sequence.nodes_for` selects
    events (scope, channel filter) but one node at a time: only a fraction of the events are
    ever taken. None when the index does not apply (the SQL runs)."""
    index = p.index
    if index is None:
        return None
    table = _node_codes(p, index)
    if table is None:
        return None
    node, all_names = np.asarray(table[0]), table[1]
    mask = None
    if p.in_scope is not None:
        customers = np.zeros(index.n_customers, dtype=bool)
        customers[p.scope_codes()] = True
        mask = customers[index.cust]
    if p.query.channel:
        channels = {c.strip() for c in p.query.channel.split(",") if c.strip()}
        codes = [i for i, c in enumerate(index.channels) if c in channels]
        in_channel = np.isin(index.channel, np.array(codes, dtype=np.int16))
        mask = in_channel if mask is None else mask & in_channel
    code = {n: i for i, n in enumerate(all_names)}
    by_name: dict[str, np.ndarray] = {}
    for name in dict.fromkeys(names):
        if name not in code:
            by_name[name] = np.zeros(0, dtype=np.int64)
            continue
        hit = node == code[name]
        if mask is not None:
            hit &= mask
        by_name[name] = np.flatnonzero(hit)
    return _StepRows(index, np.asarray(index.cust), np.asarray(index.ts), by_name)


def _seconds(ts: np.ndarray) -> np.ndarray:
    """Whole epoch seconds from microseconds, as ``SequenceIndex.t_s`` (and the SQL)."""
    return np.rint(ts / 1e6).astype(np.int64)


def _search_time(
    rows: _StepRows, cand: np.ndarray, cust: np.ndarray, t_from: np.ndarray
) -> np.ndarray:
    """Per (customer, time): the first position in ``cand`` of that customer at or after that
    time (rows are ordered by customer, then time, so (customer, time) keys are sorted)."""
    t_s = _seconds(rows.ts[cand])
    low = int(t_s.min())
    span = int(t_s.max()) - low + 2
    key = rows.cust[cand].astype(np.int64) * span + (t_s - low)
    wanted = np.clip(np.ceil(t_from).astype(np.int64) - low, 0, span - 1)
    return np.searchsorted(key, cust.astype(np.int64) * span + wanted, side="left")


def _micros(moment: Any) -> int:
    """A naive UTC datetime as microseconds since 1970 (the index's ``ts``)."""
    delta = moment - dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _num(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)
