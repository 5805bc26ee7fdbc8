"""Conformance: the designed journey as a model, checked against the journeys customers take.

At the stage level (default; or ``touchpoint``: the touchpoints in their designed order), a
unit's sequence is its nodes in the period ordered by ``(timestamp, event_id)`` with direct
repeats collapsed (``a a b`` → ``a b``). Against the designed order 1…n, each move is:

- *forward* by one (as designed), a *skip* (forward by k > 1: k − 1 stages skipped), or
- *backward* (to an earlier stage).

A unit **conforms** when it starts at the first stage, never moves backward and skips nothing.
Rows: one per group — ``(all)`` and, with ``breakdown="persona"`` (default), each declared
persona (a unit can match several personas; ``None`` or ``"none"``: only ``(all)``) — with the shares of units that conform, start at
the first stage, skip a stage and move backward. ``tables``:

- ``skipped``: per stage, units that jumped over it (and the share of units that went past it);
- ``backward``: the backward moves (from, to) with their counts;
- ``unused_touchpoints``: touchpoints on the map that no event in scope links to (no match
  rules, or rules that match nothing);
- ``unmapped_events``: the most frequent events that link to no touchpoint (``top_k``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from ..errors import UsageError
from .filters import customers_matching
from .lazy import ibis, ir
from .linking import collapse_repeats, link, node_order
from .query import Prepared, Query, prepare
from .results import Result
from .source import Source

__all__ = ["ConformanceQuery", "ConformanceResult"]

ALL = "(all)"


class ConformanceResult(Result):
    """Rows: one per group ((all), then each persona)."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "group",
        "customers",
        "conforming_share",
        "starts_at_first_share",
        "skip_share",
        "backward_share",
        "mean_backward_moves",
    )


@dataclass(frozen=True, kw_only=True)
class ConformanceQuery(Query):
    analysis: ClassVar[str] = "conformance"
    default_level: ClassVar[str] = "stage"

    breakdown: str | None = "persona"
    top_k: int = 20

    def run(self, source: Source) -> ConformanceResult:
        if self.breakdown not in (None, "none", "persona"):
            raise UsageError(f"Unknown breakdown {self.breakdown!r}.", hint="use persona, or none.")
        p = prepare(source, self)
        if p.journey is None or p.level not in ("stage", "touchpoint"):
            raise UsageError(
                f"Conformance compares with the designed journey: use level stage or touchpoint, "
                f"not {p.level!r}, with a journey."
            )
        order = node_order(p.journey, p.level)
        index = {n: i + 1 for i, n in enumerate(order)}
        nodes = collapse_repeats(p.in_period)
        idx = ibis.cases(*[(nodes.node == n, i) for n, i in index.items()], else_=ibis.literal(0))
        nodes = nodes.mutate(idx=idx)
        w = ibis.window(group_by=nodes.customer_id, order_by=nodes.seq)
        nodes = nodes.mutate(prev=nodes.idx.lag().over(w))
        step = nodes.idx - nodes.prev
        nodes = nodes.mutate(
            backward=(step < 0).fill_null(False).cast("int64"),
            skipped=ibis.greatest(step - 1, 0).fill_null(0).cast("int64"),
        )
        per = nodes.group_by("customer_id").aggregate(
            first_idx=nodes.idx.argmin(nodes.seq),
            backward=nodes.backward.sum(),
            skipped=nodes.skipped.sum(),
        )
        grouped = self._groups(p, per)
        expr = grouped.group_by("group").aggregate(
            customers=grouped.count(),
            conforming=((grouped.first_idx == 1) & (grouped.backward == 0) & (grouped.skipped == 0))
            .cast("int64")
            .sum(),
            starts_at_first=(grouped.first_idx == 1).cast("int64").sum(),
            with_skip=(grouped.skipped > 0).cast("int64").sum(),
            with_backward=(grouped.backward > 0).cast("int64").sum(),
            backward_moves=grouped.backward.sum(),
        )
        raw = source.execute(expr)
        frame = self._frame(p, raw)
        moves = nodes.filter(nodes.prev.notnull() & (nodes.prev != nodes.idx))
        trans = source.execute(
            moves.group_by(["prev", "idx"]).aggregate(
                n=moves.count(), customers=moves.customer_id.nunique()
            )
        )
        reached = source.execute(per.aggregate(n=per.count()))
        units = int(reached["n"].iloc[0]) if len(reached) else 0
        tables = {
            "skipped": _skipped(trans, order, nodes, source),
            "backward": _backward(trans, order, units),
            "unused_touchpoints": _unused(p, source),
            "unmapped_events": _unmapped(p, source, self.top_k),
        }
        return ConformanceResult(
            analysis=self.analysis,
            frame=frame,
            query=self,
            scope=p.scope(),
            denominator=f"customers with an event at the {p.level} level in the period",
            meta={"order": order, "customers": units},
            tables=tables,
            expr=expr,
        )

    def _groups(self, p: Prepared, per: ir.Table) -> ir.Table:
        everyone = per.mutate(group=ibis.literal(ALL))
        personas = p.journey.personas if p.journey is not None else []
        if self.breakdown != "persona" or not personas:
            return everyone
        parts = [everyone]
        for persona in personas:
            members = customers_matching(p.source.customers, persona.attributes)
            parts.append(
                per.semi_join(members, "customer_id").mutate(group=ibis.literal(persona.id))
            )
        return ibis.union(*parts, distinct=False)

    def _frame(self, p: Prepared, raw: pd.DataFrame) -> pd.DataFrame:
        groups = [ALL]
        if self.breakdown == "persona" and p.journey is not None:
            groups += [x.id for x in p.journey.personas]
        by: dict[str, Any] = {str(r["group"]): r for r in raw.to_dict(orient="records")}
        rows: list[dict[str, Any]] = []
        for g in groups:
            n = int(by[g]["customers"]) if g in by else 0

            def share(col: str, g: str = g, n: int = n) -> float | None:
                return float(by[g][col]) / n if n else None

            rows.append(
                {
                    "group": g,
                    "customers": n,
                    "conforming_share": share("conforming"),
                    "starts_at_first_share": share("starts_at_first"),
                    "skip_share": share("with_skip"),
                    "backward_share": share("with_backward"),
                    "mean_backward_moves": share("backward_moves"),
                    "no_data": n == 0,
                }
            )
        return pd.DataFrame(rows)


def _skipped(
    trans: pd.DataFrame, order: list[str], nodes: ir.Table, source: Source
) -> pd.DataFrame:
    skipped = {k: 0 for k in range(1, len(order) + 1)}
    for rec in trans.to_dict(orient="records"):
        a, b, n = int(rec["prev"]), int(rec["idx"]), int(rec["n"])
        for k in range(a + 1, b):
            skipped[k] += n
    far = nodes.group_by("customer_id").aggregate(top=nodes.idx.max(), low=nodes.idx.min())
    past = source.execute(
        far.aggregate(
            **{f"p{k}": ((far.low < k) & (far.top > k)).cast("int64").sum() for k in skipped}
        )
    )
    rows = []
    for k, n in skipped.items():
        went_past = int(past[f"p{k}"].iloc[0]) if len(past) else 0
        rows.append(
            {
                "node": order[k - 1],
                "skips": n,
                "customers_past": went_past,
                "skip_share_of_past": n / went_past if went_past else None,
            }
        )
    return pd.DataFrame(rows)


def _backward(trans: pd.DataFrame, order: list[str], units: int) -> pd.DataFrame:
    back = trans[trans["idx"] < trans["prev"]] if len(trans) else trans
    rows = [
        {
            "from": order[int(r["prev"]) - 1],
            "to": order[int(r["idx"]) - 1],
            "moves": int(r["n"]),
            "customers": int(r["customers"]),
            "customer_share": int(r["customers"]) / units if units else None,
        }
        for r in back.to_dict(orient="records")
        if int(r["prev"]) > 0 and int(r["idx"]) > 0
    ]
    frame = pd.DataFrame(rows, columns=["from", "to", "moves", "customers", "customer_share"])
    return frame.sort_values(["moves", "from", "to"], ascending=[False, True, True]).reset_index(
        drop=True
    )


def _linked(p: Prepared) -> ir.Table:
    events = p.keep_customers(p.source.events)
    cond = p.period.condition(events.timestamp)
    return link(events.filter(cond) if cond is not None else events, p.journey)


def _unused(p: Prepared, source: Source) -> pd.DataFrame:
    linked = _linked(p)
    hit = linked.filter(linked.touchpoint.notnull())
    used = source.execute(hit.group_by("touchpoint").aggregate(events=hit.count()))
    have = set(used["touchpoint"].astype(str))
    rows = [
        {
            "touchpoint": t.id,
            "stage": t.stage,
            "channel": t.channel,
            "reason": "no match rules" if not t.match else "no event matches its rules",
        }
        for t in (p.journey.touchpoints_in_order() if p.journey else [])
        if t.id not in have
    ]
    return pd.DataFrame(rows, columns=["touchpoint", "stage", "channel", "reason"])


def _unmapped(p: Prepared, source: Source, top_k: int) -> pd.DataFrame:
    linked = _linked(p)
    total = linked.count()
    free = linked.filter(linked.touchpoint.isnull())
    expr = (
        free.group_by("event")
        .aggregate(events=free.count(), customers=free.customer_id.nunique())
        .order_by([ibis.desc("events"), "event"])
        .limit(top_k)
    )
    frame = source.execute(expr)
    n = int(source.execute(total))
    frame["event_share"] = frame["events"] / n if n else None
    return frame.reset_index(drop=True)
