"""Pain points, pages, loyalty and coverage: exact values on a tiny log (DuckDB and Spark)."""

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
    {
        "v": ("look", "view"),
        "c": ("buy", "cart"),
        "p": ("buy", "pay", "webshop"),
        "s": ("after", "support", "call_centre"),
    },
    conversion=["p"],
)
EVENTS = kt.events(
    [
        ("a", "2024-01-01T10:00", "view", {"session_id": "s1", "properties": {"page": "/home", "source": "google"}}),
        ("a", "2024-01-01T10:01", "cart", {"session_id": "s1", "properties": {"page": "/cart"}}),
        ("a", "2024-01-01T10:05", "pay", {"value": 50.0}),
        ("a", "2024-01-10T10:05", "pay", {"value": 30.0}),
        ("b", "2024-01-01T10:00", "view", {"session_id": "s2", "properties": {"page": "/home"}, "channel": "email"}),
        ("b", "2024-01-02T10:00", "cart"),
        ("b", "2024-01-03T10:00", "view", {"session_id": "s3", "properties": {"url": "/faq"}}),
        ("b", "2024-01-03T10:02", "view", {"session_id": "s3", "properties": {"url": "/home"}}),
        ("b", "2024-01-04T10:00", "support"),
        ("c", "2024-01-03T09:00", "pay", {"value": 20.0}),
        ("c", "2024-01-03T09:00", "other"),
        ("c", "2024-01-03T09:05", "pay"),
        ("c", "2024-01-04T09:05", "pay", {"value": 5.0}),
        ("c", "2024-01-05T09:05", "pay", {"value": 5.0}),
    ]
)  # fmt: skip
RESPONSES = kt.responses(
    [("a", "2024-01-01", "c", "csat", 5), ("b", "2024-01-02", "c", "csat", 1), ("b", "2024-01-05", "s", "csat", 1)]
)  # fmt: skip


def _src(engine: str = "duckdb") -> klantreis.Source:
    return kt.source(events=EVENTS, responses=RESPONSES, journey=J, engine=engine)


def test_pain_points_rank_with_evidence(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "pain-points")
    # customers with a linked event: a, b, c (3).
    # s: reach 1/3; CSAT 0/1 → badness 1; drop-off 1/1 (b ends there, never paid); wait after: none
    #    severity (1 + 1) / 2 = 1 → priority 1/3
    # c: reach 2/3; CSAT 1/2 → 0.5; drop-off 0; wait after median(240, 86400)=43320;
    # p: reach 2/3; no score; drop-off 0 (conversion); waits 777600, 300, 86400, 86400 → 86400,
    #    the largest median: time_lost 1, severity (0 + 1) / 2 → priority 1/3, ties with s (by name)
    # v: reach 2/3; no score; drop-off 0; waits 60, 86400, 120, 86280 → 43200
    by = {row["touchpoint"]: row for row in r.frame.to_dict(orient="records")}
    assert by["s"]["priority"] == pytest.approx(1 / 3) == by["p"]["priority"]
    assert (by["p"]["rank"], by["s"]["rank"]) == (1, 2)
    assert by["s"]["drop_off_share"] == 1.0 and by["s"]["score_badness"] == 1.0
    assert by["c"]["median_seconds_after"] == 43320.0 and by["c"]["score_value"] == 0.5
    assert by["p"]["median_seconds_after"] == 86400.0 and by["p"]["time_lost"] == 1.0
    assert by["v"]["time_lost"] == 0.5
    assert by["c"]["severity"] == pytest.approx((0.5 + 0 + 43320 / 86400) / 3)
    assert list(r.frame["rank"]) == [1, 2, 3, 4]
    assert list(r.frame.priority) == sorted(r.frame.priority, reverse=True)


def test_pages_landing_bounce_and_time(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "pages", bounce_threshold=0.4)
    kt.assert_rows(
        r,
        [
            {"page": "/home", "sessions": 2, "bounces": 1, "bounce_rate": 0.5, "above_threshold": True, "median_seconds_on_page": 60.0},
            {"page": "/faq", "sessions": 1, "bounces": 0, "bounce_rate": 0.0, "views": 2, "median_seconds_on_page": 120.0},
        ],
    )  # fmt: skip
    assert r.meta["sessions"] == 3 and r.meta["bounces"] == 1


def test_pages_by_source() -> None:
    r = klantreis.analyze(_src(), "pages", by="source")
    kt.assert_rows(
        r,
        [{"source": "(none)", "sessions": 1}, {"source": "email", "sessions": 1, "bounce_rate": 1.0}, {"source": "google", "sessions": 1, "pages_per_session": 2.0}],
    )  # fmt: skip


def test_loyalty_groups_and_revenue(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "loyalty")
    # a: 2 purchases, 80; c: 4 purchases, 30 (a missing value counts 0)
    kt.assert_rows(
        r,
        [
            {"group": "1", "customers": 0, "revenue": 0.0, "revenue_per_customer": None},
            {"group": "2-3", "customers": 1, "revenue": 80.0, "share_of_revenue": 80 / 110},
            {"group": "4+", "customers": 1, "revenue": 30.0, "revenue_per_customer": 30.0},
        ],
    )
    assert r.meta["repeat_rate"] == 1.0


def test_loyalty_by_event_and_groups() -> None:
    r = klantreis.analyze(_src(), "loyalty", conversion="cart", groups=[1, 2])
    kt.assert_rows(
        r,
        [
            {"group": "1", "customers": 2, "share_of_customers": 1.0},
            {"group": "2+", "customers": 0},
        ],
    )
    with pytest.raises(UsageError, match="increasing"):
        klantreis.analyze(_src(), "loyalty", groups=[2, 1])
    with pytest.raises(UsageError, match="no conversion touchpoint"):
        klantreis.analyze(kt.source(events=EVENTS, journey=kt.journey(["x"])), "loyalty")


def test_coverage(engine: str) -> None:
    r = klantreis.analyze(_src(engine), "coverage")
    assert r.meta["events"] == 14 and r.meta["linked_events"] == 13
    assert r.linked_share == pytest.approx(13 / 14)
    assert r.meta["customers_linked_share"] == 1.0
    record = r.records()[0]
    assert record["unlinked"] == [{"event": "other", "count": 1, "customers": 1, "share": 1 / 14}]
