"""Funnel steps with options, and exclusion steps (see :mod:`klantreis.engine.funnel`).

A step is a node name (``"checkout"``) or a :class:`Step` with options:

- ``within_seconds``: at most this long after the previous (required) step's event;
- ``min_seconds``: at least this long after it;
- ``optional``: the customer may skip it (see below);
- ``where``: event property filters, ``{"method": "ideal"}`` (equals) or
  ``{"method": ["ideal", "card"]}`` (in).

Optional steps do not gate the funnel: the required steps form the ordered funnel on their
own, and an optional step between required steps i and j counts the customers at step i
with an event of it after step i's event and before step j's event (any time after step i,
within the window, when they did not reach j). Its ``conversion_from_previous`` is a share of
step i's customers; a required step's is a share of the previous required step's.

An :class:`Exclude` removes from the whole funnel (every step, the entrants too) the customers
with an event of ``name`` (matching ``where``) after the event that reached step
``after_step`` and before the event that reached ``before_step`` (default: the last required
step; any time after ``after_step`` when they did not reach it, within the window).
``meta["excluded_customers"]`` counts them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

from ..errors import UsageError
from .lazy import ibis, ir

__all__ = [
    "Exclude",
    "Step",
    "as_exclude",
    "as_step",
    "events_of",
    "excluded_customers",
    "optional_reached",
    "time_conditions",
    "where_condition",
]

Where = Mapping[str, str | Sequence[str]]


def _where_dict(where: Where | None) -> dict[str, Any] | None:
    if not where:
        return None
    return {k: v if isinstance(v, str) else list(v) for k, v in where.items()}


@dataclass(frozen=True)
class Step:
    """One funnel step: a node at the query's level, with options (see the module doc)."""

    name: str
    _: KW_ONLY
    within_seconds: float | None = None
    min_seconds: float | None = None
    optional: bool = False
    where: Where | None = None

    def __post_init__(self) -> None:
        for label, value in (
            ("within_seconds", self.within_seconds),
            ("min_seconds", self.min_seconds),
        ):
            if value is not None and value < 0:
                raise UsageError(f"Step {self.name!r}: {label} must be 0 or more, got {value}.")
        if (
            self.within_seconds is not None
            and self.min_seconds is not None
            and self.min_seconds > self.within_seconds
        ):
            raise UsageError(
                f"Step {self.name!r}: min_seconds ({self.min_seconds}) is more than "
                f"within_seconds ({self.within_seconds}); no event can satisfy both."
            )

    @property
    def plain(self) -> bool:
        """No options: the step behaves as its bare name."""
        return (
            self.within_seconds is None
            and self.min_seconds is None
            and not self.optional
            and not self.where
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.within_seconds is not None:
            out["within_seconds"] = self.within_seconds
        if self.min_seconds is not None:
            out["min_seconds"] = self.min_seconds
        if self.optional:
            out["optional"] = True
        if self.where:
            out["where"] = _where_dict(self.where)
        return out


@dataclass(frozen=True)
class Exclude:
    """Customers with this event between two steps leave the funnel (see the module doc)."""

    name: str
    _: KW_ONLY
    where: Where | None = None
    after_step: int = 1
    before_step: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "after_step": self.after_step}
        if self.before_step is not None:
            out["before_step"] = self.before_step
        if self.where:
            out["where"] = _where_dict(self.where)
        return out


def as_step(step: str | Step | Mapping[str, Any]) -> Step:
    """A :class:`Step` from a name, a Step, or its dict form (``{"name": ..., ...}``)."""
    if isinstance(step, Step):
        return step
    if isinstance(step, str):
        return Step(step)
    if isinstance(step, Mapping) and "name" in step:
        return Step(**dict(step))
    raise UsageError(f"A funnel step is a name or a Step, got {step!r}.")


def as_exclude(item: str | Exclude | Mapping[str, Any]) -> Exclude:
    if isinstance(item, Exclude):
        return item
    if isinstance(item, str):
        return Exclude(item)
    if isinstance(item, Mapping) and "name" in item:
        return Exclude(**dict(item))
    raise UsageError(f"An exclusion is a name or an Exclude, got {item!r}.")


def where_condition(events: ir.Table, where: Where | None) -> ir.BooleanValue | None:
    """Event property filters: a value = equals, a list = in (values compared as text)."""
    if not where:
        return None
    conds = []
    for key, expected in where.items():
        value = events.properties.get(key)
        if isinstance(expected, str):
            conds.append(value == expected)
        else:
            conds.append(value.isin([str(v) for v in expected]))
    out = conds[0]
    for c in conds[1:]:
        out = out & c
    return out.fill_null(False)


def events_of(events: ir.Table, item: Step | Exclude) -> ir.Table:
    """The node rows of a step or an exclusion (its name, its property filters)."""
    out = events.filter(events.node == item.name)
    cond = where_condition(out, item.where)
    return out if cond is None else out.filter(cond)


def optional_reached(
    events: ir.Table,
    step: Step,
    base: ir.Table,
    following: ir.Table | None,
    *,
    window_seconds: float | None,
    step_window_seconds: float | None,
) -> ir.Table:
    """Customers of ``base`` (the previous required step) who did the optional ``step`` after it
    and before ``following`` (the next required step), as a chain table."""
    cand = events_of(events, step).select("customer_id", "seq", "t_s")
    left = base
    if following is not None:
        nxt = following.select("customer_id", "group", seq_next=following.seq_prev)
        left = base.left_join(nxt, ["customer_id", "group"]).drop(
            "customer_id_right", "group_right"
        )
    j = left.join(cand, "customer_id")
    conds = [j.seq > j.seq_prev]
    if following is not None:
        conds.append(j.seq_next.isnull() | (j.seq < j.seq_next))
    conds += time_conditions(j, step, window_seconds, step_window_seconds)
    j = j.filter(*conds)
    got = j.group_by(["customer_id", "group", "t0", "t_prev"]).aggregate(
        seq=j.seq.min(), t=j.t_s.argmin(j.seq)
    )
    return got.select(
        "customer_id", "group", "t0", seq_prev=got.seq, t_prev=got.t, dt=got.t - got.t_prev
    )


def time_conditions(
    j: ir.Table, step: Step, window_seconds: float | None, step_window_seconds: float | None
) -> list[ir.BooleanValue]:
    """The window from entry, the step window (old option) and the step's own limits."""
    conds = []
    if window_seconds is not None:
        conds.append(j.t_s - j.t0 <= window_seconds)
    if step_window_seconds is not None:
        conds.append(j.t_s - j.t_prev <= step_window_seconds)
    if step.within_seconds is not None:
        conds.append(j.t_s - j.t_prev <= step.within_seconds)
    if step.min_seconds is not None:
        conds.append(j.t_s - j.t_prev >= step.min_seconds)
    return conds


def excluded_customers(
    events: ir.Table,
    excludes: Sequence[Exclude],
    chain: Sequence[ir.Table],
    *,
    window_seconds: float | None,
) -> ir.Table | None:
    """The customer ids (with their group) that an exclusion removes; None without exclusions."""
    parts = []
    for ex in excludes:
        start = chain[ex.after_step - 1]
        end = chain[(ex.before_step or len(chain)) - 1]
        nxt = end.select("customer_id", "group", seq_end=end.seq_prev)
        left = start.left_join(nxt, ["customer_id", "group"]).drop(
            "customer_id_right", "group_right"
        )
        bad = events_of(events, ex).select("customer_id", seq_x="seq", t_x="t_s")
        j = left.join(bad, "customer_id")
        conds = [j.seq_x > j.seq_prev]
        open_end = j.seq_end.isnull()
        if window_seconds is not None:
            open_end = open_end & (j.t_x - j.t0 <= window_seconds)
        conds.append(open_end | (j.seq_x < j.seq_end))
        parts.append(j.filter(*conds).select("customer_id", "group"))
    if not parts:
        return None
    return (ibis.union(*parts) if len(parts) > 1 else parts[0]).distinct()
