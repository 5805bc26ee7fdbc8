"""The Markov attribution kernel (see :mod:`klantreis.engine.kernels` for the conventions)."""

from __future__ import annotations

import numpy as np

from .jit import njit

__all__ = ["markov_transitions"]


@njit(cache=True, nogil=True)
def markov_transitions(
    cust: np.ndarray,
    node: np.ndarray,
    ts: np.ndarray,
    conv_code: np.ndarray,
    is_conv: np.ndarray,
    value: np.ndarray,
    keep_customer: np.ndarray,
    since: int,
    until: int,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """The order-1 transition counts of the attribution paths (``attribution`` module doc).

    A kept row (customer kept, ``since <= ts < until``; the channel filter does not apply) is a
    conversion when ``is_conv[conv_code + 1]``, else a touch when its ``node`` >= 0. Returns
    ``counts`` (k, k + 2): touch → touch, → (conversion) (column k), → (null) (column k + 1);
    ``starts`` (k): paths starting at a node; ``values`` (k): summed value (nulls as 0) of the
    conversions each node leads to; and the count of all conversions.
    """
    counts = np.zeros((k, k + 2), np.int64)
    starts = np.zeros(k, np.int64)
    values = np.zeros(k, np.float64)
    conversions = 0
    prev_c = -1
    prev = -1  # the path's last touch so far (-1: no touch yet)
    for i in range(len(cust)):
        t = ts[i]
        if t < since or t >= until:
            continue
        c = cust[i]
        if not keep_customer[c]:
            continue
        if c != prev_c:
            if prev >= 0:
                counts[prev, k + 1] += 1
            prev = -1
            prev_c = c
        if is_conv[conv_code[i] + 1]:
            conversions += 1
            if prev >= 0:
                counts[prev, k] += 1
                v = value[i]
                if not np.isnan(v):
                    values[prev] += v
                prev = -1
            continue
        nd = node[i]
        if nd < 0:
            continue
        if prev >= 0:
            counts[prev, nd] += 1
        else:
            starts[nd] += 1
        prev = nd
    if prev >= 0:
        counts[prev, k + 1] += 1
    return counts, starts, values, conversions
