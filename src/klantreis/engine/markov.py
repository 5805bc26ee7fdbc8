"""Markov-chain attribution: removal effects on the absorbing chain of transition counts.

The definition of Anderl, Becker, von Wangenheim and Schumann (2016), "Mapping the customer
journey: lessons learned from graph-based online attribution modeling" (IJRM 33(3)), as the
ChannelAttribution package implements it:

- every path (one customer's touches up to a conversion, or after the last one) starts in
  ``(start)`` and ends in ``(conversion)`` or ``(null)``; the transient states are the touches
  (order k: the last k channels of the path so far, fewer at the path's start);
- transition probabilities are the observed counts per (from, to), normalised per ``from``;
- ``P(conv)`` = the probability to be absorbed in ``(conversion)`` from ``(start)``;
- removing a channel c sends every transition into a state that contains c to ``(null)``;
  ``removal_effect(c) = 1 − P(conv without c) / P(conv)``;
- attributed conversions of c = removal effects normalised to sum 1 × total conversions.

For revenue the conversion transitions carry their mean value, so the chain gives the expected
value from ``(start)``; removal effects on that expectation share out the total value.

Pure numpy on the small matrix of aggregated transition counts (never on events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError

__all__ = [
    "CONVERSION",
    "NULL",
    "SEPARATOR",
    "START",
    "MarkovChain",
    "chain_from_transitions",
]

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
#: Separates the channels of a higher-order state (``"search > email"``).
SEPARATOR = " > "
MAX_STATES = 5000


@dataclass
class MarkovChain:
    """The transient states and the counts between them (``counts[i, j]``; terminal columns)."""

    states: list[str]  # transient states; states[0] == START
    counts: np.ndarray  # (S, S) transitions between transient states
    to_conversion: np.ndarray  # (S,) transitions into (conversion)
    to_null: np.ndarray  # (S,) transitions into (null)
    conversion_value: np.ndarray  # (S,) summed value of the transitions into (conversion)

    def channels_of(self, state: str) -> set[str]:
        return set() if state == START else set(state.split(SEPARATOR))

    def channels(self) -> list[str]:
        out: set[str] = set()
        for s in self.states:
            out |= self.channels_of(s)
        return sorted(out)

    def _absorbed(self, removed: str | None, *, value: bool) -> float:
        """P(conversion from start) — or the expected value — with ``removed`` taken out."""
        totals = self.counts.sum(axis=1) + self.to_conversion + self.to_null
        safe = np.where(totals > 0, totals, 1.0)
        q = self.counts / safe[:, None]
        r = (self.conversion_value if value else self.to_conversion) / safe
        if removed is not None:
            gone = np.array([removed in self.channels_of(s) for s in self.states])
            q = q.copy()
            q[:, gone] = 0.0  # into a removed state = into (null)
            q[gone, :] = 0.0
            r = np.where(gone, 0.0, r)
        n = len(self.states)
        x = np.linalg.solve(np.eye(n) - q, r)
        return float(x[0])

    def conversion_probability(self, removed: str | None = None) -> float:
        return self._absorbed(removed, value=False)

    def expected_value(self, removed: str | None = None) -> float:
        return self._absorbed(removed, value=True)

    def removal_effects(self, *, value: bool = False) -> dict[str, float]:
        """``1 − P(conv without c) / P(conv)`` per channel (0 when nothing converts)."""
        base = self._absorbed(None, value=value)
        out: dict[str, float] = {}
        for c in self.channels():
            out[c] = 0.0 if base <= 0 else 1.0 - self._absorbed(c, value=value) / base
        return out


def chain_from_transitions(
    sources: Sequence[str],
    targets: Sequence[str],
    counts: Sequence[float],
    values: Sequence[float] | None = None,
) -> MarkovChain:
    """A chain from aggregated transitions (``from``, ``to``, count[, value into conversion])."""
    names = {START}
    for s, t in zip(sources, targets, strict=True):
        names.add(s)
        if t not in (CONVERSION, NULL):
            names.add(t)
    states = [START, *sorted(names - {START})]
    if len(states) > MAX_STATES:
        raise UsageError(
            f"The Markov chain has {len(states):,} states; at most {MAX_STATES:,} are solved.",
            hint="use a lower markov_order or a coarser level (channel or stage).",
        )
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    m = np.zeros((n, n))
    conv = np.zeros(n)
    null = np.zeros(n)
    val = np.zeros(n)
    vals = list(values) if values is not None else [0.0] * len(counts)
    for s, t, c, v in zip(sources, targets, counts, vals, strict=True):
        i = index[s]
        if t == CONVERSION:
            conv[i] += float(c)
            val[i] += float(v or 0.0)
        elif t == NULL:
            null[i] += float(c)
        else:
            m[i, index[t]] += float(c)
    return MarkovChain(states, m, conv, null, val)
