"""Outcomes per unit (customer or account): NPS, promoter, conversion, repeat purchase, retention.

Each outcome is one row per unit with ``y`` (in points: NPS points −100/0/100, or 0/100 for a
yes/no outcome, so differences read as percentage points) and ``cutoff_s``, the moment the
outcome became known: what a customer did at or after it cannot have caused it.

- ``nps``: the unit's last NPS answer in the period: promoter (9–10) 100, passive 0, detractor
  (0–6) −100 (the mean is the NPS); cutoff = the answer's time;
- ``promoter``: the same answer, promoter 100 else 0; cutoff = the answer's time;
- ``conversion``: 100 when the unit bought (a purchase in the period), else 0; cutoff = the
  first purchase (none for units that never bought); units = everyone with an event;
- ``repeat_purchase``: among buyers, 100 when they bought again; cutoff = the second purchase;
- ``retention``: among buyers whose first purchase lies ``retention_days`` or more before the
  end of the data, 100 when they bought again later than ``retention_days`` after it; cutoff =
  the second purchase.

Purchases are the events linked to the journey's conversion touchpoints, or the events named
in ``conversion`` (one name or several: a repeat purchase is often a different event than the
first one, e.g. ``purchase,repeat_purchase``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from .lazy import ibis, ir
from .linking import link
from .query import Prepared

__all__ = ["OUTCOMES", "outcome_table", "purchases"]

OUTCOMES = ("nps", "promoter", "conversion", "repeat_purchase", "retention")


def purchases(p: Prepared, conversion: str | Sequence[str] | None) -> tuple[ir.Table, str]:
    """Purchase events in scope (all times): customer_id, t_s, value, and what they are.

    ``conversion``: an event name or several (e.g. ``["purchase", "repeat_purchase"]``); None =
    the events linked to the journey's conversion touchpoints.
    """
    events = p.keep_customers(p.source.events)
    if conversion is not None:
        names = [conversion] if isinstance(conversion, str) else list(conversion)
        rows = events.filter(events.event.isin(names))
        what = f"events named {', '.join(repr(n) for n in names)}"
    else:
        conv = [t.id for t in p.journey.conversion_touchpoints()] if p.journey else []
        if not conv:
            raise UsageError(
                "This analysis needs purchases: the journey has no conversion touchpoint.",
                hint="pass --conversion EVENT, or mark touchpoints with conversion: true.",
            )
        linked = link(events, p.journey)
        rows = linked.filter(linked.touchpoint.isin(conv))
        what = f"conversion touchpoints {', '.join(conv)}"
    out = rows.select(
        "customer_id",
        "event_id",
        "timestamp",
        t_s=rows.timestamp.epoch_seconds().cast("int64"),
        value=rows.value.fill_null(0.0),
    )
    return out, what


def outcome_table(
    p: Prepared,
    outcome: str,
    *,
    conversion: str | Sequence[str] | None,
    retention_days: float = 180.0,
) -> tuple[ir.Table, str]:
    """``customer_id, y, cutoff_s`` for the outcome, and a description of its denominator."""
    if outcome not in OUTCOMES:
        raise UsageError(
            f"Unknown outcome {outcome!r}.", hint=f"use one of: {', '.join(OUTCOMES)}."
        )
    if outcome in ("nps", "promoter"):
        r = p.source.responses
        if p.in_scope is not None:
            r = r.semi_join(p.in_scope, "customer_id")
        r = r.filter((r.metric == "nps") & r.customer_id.notnull())
        cond = p.period.condition(r.timestamp)
        if cond is not None:
            r = r.filter(cond)
        r = r.mutate(t_s=r.timestamp.epoch_seconds().cast("int64"))
        last = r.group_by("customer_id").aggregate(
            score=r.score.argmax(r.t_s), cutoff_s=r.t_s.max()
        )
        if outcome == "nps":
            y = ibis.cases((last.score >= 9, 100.0), (last.score <= 6, -100.0), else_=0.0)
            what = "customers with an NPS answer (their last one)"
        else:
            y = ibis.ifelse(last.score >= 9, 100.0, 0.0)
            what = "customers with an NPS answer (promoter = 9–10)"
        return last.select("customer_id", y=y.cast("float64"), cutoff_s=last.cutoff_s), what
    buys, bought = purchases(p, conversion)
    cond = p.period.condition(buys.timestamp)
    if cond is not None:
        buys = buys.filter(cond)
    order = ibis.window(group_by=buys.customer_id, order_by=[buys.timestamp, buys.event_id])
    buys = buys.mutate(k=ibis.row_number().over(order))
    per = buys.group_by("customer_id").aggregate(
        first_s=buys.t_s.min(),
        second_s=buys.t_s.min(where=buys.k == 1),
        last_s=buys.t_s.max(),
        n=buys.count(),
    )
    if outcome == "conversion":
        everyone = p.in_period.select("customer_id").distinct()
        j = everyone.left_join(per, "customer_id")
        y = ibis.ifelse(j.first_s.notnull(), 100.0, 0.0)
        table = j.select(j.customer_id, y=y, cutoff_s=j.first_s)
        return table, f"customers with an event in the period (bought = {bought})"
    if outcome == "repeat_purchase":
        y = ibis.ifelse(per.n >= 2, 100.0, 0.0)
        table = per.select("customer_id", y=y, cutoff_s=per.second_s)
        return table, f"customers with a purchase ({bought})"
    end_s = p.source.events.timestamp.max().epoch_seconds().cast("int64").as_scalar()
    window_s = int(retention_days * 86400)
    kept = per.filter(per.first_s <= end_s - window_s)
    y = ibis.ifelse(kept.last_s > kept.first_s + window_s, 100.0, 0.0)
    table = kept.select("customer_id", y=y, cutoff_s=kept.second_s)
    return table, (
        f"customers whose first purchase ({bought}) lies {retention_days:g} days or more "
        "before the end of the data"
    )
