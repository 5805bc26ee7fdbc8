"""The pain points kernel (see :mod:`klantreis.engine.kernels` for the conventions)."""

from __future__ import annotations

import numpy as np

from .common import quantile_inplace
from .jit import njit

__all__ = ["pain_points"]


@njit(cache=True, nogil=True)
def pain_points(
    cust: np.ndarray,
    node: np.ndarray,
    touchpoint: np.ndarray,
    ts: np.ndarray,
    t_s: np.ndarray,
    channel: np.ndarray,
    keep_customer: np.ndarray,
    keep_channel: np.ndarray,
    since: int,
    until: int,
    k: int,
    conversion: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Per node (k of them): the distinct customers reached, the median seconds from an event
    at the node to the customer's next kept event, and the customers whose last kept event is
    at the node and none of whose kept events is at a conversion touchpoint
    (``conversion[touchpoint[i]]``); and the number of distinct customers kept."""
    n = len(cust)
    reach = np.zeros(k, np.int64)
    drops = np.zeros(k, np.int64)
    waits = np.zeros(k, np.int64)  # events at the node followed by one of the same customer
    last = np.full(k, -1, np.int64)
    customers = 0
    prev_c = -1
    prev_node = -1
    converted = False
    for i in range(n):
        # the selection, written out in the loop: as a helper call it cost ten times the pass
        nd = node[i]
        if nd < 0:
            continue
        c = cust[i]
        if not keep_customer[c] or not keep_channel[channel[i] + 1]:
            continue
        moment = ts[i]
        if moment < since or moment >= until:
            continue
        if c == prev_c:
            waits[prev_node] += 1
        else:
            if prev_c >= 0 and not converted:
                drops[prev_node] += 1
            customers += 1
            converted = False
        if last[nd] != c:
            last[nd] = c
            reach[nd] += 1
        if conversion[touchpoint[i]]:
            converted = True
        prev_c = c
        prev_node = nd
    if prev_c >= 0 and not converted:
        drops[prev_node] += 1
    starts = np.zeros(k + 1, np.int64)
    for g in range(k):
        starts[g + 1] = starts[g] + waits[g]
    fill = starts[:-1].copy()
    seconds = np.empty(starts[k], np.int64)
    prev_c = -1
    prev_t = 0
    for i in range(n):
        nd = node[i]
        if nd < 0:
            continue
        c = cust[i]
        if not keep_customer[c] or not keep_channel[channel[i] + 1]:
            continue
        moment = ts[i]
        if moment < since or moment >= until:
            continue
        t = t_s[i]
        if c == prev_c:
            seconds[fill[prev_node]] = t - prev_t
            fill[prev_node] += 1
        prev_c = c
        prev_node = nd
        prev_t = t
    median = np.full(k, np.nan)
    for g in range(k):
        if waits[g] > 0:
            median[g] = quantile_inplace(seconds, starts[g], starts[g + 1], 0.5)
    return reach, median, drops, customers
