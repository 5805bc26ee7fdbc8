"""The measured journey on the sequence index: the two-step conversion funnels per touchpoint
give the same frame and ``measured`` JSON as the SQL path (period, persona/segment, window),
and exact values on a tiny log (entries in the period, conversions at any time after them)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import klantreis
from klantreis import testing as kt
from klantreis.engine.measure import MeasuresQuery, measure_journey


@pytest.fixture(scope="module")
def ws(simulated: Any) -> klantreis.Workspace:
    w: klantreis.Workspace = simulated("measure", customers=600, seed=3)
    return w


@pytest.fixture
def indexed_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records whether each call of the index path answered (True) or fell back (False)."""
    calls: list[bool] = []
    original = MeasuresQuery._conversions_indexed

    def spy(self: MeasuresQuery, *args: Any) -> Any:
        out = original(self, *args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(MeasuresQuery, "_conversions_indexed", spy)
    return calls


def _both(
    monkeypatch: pytest.MonkeyPatch, data: Any, **options: Any
) -> tuple[klantreis.Result, klantreis.Result]:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "never")
    sql = measure_journey(data, **options)
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    indexed = measure_journey(data, **options)
    return sql, indexed


OPTIONS: list[dict[str, Any]] = [
    {"priorities": False},  # the map's numbers
    {"priorities": False, "persona": "bargain-hunter", "since": "2024-03-01"},  # the dashboard's
    {"priorities": False, "since": "2024-02-01", "until": "2024-03-31"},
    {"priorities": False, "until": "2024-02-10T08:00:00"},
    {"priorities": False, "segment": "new-customers", "window_seconds": 3600},
    {"priorities": False, "window_seconds": 86_400, "since": "2024-03-01"},
    {"priorities": False, "window_seconds": 0},
    {"priorities": False, "persona": "loyal-regular", "window_seconds": 7 * 86_400.0},
    {"priorities": False, "since": "2031-01-01"},  # nobody in the period
    {"priorities": True, "since": "2024-02-01"},
]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_measured_journey_is_the_same_on_the_index(
    ws: klantreis.Workspace,
    monkeypatch: pytest.MonkeyPatch,
    indexed_calls: list[bool],
    options: dict[str, Any],
) -> None:
    sql, indexed = _both(monkeypatch, ws, **options)
    assert indexed_calls == [False, True]  # never: SQL; always: the index answered
    pd.testing.assert_frame_equal(sql.frame, indexed.frame, check_dtype=False, rtol=1e-9)
    assert sql.measured == indexed.measured
    assert sql.meta == indexed.meta
    assert sql.scope == indexed.scope
    pd.testing.assert_frame_equal(sql.priorities, indexed.priorities, check_dtype=False)
    if options.get("since") != "2031-01-01":
        assert indexed.frame.conversion_n.notna().sum() >= 5


# -- exact values on a tiny log ------------------------------------------------------------------
JOURNEY = kt.journey(
    ["look", "buy"],
    {"v": ("look", "view"), "c": ("buy", "cart"), "p": ("buy", "pay")},
    conversion=["p"],
)
# a: pay in December (before the period), view, cart, pay 10 min after the view (January)
# b: view and cart at the same second (event_id orders them), pay in March (after the period)
# c: view in December (before the period) and in January, no pay
EVENTS = kt.events(
    [
        ("a", "2023-12-20T10:00:00", "pay"),
        ("a", "2024-01-01T10:00:00", "view"),
        ("a", "2024-01-01T10:01:00", "cart"),
        ("a", "2024-01-01T10:10:00", "pay"),
        ("b", "2024-01-02T10:00:00", "view"),
        ("b", "2024-01-02T10:00:00", "cart"),
        ("b", "2024-03-02T10:00:00", "pay"),
        ("c", "2023-12-01T09:00:00", "view"),
        ("c", "2024-01-05T09:00:00", "view"),
    ]
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> klantreis.Workspace:
    w = klantreis.init(tmp_path_factory.mktemp("measure-tiny") / "ws")
    w.save_journey(JOURNEY)
    w.ingest_events(EVENTS, progress=False)
    return w


@pytest.mark.parametrize("mode", ["never", "always"])
def test_exact_conversions_on_a_tiny_log(
    tiny: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", mode)
    january = {"since": "2024-01-01", "until": "2024-01-31", "priorities": False}
    rows = measure_journey(tiny, "test", **january).frame.set_index("touchpoint")
    # v: a, b, c enter in January; a pays 10 min later, b in March (after the period: counts)
    assert rows.conversion_n[["v", "c"]].tolist() == [3, 2]
    assert pd.isna(rows.conversion_n["p"])  # the conversion touchpoint itself
    assert rows.conversion_share[["v", "c"]].tolist() == [2 / 3, 1.0]
    # a window of one day: b's pay is two months after its view and its cart
    rows = measure_journey(tiny, "test", window_seconds=86_400, **january).frame
    assert rows.set_index("touchpoint").conversion_share[["v", "c"]].tolist() == [1 / 3, 1 / 2]
    # a window of 540 s: a paid 600 s after the view and 540 s after the cart
    rows = measure_journey(tiny, "test", window_seconds=540, **january).frame
    assert rows.set_index("touchpoint").conversion_share[["v", "c"]].tolist() == [0.0, 1 / 2]
    # all times: c enters at its December view; a's December pay comes before a's view
    rows = measure_journey(tiny, "test", priorities=False).frame.set_index("touchpoint")
    assert rows.conversion_n[["v", "c"]].tolist() == [3, 2]
    assert rows.conversion_share[["v", "c"]].tolist() == [2 / 3, 1.0]
