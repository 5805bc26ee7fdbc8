"""The transitions kernel (see :mod:`klantreis.engine.kernels` for the conventions)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import quantile_inplace

__all__ = ["transitions"]


@njit(cache=True, nogil=True)
def transitions(
    cust: np.ndarray,
    node: np.ndarray,
    ts: np.ndarray,
    t_s: np.ndarray,
    channel: np.ndarray,
    keep_customer: np.ndarray,
    keep_channel: np.ndarray,
    since: int,
    until: int,
    k: int,
    collapse: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Directly-follows edges ``source * k + target``: count, distinct customers (customers
    are contiguous, so a customer is new to an edge when it differs from the edge's last one),
    median and p90 of the seconds between the two events."""
    n = len(cust)
    kk = k * k
    counts = np.zeros(kk, np.int64)
    customers = np.zeros(kk, np.int64)
    last = np.full(kk, -1, np.int64)
    prev_c = -1
    prev_node = -1
    for i in range(n):
        t = ts[i]  # the selection, written out (as a call to a helper it ran 3x slower)
        if t < since or t >= until:
            continue
        nd = node[i]
        if nd < 0:
            continue
        c = cust[i]
        if not keep_customer[c] or not keep_channel[channel[i] + 1]:
            continue
        if c == prev_c:
            if collapse and nd == prev_node:
                continue
            e = prev_node * k + nd
            counts[e] += 1
            if last[e] != c:
                last[e] = c
                customers[e] += 1
        prev_c = c
        prev_node = nd
    starts = np.zeros(kk + 1, np.int64)
    for e in range(kk):
        starts[e + 1] = starts[e] + counts[e]
    fill = starts[:-1].copy()
    seconds = np.empty(starts[kk], np.int64)
    prev_c = -1
    prev_t = 0
    for i in range(n):
        t = ts[i]  # the selection, written out (as a call to a helper it ran 3x slower)
        if t < since or t >= until:
            continue
        nd = node[i]
        if nd < 0:
            continue
        c = cust[i]
        if not keep_customer[c] or not keep_channel[channel[i] + 1]:
            continue
        if c == prev_c:
            if collapse and nd == prev_node:
                continue
            e = prev_node * k + nd
            seconds[fill[e]] = t_s[i] - prev_t
            fill[e] += 1
        prev_c = c
        prev_node = nd
        prev_t = t_s[i]
    median = np.full(kk, np.nan)
    p90 = np.full(kk, np.nan)
    for e in range(kk):
        if counts[e] > 0:
            median[e] = quantile_inplace(seconds, starts[e], starts[e + 1], 0.5)
            p90[e] = quantile_inplace(seconds, starts[e], starts[e + 1], 0.9)
    return counts, customers, median, p90
