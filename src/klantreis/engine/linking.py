"""Linking: events → touchpoints (the journey's match rules) → stages, as Ibis expressions.

A touchpoint's match rules are OR-ed; the conditions inside one rule are AND-ed (see
:class:`klantreis.model.MatchRule`). An event that matches several touchpoints is linked to the
FIRST one in the journey file: every event is linked to at most one touchpoint, so no event is
counted twice.

:func:`at_level` gives the events as *nodes* of one level:

- ``event``: the raw event name (no journey needed);
- ``touchpoint``: the linked touchpoint id (unlinked events are left out);
- ``stage``: the stage of the linked touchpoint (unlinked events are left out);
- ``channel``: the event's own channel, else the linked touchpoint's channel (no journey needed).

Every node row carries ``seq``: its position in the customer's sequence, ordered by
``(timestamp, event_id)`` — ties in timestamps are broken by ``event_id``, so results are
deterministic and equal on every engine — and ``t_s``, the timestamp in whole epoch seconds
(durations are computed from it, so they are whole seconds on every engine).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from ..errors import UsageError
from ..model import Journey, MatchRule
from .lazy import ibis, ir

__all__ = [
    "LEVELS",
    "Level",
    "at_level",
    "collapse_repeats",
    "glob_to_regex",
    "link",
    "node_order",
    "rule_condition",
]

Level = Literal["event", "touchpoint", "stage", "channel"]
LEVELS: tuple[str, ...] = ("event", "touchpoint", "stage", "channel")


def glob_to_regex(pattern: str) -> str:
    """``*`` = any run of characters, ``?`` = one character; everything else literal."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rule_condition(events: ir.Table, rule: MatchRule) -> ir.BooleanValue:
    """The condition under which an event matches one rule."""
    conds: list[ir.BooleanValue] = []
    pattern = rule.event_pattern()
    if pattern is not None:
        kind, text = pattern
        if kind == "exact":
            conds.append(events.event == text)
        elif kind == "glob":
            if "*" in text or "?" in text:
                conds.append(events.event.re_search(f"^(?:{glob_to_regex(text)})$"))
            else:
                conds.append(events.event == text)
        else:
            conds.append(events.event.re_search(f"^(?:{text})$"))
    channels = rule.channels()
    if channels:
        conds.append(events.channel.isin(channels))
    for key, expected in (rule.properties or {}).items():
        value = events.properties.get(key)
        if isinstance(expected, list):
            conds.append(value.isin([_text(v) for v in expected]))
        else:
            conds.append(value == _text(expected))
    if not conds:
        return ibis.literal(False)
    out = conds[0]
    for c in conds[1:]:
        out = out & c
    return out.fill_null(False)


def link(events: ir.Table, journey: Journey | None) -> ir.Table:
    """The events with ``touchpoint``, ``stage`` and ``touchpoint_channel`` (null when unlinked)."""
    null = ibis.null().cast("string")
    if journey is None or not journey.touchpoints:
        return events.mutate(touchpoint=null, stage=null, touchpoint_channel=null)
    branches = []
    for tp in journey.touchpoints:
        if not tp.match:
            continue
        cond = rule_condition(events, tp.match[0])
        for rule in tp.match[1:]:
            cond = cond | rule_condition(events, rule)
        branches.append((cond, tp.id))
    if not branches:
        return events.mutate(touchpoint=null, stage=null, touchpoint_channel=null)
    linked = events.mutate(touchpoint=ibis.cases(*branches, else_=null))
    stage_of = [(linked.touchpoint == tp.id, tp.stage) for tp in journey.touchpoints]
    channel_of = [(linked.touchpoint == tp.id, tp.channel) for tp in journey.touchpoints]
    return linked.mutate(
        stage=ibis.cases(*stage_of, else_=null),
        touchpoint_channel=ibis.cases(*channel_of, else_=null),
    )


def node_order(journey: Journey | None, level: str) -> list[str]:
    """The designed order of a level's nodes: stages by order, touchpoints by stage then file."""
    if journey is None:
        return []
    if level == "stage":
        return [s.id for s in journey.stages_in_order()]
    if level == "touchpoint":
        return [t.id for t in journey.touchpoints_in_order()]
    return []


def check_level(level: str, journey: Journey | None) -> None:
    if level not in LEVELS:
        raise UsageError(f"Unknown level {level!r}.", hint=f"use one of: {', '.join(LEVELS)}.")
    if level in ("touchpoint", "stage") and journey is None:
        raise UsageError(
            f"Level {level!r} needs a journey, and there is none.",
            hint="pass --journey ID, or use --level event or --level channel (raw data).",
        )


def at_level(
    events: ir.Table,
    journey: Journey | None,
    level: str,
    *,
    only_nodes: Sequence[str] | None = None,
) -> ir.Table:
    """The events as nodes of ``level`` with ``node``, ``seq`` and ``t_s`` (see module doc).

    ``only_nodes``: keep only these nodes BEFORE numbering, so ``seq`` numbers the customer's
    sequence of those nodes; the order between any two of them is the same as in the full
    sequence, and the window that numbers them sorts only the rows kept.
    """
    check_level(level, journey)
    if level == "event":
        nodes = events.mutate(node=events.event, touchpoint=ibis.null().cast("string"))
    else:
        linked = link(events, journey)
        if level == "touchpoint":
            nodes = linked.mutate(node=linked.touchpoint)
        elif level == "stage":
            nodes = linked.mutate(node=linked.stage)
        else:
            nodes = linked.mutate(node=linked.channel.fill_null(linked.touchpoint_channel))
        nodes = nodes.filter(nodes.node.notnull())
    nodes = nodes.select(
        "customer_id",
        "event_id",
        "timestamp",
        "event",
        "channel",
        "session_id",
        "value",
        "properties",
        "touchpoint",
        "node",
    )
    if only_nodes is not None:
        nodes = nodes.filter(nodes.node.isin(list(only_nodes)))
    order = ibis.window(group_by=nodes.customer_id, order_by=[nodes.timestamp, nodes.event_id])
    return nodes.mutate(
        seq=ibis.row_number().over(order),
        t_s=nodes.timestamp.epoch_seconds().cast("int64"),
    )


def collapse_repeats(nodes: ir.Table) -> ir.Table:
    """Drops a node that repeats the customer's previous node (``a a b a`` → ``a b a``)."""
    order = ibis.window(group_by=nodes.customer_id, order_by=nodes.seq)
    marked = nodes.mutate(_previous=nodes.node.lag().over(order))
    kept = marked.filter(marked._previous.isnull() | (marked._previous != marked.node)).drop(
        "_previous"
    )
    again = ibis.window(group_by=kept.customer_id, order_by=kept.seq)
    return kept.mutate(seq=ibis.row_number().over(again))
