"""Shapley-value attribution over coalitions of channels (exact, by subset sums).

The game: the players are the channels; the worth of a coalition S is the conversion rate of
the paths that use only channels in S,

    v(S) = conversions of paths with channels ⊆ S / paths with channels ⊆ S   (v(∅) = 0)

(revenue: value instead of conversions). The Shapley value of channel i is the weighted mean
of its marginal contributions, ``φ_i = Σ_{S ∌ i} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S))``,
computed exactly over all 2^n coalitions (n ≤ ``max_channels``, 12 by default: 4,096 coalitions).
The values add up to v(N), the overall conversion rate; attributed conversions are φ_i / v(N) ×
the total conversions. Input: one row per distinct channel set (a bit mask), aggregated in SQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import UsageError

__all__ = ["MAX_CHANNELS", "shapley_values", "subset_sums"]

MAX_CHANNELS = 12


def subset_sums(per_mask: np.ndarray, n: int) -> np.ndarray:
    """``out[S] = Σ_{T ⊆ S} per_mask[T]`` for every bit mask S of n players (zeta transform)."""
    out = per_mask.astype(float).copy()
    masks = np.arange(1 << n)
    for bit in range(n):
        has = (masks >> bit) & 1 == 1
        out[has] += out[masks[has] ^ (1 << bit)]
    return out


def shapley_values(
    masks: Sequence[int],
    paths: Sequence[float],
    worth: Sequence[float],
    n: int,
    *,
    max_channels: int = MAX_CHANNELS,
) -> np.ndarray:
    """Shapley values of the rate game: ``masks`` = channel sets, ``paths`` = paths per set,
    ``worth`` = conversions (or value) per set. Returns φ (length n)."""
    if n > max_channels:
        raise UsageError(
            f"Shapley attribution is exact over 2^n coalitions; {n} channels exceed the limit "
            f"of {max_channels}.",
            hint="use a coarser level (channel or stage), or raise shapley_max_channels.",
        )
    if n == 0:
        return np.zeros(0)
    size = 1 << n
    p = np.zeros(size)
    w = np.zeros(size)
    for m, k, c in zip(masks, paths, worth, strict=True):
        p[int(m)] += float(k)
        w[int(m)] += float(c)
    sp, sw = subset_sums(p, n), subset_sums(w, n)
    v = np.divide(sw, sp, out=np.zeros(size), where=sp > 0)
    v[0] = 0.0
    masks_all = np.arange(size)
    popcount = np.array([bin(m).count("1") for m in range(size)])
    weight = np.array(
        [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    )
    phi = np.zeros(n)
    for i in range(n):
        without = masks_all[(masks_all >> i) & 1 == 0]
        phi[i] = float(np.sum(weight[popcount[without]] * (v[without | (1 << i)] - v[without])))
    return phi
