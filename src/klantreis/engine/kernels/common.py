"""Compiled single-pass loops over the sequence index (Numba).

The sequence index (:mod:`klantreis.engine.sequence`) keeps every customer's events as one
contiguous, ordered run of small integers. A sequence analysis is then one pass over the rows
with a few counters, which NumPy can only express as several full-array passes plus a grouping
sort. Numba compiles these loops to machine code once (``cache=True`` keeps the compiled code
on disk, so a new process loads it instead of compiling), which is why the index path reads the
events about once instead of ten times. Chosen over a hand-written C extension: it is a
well-kept, widely used compiler for exactly this (NumPy arrays and loops), installs as a wheel,
and keeps the code in Python that the tests can read.

Every kernel reads a *selection*: per index row ``node`` (int32, -1 = not a node at the level),
``cust`` (int32, non-decreasing), ``ts`` (µs) and ``channel`` (int16, -1 = none); it keeps the
rows whose customer is in ``keep_customer``, whose channel + 1 is in ``keep_channel`` and whose
timestamp lies in ``[since, until)``. Durations are in whole seconds (``t_s``).

This module imports Numba: import it only where a kernel runs (the SQL path never needs it).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["quantile_inplace", "transitions"]


@njit(cache=True, nogil=True)
def _select(v: np.ndarray, lo: int, hi: int, k: int) -> None:  # pragma: no cover - compiled
    """Moves the k-th smallest of ``v[lo:hi]`` to ``v[k]`` (smaller ones before it, larger
    after): Hoare's quickselect with a median-of-three pivot, in place."""
    hi -= 1
    while hi > lo:
        mid = (lo + hi) >> 1
        a, b, c = v[lo], v[mid], v[hi]
        if a > b:
            a, b = b, a
        if b > c:
            b, c = c, b
        if a > b:
            a, b = b, a
        pivot = b
        i, j = lo, hi
        while i <= j:
            while v[i] < pivot:
                i += 1
            while v[j] > pivot:
                j -= 1
            if i <= j:
                v[i], v[j] = v[j], v[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@njit(cache=True, nogil=True)
def quantile_inplace(v: np.ndarray, a: int, b: int, q: float) -> float:  # pragma: no cover
    """The continuous quantile ``q`` of ``v[a:b]`` (linear interpolation, as SQL
    ``quantile_cont``); reorders ``v[a:b]``."""
    m = b - a
    x = (m - 1) * q
    lo = int(np.floor(x))
    _select(v, a, b, a + lo)
    low = v[a + lo]
    if x == lo:
        return float(low)
    nxt = v[a + lo + 1]
    for i in range(a + lo + 2, b):
        if v[i] < nxt:
            nxt = v[i]
    return float(low + (x - lo) * (nxt - low))


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
        t = ts[i]
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
        t = ts[i]
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
