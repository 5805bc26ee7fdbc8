"""Estimates with 95% intervals from aggregated cells, and multiple-comparison corrections.

Pure Python/numpy on sums per stratum (computed in the engine), never on events.

- :func:`pooled_slope`: the within-stratum least-squares slope of y on x (stratum fixed
  effects), with its classical standard error;
- :func:`ols_from_moments`: least squares from the normal equations (X'X, X'y, y'y, n) that the
  engine aggregated, with classical standard errors;
- :func:`two_proportions`: a two-sided z test of p1 − p0 (pooled variance) with a Wald interval;
- :func:`adjust_pvalues`: Benjamini–Hochberg (false discovery rate) or Holm (family-wise error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from .stats import Z95, p_value_two_sided

__all__ = [
    "CORRECTIONS",
    "Estimate",
    "adjust_pvalues",
    "ols_from_moments",
    "pooled_slope",
    "two_proportions",
]

CORRECTIONS = ("bh", "holm", "none")


@dataclass(frozen=True)
class Estimate:
    effect: float | None
    se: float | None
    n1: int  # exposed (or with a score)
    n0: int  # unexposed (0 for slopes)

    @property
    def ci(self) -> tuple[float | None, float | None]:
        if self.effect is None or self.se is None:
            return (None, None)
        return (self.effect - Z95 * self.se, self.effect + Z95 * self.se)

    @property
    def p_value(self) -> float | None:
        if self.effect is None or self.se is None:
            return None
        if self.se == 0:
            return 0.0 if self.effect != 0 else 1.0
        return p_value_two_sided(self.effect / self.se)


def _var(n: float, s: float, ss: float) -> float:
    if n < 2:
        return 0.0
    return max(0.0, (ss - s * s / n) / (n - 1))


def ols_from_moments(
    xtx: np.ndarray, xty: np.ndarray, yty: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and standard errors of y ~ X from X'X, X'y, y'y and n (no intercept is
    added: give X one, or a full set of group dummies). Aliased columns get NaN."""
    k = len(xty)
    beta = np.full(k, np.nan)
    se = np.full(k, np.nan)
    keep: list[int] = []
    for j in range(k):  # greedy: a column that the kept ones explain is aliased
        d = float(xtx[j, j])
        if d <= 0:
            continue
        if keep:
            a = xtx[np.ix_(keep, keep)]
            b = xtx[keep, j]
            d -= float(b @ np.linalg.solve(a, b))
        if d > 1e-9 * float(xtx[j, j]):
            keep.append(j)
    if not keep:
        return beta, se
    a = xtx[np.ix_(keep, keep)]
    inv = np.linalg.inv(a)
    b_keep = inv @ xty[keep]
    dof = n - len(keep)
    rss = max(0.0, float(yty - b_keep @ xty[keep]))
    sigma2 = rss / dof if dof > 0 else float("nan")
    beta[keep] = b_keep
    se[keep] = np.sqrt(np.clip(np.diag(inv), 0.0, None) * sigma2)
    return beta, se


def pooled_slope(
    n: Sequence[float],
    sx: Sequence[float],
    sy: Sequence[float],
    sxx: Sequence[float],
    sxy: Sequence[float],
    syy: Sequence[float],
) -> Estimate:
    """The within-stratum slope of y on x and its standard error (stratum fixed effects)."""
    cxx = cxy = cyy = 0.0
    total = strata = 0
    for k, a, b, aa, ab, bb in zip(n, sx, sy, sxx, sxy, syy, strict=True):
        if k < 1:
            continue
        total += int(k)
        strata += 1
        cxx += aa - a * a / k
        cxy += ab - a * b / k
        cyy += bb - b * b / k
    dof = total - strata - 1
    if cxx <= 1e-12 or dof < 1:
        return Estimate(None, None, total, 0)
    beta = cxy / cxx
    sigma2 = max(0.0, (cyy - beta * cxy) / dof)
    return Estimate(beta, math.sqrt(sigma2 / cxx), total, 0)


def two_proportions(x1: int, n1: int, x0: int, n0: int) -> tuple[float, float, float, float]:
    """(difference p1 − p0, ci_low, ci_high, two-sided p) — z test with pooled variance."""
    if n1 < 1 or n0 < 1:
        raise ValueError("both groups need at least one unit")
    p1, p0 = x1 / n1, x0 / n0
    diff = p1 - p0
    pooled = (x1 + x0) / (n1 + n0)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    p = 1.0 if se0 == 0 else p_value_two_sided(diff / se0)
    return diff, diff - Z95 * se, diff + Z95 * se, p


def adjust_pvalues(pvalues: Sequence[float | None], method: str = "bh") -> list[float | None]:
    """Adjusted p-values (None stays None and is not counted as a test)."""
    if method not in CORRECTIONS:
        raise UsageError(
            f"Unknown correction {method!r}.", hint=f"use one of: {', '.join(CORRECTIONS)}."
        )
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    if not idx:
        return out
    p = np.array([float(pvalues[i]) for i in idx])  # type: ignore[arg-type]
    m = len(p)
    order = np.argsort(p, kind="stable")
    if method == "none":
        adj = p
    elif method == "holm":
        ranked = (m - np.arange(m)) * p[order]
        ranked = np.minimum(1.0, np.maximum.accumulate(ranked))
        adj = np.empty(m)
        adj[order] = ranked
    else:
        ranked = p[order] * m / np.arange(1, m + 1)
        ranked = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
        adj = np.empty(m)
        adj[order] = ranked
    for k, i in enumerate(idx):
        out[i] = float(adj[k])
    return out
