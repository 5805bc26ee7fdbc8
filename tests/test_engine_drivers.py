"""Drivers: a hand-computed effect, the statistics by definition, and planted truth."""

from __future__ import annotations

import numpy as np
import pytest

import klantreis
from klantreis import testing as kt
from klantreis.engine.inference import adjust_pvalues, ols_from_moments, pooled_slope

JOURNEY = kt.journey(["s1", "s2"], {"a": ("s1", "a"), "b": ("s1", "b"), "c": ("s2", "c")})
# Everyone reaches s2 (one stratum). p1, p2 had a and are promoters (+100 each); p3 (3:
# detractor, −100) and p4 (8: passive, 0) did not. Effect of a = 100 − (−50) = 150; residuals
# 0, 0, −50, 50 → σ² = 5000 / (4 − 2) = 2500, var = σ²·(1/2 + 1/2) → se = 50.
EVENTS = kt.events(
    [
        ("p1", "2024-01-01T00:00:00", "a"),
        ("p1", "2024-01-02T00:00:00", "c"),
        ("p2", "2024-01-01T00:00:00", "a"),
        ("p2", "2024-01-02T00:00:00", "c"),
        ("p3", "2024-01-02T00:00:00", "c"),
        ("p4", "2024-01-02T00:00:00", "c"),
        ("p4", "2024-02-01T00:00:00", "a"),  # after p4's NPS answer: not a cause
    ]
)
RESPONSES = kt.responses(
    [
        {"customer_id": c, "timestamp": "2024-01-10T00:00:00", "metric": "nps", "score": s}
        for c, s in (("p1", 10), ("p2", 9), ("p3", 3), ("p4", 8))
    ]
)


def test_exposure_effect_by_hand() -> None:
    src = kt.source(events=EVENTS, responses=RESPONSES, journey=JOURNEY)
    r = klantreis.analyze(src, "drivers", outcome="nps", min_n=1)
    a = r.frame[(r.frame.touchpoint == "a") & (r.frame.kind == "exposure")].iloc[0]
    assert a["effect"] == pytest.approx(150.0)
    assert a["se"] == pytest.approx(50.0)
    assert a["ci_low"] == pytest.approx(150 - 1.959963984540054 * 50)
    assert a["n_exposed"] == 2 and a["n_unexposed"] == 2
    assert "gave an NPS 150 points (±98) higher" in a["sentence"]
    c = r.frame[(r.frame.touchpoint == "c") & (r.frame.kind == "exposure")].iloc[0]
    assert c["effect"] is None or np.isnan(c["effect"])  # everyone had c: no comparison
    assert r.meta["units"] == 4 and r.meta["outcome_mean"] == pytest.approx(25.0)
    promoter = klantreis.analyze(src, "drivers", outcome="promoter", min_n=1)
    pa = promoter.frame[(promoter.frame.touchpoint == "a") & (promoter.frame.kind == "exposure")]
    assert pa["effect"].iloc[0] == pytest.approx(100.0)  # 100% vs 0% promoters


def test_ols_from_moments_equals_least_squares() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(200), rng.integers(0, 2, 200), rng.integers(0, 2, 200)])
    y = x @ np.array([1.0, 2.0, -1.0]) + rng.standard_normal(200)
    beta, se = ols_from_moments(x.T @ x, x.T @ y, float(y @ y), 200)
    want, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ want
    cov = resid @ resid / (200 - 3) * np.linalg.inv(x.T @ x)
    assert beta == pytest.approx(want)
    assert se == pytest.approx(np.sqrt(np.diag(cov)))
    # an aliased column (a copy of another) gets no estimate, the rest is unchanged
    x2 = np.column_stack([x, x[:, 1]])
    b2, _ = ols_from_moments(x2.T @ x2, x2.T @ y, float(y @ y), 200)
    assert b2[:3] == pytest.approx(want) and np.isnan(b2[3])


def test_pooled_slope_and_corrections() -> None:
    # one stratum, y = 2x exactly → slope 2, se 0
    est = pooled_slope([3], [6], [12], [14], [28], [56])
    assert est.effect == pytest.approx(2.0) and est.se == pytest.approx(0.0)
    assert adjust_pvalues([0.01, 0.04, 0.03, None], "bh") == pytest.approx([0.03, 0.04, 0.04, None])
    assert adjust_pvalues([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])


def _drivers(plant: list[str]) -> dict[str, set[str]]:
    sim = klantreis.simulate_frames("five-phases", customers=4000, seed=7, plant=plant)
    journey = klantreis.load_template("five-phases", "en")
    src = kt.source(
        events=sim.events, responses=sim.responses, customers=sim.customers, journey=journey
    )
    found: dict[str, set[str]] = {}
    for outcome in ("nps", "repeat_purchase"):
        r = klantreis.analyze(
            src, "drivers", outcome=outcome, conversion=["purchase", "repeat_purchase"]
        )
        hits = r.frame[(r.frame.kind == "exposure") & r.frame.significant]
        assert (hits["effect"] > 0).all()
        found[outcome] = set(hits["touchpoint"])
    return found


def test_finds_the_planted_driver_and_nothing_else() -> None:
    assert _drivers(["driver:customer-service"]) == {
        "nps": {"customer-service"},
        "repeat_purchase": {"customer-service"},
    }


def test_no_planted_driver_no_driver_found() -> None:
    assert _drivers([]) == {"nps": set(), "repeat_purchase": set()}
