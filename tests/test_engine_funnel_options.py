"""Funnel options: per-step windows, minimum times, optional steps, property filters and
exclusion steps; exact hand-computed values on DuckDB and Spark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import klantreis
from klantreis import testing as kt
from klantreis.cli import cli
from klantreis.cli.analyze import parse_exclude, parse_step_options
from klantreis.engine.funnel import Exclude, Step
from klantreis.errors import UsageError


@pytest.fixture(params=["duckdb"])
def engine(request: pytest.FixtureRequest) -> str:
    """DuckDB for the exact tests; Spark runs the options together in test_spark_agrees."""
    return str(request.param)


def _e(customer: str, hhmmss: str, event: str, **props: str) -> tuple[Any, ...]:
    return (customer, f"2024-01-01T{hhmmss}", event, {"properties": props})


# a: view 10:00, cart 10:01, coupon 10:02, pay 10:05 (ideal); refund (fraud) 11:00 after paying
# b: view 10:00, cart 10:30, refund (fraud) 10:40, pay 11:00 (card)
# c: view 10:00, cart 10:01, refund (damaged) 10:02, pay 10:03 (ideal), coupon 10:04 after pay
# d: view 10:00, coupon 10:01 before the cart, refund (fraud) 10:01:30, cart 10:02; no pay
# e: view 10:00, cart 10:01, coupon 10:02, refund (fraud) 10:10; no pay
# f: view 10:00, cart 12:00 (two hours later), pay 12:01 (card)
EVENTS = kt.events(
    [
        _e("a", "10:00:00", "view"),
        _e("a", "10:01:00", "cart"),
        _e("a", "10:02:00", "coupon"),
        _e("a", "10:05:00", "pay", method="ideal"),
        _e("a", "11:00:00", "refund", reason="fraud"),
        _e("b", "10:00:00", "view"),
        _e("b", "10:30:00", "cart"),
        _e("b", "10:40:00", "refund", reason="fraud"),
        _e("b", "11:00:00", "pay", method="card"),
        _e("c", "10:00:00", "view"),
        _e("c", "10:01:00", "cart"),
        _e("c", "10:02:00", "refund", reason="damaged"),
        _e("c", "10:03:00", "pay", method="ideal"),
        _e("c", "10:04:00", "coupon"),
        _e("d", "10:00:00", "view"),
        _e("d", "10:01:00", "coupon"),
        _e("d", "10:01:30", "refund", reason="fraud"),
        _e("d", "10:02:00", "cart"),
        _e("e", "10:00:00", "view"),
        _e("e", "10:01:00", "cart"),
        _e("e", "10:02:00", "coupon"),
        _e("e", "10:10:00", "refund", reason="fraud"),
        _e("f", "10:00:00", "view"),
        _e("f", "12:00:00", "cart"),
        _e("f", "12:01:00", "pay", method="card"),
    ]
)
STEPS = ["view", "cart", "pay"]


def _src(engine: str) -> klantreis.engine.Source:
    return kt.source(events=EVENTS, engine=engine)


def _counts(src: klantreis.engine.Source, steps: list[Any], **options: Any) -> list[int]:
    r = klantreis.analyze(src, "funnel", steps=steps, level="event", **options)
    return [int(n) for n in r.frame.customers]


def test_plain_steps_unchanged(engine: str) -> None:
    src = _src(engine)
    plain = klantreis.analyze(src, "funnel", steps=STEPS, level="event")
    as_steps = klantreis.analyze(src, "funnel", steps=[Step(s) for s in STEPS], level="event")
    assert list(plain.frame.customers) == [6, 6, 4]  # pay: a, b, c, f
    pd.testing.assert_frame_equal(plain.frame, as_steps.frame)
    assert "optional" not in plain.frame.columns and "excluded_customers" not in plain.meta


def test_step_windows_and_minimum_times(engine: str) -> None:
    src = _src(engine)
    # cart within an hour of the view: f (2 h) is out, and so is its pay
    assert _counts(src, ["view", Step("cart", within_seconds=3600), "pay"]) == [6, 5, 3]
    # cart at least 10 minutes after the view: b (30 min) and f (2 h)
    assert _counts(src, ["view", Step("cart", min_seconds=600), "pay"]) == [6, 2, 2]
    # pay within 2 minutes of the cart: c (120 s, the bound counts) and f (60 s)
    assert _counts(src, ["view", "cart", Step("pay", within_seconds=120)]) == [6, 6, 2]
    # ... and at least 90 s after it: c only
    assert _counts(src, ["view", "cart", Step("pay", within_seconds=120, min_seconds=90)]) == [
        6,
        6,
        1,
    ]


def test_property_filter_on_a_step(engine: str) -> None:
    src = _src(engine)
    assert _counts(src, ["view", "cart", Step("pay", where={"method": "ideal"})]) == [6, 6, 2]
    assert _counts(src, ["view", "cart", Step("pay", where={"method": ["ideal", "card"]})]) == [
        6,
        6,
        4,
    ]


def test_optional_step(engine: str) -> None:
    src = _src(engine)
    steps = ["view", "cart", Step("coupon", optional=True), "pay"]
    r = klantreis.analyze(src, "funnel", steps=steps, level="event")
    kt.assert_rows(
        r,
        [
            {"step": "view", "customers": 6, "optional": False},
            {"step": "cart", "customers": 6, "drop_off": 0},
            # a (between cart and pay) and e (no pay: any time after the cart); not c (after
            # its pay) nor d (before its cart)
            {
                "step": "coupon",
                "customers": 2,
                "optional": True,
                "conversion_from_previous": 2 / 6,
                "drop_off": None,
                "median_seconds_to_convert": 60.0,
            },
            # pay is measured against the cart (the previous required step): a, b, c, f
            {
                "step": "pay",
                "customers": 4,
                "conversion_from_previous": 4 / 6,
                "conversion_from_start": 4 / 6,
                "drop_off": 2,
            },
        ],
    )
    # the next step's window is from the previous required step (cart), not the coupon
    steps = ["view", "cart", Step("coupon", optional=True), Step("pay", within_seconds=120)]
    assert _counts(src, steps) == [6, 6, 2, 2]  # coupon: a (no pay now) and e; pay: c, f
    q = klantreis.FunnelQuery(steps=["view", "cart", Step("coupon", optional=True), "pay"])
    q = klantreis.FunnelQuery(steps=q.steps, level="event")
    assert q.customers_at(src, "coupon") == ["a", "e"]
    assert q.customers_at(src, "pay", status="dropped") == ["d", "e"]


def test_exclusion_steps(engine: str) -> None:
    src = _src(engine)
    # any refund after the view and before the pay (or, without pay, any time after the view):
    # b, c, d and e leave the funnel entirely; a's refund comes after its pay
    r = klantreis.analyze(src, "funnel", steps=STEPS, level="event", exclude=["refund"])
    assert list(r.frame.customers) == [2, 2, 2]
    assert r.meta["excluded_customers"] == 4 and r.frame.entrants.iloc[0] == 2
    # only between the cart and the pay: d's refund (before its cart) no longer counts
    assert _counts(src, STEPS, exclude=[Exclude("refund", after_step=2)]) == [3, 3, 2]
    # property filters: fraud (b, d, e) / damaged or lost (c)
    assert _counts(src, STEPS, exclude=[Exclude("refund", where={"reason": "fraud"})]) == [3, 3, 3]
    assert _counts(
        src, STEPS, exclude=[Exclude("refund", where={"reason": ["damaged", "lost"]})]
    ) == [5, 5, 3]
    # with a 5-minute window an open end stops at the window: b's refund (40 min) is late, e's
    # (10 min) too; d's (90 s) and c's (before its pay) count
    r = klantreis.analyze(
        src, "funnel", steps=STEPS, level="event", exclude=["refund"], window_seconds=300
    )
    assert list(r.frame.customers) == [4, 2, 1]  # a, b, e, f; cart a, e; pay a
    assert r.meta["excluded_customers"] == 2
    assert r.to_dict()["query"]["exclude"] == [{"name": "refund", "after_step": 1}]
    q = klantreis.FunnelQuery(steps=STEPS, level="event", exclude=["refund"])
    assert q.customers_at(src, "view") == ["a", "f"]


def test_exclusion_with_breakdown_and_optional(engine: str) -> None:
    src = _src(engine)
    r = klantreis.analyze(
        src,
        "funnel",
        steps=["view", "cart", Step("coupon", optional=True), "pay"],
        level="event",
        exclude=[Exclude("refund", where={"reason": "fraud"})],
        breakdown="channel",
    )
    assert list(zip(r.frame.group, r.frame.customers, strict=True)) == [
        ("(none)", 3), ("(none)", 3), ("(none)", 1), ("(none)", 3)
    ]  # fmt: skip


@pytest.mark.parametrize("spark", [p for p in kt.engine_params() if p != "duckdb"])
def test_spark_agrees(spark: str) -> None:
    """Every option on Spark: the same exact values (one Spark source, few queries)."""
    duck, src = _src("duckdb"), _src(spark)
    calls: list[dict[str, Any]] = [
        {
            "steps": [
                "view",
                Step("cart", min_seconds=30),
                Step("coupon", optional=True),
                Step("pay", within_seconds=120, where={"method": ["ideal", "card"]}),
            ],
        },
        {"steps": STEPS, "exclude": ["refund"], "window_seconds": 300},
        {
            "steps": ["view", "cart", Step("coupon", optional=True), "pay"],
            "exclude": [Exclude("refund", where={"reason": "fraud"}, after_step=2)],
            "breakdown": "channel",
        },
    ]
    for options in calls:
        a = klantreis.analyze(duck, "funnel", level="event", **options)
        b = klantreis.analyze(src, "funnel", level="event", **options)
        pd.testing.assert_frame_equal(a.frame, b.frame, check_dtype=False)
        assert a.meta == b.meta
    assert list(b.frame.customers) == [4, 4, 1, 3]  # the last call: b and e leave (fraud)
    assert _counts(src, STEPS, exclude=["refund"], window_seconds=300) == [4, 2, 1]


def test_option_errors() -> None:
    src = _src("duckdb")
    with pytest.raises(UsageError, match="cannot be optional"):
        klantreis.analyze(src, "funnel", steps=[Step("view", optional=True), "cart"], level="event")
    with pytest.raises(UsageError, match="both must be required steps"):
        klantreis.analyze(
            src,
            "funnel",
            steps=["view", Step("coupon", optional=True), "pay"],
            level="event",
            exclude=[Exclude("refund", after_step=2)],
        )
    with pytest.raises(UsageError, match="min_seconds"):
        Step("pay", within_seconds=10, min_seconds=20)
    journey = kt.journey(["look", "buy"], {"v": ("look", "view"), "c": ("buy", "cart")})
    with pytest.raises(UsageError, match="Unknown touchpoint 'nope'"):
        klantreis.analyze(
            kt.source(events=EVENTS, journey=journey),
            "funnel",
            level="touchpoint",
            steps=["v", "c"],
            exclude=["nope"],
        )


def test_cli_syntax() -> None:
    steps = parse_step_options(
        ["view", "cart", "coupon", "pay"],
        windows=("pay=2m",),
        minimums=("pay=90s",),
        optional=("coupon",),
    )
    assert steps == [
        "view",
        "cart",
        Step("coupon", optional=True),
        Step("pay", within_seconds=120, min_seconds=90),
    ]
    assert parse_exclude("refund") == Exclude("refund")
    assert parse_exclude("refund:reason=fraud|lost,country=nl@2-3") == Exclude(
        "refund", where={"reason": ["fraud", "lost"], "country": "nl"}, after_step=2, before_step=3
    )
    assert parse_exclude("refund@2-") == Exclude("refund", after_step=2)
    with pytest.raises(UsageError, match="not one of the --steps"):
        parse_step_options(["view", "pay"], optional=("coupon",))
    with pytest.raises(UsageError, match="FROM-TO"):
        parse_exclude("refund@soon")


def test_cli_on_a_workspace(tmp_path: Path) -> None:
    ws = klantreis.init(tmp_path / "ws")
    assert ws.ingest_events(EVENTS, progress=False).accepted == len(EVENTS)
    args = ["-w", str(ws.root), "analyze", "funnel", "--level", "event", "--format", "json"]
    args += ["--steps", "view,cart,coupon,pay", "--optional", "coupon", "--step-window", "pay=2m"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert [r["customers"] for r in json.loads(result.output)] == [6, 6, 2, 2]
    args = ["-w", str(ws.root), "analyze", "funnel", "--level", "event", "--format", "json"]
    args += ["--steps", "view,cart,pay", "--exclude", "refund:reason=fraud"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert [r["customers"] for r in json.loads(result.output)] == [3, 3, 3]
    result = CliRunner().invoke(cli, [*args[:-2], "--exclude", "refund@3-1"])
    assert result.exit_code == 2 and "both must be required steps" in result.output
