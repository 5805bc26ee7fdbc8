"""Conformance: designed stage order versus the sequences customers take (hand-computed)."""

from __future__ import annotations

import pytest

import klantreis
from klantreis import testing as kt


@pytest.fixture(params=kt.engine_params())
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


JOURNEY = kt.journey(
    ["s1", "s2", "s3"],
    {"a": ("s1", "a"), "b": ("s2", "b"), "c": ("s3", "c"), "d": ("s3", "never")},
    personas={"young": {"age": "y"}, "retired": {"age": "r"}},
)
# u1 a b c (conforms); u2 a c (skips s2); u3 b c (starts late); u4 a b a b c (one backward
# move); u5 a a b (collapses to a b: conforms). One unmapped event "noise".
_SEQ = {"u1": "abc", "u2": "ac", "u3": "bc", "u4": "ababc", "u5": "aab"}
EVENTS = kt.events(
    [(c, f"2024-01-01T{h:02d}:00:00", e) for c, seq in _SEQ.items() for h, e in enumerate(seq)]
    + [("u1", "2024-01-01T12:00:00", "noise")]
)
CUSTOMERS = kt.customers({"u1": {"age": "y"}, "u2": {"age": "y"}, "u3": {"age": "o"}})


def test_conformance_by_hand(engine: str) -> None:
    src = kt.source(events=EVENTS, customers=CUSTOMERS, journey=JOURNEY, engine=engine)
    r = klantreis.analyze(src, "conformance")
    kt.assert_rows(
        r,
        [
            {
                "group": "(all)",
                "customers": 5,
                "conforming_share": 0.4,
                "starts_at_first_share": 0.8,
                "skip_share": 0.2,
                "backward_share": 0.2,
                "mean_backward_moves": 0.2,
            },
            {"group": "young", "customers": 2, "conforming_share": 0.5, "skip_share": 0.5},
            {"group": "retired", "customers": 0, "conforming_share": None, "no_data": True},
        ],
    )
    kt.assert_rows(
        r.tables["skipped"],
        [
            {"node": "s1", "skips": 0},
            {"node": "s2", "skips": 1, "customers_past": 3, "skip_share_of_past": 1 / 3},
            {"node": "s3", "skips": 0},
        ],
    )
    kt.assert_rows(r.tables["backward"], [{"from": "s2", "to": "s1", "moves": 1, "customers": 1}])
    kt.assert_rows(
        r.tables["unused_touchpoints"],
        [{"touchpoint": "d", "reason": "no event matches its rules"}],
    )
    kt.assert_rows(r.tables["unmapped_events"], [{"event": "noise", "events": 1, "customers": 1}])


def test_touchpoint_level_and_simulated_loops() -> None:
    sim = klantreis.simulate_frames("five-phases", customers=1000, seed=5, loop_prob=0.0)
    journey = klantreis.load_template("five-phases", "en")
    src = kt.source(events=sim.events, customers=sim.customers, journey=journey)
    without = klantreis.analyze(src, "conformance").frame.iloc[0]
    sim2 = klantreis.simulate_frames("five-phases", customers=1000, seed=5, loop_prob=0.5)
    src2 = kt.source(events=sim2.events, customers=sim2.customers, journey=journey)
    with_loops = klantreis.analyze(src2, "conformance")
    row = with_loops.frame.iloc[0]
    assert row["backward_share"] > without["backward_share"] + 0.2
    assert row["conforming_share"] < without["conforming_share"]
    unmapped = set(with_loops.tables["unmapped_events"]["event"])
    assert unmapped and unmapped <= set(sim2.truth["noise_events"])
    tp = klantreis.analyze(src2, "conformance", level="touchpoint", breakdown=None)
    assert list(tp.frame["group"]) == ["(all)"]
