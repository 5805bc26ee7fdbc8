"""Intervals and tests for scores: Wilson for shares, the standard NPS variance, t for means.

Pure Python on aggregated numbers (never on events).
"""

from __future__ import annotations

import math

__all__ = [
    "Z95",
    "mean_interval",
    "nps_interval",
    "nps_variance",
    "p_value_two_sided",
    "t_quantile_975",
    "wilson_interval",
]

Z95 = 1.959963984540054

_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def wilson_interval(
    successes: int, n: int, z: float = Z95
) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score interval of a share ``successes / n``."""
    if n <= 0:
        return (None, None)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def nps_variance(promoters: int, detractors: int, n: int) -> float:
    """Variance of the NPS (as a fraction −1…1): (p + d − (p − d)²) / n."""
    p, d = promoters / n, detractors / n
    return (p + d - (p - d) ** 2) / n


def nps_interval(
    promoters: int, detractors: int, n: int, z: float = Z95
) -> tuple[float, float] | tuple[None, None]:
    """The 95% interval of the NPS in points (−100…100), clipped to that range."""
    if n <= 0:
        return (None, None)
    nps = (promoters - detractors) / n
    half = z * math.sqrt(nps_variance(promoters, detractors, n))
    return (max(-100.0, 100 * (nps - half)), min(100.0, 100 * (nps + half)))


def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t (table up to 30, Cornish–Fisher beyond)."""
    if df < 1:
        return math.inf
    if df <= len(_T975):
        return _T975[df - 1]
    z = Z95
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df * df)


def mean_interval(
    mean: float, std: float | None, n: int
) -> tuple[float, float] | tuple[None, None]:
    """The 95% t interval of a mean (None when n < 2)."""
    if n < 2 or std is None or math.isnan(std):
        return (None, None)
    half = t_quantile_975(n - 1) * std / math.sqrt(n)
    return (mean - half, mean + half)


def p_value_two_sided(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2))
