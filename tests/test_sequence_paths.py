"""Paths on the sequence index: the same frame, scope and meta as the SQL path, for every option
the index path takes; string-order ties at the top_k boundary; what falls back to SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import klantreis
from klantreis import testing as kt
from klantreis.engine import paths
from klantreis.engine.paths import SEPARATOR
from sequence_helpers import assert_same, both


@pytest.fixture(scope="module")
def ws(simulated: Any) -> klantreis.Workspace:
    w: klantreis.Workspace = simulated("paths", customers=1200, seed=5)
    return w


def _both(
    monkeypatch: pytest.MonkeyPatch, ws: klantreis.Workspace, **options: object
) -> tuple[klantreis.Result, klantreis.Result]:
    return both(monkeypatch, ws, "paths", **options)


_assert_same = assert_same


OPTIONS = [
    {"level": "event", "top_k": 20, "repeats": "keep"},  # the benchmark's
    {"level": "event", "top_k": 20, "repeats": "keep", "since": "2024-03-01"},
    {"level": "event"},
    {"level": "touchpoint"},  # five-phases links product-page on an event property
    {"level": "touchpoint", "top_k": 300},  # ties at the boundary among paths of 1 customer
    {"level": "touchpoint", "top_k": 100_000},  # every path listed, (other) is 0
    {"level": "stage", "top_k": 1},
    {"level": "stage", "repeats": "keep", "top_k": 40},
    {"level": "channel", "since": "2024-03-01", "until": "2024-06-30"},
    {"level": "channel", "repeats": "keep", "channel": "website,email", "top_k": 15},
    {"level": "touchpoint", "persona": "bargain-hunter", "top_k": 7},
    {"level": "touchpoint", "segment": "new-customers", "repeats": "keep"},
    {"level": "event", "max_steps": 3},
    {"level": "stage", "max_steps": 2, "since": "2024-02-01T12:30:00"},
    {"level": "event", "max_steps": 1, "repeats": "keep"},
    {"level": "touchpoint", "max_steps": 4, "repeats": "keep", "top_k": 50},
    # keep + period + max_steps: seq numbers the customer's nodes over ALL times (see paths.py)
    {"level": "event", "max_steps": 3, "repeats": "keep", "since": "2024-02-15"},
    {"level": "channel", "max_steps": 5, "repeats": "keep", "until": "2024-04-01"},
    {"level": "event", "max_steps": 0},
    {"level": "event", "since": "2031-01-01"},  # nobody in the period
]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_paths_are_the_same_on_the_index(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    sql, indexed = _both(monkeypatch, ws, **options)
    assert sql.expr is not None and indexed.expr is None  # the index path answered
    _assert_same(sql, indexed)


def test_max_steps_with_keep_counts_positions_over_all_times(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQL path's definition (matched, not changed): with keep, ``max_steps`` keeps the
    period's nodes among the customer's first max_steps ever, so a late period has fewer
    customers with a path than without max_steps."""
    sql, indexed = _both(
        monkeypatch, ws, level="event", max_steps=2, repeats="keep", since="2024-06-01"
    )
    _, whole = _both(monkeypatch, ws, level="event", repeats="keep", since="2024-06-01")
    assert indexed.meta["customers_with_path"] < whole.meta["customers_with_path"]
    _assert_same(sql, indexed)


def test_the_hash_collision_fallback_gives_the_same_answer(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = paths._path_hashes

    def colliding(*args: Any) -> tuple[np.ndarray, np.ndarray]:
        h1, h2 = real(*args)
        return h1 % np.uint64(7), h2  # h1 of many different paths equal: h2 must split them

    monkeypatch.setattr(paths, "_path_hashes", colliding)
    sql, indexed = _both(monkeypatch, ws, level="touchpoint", top_k=60)
    assert indexed.expr is None
    _assert_same(sql, indexed)


def test_long_paths_hash_by_node_and_position_factors(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "_TABLE_MAX", 1)  # as if paths were too long for the table
    for options in ({"level": "event", "repeats": "keep", "top_k": 200}, {"level": "stage"}):
        sql, indexed = _both(monkeypatch, ws, **options)
        assert indexed.expr is None
        _assert_same(sql, indexed)


def _tiny(tmp_path: Path, rows: list[tuple[str, str, str]]) -> klantreis.Workspace:
    w = klantreis.init(tmp_path / "ws")
    w.ingest_events(kt.events(rows), progress=False)
    return w


def _paths_of(customers: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    return [
        (c, f"2024-01-01T10:{i:02d}:00", e)
        for c, seq in customers.items()
        for i, e in enumerate(seq)
    ]


def test_ties_at_the_boundary_follow_the_string_order_of_path_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # path_key order is byte order: "B" < "a" < "a\x1fb" < "ab" < "b" < "é"
    w = _tiny(
        tmp_path,
        _paths_of(
            {
                "c1": ["a", "b"],
                "c2": ["a", "b"],
                "c3": ["ab"],
                "c4": ["b"],
                "c5": ["a"],
                "c6": ["B"],
                "c7": ["é"],
                "c8": ["ab"],
                "c9": ["a", "a"],  # keep: "a\x1fa"; collapse: "a"
            }
        ),
    )
    sql, indexed = _both(monkeypatch, w, level="event", top_k=3, repeats="keep")
    assert list(indexed.frame.path) == [["a", "b"], ["ab"], ["B"], []]
    assert list(indexed.frame.customers) == [2, 2, 1, 4]
    _assert_same(sql, indexed)
    sql, indexed = _both(monkeypatch, w, level="event", top_k=4, repeats="collapse")
    assert list(indexed.frame.path) == [["a"], ["a", "b"], ["ab"], ["B"], []]
    assert list(indexed.frame.customers) == [2, 2, 2, 1, 2]
    assert indexed.meta == {"customers_with_path": 9, "distinct_paths": 6}
    _assert_same(sql, indexed)
    for k in range(1, 9):
        _assert_same(*_both(monkeypatch, w, level="event", top_k=k, repeats="keep"))
        _assert_same(*_both(monkeypatch, w, level="event", top_k=k, max_steps=1))


def test_names_that_would_not_sort_like_their_keys_fall_back_to_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = _tiny(tmp_path, _paths_of({"c1": ["a", "b"], "c2": ["a\tb"], "c3": ["a"]}))
    sql, indexed = _both(monkeypatch, w, level="event", top_k=1)
    assert indexed.expr is not None  # "a\tb" sorts before "a\x1fb": the SQL path answered
    _assert_same(sql, indexed)


def test_helpers() -> None:
    starts = np.array([0, 3, 4])
    assert paths._positions(starts, 7).tolist() == [0, 1, 2, 0, 0, 1, 2]
    assert paths._positions(starts, 7, step=5, dtype=np.int32).tolist() == [0, 5, 10, 0, 0, 5, 10]
    assert paths._run_starts(np.array([2, 2, 2, 5, 7, 7, 7])).tolist() == [0, 3, 4]
    assert paths._run_starts(np.array([], dtype=np.int32)).tolist() == []
    assert paths._kth_smallest(np.array([3, 1, 1, 0, 2]), 3) == 1
    assert paths._kth_smallest(np.array([3, 1, 1, 0, 2]), 5) == 3
    assert paths._ranks(["b", "a", "B", "ab"]).tolist() == [3, 1, 0, 2]
    assert paths._orders_like_keys(["a", "", "é"])
    assert not paths._orders_like_keys(["a", f"x{SEPARATOR}y"])
