"""A journey's audience limits every analysis of that journey to its customers."""

from __future__ import annotations

import klantreis
from klantreis import testing as kt


def _source():
    shop = kt.journey(["see", "buy"], {"ad": ("see", "ad_click"), "pay": ("buy", "purchase")})
    shop.audience = {"journey": "test"}
    log = kt.events(
        [
            ("a1", "2024-01-01T10:00", "ad_click"),
            ("a1", "2024-01-01T10:05", "purchase"),
            ("a2", "2024-01-02T10:00", "ad_click"),
            # b1 belongs to another journey that uses the same event names
            ("b1", "2024-01-01T09:00", "ad_click"),
            ("b1", "2024-01-01T09:01", "purchase"),
        ]
    )
    people = kt.customers(
        {"a1": {"journey": "test"}, "a2": {"journey": "test"}, "b1": {"journey": "other"}}
    )
    return kt.source(events=log, customers=people, journey=shop)


def test_funnel_counts_only_the_journeys_audience():
    result = klantreis.analyze(_source(), "funnel", level="touchpoint")
    kt.assert_rows(
        result,
        [
            {"step": "ad", "customers": 2, "conversion_from_start": 1.0},
            {"step": "pay", "customers": 1, "conversion_from_start": 0.5},
        ],
    )
    assert result.scope.customers_total == 3
    assert result.scope.customers_in_scope == 2


def test_without_audience_everyone_counts():
    src = _source()
    src.journey(None).audience = {}
    result = klantreis.analyze(src, "funnel", level="touchpoint")
    assert list(result.frame["customers"]) == [3, 2]


def test_channel_filter_keeps_only_that_channels_events():
    log = kt.events(
        [
            ("c1", "2024-01-01T10:00", "visit", {"channel": "email"}),
            ("c1", "2024-01-01T11:00", "buy", {"channel": "website"}),
            ("c2", "2024-01-01T10:00", "visit", {"channel": "website"}),
            ("c2", "2024-01-01T10:30", "buy", {"channel": "website"}),
        ]
    )
    src = kt.source(events=log)
    web = klantreis.analyze(src, "funnel", steps=["visit", "buy"], level="event", channel="website")
    assert list(web.frame["customers"]) == [1, 1]
    assert "channel website only" in web.caption()
    both = klantreis.analyze(
        src, "funnel", steps=["visit", "buy"], level="event", channel="website, email"
    )
    assert list(both.frame["customers"]) == [2, 2]
