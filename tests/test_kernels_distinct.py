"""kernels.distinct.repeated_count: len - distinct, exactly, whatever the values look like."""

from __future__ import annotations

import numpy as np
import pytest

from klantreis.engine.kernels.distinct import repeated_count

_RNG = np.random.default_rng(20261126)
_U64 = np.uint64


def _random(n: int) -> np.ndarray:
    return _RNG.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)


def _with_repeats() -> np.ndarray:
    values = _random(300_000)  # several buckets (2**15 values each)
    values[::5] = values[3]  # 60,000 copies of one value: 59,999 repeats of it
    values[1::7] = values[1]  # more repeats, spread over every bucket by their position
    return values


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.array([], _U64), 0),
        (np.array([7], _U64), 0),
        (np.array([5, 3, 5, 5, 1], _U64), 2),  # by hand: the second and third 5
        (np.zeros(100_000, _U64), 99_999),
        (np.arange(100_000, dtype=_U64), 0),  # one bucket: every top bit equal
        (np.arange(200_000, dtype=_U64) << _U64(40), 0),  # every low bit equal
        (np.array([2**64 - 1, 0, 2**63, 2**64 - 1, 2**63], _U64), 2),  # the extremes
        (_random(300_000), None),
        (_with_repeats(), None),
        (_RNG.integers(0, 1000, 500_000).astype(_U64) * _U64(0x9E3779B97F4A7C15), None),
    ],
)
def test_repeated_count_is_length_minus_distinct(values: np.ndarray, expected: int | None) -> None:
    definition = len(values) - len(np.unique(values))
    if expected is not None:
        assert definition == expected
    assert repeated_count(values.copy()) == definition
