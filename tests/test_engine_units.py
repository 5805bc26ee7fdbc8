"""unit="account": the B2B account (a buying group of contacts) as the unit of every analysis."""

from __future__ import annotations

import pytest

import klantreis
from klantreis import testing as kt
from klantreis.errors import UsageError

# Account A: contact a1 views, contact a2 (a colleague) buys. Account B: b1 views only.
# Per customer nobody walks view → buy; per account, A does.
EVENTS = kt.events(
    [
        ("a1", "2024-01-01T10:00:00", "view", {"account_id": "A", "channel": "website"}),
        ("a2", "2024-01-05T10:00:00", "buy", {"account_id": "A", "channel": "phone"}),
        ("b1", "2024-01-02T10:00:00", "view", {"account_id": "B", "channel": "email"}),
        ("x", "2024-01-02T10:00:00", "view"),  # no account: not a unit at account level
    ]
)
RESPONSES = kt.responses(
    [
        ("a1", "2024-01-02T00:00:00", "v", "csat", 5),
        ("a2", "2024-01-06T00:00:00", "v", "csat", 1),
        ("b1", "2024-01-03T00:00:00", "v", "csat", 4),
    ]
)
CUSTOMERS = kt.customers({"a1": {"role": "user"}, "a2": {"role": "buyer"}, "b1": {"role": "user"}})
CUSTOMERS["account_id"] = ["A", "A", "B"]
JOURNEY = kt.journey(
    ["look", "buy"],
    {"v": ("look", "view"), "p": ("buy", "buy", "phone")},
    conversion=["p"],
    segments={"buyers": {"role": "buyer"}},
)


def _src() -> klantreis.engine.Source:
    return kt.source(events=EVENTS, responses=RESPONSES, customers=CUSTOMERS, journey=JOURNEY)


def test_funnel_per_account_joins_the_contacts() -> None:
    per_customer = klantreis.analyze(_src(), "funnel", steps=["view", "buy"], level="event")
    kt.assert_rows(per_customer, [{"customers": 3}, {"customers": 0}])
    per_account = klantreis.analyze(
        _src(), "funnel", steps=["view", "buy"], level="event", unit="account"
    )
    kt.assert_rows(per_account, [{"customers": 2}, {"customers": 1}])
    assert per_account.scope.customers_total == 2  # accounts A and B; x has no account
    assert per_account.scope.unit == "account"
    assert "2 of 2 accounts in scope" in per_account.caption()
    assert "customers in scope" in per_customer.caption()


def test_scores_and_segment_filter_per_account() -> None:
    r = klantreis.analyze(_src(), "scores", level="touchpoint", unit="account")
    kt.assert_rows(r, [{"touchpoint": "v", "n": 3, "value": 2 / 3}])
    # the segment selects contacts (a2 is a buyer); their account is in scope with all contacts
    seg = klantreis.analyze(
        _src(), "funnel", steps=["view", "buy"], level="event", unit="account", segment="buyers"
    )
    kt.assert_rows(seg, [{"customers": 1}, {"customers": 1}])
    assert seg.scope.customers_in_scope == 1


def test_attribution_per_account() -> None:
    r = klantreis.analyze(
        _src(), "attribution", level="channel", models=["last_touch"], unit="account"
    )
    kt.assert_rows(r, [{"model": "last_touch", "channel": "website", "conversions": 1.0}])


def test_unknown_unit() -> None:
    with pytest.raises(UsageError, match="Unknown unit 'company'"):
        klantreis.analyze(_src(), "funnel", steps=["view"], level="event", unit="company")
