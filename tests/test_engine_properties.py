"""Invariants on random small logs, against a plain-Python reference; DuckDB equals Spark."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from itertools import pairwise

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import klantreis
from klantreis import testing as kt

NAMES = ["a", "b", "c", "d"]
T0 = dt.datetime(2024, 1, 1)

event_rows = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3", "c4", "c5"]),
        st.integers(min_value=0, max_value=30),  # minutes: many ties on purpose
        st.sampled_from(NAMES),
    ),
    min_size=1,
    max_size=40,
)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _log(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    return kt.events([(c, T0 + dt.timedelta(minutes=m), e) for c, m, e in rows])


def _sequences(frame: pd.DataFrame) -> dict[str, list[tuple[dt.datetime, str, str]]]:
    seqs: dict[str, list[tuple[dt.datetime, str, str]]] = {}
    for r in frame.itertuples():
        seqs.setdefault(r.customer_id, []).append((r.timestamp, r.event_id, r.event))
    return {c: sorted(s) for c, s in seqs.items()}


def reference_funnel(frame: pd.DataFrame, steps: list[str], window_s: float | None) -> list[int]:
    counts = [0] * len(steps)
    for seq in _sequences(frame).values():
        start = next((i for i, x in enumerate(seq) if x[2] == steps[0]), None)
        if start is None:
            continue
        counts[0] += 1
        pos, t0 = start, seq[start][0]
        for k in range(1, len(steps)):
            nxt = next(
                (
                    i
                    for i in range(pos + 1, len(seq))
                    if seq[i][2] == steps[k]
                    and (window_s is None or (seq[i][0] - t0).total_seconds() <= window_s)
                ),
                None,
            )
            if nxt is None:
                break
            counts[k] += 1
            pos = nxt
    return counts


@SETTINGS
@given(
    rows=event_rows,
    steps=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4),
    window=st.sampled_from([None, 600.0]),
)
def test_funnel_matches_reference_and_never_grows(rows, steps, window) -> None:  # type: ignore[no-untyped-def]
    frame = _log(rows)
    r = klantreis.analyze(kt.source(events=frame), "funnel", steps=steps, window_seconds=window)
    got = list(r.frame.customers)
    assert got == reference_funnel(frame, steps, window)
    assert all(b <= a for a, b in pairwise(got))


@SETTINGS
@given(rows=event_rows)
def test_transitions_match_reference(rows) -> None:  # type: ignore[no-untyped-def]
    frame = _log(rows)
    r = klantreis.analyze(kt.source(events=frame), "transitions")
    want: Counter[tuple[str, str]] = Counter()
    for seq in _sequences(frame).values():
        want.update((a[2], b[2]) for a, b in pairwise(seq))
    got = dict(zip(zip(r.frame.source, r.frame.target, strict=True), r.frame["count"], strict=True))
    assert got == dict(want)
    assert r.frame["count"].sum() == len(frame) - frame.customer_id.nunique()


@SETTINGS
@given(rows=event_rows, top_k=st.integers(min_value=1, max_value=4))
def test_paths_match_reference_and_add_up(rows, top_k) -> None:  # type: ignore[no-untyped-def]
    frame = _log(rows)
    r = klantreis.analyze(kt.source(events=frame), "paths", top_k=top_k, repeats="keep")
    want = Counter(tuple(x[2] for x in seq) for seq in _sequences(frame).values())
    listed = r.frame[~r.frame.is_other]
    for path, n in zip(listed.path, listed.customers, strict=True):
        assert want[tuple(path)] == n
    ranked = sorted(want.values(), reverse=True)
    assert sorted(listed.customers, reverse=True) == ranked[:top_k]
    assert r.frame.customers.sum() == frame.customer_id.nunique()
    assert r.frame.share.sum() == pytest.approx(1.0)


@pytest.mark.spark
def test_duckdb_and_spark_agree() -> None:
    """Options not covered by the exact tests, on a random 300-event log: equal frames."""
    import os

    if os.environ.get("KLANTREIS_SKIP_SPARK") == "1":
        pytest.skip("KLANTREIS_SKIP_SPARK=1")
    rng = random.Random(7)
    rows = [
        (f"c{rng.randrange(30)}", rng.randrange(2000), rng.choice(["view", "cart", "pay", "help"]))
        for _ in range(300)
    ]
    events = _log(rows)
    events["channel"] = [rng.choice(["web", "email", None]) for _ in range(len(events))]
    events["value"] = [rng.choice([None, 10.0, 25.5]) for _ in range(len(events))]
    events["session_id"] = [f"s{rng.randrange(40)}" for _ in range(len(events))]
    events["properties"] = [{"page": rng.choice(["/", "/a", "/b"])} for _ in range(len(events))]
    responses = kt.responses(
        [(f"c{rng.randrange(30)}", "2024-01-01", rng.choice(["v", "c", "p"]), "csat", rng.randint(1, 5)) for _ in range(80)]
    )  # fmt: skip
    journey = kt.journey(
        ["look", "buy"],
        {"v": ("look", "view"), "c": ("buy", "cart"), "p": ("buy", "pay"), "h": ("buy", "help")},
        conversion=["p"],
    )
    calls: list[tuple[str, dict[str, object]]] = [
        ("funnel", {"steps": ["view", "cart", "pay"], "level": "event", "window_seconds": 3000}),
        ("funnel", {"breakdown": "channel"}),
        ("transitions", {"level": "stage", "repeats": "collapse", "top_k": 2}),
        ("paths", {"top_k": 5, "max_steps": 3}),
        ("pages", {"by": "source"}),
    ]
    duck = kt.source(events=events, responses=responses, journey=journey)
    spark = kt.source(events=events, responses=responses, journey=journey, engine="spark")
    for name, options in calls:
        a = klantreis.analyze(duck, name, **options)
        b = klantreis.analyze(spark, name, **options)
        pd.testing.assert_frame_equal(a.frame, b.frame, check_dtype=False, obj=name)
        for t in a.tables:
            pd.testing.assert_frame_equal(
                a.tables[t], b.tables[t], check_dtype=False, obj=f"{name}.{t}"
            )
        assert a.meta == b.meta and a.scope == b.scope
