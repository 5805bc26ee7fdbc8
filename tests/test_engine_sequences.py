"""Transitions, paths and timing: exact values on a tiny hand-computed log (DuckDB and Spark)."""

from __future__ import annotations

import pytest

import klantreis
from klantreis import testing as kt
from klantreis.errors import UsageError


@pytest.fixture(params=kt.engine_params())
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


J = kt.journey(
    ["look", "buy", "after"],
    {"v": ("look", "view"), "c": ("buy", "cart"), "p": ("buy", "pay"), "s": ("after", "support")},
    conversion=["p"],
)
# a: view cart pay              (stages look buy buy)
# b: view cart view support support(2 days apart)  (look buy look after after)
# c: view view (same second; tie broken by event_id)      (look look)
EVENTS = kt.events(
    [
        ("a", "2024-01-01T10:00:00", "view"),
        ("a", "2024-01-01T10:01:00", "cart"),
        ("a", "2024-01-01T10:03:00", "pay"),
        ("b", "2024-01-01T10:00:00", "view"),
        ("b", "2024-01-01T11:00:00", "cart"),
        ("b", "2024-01-01T12:00:00", "view"),
        ("b", "2024-01-02T12:00:00", "support"),
        ("b", "2024-01-04T12:00:00", "support"),
        ("c", "2024-01-05T08:00:00", "view"),
        ("c", "2024-01-05T08:00:00", "view"),
    ]
)


def _src(engine: str = "duckdb") -> klantreis.Source:
    return kt.source(events=EVENTS, journey=J, engine=engine)


def test_transitions_event_level(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "transitions", level="event")
    kt.assert_rows(
        r,
        [
            {
                "source": "view",
                "target": "cart",
                "count": 2,
                "customers": 2,
                "median_seconds": 1830.0,
            },
            {"source": "cart", "target": "pay", "count": 1, "median_seconds": 120.0},
            {"source": "cart", "target": "view", "count": 1, "median_seconds": 3600.0},
            {"source": "support", "target": "support", "count": 1, "median_seconds": 172800.0},
            {"source": "view", "target": "support", "count": 1, "median_seconds": 86400.0},
            {"source": "view", "target": "view", "count": 1, "median_seconds": 0.0},
        ],
    )
    assert r.frame["count"].sum() == len(EVENTS) - 3  # events − customers
    assert r.frame["share"].sum() == pytest.approx(1.0)


def test_transitions_options() -> None:
    src = _src()
    r = klantreis.analyze(src, "transitions", level="stage", repeats="collapse")
    got = {
        (s, t): n for s, t, n in zip(r.frame.source, r.frame.target, r.frame["count"], strict=True)
    }
    assert got == {("look", "buy"): 2, ("buy", "look"): 1, ("look", "after"): 1}
    r = klantreis.analyze(src, "transitions", level="event", min_count=2)
    assert list(zip(r.frame.source, r.frame.target, strict=True)) == [("view", "cart")]
    r = klantreis.analyze(src, "transitions", level="event", top_k=1)
    assert list(zip(r.frame.source, r.frame.target, strict=True)) == [
        ("view", "cart"), ("cart", "pay"), ("support", "support")
    ]  # fmt: skip
    r = klantreis.analyze(src, "transitions", level="event", focus="pay")
    assert list(r.frame.source) == ["cart"]
    r = klantreis.analyze(src, "transitions", level="event", since="2024-01-02")
    assert list(zip(r.frame.source, r.frame.target, strict=True)) == [
        ("support", "support"), ("view", "view")
    ]  # fmt: skip


def test_paths_complete_and_other(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "paths", level="stage", top_k=2)
    kt.assert_rows(
        r,
        [
            {"path": ["look"], "customers": 1, "share": 1 / 3},  # ties: by path text
            {"path": ["look", "buy"], "customers": 1, "share": 1 / 3},
            {"path": [], "customers": 1, "share": 1 / 3, "is_other": True},
        ],
    )
    assert r.frame.share.sum() == pytest.approx(1.0)


def test_paths_prefixes_and_repeats() -> None:
    src = _src()
    r = klantreis.analyze(src, "paths", level="event", max_steps=2, repeats="keep")
    kt.assert_rows(
        r,
        [
            {"path": ["view", "cart"], "customers": 2, "share": 2 / 3},
            {"path": ["view", "view"], "customers": 1},
            {"path": [], "customers": 0, "share": 0.0},
        ],
    )
    with pytest.raises(UsageError, match="top_k"):
        klantreis.analyze(src, "paths", top_k=0)


def test_timing_pairs_loops_repeats(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "timing", long_wait_days=0.5, repeat_window_days=2)
    kt.assert_rows(
        r,
        [
            {
                "source": "look",
                "target": "buy",
                "customers": 2,
                "median_seconds": 1830.0,
                "long_waits": 0,
            },
            {
                "source": "buy",
                "target": "after",
                "customers": 1,
                "median_seconds": 90000.0,
                "long_waits": 1,
            },
        ],
    )
    kt.assert_rows(r.tables["loops"], [{"node": "look", "returns": 1, "customers": 1}])
    # repeats within 2 days: b's support again after 2 days (=172800 s, counts), a's pay after
    # cart (same stage buy, 120 s), b's view after cart (look, 2 h), c's view (0 s)
    kt.assert_rows(
        r.tables["repeats"],
        [
            {"node": "look", "repeats": 2, "customers": 2},
            {"node": "after", "repeats": 1},
            {"node": "buy", "repeats": 1},
        ],
    )


def test_timing_needs_steps_without_journey() -> None:
    with pytest.raises(UsageError, match="at least two steps"):
        klantreis.analyze(kt.source(events=EVENTS), "timing")
    r = klantreis.analyze(kt.source(events=EVENTS), "timing", steps=["view", "support"])
    kt.assert_rows(r, [{"customers": 1, "median_seconds": 93600.0}])  # first view → support
