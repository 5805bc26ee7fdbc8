"""Pain points on the sequence index: the same frame, scope and meta as the SQL path for every
option (level, period, persona/segment, channel, metric, top_k), and exact values on a tiny log
with tied timestamps."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import klantreis
from klantreis import testing as kt
from sequence_helpers import assert_same, both


@pytest.fixture(scope="module")
def ws(simulated: Any) -> klantreis.Workspace:
    w: klantreis.Workspace = simulated("pain", customers=1200, seed=7)
    # the same journey without a conversion touchpoint: every customer drops off somewhere
    plain = w.journey().model_copy(deep=True)
    plain.id = "no-conversion"
    for tp in plain.touchpoints:
        tp.conversion = False
    w.save_journey(plain)
    return w


def _both(
    monkeypatch: pytest.MonkeyPatch, ws: klantreis.Workspace, **options: object
) -> tuple[klantreis.Result, klantreis.Result]:
    return both(monkeypatch, ws, "pain-points", **options)


_assert_same = assert_same


OPTIONS = [
    {},
    {"level": "stage"},
    {"persona": "bargain-hunter", "since": "2024-03-01"},  # the dashboard's
    {"level": "stage", "since": "2024-02-01T12:30:00", "until": "2024-04-30"},
    {"until": "2024-02-15"},
    {"segment": "new-customers"},
    {"level": "stage", "persona": "loyal-regular"},
    {"channel": "website"},
    {"channel": "website,email", "level": "stage", "since": "2024-03-01"},
    {"metric": "nps"},
    {"metric": "ces", "level": "stage"},
    {"top_k": 3},
    {"level": "stage", "top_k": 2, "metric": "nps"},
    {"journey": "no-conversion"},
    {"journey": "no-conversion", "level": "stage", "since": "2024-03-01"},
    {"since": "2031-01-01"},  # nobody in the period
]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_pain_points_are_the_same_on_the_index(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    sql, indexed = _both(monkeypatch, ws, **options)
    assert sql.expr is not None and indexed.expr is None  # the index path answered
    _assert_same(sql, indexed)
    if options.get("since") != "2031-01-01":
        assert len(indexed.frame) > 0


def test_account_unit_falls_back_to_sql(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    try:
        result = klantreis.analyze(ws, "pain-points", unit="account")
    except klantreis.KlantreisError:
        pytest.skip("the simulated data has no accounts")
    assert result.expr is not None


# -- exact values on a tiny log ------------------------------------------------------------------
JOURNEY = kt.journey(
    ["look", "buy"],
    {"v": ("look", "view"), "c": ("buy", "cart"), "p": ("buy", "pay")},
    conversion=["p"],
)
# a: view, cart at the same second (event_id orders them), pay 60 s later → converted
# b: view, cart 100 s later, view again 300 s later → drops off at v
# c: cart, view 50 s later → drops off at v;  d: view only → drops off at v
EVENTS = kt.events(
    [
        ("a", "2024-01-01T10:00:00", "view"),
        ("a", "2024-01-01T10:00:00", "cart"),
        ("a", "2024-01-01T10:01:00", "pay"),
        ("b", "2024-01-02T10:00:00", "view"),
        ("b", "2024-01-02T10:01:40", "cart"),
        ("b", "2024-01-02T10:06:40", "view"),
        ("c", "2024-01-03T10:00:00", "cart"),
        ("c", "2024-01-03T10:00:50", "view"),
        ("d", "2024-01-04T10:00:00", "view"),
        ("e", "2024-01-05T10:00:00", "browse"),  # not at any touchpoint
    ]
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> klantreis.Workspace:
    w = klantreis.init(tmp_path_factory.mktemp("pain-tiny") / "ws")
    w.save_journey(JOURNEY)
    w.ingest_events(EVENTS, progress=False)
    return w


@pytest.mark.parametrize("mode", ["never", "always"])
def test_exact_values_on_a_tiny_log(
    tiny: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", mode)
    result = klantreis.analyze(tiny, "pain-points", journey="test")
    assert (result.expr is None) == (mode == "always")
    rows = result.frame.set_index("touchpoint")
    assert result.meta["customers"] == 4
    assert rows.reach_customers.to_dict() == {"v": 4, "c": 3, "p": 1}
    assert rows.drop_off_customers.to_dict() == {"v": 3, "c": 0, "p": 0}
    # after v: a 0 s (the cart at the same second), b 100 s; after c: a 60, b 300, c 50
    assert rows.median_seconds_after[["v", "c"]].tolist() == [50.0, 60.0]
    assert pd.isna(rows.median_seconds_after["p"])  # a's pay is a's last event
    stages = klantreis.analyze(tiny, "pain-points", journey="test", level="stage")
    by_stage = stages.frame.set_index("stage")
    assert by_stage.reach_customers.to_dict() == {"look": 4, "buy": 3}
    # the stage sequence of b is look, buy, look; a converts at p (stage buy)
    assert by_stage.drop_off_customers.to_dict() == {"look": 3, "buy": 0}
