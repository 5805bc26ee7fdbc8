"""Funnel: exact values on tiny hand-computed logs, on DuckDB and Spark."""

from __future__ import annotations

import pytest

import klantreis
from klantreis import testing as kt
from klantreis.errors import UsageError


@pytest.fixture(params=kt.engine_params())
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


JOURNEY = kt.journey(
    ["look", "buy"],
    {"v": ("look", "view"), "c": ("buy", "cart"), "p": ("buy", "pay", "webshop")},
    conversion=["p"],
    segments={"nl": {"country": "nl"}},
    personas={"young": {"age": ["18-24", "25-34"]}},
)

# a: view → cart (60 s) → pay (240 s): reaches all three
# b: view → cart a day later (86400 s): no pay
# c: cart and view at the SAME timestamp; cart has the lower event_id, so view comes after cart:
#    c enters at view but never reaches cart afterwards
# d: view only, in February (outside the January period)
EVENTS = kt.events(
    [
        ("a", "2024-01-01T10:00:00", "view", {"channel": "ads"}),
        ("a", "2024-01-01T10:01:00", "cart"),
        ("a", "2024-01-01T10:05:00", "pay"),
        ("b", "2024-01-01T10:00:00", "view", {"channel": "email"}),
        ("b", "2024-01-02T10:00:00", "cart"),
        ("c", "2024-01-03T09:00:00", "cart"),
        ("c", "2024-01-03T09:00:00", "view"),
        ("d", "2024-02-01T09:00:00", "view"),
        ("d", "2024-02-01T09:30:00", "cart"),
    ]
)
CUSTOMERS = kt.customers(
    {
        "a": {"country": "nl", "age": "18-24"},
        "b": {"country": "be", "age": "25-34"},
        "c": {"country": "nl"},
    }
)


def _src(engine: str) -> klantreis.engine.Source:
    return kt.source(events=EVENTS, customers=CUSTOMERS, journey=JOURNEY, engine=engine)


STEPS = ["view", "cart", "pay"]


def test_funnel_counts_and_conversion(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "funnel", steps=STEPS, level="event")
    kt.assert_rows(
        r,
        [
            {"step": "view", "customers": 4, "conversion_from_previous": 1.0, "drop_off": 0},
            {
                "step": "cart",
                "customers": 3,
                "conversion_from_previous": 0.75,
                "conversion_from_start": 0.75,
                "drop_off": 1,
                "median_seconds_to_convert": 1800.0,  # 60, 1800, 86400
                "p90_seconds_to_convert": 1800.0 + 0.8 * (86400 - 1800),
            },
            {
                "step": "pay",
                "customers": 1,
                "conversion_from_previous": 1 / 3,
                "conversion_from_start": 0.25,
                "drop_off": 2,
                "median_seconds_to_convert": 240.0,
                "median_seconds_from_start": 300.0,
            },
        ],
    )
    assert r.scope.customers_total == 4
    assert r.scope.customers_filtered_out == 0


def test_window_period_and_segment() -> None:
    src = _src("duckdb")  # Spark runs windows in test_engine_properties' parity test
    # a window of one hour from entry: b's cart (a day later) no longer counts
    r = klantreis.analyze(src, "funnel", steps=STEPS, level="event", window_seconds=3600)
    assert list(r.frame.customers) == [4, 2, 1]
    # per-step window: at most 100 s from view to cart
    r = klantreis.analyze(
        src, "funnel", steps=STEPS, level="event", step_window_seconds=[100, None]
    )
    assert list(r.frame.customers) == [4, 1, 1]
    # entered in January; b keeps its full window even with until on the day of entry
    r = klantreis.analyze(
        src, "funnel", steps=STEPS, level="event", since="2024-01-01", until="2024-01-01"
    )
    assert list(r.frame.customers) == [2, 2, 1]
    # segment nl = a and c (d has no customer row: filtered out, and said so)
    r = klantreis.analyze(src, "funnel", steps=STEPS, level="event", segment="nl")
    assert list(r.frame.customers) == [2, 1, 1]
    assert (r.scope.customers_in_scope, r.scope.customers_filtered_out) == (2, 2)


def test_stage_level_defaults_to_stages(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "funnel")
    kt.assert_rows(r, [{"step": "look", "customers": 4}, {"step": "buy", "customers": 3}])


def test_breakdowns(engine: str) -> None:
    src = _src(engine)
    r = klantreis.analyze(src, "funnel", steps=STEPS, level="event", breakdown="channel")
    got = {
        (g, s): n for g, s, n in zip(r.frame.group, r.frame.step, r.frame.customers, strict=True)
    }
    assert got[("ads", "pay")] == 1 and got[("email", "cart")] == 1 and got[("email", "pay")] == 0
    assert got[("(none)", "view")] == 2
    r = klantreis.analyze(src, "funnel", steps=STEPS, level="event", breakdown="attribute:country")
    got = {
        (g, s): n for g, s, n in zip(r.frame.group, r.frame.step, r.frame.customers, strict=True)
    }
    assert got == {
        ("(none)", "view"): 1, ("(none)", "cart"): 1, ("(none)", "pay"): 0,
        ("be", "view"): 1, ("be", "cart"): 1, ("be", "pay"): 0,
        ("nl", "view"): 2, ("nl", "cart"): 1, ("nl", "pay"): 1,
    }  # fmt: skip
    r = klantreis.analyze(src, "funnel", steps=STEPS, level="event", breakdown="persona")
    assert list(zip(r.frame.group, r.frame.customers, strict=True)) == [
        ("young", 2), ("young", 2), ("young", 1)
    ]  # fmt: skip


def test_customers_behind_a_step() -> None:
    src = _src("duckdb")
    q = klantreis.FunnelQuery(steps=STEPS, level="event")
    assert q.customers_at(src, "cart") == ["a", "b", "d"]
    assert q.customers_at(src, "cart", status="dropped") == ["c"]
    assert q.customers_at(src, 3) == ["a"]
    assert q.customers_at(src, "view", status="dropped") == []


def test_funnel_errors() -> None:
    src = _src("duckdb")
    with pytest.raises(UsageError, match="Unknown stage 'nope'"):
        klantreis.analyze(src, "funnel", steps=["look", "nope"])
    with pytest.raises(UsageError, match="needs steps"):
        klantreis.analyze(src, "funnel", level="event")
    with pytest.raises(UsageError, match="Unknown option 'window'"):
        klantreis.analyze(src, "funnel", window=3)
    with pytest.raises(UsageError, match="one per step after the first"):
        klantreis.analyze(src, "funnel", steps=STEPS, level="event", step_window_seconds=[1])


def test_no_journey_works_at_event_level() -> None:
    src = kt.source(events=EVENTS)
    r = klantreis.analyze(src, "funnel", steps=["view", "cart"])
    assert r.scope.level == "event" and list(r.frame.customers) == [4, 3]
    with pytest.raises(UsageError, match="needs a journey"):
        klantreis.analyze(src, "funnel", level="stage")
