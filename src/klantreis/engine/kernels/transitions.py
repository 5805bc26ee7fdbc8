"""The transitions kernels (see :mod:`klantreis.engine.kernels` for the conventions).

Three steps, each over a range of rows (or of edges), so that :func:`transitions` can run them
on several threads (the kernels release the GIL): count the edges and their distinct customers
per chunk of customers, write each transition's seconds into its edge's slot of one shared
array, and take the median and p90 per edge. Chunks start at a customer's first row, so a
transition never spans two chunks and "distinct customers" stays exact.
"""

from __future__ import annotations

import numpy as np

from .common import customer_chunks, on_threads, quantile_inplace
from .jit import njit

__all__ = ["transitions"]


@njit(cache=True, nogil=True)
def _counts(
    cust: np.ndarray,
    node: np.ndarray,
    ts: np.ndarray,
    channel: np.ndarray,
    keep_customer: np.ndarray,
    keep_channel: np.ndarray,
    since: int,
    until: int,
    k: int,
    collapse: bool,
    lo: int,
    hi: int,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Rows ``lo:hi``: transitions per edge ``source * k + target`` and distinct customers
    (customers are contiguous, so a customer is new to an edge when it differs from the edge's
    last one)."""
    kk = k * k
    counts = np.zeros(kk, np.int64)
    customers = np.zeros(kk, np.int64)
    last = np.full(kk, -1, np.int64)
    prev_c = -1
    prev_node = -1
    for i in range(lo, hi):
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
    return counts, customers


@njit(cache=True, nogil=True)
def _seconds(
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
    lo: int,
    hi: int,
    fill: np.ndarray,
    seconds: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Rows ``lo:hi``: each transition's seconds at ``fill[edge]`` (then advanced)."""
    prev_c = -1
    prev_node = -1
    prev_t = 0
    for i in range(lo, hi):
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


@njit(cache=True, nogil=True)
def _quantiles(
    seconds: np.ndarray, starts: np.ndarray, edges: np.ndarray, median: np.ndarray, p90: np.ndarray
) -> None:  # pragma: no cover - compiled
    for e in edges:
        if starts[e + 1] > starts[e]:
            median[e] = quantile_inplace(seconds, starts[e], starts[e + 1], 0.5)
            p90[e] = quantile_inplace(seconds, starts[e], starts[e + 1], 0.9)


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
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per edge ``source * k + target``: count, distinct customers, median and p90 seconds."""
    chunks = customer_chunks(cust, threads)
    common = (cust, node, ts, channel, keep_customer, keep_channel, since, until, k, collapse)
    parts = on_threads(lambda c: _counts(*common, c[0], c[1]), chunks)
    per_chunk = [p[0] for p in parts]
    counts = np.sum(per_chunk, axis=0)
    customers = np.sum([p[1] for p in parts], axis=0)
    starts = np.zeros(k * k + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    seconds = np.empty(int(starts[-1]), np.int64)
    fills = []
    offset = starts[:-1].copy()
    for part in per_chunk:  # each chunk writes its own slots of every edge
        fills.append(offset.copy())
        offset += part
    rows = (cust, node, ts, t_s, channel, keep_customer, keep_channel, since, until, k, collapse)
    on_threads(
        lambda w: _seconds(*rows, w[0][0], w[0][1], w[1], seconds), zip(chunks, fills, strict=True)
    )
    median = np.full(k * k, np.nan)
    p90 = np.full(k * k, np.nan)
    edges = np.flatnonzero(counts)
    if len(edges):  # split the edges so each thread selects about as many values
        weight = np.cumsum(counts[edges])
        groups = np.searchsorted(weight, weight[-1] * np.arange(1, len(chunks)) / len(chunks))
        on_threads(lambda es: _quantiles(seconds, starts, es, median, p90), np.split(edges, groups))
    return counts, customers, median, p90
