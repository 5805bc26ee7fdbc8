"""Monitor on the sequence index: the behaviour (reach, conversion) and time cells from the
compiled kernel give the same series, alerts, scope and meta as the SQL path, for every option
the index path takes; calendar periods as SQL ``date_trunc``; what falls back to SQL."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

import klantreis
from klantreis.engine import monitor


@pytest.fixture(scope="module")
def ws(simulated: Any) -> klantreis.Workspace:
    w: klantreis.Workspace = simulated("monitor", customers=1500, seed=11)
    return w


def _both(
    monkeypatch: pytest.MonkeyPatch, ws: klantreis.Workspace, **options: Any
) -> tuple[klantreis.Result, klantreis.Result, list[bool]]:
    answered: list[bool] = []
    original = monitor.MonitorQuery._cells_indexed

    def spy(self: monitor.MonitorQuery, *args: Any) -> Any:
        out = original(self, *args)
        answered.append(out is not None)
        return out

    monkeypatch.setattr(monitor.MonitorQuery, "_cells_indexed", spy)
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "never")
    sql = klantreis.analyze(ws, "monitor", **options)
    assert answered == [False]
    answered.clear()
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    indexed = klantreis.analyze(ws, "monitor", **options)
    return sql, indexed, answered


def _assert_same(sql: klantreis.Result, indexed: klantreis.Result) -> None:
    pd.testing.assert_frame_equal(
        sql.frame.reset_index(drop=True),
        indexed.frame.reset_index(drop=True),
        check_dtype=False,
        rtol=1e-9,
    )
    assert sql.scope == indexed.scope
    a, b = dict(sql.meta), dict(indexed.meta)
    alerts_a, alerts_b = a.pop("alerts"), b.pop("alerts")
    assert a == b
    pd.testing.assert_frame_equal(
        pd.DataFrame(alerts_a), pd.DataFrame(alerts_b), check_dtype=False, rtol=1e-9
    )


OPTIONS: list[dict[str, Any]] = [
    {"level": "touchpoint", "trend": "month"},  # the dashboard's alerts section
    {"level": "touchpoint", "trend": "month", "persona": "bargain-hunter", "since": "2024-03-01"},
    {"trend": "week"},
    {"level": "event", "trend": "week", "min_n": 5},
    {"level": "event", "trend": "month", "kpis": ["reach"]},
    {"level": "stage", "trend": "week", "kpis": ["conversion"], "since": "2024-02-14"},
    {"level": "stage", "trend": "month", "kpis": ["time"], "until": "2024-04-17"},
    {"level": "channel", "trend": "week", "kpis": ["reach", "time", "nps"]},
    {"level": "channel", "trend": "month", "channel": "website,email", "min_n": 3},
    {"level": "touchpoint", "trend": "week", "channel": "email", "kpis": ["conversion", "time"]},
    {"level": "touchpoint", "trend": "week", "segment": "new-customers", "until": "2024-05-01"},
    {"level": "event", "trend": "month", "conversion": "purchase", "kpis": ["conversion"]},
    {"level": "touchpoint", "conversion": ["purchase", "repeat_purchase"], "since": "2024-03-10"},
    {"level": "stage", "trend": "week", "conversion": "no-such-event"},
    {
        "level": "touchpoint",
        "trend": "month",
        "since": "2024-02-15T08:30:00",
        "until": "2024-05-31",
    },
    {"level": "event", "trend": "week", "since": "2031-01-01"},  # nobody in the period
    {"level": "touchpoint", "kpis": ["csat", "nps", "ces"]},  # scores only: nothing to index
]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_monitor_is_the_same_on_the_index(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    sql, indexed, answered = _both(monkeypatch, ws, **options)
    kpis = options.get("kpis") or monitor.KPIS
    assert answered == [any(k in kpis for k in ("reach", "conversion", "time"))]
    assert len(sql.frame) or options.get("since") == "2031-01-01"
    _assert_same(sql, indexed)


def test_a_period_filter_does_not_change_the_cells_of_the_weeks_it_keeps(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # waits look back before ``since`` and purchases count over the whole calendar week, so the
    # weeks the period keeps whole have the same cells as without the period
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    full = klantreis.analyze(ws, "monitor", level="touchpoint", trend="week").frame
    cut = klantreis.analyze(ws, "monitor", level="touchpoint", trend="week", since="2024-03-04")
    assert {"reach", "conversion", "time"} <= set(full["kpi"])
    kept = full[
        (full["period"] >= "2024-03-04") & full["kpi"].isin(["reach", "conversion", "time"])
    ]
    assert len(kept) and (kept["kpi"] == "time").any()
    behaviour = cut.frame[cut.frame["kpi"].isin(["reach", "conversion", "time"])]
    pd.testing.assert_frame_equal(
        kept.reset_index(drop=True), behaviour.reset_index(drop=True), check_dtype=False
    )


def test_accounts_fall_back_to_sql(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    query = monitor.MonitorQuery(level="touchpoint", unit="account")
    from klantreis.engine.analyze import open_source
    from klantreis.engine.query import prepare

    p = prepare(open_source(ws), query)  # the simulated customers have accounts
    assert p.index is None
    assert query._cells_indexed(p, list(monitor.KPIS)) is None


def test_periods_are_those_of_sql_date_trunc() -> None:
    from klantreis.engine.kernels.monitor import period_bounds, period_code

    rng = np.random.default_rng(3)
    day = 86_400_000_000
    ts = rng.integers(-800 * 365 * day, 400 * 365 * day, 400)
    # the edges: around the epoch (a Thursday), Mondays, month ends, leap days
    edges = pd.to_datetime(
        ["1970-01-01", "1969-12-29", "1969-12-28 23:59:59.999999", "2024-02-29 23:59:59",
         "2024-03-01", "2000-02-29", "1900-03-01", "2023-12-31 23:59:59.999999", "2024-01-01"]
    , format="ISO8601").as_unit("us")  # fmt: skip
    ts = np.concatenate([ts, edges.asi8, edges.asi8 - 1])
    con = duckdb.connect()
    got = con.execute(
        "SELECT epoch_us(date_trunc('week', make_timestamp(t))), "
        "epoch_us(date_trunc('month', make_timestamp(t))) FROM unnest($ts) AS u(t)",
        {"ts": [int(t) for t in ts]},
    ).fetchall()
    weeks = monitor._period_starts(0, 1, False)  # week 0 starts on Monday 1969-12-29
    assert str(weeks[0]) == "1969-12-29T00:00:00.000000"
    for t, (week_start, month_start) in zip(ts, got, strict=True):
        for month, start in ((False, week_start), (True, month_start)):
            code = period_code(int(t), month)
            lo, hi = period_bounds(code, month)
            assert lo == start and lo <= t < hi
            stamp = monitor._period_starts(code, 1, month)[0]
            assert stamp.astype("datetime64[us]").astype(np.int64) == start
