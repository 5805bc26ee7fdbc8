"""The ordered funnel on the sequence index: the same frame, scope and meta as the SQL path, for
every option the index path takes; hand-computed steps with timestamp ties and windows; what
falls back to SQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import klantreis
from klantreis import testing as kt
from klantreis.engine.funnel import Exclude, Step
from sequence_helpers import assert_same, both

STEPS = ["ad_click", "add_to_cart", "checkout_start", "purchase"]  # the benchmark's


@pytest.fixture(scope="module")
def ws(simulated: Any) -> klantreis.Workspace:
    w: klantreis.Workspace = simulated("funnel", customers=1200, seed=7)
    return w


def _both(
    monkeypatch: pytest.MonkeyPatch, ws: klantreis.Workspace, **options: object
) -> tuple[klantreis.Result, klantreis.Result]:
    return both(monkeypatch, ws, "funnel", **options)


_assert_same = assert_same


DAY = 86_400
OPTIONS: list[dict[str, object]] = [
    {"level": "event", "steps": STEPS},
    {"level": "event", "steps": STEPS, "since": "2024-02-01"},
    {"level": "event", "steps": STEPS, "since": "2024-02-01", "until": "2024-03-15"},
    {"level": "event", "steps": STEPS, "until": "2024-02-01T12:30:00"},
    {"level": "event", "steps": STEPS, "window_seconds": 3 * DAY},
    {"level": "event", "steps": STEPS, "window_seconds": 0},
    {"level": "event", "steps": STEPS, "step_window_seconds": [DAY, 3600, None]},
    {"level": "event", "steps": STEPS, "step_window_seconds": [None, None, 600]},
    {"level": "event", "steps": STEPS, "breakdown": "channel"},
    {
        "level": "event",
        "steps": STEPS,
        "breakdown": "channel",
        "since": "2024-03-01",
        "window_seconds": 7 * DAY,
    },
    {"level": "event", "steps": STEPS, "channel": "website,social,search"},
    {"level": "event", "steps": STEPS, "segment": "new-customers"},
    {"level": "event", "steps": ["add_to_cart", "add_to_cart", "purchase"]},  # a repeated step
    {"level": "event", "steps": ["purchase", "ad_click"]},  # against the usual order
    {"level": "event", "steps": ["ad_click", "no_such_event", "purchase"]},
    {"level": "event", "steps": STEPS, "since": "2031-01-01"},  # nobody enters
    {"level": "stage"},  # the stages in order
    {"level": "stage", "persona": "bargain-hunter", "breakdown": "channel"},
    {"level": "stage", "since": "2024-02-01", "window_seconds": 30 * DAY},
    {"level": "touchpoint", "steps": ["product-page", "cart", "checkout", "order-confirmation"]},
    {
        "level": "touchpoint",
        "steps": ["social-ad", "cart", "order-confirmation"],
        "step_window_seconds": [14 * DAY, 2 * DAY],
        "breakdown": "channel",
    },
    {"level": "channel", "steps": ["social", "website", "email"]},
    {"level": "channel", "steps": ["search", "website"], "until": "2024-04-01"},
    # step options: limits from the previous step, optional steps
    {
        "level": "event",
        "steps": [
            "ad_click",
            Step("add_to_cart", within_seconds=2 * DAY),
            Step("checkout_start", min_seconds=60),
            Step("purchase", min_seconds=300, within_seconds=3 * DAY),
        ],
    },
    {
        "level": "event",
        "steps": ["ad_click", Step("review_read", optional=True), "add_to_cart", "purchase"],
        "window_seconds": 20 * DAY,
    },
    {
        "level": "event",
        "steps": [
            "ad_click",
            "add_to_cart",
            Step("checkout_start", optional=True, min_seconds=30),
            Step("checkout_payment", optional=True, within_seconds=DAY),
            "purchase",
            Step("parcel_delivered", optional=True),
        ],
        "step_window_seconds": [None, 3600, None, None, 5 * DAY],
        "breakdown": "channel",
    },
    {
        "level": "stage",
        "steps": ["awareness", Step("consideration", optional=True), "purchase", "retention"],
        "since": "2024-02-01",
    },
]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_funnel_is_the_same_on_the_index(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    sql, indexed = _both(monkeypatch, ws, **options)
    assert sql.expr is not None and indexed.expr is None  # the index path answered
    _assert_same(sql, indexed)


def test_a_step_no_event_is_called_is_noted_on_both_paths(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = ["ad_click", "no_such_event", "purchase", "nope"]
    for result in _both(monkeypatch, ws, level="event", steps=steps):
        assert result.meta["steps_not_in_data"] == ["no_such_event", "nope"]
        assert result.meta["notes"] == [
            "No event called 'no_such_event', 'nope' occurs in the data: check the spelling."
        ]
    # an event that exists but nobody reached in the period is not noted
    for result in _both(monkeypatch, ws, level="event", steps=STEPS, since="2031-01-01"):
        assert result.frame["customers"].sum() == 0 and "notes" not in result.meta
    # the CLI says it on stderr; the JSON on stdout stays the rows
    from click.testing import CliRunner

    from klantreis.cli import cli

    args = ["-w", str(ws.root), "analyze", "funnel", "--level", "event", "--format", "json"]
    out = CliRunner().invoke(cli, [*args, "--steps", "ad_click,nope"])
    assert out.exit_code == 0, out.output
    assert "Note: No event called 'nope' occurs in the data" in out.stderr
    assert json.loads(out.stdout)[1]["customers"] == 0


def test_the_benchmark_funnel_converts(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql, indexed = _both(monkeypatch, ws, level="event", steps=STEPS)
    counts = list(indexed.frame["customers"])
    assert counts == list(sql.frame["customers"])
    assert counts[0] > counts[1] > counts[2] > counts[3] > 0  # a real funnel, not all zeros


FALLBACK: list[dict[str, object]] = [
    {"level": "event", "steps": STEPS, "exclude": [Exclude("call", after_step=2)]},
    {"level": "event", "steps": ["page_view", Step("purchase", where={"payment": "ideal"})]},
    {"level": "event", "steps": STEPS, "breakdown": "segment"},
    {"level": "event", "steps": STEPS, "breakdown": "attribute:country"},
]


@pytest.mark.parametrize("options", FALLBACK, ids=[str(o) for o in FALLBACK])
def test_options_the_index_does_not_take_run_the_sql(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    sql, indexed = _both(monkeypatch, ws, **options)
    assert sql.expr is not None and indexed.expr is not None
    _assert_same(sql, indexed)


# -- hand-computed: ties, repeats and windows ------------------------------------------------

# a: view 10:00, cart 10:01 (60 s), view 10:02, pay 10:05 (240 s after the cart)
# b: view, cart a day later; no pay
# c: cart and view at the SAME second; the cart has the lower event_id, so it comes first and
#    c never reaches the cart after the view
# d: view before the period (not an entry), view in the period at 09:00, cart 09:30, cart 09:40
#    (the earliest cart counts: 1800 s), pay 11:00 (5400 s after the first cart)
# e: cart, pay (no view: never enters)
HAND = kt.events(
    [
        ("a", "2024-01-01T10:00:00", "view", {"channel": "ads"}),
        ("a", "2024-01-01T10:01:00", "cart"),
        ("a", "2024-01-01T10:02:00", "view", {"channel": "email"}),
        ("a", "2024-01-01T10:05:00", "pay"),
        ("b", "2024-01-01T10:00:00", "view", {"channel": "email"}),
        ("b", "2024-01-02T10:00:00", "cart"),
        ("c", "2024-01-03T09:00:00", "cart"),
        ("c", "2024-01-03T09:00:00", "view"),
        ("d", "2023-12-20T09:00:00", "view", {"channel": "email"}),
        ("d", "2024-01-05T09:00:00", "view", {"channel": "ads"}),
        ("d", "2024-01-05T09:30:00", "cart"),
        ("d", "2024-01-05T09:40:00", "cart"),
        ("d", "2024-01-05T11:00:00", "pay"),
        ("e", "2024-01-06T09:00:00", "cart"),
        ("e", "2024-01-06T09:10:00", "pay"),
    ]
)


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> klantreis.Workspace:
    w = klantreis.init(Path(tmp_path_factory.mktemp("funnel-hand")) / "ws")
    w.ingest_events(HAND, progress=False)
    return w


def test_hand_computed_steps(hand: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    options = {"level": "event", "steps": ["view", "cart", "pay"], "since": "2024-01-01"}
    sql, indexed = _both(monkeypatch, hand, **options)
    assert indexed.expr is None
    _assert_same(sql, indexed)
    f = indexed.frame
    assert list(f["customers"]) == [4, 3, 2]  # a b c d enter; a b d cart; a d pay
    assert list(f["median_seconds_to_convert"])[1:] == [1800.0, (240 + 5400) / 2]
    assert f["median_seconds_from_start"].iloc[2] == (300 + 7200) / 2


def test_hand_computed_windows_and_channels(
    hand: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {
        "level": "event",
        "steps": ["view", "cart", "pay"],
        "since": "2024-01-01",
        "step_window_seconds": [3600, 3600],  # b's cart is a day late; d's pay 90 min late
        "breakdown": "channel",
    }
    sql, indexed = _both(monkeypatch, hand, **options)
    assert indexed.expr is None
    _assert_same(sql, indexed)
    f = indexed.frame
    # entry channels: a ads, b email, c (none), d ads (its in-period view)
    got = {(g, s): n for g, s, n in zip(f["group"], f["step"], f["customers"], strict=True)}
    assert got[("ads", "view")] == 2 and got[("ads", "cart")] == 2 and got[("ads", "pay")] == 1
    assert got[("email", "view")] == 1 and got[("email", "cart")] == 0
    assert got[("(none)", "view")] == 1 and got[("(none)", "cart")] == 0


def test_hand_computed_min_seconds_takes_a_later_event(
    hand: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a's cart is 60 s after the view (too soon), b's a day later, d's first cart 1800 s (too
    # soon) but its second 2400 s: d reaches the cart by the second one, and pays 4800 s later
    steps = ["view", Step("cart", min_seconds=2000), "pay"]
    sql, indexed = _both(monkeypatch, hand, level="event", steps=steps, since="2024-01-01")
    assert indexed.expr is None
    _assert_same(sql, indexed)
    f = indexed.frame
    assert list(f["customers"]) == [4, 2, 1]
    assert list(f["median_seconds_to_convert"])[1:] == [(86400 + 2400) / 2, 4800.0]
