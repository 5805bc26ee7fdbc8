"""Checks that span several fields of a journey, collected (never stopping at the first)."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ..errors import Problem
from .journey import CHANNELS, Journey

__all__ = ["check_journey", "close_matches"]


def close_matches(value: str, options: list[str] | tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(value.strip().lower(), list(options), n=1, cutoff=0.6)
    return f"did you mean {found[0]!r}?" if found else None


def check_journey(journey: Journey) -> list[Problem]:
    """Every cross-field problem of a journey that passed field validation."""
    return list(_problems(journey))


def _problems(j: Journey) -> Iterator[Problem]:
    yield from _duplicates("stages", [s.id for s in j.stages], "stage")
    yield from _duplicates("touchpoints", [t.id for t in j.touchpoints], "touchpoint")
    yield from _duplicates("personas", [p.id for p in j.personas], "persona")
    yield from _duplicates("segments", [s.id for s in j.segments], "segment")

    orders = sorted(s.order for s in j.stages)
    expected = list(range(1, len(j.stages) + 1))
    if orders != expected:
        counts = Counter(orders)
        for i, s in enumerate(j.stages):
            if counts[s.order] > 1 or s.order > len(j.stages):
                yield Problem(
                    code="stage_order",
                    message=(
                        f"Stage {s.id!r} has order {s.order}; the stage orders are "
                        f"{orders}, which is not 1..{len(j.stages)} without gaps or repeats."
                    ),
                    path=f"stages[{i}].order",
                    value=s.order,
                    allowed=f"each of 1..{len(j.stages)} exactly once",
                    hint="number the stages 1, 2, 3, ... in the order customers go through them.",
                )

    stage_ids = [s.id for s in j.stages]
    for i, t in enumerate(j.touchpoints):
        if t.stage not in stage_ids:
            yield Problem(
                code="unknown_stage",
                message=f"Unknown stage {t.stage!r} in touchpoint {t.id!r}.",
                path=f"touchpoints[{i}].stage",
                value=t.stage,
                allowed="known stages: " + ", ".join(stage_ids),
                hint=_stage_hint(j, t.stage),
            )
        if t.channel not in CHANNELS:
            yield Problem(
                code="unknown_channel",
                message=f"Unknown channel {t.channel!r} in touchpoint {t.id!r}.",
                path=f"touchpoints[{i}].channel",
                value=t.channel,
                allowed=", ".join(CHANNELS),
                hint=close_matches(t.channel, CHANNELS) or "use 'other' for anything else.",
            )
        for k, rule in enumerate(t.match):
            yield from _rule_problems(rule.model_dump(), f"touchpoints[{i}].match[{k}]", t.id)


def _stage_hint(j: Journey, value: str) -> str | None:
    """Suggest a stage id for a typo or for a stage's English or Dutch name."""
    wanted = value.strip().lower()
    for s in j.stages:
        if wanted in (s.name.en.lower(), s.name.nl.lower()):
            return f"did you mean {s.id!r} ({s.name.en} / {s.name.nl})?"
    return close_matches(value, [s.id for s in j.stages])


def _rule_problems(rule: dict[str, Any], path: str, tp: str) -> Iterator[Problem]:
    names = [k for k in ("event", "event_glob", "event_regex") if rule.get(k) is not None]
    if len(names) != 1:
        yield Problem(
            code="match_event",
            message=(
                f"Match rule of touchpoint {tp!r} must name the event exactly once; "
                f"it has {', '.join(names) or 'none'}."
            ),
            path=path,
            value=names,
            allowed="one of event, event_glob, event_regex",
            hint="use event: for an exact name, event_glob: for 'cart_*', event_regex: for a pattern.",
        )
    regex = rule.get("event_regex")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            yield Problem(
                code="bad_regex",
                message=f"Bad regular expression {regex!r} in touchpoint {tp!r}: {exc}.",
                path=f"{path}.event_regex",
                value=regex,
                allowed="a Python regular expression",
                hint="escape special characters such as '(' or '[' with a backslash, or use event_glob.",
            )


def _duplicates(field: str, ids: list[str], what: str) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            yield Problem(
                code="duplicate_id",
                message=f"Duplicate {what} id {ident!r} (first used at {field}[{seen[ident]}]).",
                path=f"{field}[{i}].id",
                value=ident,
                allowed=f"each {what} id once",
                hint=f"rename one of the two {what}s.",
            )
        else:
            seen[ident] = i
