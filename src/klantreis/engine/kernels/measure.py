"""The measured journey's conversions kernel (see :mod:`klantreis.engine.kernels`)."""

from __future__ import annotations

import numpy as np

from .jit import njit

__all__ = ["conversions"]


@njit(cache=True, nogil=True)
def conversions(
    cust: np.ndarray,
    node: np.ndarray,
    ts: np.ndarray,
    t_s: np.ndarray,
    channel: np.ndarray,
    keep_customer: np.ndarray,
    keep_channel: np.ndarray,
    since: int,
    until: int,
    target: np.ndarray,
    window_seconds: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Per touchpoint j with a target (``target[j] >= 0``): the customers who enter at j (their
    first kept event at j in ``[since, until)``) and those of them with a kept event at
    ``target[j]`` after the entry (at any time) at most ``window_seconds`` later.

    Times only grow along a customer's run, so the first target event after the entry decides:
    a later one is no closer."""
    n = len(cust)
    k = len(target)
    entrants = np.zeros(k, np.int64)
    converted = np.zeros(k, np.int64)
    entered = np.full(k, -1, np.int64)  # the customer who last entered at j
    pending = np.zeros(k, np.bool_)  # that customer's entry still waits for its target
    t0 = np.zeros(k, np.int64)
    is_target = np.zeros(k, np.bool_)
    for j in range(k):
        if target[j] >= 0:
            is_target[target[j]] = True
    for i in range(n):
        # the selection (without the period), written out in the loop: as a helper call it cost
        # ten times the pass; rows of other nodes are skipped first (they change nothing)
        nd = node[i]
        if nd < 0 or not (is_target[nd] or target[nd] >= 0):
            continue
        c = cust[i]
        if not keep_customer[c] or not keep_channel[channel[i] + 1]:
            continue
        if is_target[nd]:
            for j in range(k):
                if pending[j] and entered[j] == c and target[j] == nd:
                    pending[j] = False
                    if t_s[i] - t0[j] <= window_seconds:
                        converted[j] += 1
        if target[nd] >= 0 and entered[nd] != c and since <= ts[i] < until:
            entered[nd] = c
            entrants[nd] += 1
            pending[nd] = True
            t0[nd] = t_s[i]
    return entrants, converted
