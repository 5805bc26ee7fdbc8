"""Attribution on the sequence index: the same frame, scope and meta as the SQL path for every
option the index path takes (Markov order 1, heuristics, Shapley; every level; conversions by
event name or by conversion touchpoint; lookback; period; segment/persona); a hand-computed
case with conversions that are not nodes of the level; what falls back to SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import klantreis
from klantreis import testing as kt
from klantreis.engine.attribution import AttributionQuery


@pytest.fixture(scope="module")
def ws(simulated: Any) -> klantreis.Workspace:
    w: klantreis.Workspace = simulated("attribution", customers=1200, seed=5)
    return w


def _both(
    monkeypatch: pytest.MonkeyPatch,
    ws: klantreis.Workspace,
    *,
    indexed: bool = True,
    **options: Any,
) -> tuple[klantreis.Result, klantreis.Result]:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "never")
    sql = klantreis.analyze(ws, "attribution", **options)
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    with monkeypatch.context() as m:
        if indexed:  # the index path must answer: the SQL one may not run

            def no_sql(*args: object, **kwargs: object) -> None:
                raise AssertionError("the SQL path ran")

            m.setattr(AttributionQuery, "_sql_inputs", no_sql)
        on_index = klantreis.analyze(ws, "attribution", **options)
    return sql, on_index


def _assert_same(sql: klantreis.Result, indexed: klantreis.Result) -> None:
    pd.testing.assert_frame_equal(
        sql.frame.reset_index(drop=True),
        indexed.frame.reset_index(drop=True),
        check_dtype=False,
        rtol=1e-9,
    )
    for name, table in sql.tables.items():
        pd.testing.assert_frame_equal(table, indexed.tables[name], check_dtype=False, rtol=1e-9)
    assert sql.scope == indexed.scope
    assert sql.meta.keys() == indexed.meta.keys()
    for key, value in sql.meta.items():
        if isinstance(value, float):  # float sums in another order: the last bits may differ
            assert indexed.meta[key] == pytest.approx(value, rel=1e-9), key
        else:
            assert indexed.meta[key] == value, key


MARKOV = ["markov"]
OPTIONS: list[dict[str, Any]] = [
    {"level": "channel", "models": MARKOV, "conversion": "purchase"},  # the benchmark's
    {"level": "touchpoint", "models": MARKOV},  # Markov alone: the compiled kernel
    {"level": "stage", "models": MARKOV, "persona": "bargain-hunter"},
    {"level": "event", "models": MARKOV, "conversion": "purchase", "until": "2024-03-01"},
    {"level": "channel", "models": MARKOV, "segment": "new-customers", "since": "2024-02-01"},
    {"level": "channel", "models": MARKOV, "conversion": "no_such_event"},
    {"level": "channel", "conversion": "purchase"},  # every model
    {"level": "channel"},  # the conversion touchpoints, linked at another level
    {"level": "touchpoint", "conversion": "purchase"},
    {"level": "touchpoint"},
    {"level": "stage", "models": ["markov", "linear", "position_based"]},
    {"level": "event", "conversion": "purchase", "models": ["markov", "time_decay"]},
    {"level": "channel", "conversion": "purchase", "since": "2024-02-01", "until": "2024-04-15"},
    {"level": "channel", "conversion": "purchase", "lookback_days": 2.5},
    {"level": "touchpoint", "lookback_days": 10, "half_life_days": 1.5, "models": MARKOV},
    {"level": "touchpoint", "segment": "new-customers"},
    {"level": "channel", "persona": "bargain-hunter", "conversion": "repeat_purchase"},
    {"level": "channel", "conversion": "no_such_event"},  # nothing converts
    {"level": "channel", "conversion": "purchase", "since": "2031-01-01"},  # no events at all
    {"level": "touchpoint", "models": ["shapley", "first_touch"], "shapley_max_channels": 30},
    {"level": "channel", "models": ["last_touch", "shapley"], "conversion": "purchase"},
]


@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items())
)
def test_same_as_sql(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    sql, indexed = _both(monkeypatch, ws, **options)
    _assert_same(sql, indexed)
    assert indexed.expr is None


@pytest.mark.parametrize(
    "options",
    [
        {"level": "channel", "markov_order": 2, "conversion": "purchase"},
        {"level": "channel", "channel": "website,search", "conversion": "purchase"},
    ],
    ids=["markov_order=2", "channel filter"],
)
def test_falls_back_to_sql(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    sql, indexed = _both(monkeypatch, ws, indexed=False, **options)
    _assert_same(sql, indexed)
    assert indexed.expr is not None  # the heuristics' SQL ran


# C1 → C2 → C3 → buy (no channel: not a node at the channel level), then C1 without a buy;
# b only C1; c C2 → C3; d buys first without any touch, then C2 → buy on the website (a node,
# so not a touch either), then buys again with no touch in between. Two buys tie in time with
# the touch before them (event_id orders them after it).
HAND = kt.events(
    [
        ("a", "2024-01-01T00:00:00", "touch", {"channel": "C1"}),
        ("a", "2024-01-02T00:00:00", "touch", {"channel": "C2"}),
        ("a", "2024-01-03T00:00:00", "touch", {"channel": "C3"}),
        ("a", "2024-01-03T00:00:00", "buy", {"value": 100.0}),
        ("a", "2024-01-04T00:00:00", "touch", {"channel": "C1"}),
        ("b", "2024-01-01T00:00:00", "touch", {"channel": "C1"}),
        ("c", "2024-01-01T00:00:00", "touch", {"channel": "C2"}),
        ("c", "2024-01-02T00:00:00", "touch", {"channel": "C3"}),
        ("d", "2024-01-01T00:00:00", "buy", {"value": 50.0}),
        ("d", "2024-01-02T00:00:00", "touch", {"channel": "C2"}),
        ("d", "2024-01-02T00:00:00", "buy", {"channel": "website", "value": 20.0}),
        ("d", "2024-01-05T00:00:00", "buy", {"channel": "website"}),
    ]
)


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> klantreis.Workspace:
    # a journey whose rules match none of these events: channels are the events' own
    w = klantreis.init(
        Path(tmp_path_factory.mktemp("attribution-hand")) / "ws", template="five-phases"
    )
    w.ingest_events(HAND, progress=False)
    return w


@pytest.mark.parametrize("models", [["markov", "last_touch"], ["markov"]])  # NumPy; kernel
def test_hand_computed_paths(
    hand: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, models: list[str]
) -> None:
    options = {"level": "channel", "conversion": "buy", "models": models}
    sql, indexed = _both(monkeypatch, hand, **options)
    _assert_same(sql, indexed)
    # paths: a C1 C2 C3 → buy, a C1; b C1; c C2 C3; d C2 → buy (d's other two buys: no touch)
    assert indexed.meta["paths"] == 5
    assert indexed.meta["conversions"] == 2
    assert indexed.meta["conversions_without_touch"] == 2
    assert indexed.meta["value"] == 120.0
    f = indexed.frame
    if "last_touch" in models:
        last = f[f["model"] == "last_touch"].set_index("channel")
        assert last["conversions"].to_dict() == {"C1": 0.0, "C2": 1.0, "C3": 1.0}
        assert last["value"].to_dict() == {"C1": 0.0, "C2": 20.0, "C3": 100.0}
    # start→C1 3, start→C2 2; C1→C2 1, C1→null 2; C2→C3 2, C2→conv 1; C3→conv 1, C3→null 1:
    # P(conv | C3) = 1/2, P(conv | C2) = 2/3·1/2 + 1/3 = 2/3, P(conv | C1) = 1/3·2/3 = 2/9;
    # P(conv) = 3/5·2/9 + 2/5·2/3 = 2/5
    assert indexed.meta["markov_conversion_probability"] == pytest.approx(2 / 5)


def test_hand_computed_lookback(hand: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    options = {"level": "channel", "conversion": "buy", "lookback_days": 1, "models": ["linear"]}
    sql, indexed = _both(monkeypatch, hand, **options)
    _assert_same(sql, indexed)
    # a's C1 (2 days before the buy) drops out: C2 and C3 share a's buy, d's C2 its own
    linear = indexed.frame.set_index("channel")["conversions"].to_dict()
    assert linear == pytest.approx({"C2": 1.5, "C3": 0.5})
    assert indexed.meta["paths"] == 5
