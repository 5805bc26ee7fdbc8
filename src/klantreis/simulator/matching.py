"""Events that a touchpoint's match rules accept, and a plain-Python check of those rules.

The simulator must write events that link back to the touchpoint that produced them. For each
match rule it builds concrete events: an exact name as written, a glob with its wildcards
replaced by a plausible word, a regex by walking its parse tree (every alternative of a branch,
one example per character class) and keeping only strings that ``re.fullmatch`` accepts.

``rule_matches`` is the reference semantics of a rule (used by the simulator to avoid ambiguous
events and by the tests): all given conditions hold; property values compare as strings
(``true``/``false`` for booleans).
"""

from __future__ import annotations

import fnmatch
import importlib
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import MatchRule, Touchpoint

__all__ = ["EventSpec", "event_specs", "property_text", "rule_matches", "touchpoint_matches"]

_GLOB_WORDS = ("detail", "overview", "main")
_MAX_PER_RULE = 6


@dataclass(frozen=True)
class EventSpec:
    """One concrete event: name, channel and the properties a rule requires."""

    event: str
    channel: str
    properties: tuple[tuple[str, str], ...] = field(default=())

    def props(self) -> dict[str, str]:
        return dict(self.properties)


def property_text(value: Any) -> str:
    """How a rule's property value is written in the data (properties are strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rule_matches(
    rule: MatchRule, event: str, channel: str | None, properties: Mapping[str, str]
) -> bool:
    """True when the event satisfies every condition of the rule."""
    pattern = rule.event_pattern()
    if pattern is not None:
        how, text = pattern
        if how == "exact" and event != text:
            return False
        if how == "glob" and not fnmatch.fnmatchcase(event, text):
            return False
        if how == "regex" and re.fullmatch(text, event) is None:
            return False
    channels = rule.channels()
    if channels and channel not in channels:
        return False
    for key, wanted in (rule.properties or {}).items():
        options = wanted if isinstance(wanted, list) else [wanted]
        if properties.get(key) not in {property_text(v) for v in options}:
            return False
    return True


def touchpoint_matches(
    tp: Touchpoint, event: str, channel: str | None, properties: Mapping[str, str]
) -> bool:
    """True when any of the touchpoint's rules accepts the event."""
    return any(rule_matches(r, event, channel, properties) for r in tp.match)


def event_specs(tp: Touchpoint) -> list[EventSpec]:
    """Concrete events accepted by the touchpoint (at least one; verified by ``rule_matches``)."""
    specs: list[EventSpec] = []
    for rule in tp.match or [MatchRule(event=tp.id.replace("-", "_"))]:
        for name in _names(rule, tp):
            channels = rule.channels() or [tp.channel]
            prop_options = [
                [(k, property_text(v)) for v in (vals if isinstance(vals, list) else [vals])]
                for k, vals in (rule.properties or {}).items()
            ]
            combos = list(itertools.islice(itertools.product(*prop_options), _MAX_PER_RULE))
            for channel in channels[:_MAX_PER_RULE]:
                for combo in combos:
                    spec = EventSpec(name, channel, tuple(combo))
                    if rule_matches(rule, spec.event, spec.channel, spec.props()):
                        specs.append(spec)
    unique = list(dict.fromkeys(specs))
    if not unique:  # a rule we could not satisfy: fall back to the touchpoint id
        unique = [EventSpec(tp.id.replace("-", "_"), tp.channel)]
    return unique


def _names(rule: MatchRule, tp: Touchpoint) -> list[str]:
    pattern = rule.event_pattern()
    if pattern is None:
        return [tp.id.replace("-", "_")]
    how, text = pattern
    if how == "exact":
        return [text]
    if how == "glob":
        return _glob_names(text)
    return [s for s in itertools.islice(_regex_strings(text), _MAX_PER_RULE * 4)][:_MAX_PER_RULE]


def _glob_names(glob: str) -> list[str]:
    out = []
    for word in _GLOB_WORDS:
        parts: list[str] = []
        for i, ch in enumerate(glob):
            if ch == "*":
                prev = glob[i - 1] if i else ""
                parts.append(f"_{word}" if prev.isalnum() else word)
            elif ch == "?":
                parts.append("x")
            else:
                parts.append(ch)
        name = "".join(parts)
        if fnmatch.fnmatchcase(name, glob):
            out.append(name)
    return list(dict.fromkeys(out)) or [glob.replace("*", "").replace("?", "x")]


# -- regex: walk the parse tree ------------------------------------------------------------
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")


def _regex_strings(regex: str) -> Iterator[str]:
    try:
        tree = _parser.parse(regex)
    except re.error:
        return
    for candidate in _expand(list(tree)):
        if re.fullmatch(regex, candidate) is not None:
            yield candidate


def _expand(items: list[Any]) -> Iterator[str]:
    """Strings for a sequence of parse items (the product of each item's options, capped)."""
    options = [list(itertools.islice(_expand_item(op, av), 4)) for op, av in items]
    for combo in itertools.islice(itertools.product(*options), 16):
        yield "".join(combo)


def _expand_item(op: Any, av: Any) -> Iterator[str]:
    if op is _c.LITERAL:
        yield chr(av)
    elif op is _c.NOT_LITERAL:
        yield "x" if chr(av) != "x" else "y"
    elif op is _c.ANY:
        yield "x"
    elif op is _c.IN:
        yield from _char_class(av)
    elif op is _c.BRANCH:
        for alt in av[1]:
            yield from _expand(list(alt))
    elif op is _c.SUBPATTERN:
        yield from _expand(list(av[-1]))
    elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        low, _high, body = av
        count = max(low, 1)
        for first in itertools.islice(_expand(list(body)), 3):
            yield first * count
    elif op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        yield ""
    elif op is _c.CATEGORY:
        yield _category(av)
    elif op is _c.GROUPREF:
        yield ""
    else:
        yield ""


def _char_class(av: list[Any]) -> Iterator[str]:
    negate = any(op is _c.NEGATE for op, _ in av)
    if negate:
        yield "x"
        return
    for op, val in av:
        if op is _c.LITERAL:
            yield chr(val)
        elif op is _c.RANGE:
            yield chr(val[0])
        elif op is _c.CATEGORY:
            yield _category(val)


def _category(cat: Any) -> str:
    name = str(cat)
    if "DIGIT" in name:
        return "1" if "NOT" not in name else "a"
    if "SPACE" in name:
        return " " if "NOT" not in name else "a"
    if "WORD" in name:
        return "a" if "NOT" not in name else "-"
    return "a"
