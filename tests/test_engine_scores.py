"""Scores, gaps and the interval formulas, checked by hand (DuckDB and Spark)."""

from __future__ import annotations

import math

import pytest

import klantreis
from klantreis import testing as kt
from klantreis.engine import stats


@pytest.fixture(params=kt.engine_params())
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


J = kt.journey(
    ["buy", "after"],
    {"shop": ("buy", "pay", "store"), "deliver": ("after", "delivered", "delivery")},
)
# CSAT at shop: 5,4,2,1 → top-2-box 2/4; at deliver: 5,5,4 → 3/3
# NPS at shop: 10,9,8,3,0 → (2 − 2)/5 = 0; the event 'pay' links answer r10 to shop
RESPONSES = kt.responses(
    [
        ("a", "2024-01-01", "shop", "csat", 5),
        ("b", "2024-01-01", "shop", "csat", 4),
        ("c", "2024-01-08", "shop", "csat", 2),
        ("d", "2024-01-08", "shop", "csat", 1),
        ("a", "2024-01-02", "deliver", "csat", 5),
        ("b", "2024-01-02", "deliver", "csat", 5),
        ("c", "2024-01-09", "deliver", "csat", 4),
        ("a", "2024-01-01", "shop", "nps", 10),
        ("b", "2024-01-01", "shop", "nps", 9),
        {
            "customer_id": "c",
            "timestamp": "2024-01-01",
            "event": "pay",
            "metric": "nps",
            "score": 8.0,
        },
        ("d", "2024-01-01", "shop", "nps", 3),
        ("e", "2024-01-01", "shop", "nps", 0),
        ("a", "2024-01-01", "shop", "ces", 2),
        ("b", "2024-01-01", "shop", "ces", 4),
        ("c", "2024-01-01", "shop", "ces", 6),
    ]
)


def _src(engine: str = "duckdb") -> klantreis.Source:
    return kt.source(responses=RESPONSES, journey=J, engine=engine)


def test_wilson_nps_t_by_hand() -> None:
    lo, hi = stats.wilson_interval(2, 4)
    z = stats.Z95
    centre = (0.5 + z * z / 8) / (1 + z * z / 4)
    half = z * math.sqrt(0.25 / 4 + z * z / 64) / (1 + z * z / 4)
    assert (lo, hi) == pytest.approx((centre - half, centre + half))
    assert stats.wilson_interval(0, 0) == (None, None)
    # NPS 2 promoters, 2 detractors of 5: var = (0.4 + 0.4 − 0) / 5 = 0.16
    assert stats.nps_variance(2, 2, 5) == pytest.approx(0.16)
    assert stats.nps_interval(2, 2, 5) == pytest.approx((-100 * z * 0.4, 100 * z * 0.4))
    assert stats.mean_interval(4.0, 2.0, 3) == pytest.approx(
        (4 - 4.303 * 2 / math.sqrt(3), 4 + 4.303 * 2 / math.sqrt(3))
    )
    assert stats.t_quantile_975(1000) == pytest.approx(1.9623, abs=1e-3)
    assert stats.p_value_two_sided(1.959963984540054) == pytest.approx(0.05)


def test_scores_per_touchpoint(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "scores")
    lo, hi = stats.wilson_interval(2, 4)
    kt.assert_rows(
        r,
        [
            {"touchpoint": "deliver", "metric": "csat", "n": 3, "value": 1.0, "small_n": True},
            {"touchpoint": "shop", "metric": "ces", "n": 3, "value": 4.0, "std_score": 2.0},
            {
                "touchpoint": "shop",
                "metric": "csat",
                "n": 4,
                "value": 0.5,
                "ci_low": lo,
                "ci_high": hi,
            },
            {
                "touchpoint": "shop",
                "metric": "nps",
                "n": 5,
                "value": 0.0,
                "promoters": 0.4,
                "passives": 0.2,
            },
        ],
    )


def test_scores_levels_trend_and_filters() -> None:
    src = _src()
    r = klantreis.analyze(src, "scores", level="stage", metric="csat")
    kt.assert_rows(r, [{"stage": "after", "n": 3}, {"stage": "buy", "n": 4}])
    r = klantreis.analyze(src, "scores", level="channel", metric="csat")
    kt.assert_rows(r, [{"channel": "delivery", "n": 3}, {"channel": "store", "n": 4}])
    r = klantreis.analyze(src, "scores", metric="csat", trend="week")
    kt.assert_rows(
        r,
        [
            {"touchpoint": "deliver", "period": "2024-01-01", "n": 2},
            {"touchpoint": "deliver", "period": "2024-01-08", "n": 1},
            {"touchpoint": "shop", "period": "2024-01-01", "n": 2, "value": 1.0},
            {"touchpoint": "shop", "period": "2024-01-08", "n": 2, "value": 0.0},
        ],
    )
    r = klantreis.analyze(src, "scores", metric="csat", since="2024-01-08", min_n=2)
    kt.assert_rows(r, [{"n": 1, "small_n": True}, {"n": 2, "small_n": False}])


def test_gaps_with_significance(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "gaps", metric="csat")
    se = math.sqrt(0.5 * 0.5 / 4 + 0.0)
    kt.assert_rows(
        r,
        [
            {
                "source": "shop",
                "target": "deliver",
                "difference": 0.5,
                "ci_low": 0.5 - stats.Z95 * se,
                "p_value": stats.p_value_two_sided(0.5 / se),
                "significant": True,
            }
        ],
    )
