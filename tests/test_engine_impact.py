"""Impact: extra conversions, retained customers and revenue per pain point (hand-computed)."""

from __future__ import annotations

import pytest

import klantreis
from klantreis import testing as kt

JOURNEY = kt.journey(
    ["look", "buy"], {"v": ("look", "view"), "c": ("buy", "cart"), "p": ("buy", "pay")},
    conversion=["p"],
)  # fmt: skip
# a1..a4: view → cart → pay (10 each); b1, b2: view → cart (drop at c); d1, d2: view (drop at v)
_ROWS = []
for i in range(4):
    _ROWS += [
        (f"a{i}", "2024-01-01T10:00:00", "view"),
        (f"a{i}", "2024-01-01T10:01:00", "cart"),
        (f"a{i}", "2024-01-01T10:02:00", "pay", {"value": 10.0}),
    ]
for i in range(2):
    _ROWS += [(f"b{i}", "2024-01-01T10:00:00", "view"), (f"b{i}", "2024-01-01T10:01:00", "cart")]
    _ROWS += [(f"d{i}", "2024-01-01T10:00:00", "view")]
EVENTS = kt.events(_ROWS)


def test_extra_conversions_by_hand() -> None:
    src = kt.source(events=EVENTS, journey=JOURNEY)
    r = klantreis.analyze(src, "impact", target_drop_off=0.1, min_n=1)
    # c: reached 6, dropped 2 (1/3), went on 4, all bought: 6·(1/3 − 0.1)·1 = 1.4 → 14.0
    # v: reached 8, dropped 2 (1/4), went on 6, 4 bought: 8·0.15·2/3 = 0.8 → 8.0
    kt.assert_rows(
        r,
        [
            {"rank": 1, "touchpoint": "c", "stage": "buy", "extra_conversions": 1.4,
             "extra_revenue": 14.0, "drop_off_share": 1 / 3, "conversion_after": 1.0},
            {"rank": 2, "touchpoint": "v", "extra_conversions": 0.8, "extra_revenue": 8.0},
            {"rank": 3, "touchpoint": "p", "extra_conversions": 0.0},
        ],
    )  # fmt: skip
    c = r.frame.iloc[0]
    # delta method: var = (n·c)²·d(1 − d)/n (c = 1 has no variance) = 36·(2/9)/6
    half = 1.959963984540054 * (36 * (1 / 3) * (2 / 3) / 6) ** 0.5
    assert c["extra_conversions_high"] == pytest.approx(1.4 + half)
    assert c["extra_conversions_low"] == 0.0
    median = klantreis.analyze(src, "impact", min_n=1)
    assert median.meta["benchmark_drop_off"] == pytest.approx((0.25 + 1 / 3) / 2)


def test_planted_pain_point_ranks_first() -> None:
    sim = klantreis.simulate_frames("five-phases", customers=3000, seed=11, plant=["pain:checkout"])
    journey = klantreis.load_template("five-phases", "en")
    src = kt.source(events=sim.events, responses=sim.responses, journey=journey)
    r = klantreis.analyze(src, "impact", conversion=["purchase", "repeat_purchase"])
    top = r.frame.iloc[0]
    assert top["touchpoint"] == "checkout"
    assert top["extra_conversions_low"] > 0
    assert top["extra_conversions"] > 2 * r.frame.iloc[1]["extra_conversions"]
