"""The sequence index: how it is built, kept fresh and erased, and that the analyses on it give
exactly the answers of the SQL path (transitions here; each analysis has its own parity file)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import klantreis
from klantreis.engine.sequence import AUTO_MIN_BYTES, build_index, index_mode
from klantreis.engine.source import open_source
from sequence_helpers import both


@pytest.fixture(scope="module")
def ws(simulated: Any) -> klantreis.Workspace:
    w: klantreis.Workspace = simulated("seq", customers=1500, seed=11)
    return w


def test_the_index_holds_every_event_in_sequence_order(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = build_index(ws)
    events = pd.read_parquet(ws.data_files("events"))
    assert index.n_events == len(events)
    assert index.n_customers == events.customer_id.nunique()
    assert index.events == sorted(events.event.unique())
    # each customer one run, customers in code order, a run in (timestamp, event_id) order:
    # decode and compare with pandas
    ids = index.customer_ids(np.arange(index.n_customers))
    assert sorted(ids) == sorted(events.customer_id.unique())
    # the simulator writes one file clustered by customer (c0, c1, ..., c10, ...): taken in its
    # own order, with no sort, so the codes are not in id order
    assert ids != sorted(ids)
    assert (np.diff(np.asarray(index.cust)) >= 0).all()
    code = events.customer_id.map({c: i for i, c in enumerate(ids)})
    want = (
        events.assign(code=code)
        .sort_values(["code", "timestamp", "event_id"])
        .reset_index(drop=True)
    )
    got_customers = index.customer_ids(np.asarray(index.cust))
    assert got_customers == list(want.customer_id)
    assert [index.events[e] for e in index.event] == list(want.event)
    micros = want.timestamp.astype("datetime64[us]").astype("int64").to_numpy()
    assert np.array_equal(np.asarray(index.ts), micros)
    assert np.array_equal(np.asarray(index.t_s), _duckdb_seconds(micros))
    channels = [index.channels[c] if c >= 0 else None for c in index.channel]
    assert channels == [None if pd.isna(c) else c for c in want.channel]
    assert np.array_equal(np.isnan(index.value), want.value.isna().to_numpy())
    # each customer is one run: starts[c]..starts[c+1]
    assert index.starts[0] == 0 and index.starts[-1] == index.n_events
    assert (np.diff(index.starts) > 0).all()


def _duckdb_seconds(micros: np.ndarray) -> np.ndarray:
    """``t_s`` as the SQL path defines it: ``CAST(epoch(timestamp) AS BIGINT)`` in DuckDB."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.register("t", pa.table({"us": pa.array(micros, pa.int64())}))
    sql = "SELECT CAST(epoch(make_timestamp(us)) AS BIGINT) AS s FROM t"
    return con.sql(sql).to_arrow_table().column("s").to_numpy()


def test_whole_seconds_round_as_the_sql_path() -> None:
    from klantreis.engine.sequence import whole_seconds

    second = 1_000_000
    edges = [0, 1, 499_999, 500_000, 500_001, 1_500_000, 2_500_000, second - 1]
    day = 1_700_000_000 * second
    micros = np.array(
        [*edges, *(day + e for e in edges), *(-e for e in edges), *(-day - e for e in edges)]
    )
    # half a second rounds to the even second (2.5 s -> 2, 1.5 s -> 2), as DuckDB's cast does
    assert whole_seconds(np.array([500_000, 1_500_000, 2_500_000, -2_500_000])).tolist() == [
        0,
        2,
        2,
        -2,
    ]
    assert np.array_equal(whole_seconds(micros), _duckdb_seconds(micros))
    rng = np.random.default_rng(7)
    wide = rng.integers(-(2**52), 2**52, 200_000)
    assert np.array_equal(whole_seconds(wide), _duckdb_seconds(wide))


def test_a_new_ingest_makes_a_new_version_and_drops_the_old_one(
    ws: klantreis.Workspace, tmp_path: Path
) -> None:
    root = tmp_path / "w2"
    shutil.copytree(ws.root, root)
    w = klantreis.open(root)
    first = build_index(w)
    extra = pd.DataFrame(
        {
            "event_id": ["x-1", "x-2"],
            "customer_id": ["zz-new", "zz-new"],
            "timestamp": ["2024-03-01T10:00:00", "2024-03-01T10:05:00"],
            "event": ["ad_click", "purchase"],
            "channel": ["social", "website"],
        }
    )
    w.ingest_events(extra, progress=False)
    second = build_index(w)
    assert second.path != first.path
    assert not first.path.exists()  # the old version is deleted when the new one is built
    assert second.n_events == first.n_events + 2
    assert second.n_customers == first.n_customers + 1
    assert build_index(w).path == second.path  # built once per version


def test_forget_erases_the_index_and_the_next_one_lacks_the_customer(
    ws: klantreis.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "w3"
    shutil.copytree(ws.root, root)
    w = klantreis.open(root)
    index = build_index(w)
    victim = index.customer_ids(np.array([0]))[0]
    w.forget_customer(victim)
    assert not (w.data_dir / "_index").exists()
    after = build_index(w)
    assert after.n_customers == index.n_customers - 1
    assert victim not in set(after.customer_ids(np.arange(after.n_customers)))


def test_modes(ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "bogus")
    assert index_mode() == "auto"
    from klantreis.engine.sequence import index_for

    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "never")
    assert index_for(open_source(ws)) is None
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "auto")
    size = sum(p.stat().st_size for p in ws.data_files("events"))
    assert size < AUTO_MIN_BYTES  # a small workspace: SQL is fast enough there
    assert index_for(open_source(ws)) is None
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    assert index_for(open_source(ws)) is not None
    assert index_for(open_source(ws, engine="duckdb")) is not None


TRANSITIONS = [
    {"level": "event"},
    {"level": "touchpoint"},  # five-phases links product-page on an event property
    {"level": "stage", "repeats": "collapse"},
    {"level": "channel", "since": "2024-03-01", "until": "2024-06-30"},
    {"level": "touchpoint", "persona": "bargain-hunter", "top_k": 2},
    {"level": "touchpoint", "segment": "new-customers", "min_count": 3},
    {"level": "event", "channel": "website,email", "focus": "purchase"},
    {"level": "stage", "since": "2024-02-01T12:30:00", "repeats": "collapse", "top_k": 1},
]


@pytest.mark.parametrize("options", TRANSITIONS, ids=[str(o) for o in TRANSITIONS])
def test_transitions_are_the_same_on_the_index(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    sql, indexed = both(monkeypatch, ws, "transitions", **options)
    assert len(sql.frame) > 0
    pd.testing.assert_frame_equal(
        sql.frame.reset_index(drop=True), indexed.frame.reset_index(drop=True), check_dtype=False
    )
    assert sql.scope == indexed.scope


SCORES = [
    {"level": "touchpoint"},
    {"level": "stage", "trend": "month", "since": "2024-02-01"},
    {"level": "channel", "trend": "week", "persona": "bargain-hunter"},
    {"level": "event", "metric": "csat"},
    {"level": "touchpoint", "segment": "new-customers", "until": "2024-05-01", "trend": "week"},
    {"level": "touchpoint", "channel": "website"},
]


@pytest.mark.parametrize("options", SCORES, ids=[str(o) for o in SCORES])
def test_scores_are_the_same_on_the_responses_index(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    sql, indexed = both(monkeypatch, ws, "scores", **options)
    assert len(sql.frame) > 0
    pd.testing.assert_frame_equal(sql.frame, indexed.frame, check_dtype=False, rtol=1e-9)
    assert sql.scope == indexed.scope


def test_a_survey_answer_makes_a_new_responses_index(
    ws: klantreis.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from klantreis.engine.feedback_index import responses_index_for

    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    root = tmp_path / "w4"
    shutil.copytree(ws.root, root)
    w = klantreis.open(root)
    before = responses_index_for(open_source(w))
    assert before is not None
    answer = pd.DataFrame(
        {
            "response_id": ["new-1"],
            "customer_id": ["zz-9"],
            "timestamp": ["2024-04-01T09:00:00"],
            "touchpoint": ["checkout"],
            "metric": ["csat"],
            "score": [5.0],
        }
    )
    w.ingest_feedback(answer, progress=False)
    after = responses_index_for(open_source(w))
    assert after is not None and after.path != before.path
    assert len(after) == len(before) + 1
    assert not before.path.exists()


def test_the_channel_level_without_a_journey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = klantreis.init(tmp_path / "bare")  # no journey at all
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(6)],
            "customer_id": ["a", "a", "a", "b", "b", "b"],
            "timestamp": [f"2024-01-0{d}T10:00:00" for d in (1, 2, 3, 1, 2, 4)],
            "event": ["x", "y", "z", "x", "y", "z"],
            "channel": ["web", "mail", None, "web", "web", "mail"],
        }
    )
    w.ingest_events(events, progress=False)
    sql, indexed = both(monkeypatch, w, "transitions", level="channel")
    got = {(r.source, r.target): int(r["count"]) for _, r in indexed.frame.iterrows()}
    assert got == {
        ("web", "mail"): 2,
        ("web", "web"): 1,
    }  # a: web→mail (z has none); b: web→web→mail
    pd.testing.assert_frame_equal(sql.frame, indexed.frame, check_dtype=False)


def test_a_failed_build_falls_back_to_the_sql(
    ws: klantreis.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    from klantreis.engine import sequence

    root = tmp_path / "w5"
    shutil.copytree(ws.root, root)
    shutil.rmtree(root / "data" / "_index", ignore_errors=True)
    w = klantreis.open(root)
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "never")
    want = klantreis.analyze(w, "transitions", level="stage").frame

    def broken(files: list[Path], out: Path) -> None:
        raise duckdb.IOException("No files found that match the pattern (erased meanwhile)")

    monkeypatch.setattr(sequence, "_write", broken)
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    got = klantreis.analyze(w, "transitions", level="stage").frame
    pd.testing.assert_frame_equal(want, got)
    assert not any((root / "data" / "_index").glob("events-*"))  # nothing half-built left


def test_customer_numbering_carries_across_batches(tmp_path) -> None:
    """The build numbers customers as the sorted stream passes, batch by batch: an id that
    continues into the next batch keeps its code (checked by hand)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from klantreis.engine.sequence import _Numbering

    numbering = _Numbering()
    batches = [["a", "a", "b"], ["b", "c"], [], ["c"], ["d", "e", "e"]]
    codes = [numbering.codes(pa.array(b, pa.string())).tolist() for b in batches]
    assert codes == [[0, 0, 1], [1, 2], [], [2], [3, 4, 4]]
    assert numbering.write(tmp_path / "customers.parquet") == 5
    table = pq.read_table(tmp_path / "customers.parquet")
    assert table.column("customer_id").to_pylist() == ["a", "b", "c", "d", "e"]
    assert table.column("code").to_pylist() == [0, 1, 2, 3, 4]


def _build_both(tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch) -> bool:
    """Builds the index arrays of ``files`` as the build does and with the sort forced; requires
    the same events (by origin), each customer's rows in the same order; returns whether the
    build took the files in their own order (no sort)."""
    import pyarrow.parquet as pq

    from klantreis.engine import sequence

    sorted_write = sequence._write_sorted
    calls: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        sorted_write(*args, **kwargs)

    def build(name: str) -> dict[str, np.ndarray]:
        out = tmp_path / "data" / "_index" / name
        out.mkdir(parents=True)
        sequence._write(files, out)
        a = {f: np.load(out / f"{f}.npy") for f in ("cust", "ts", "event", "channel")}
        stored = out / "origin.npy"  # none when the file was taken in its own order
        a["origin"] = np.load(stored) if stored.exists() else np.arange(len(a["cust"]))
        assert stored.exists() is bool(calls)
        ids = pq.read_table(out / "customers.parquet").column("customer_id").to_pylist()
        assert (np.diff(a["cust"]) >= 0).all() and len(set(ids)) == len(ids)
        o, by = a["origin"], {}
        for f in ("ts", "event", "channel"):
            by[f] = np.empty_like(a[f])
            by[f][o] = a[f]
        by["customer"] = np.empty(len(o), dtype=object)
        by["customer"][o] = np.array(ids, dtype=object)[a["cust"]]
        same = np.r_[False, a["cust"][1:] == a["cust"][:-1]]  # the row before, same customer
        by["before"] = np.full(len(o), -1)
        by["before"][o[same]] = np.r_[-1, o[:-1]][same]
        return by

    monkeypatch.setattr(sequence, "_write_sorted", spy)
    monkeypatch.setattr(sequence, "BATCH_ROWS", 4)  # many batches: runs across batches
    got = build("as-built")
    clustered = not calls
    monkeypatch.setattr(sequence, "_write_clustered", lambda *a, **k: False)
    want = build("sorted")
    for f in want:
        assert np.array_equal(got[f], want[f]), f
    return clustered


def _events_file(tmp_path: Path, rows: list[tuple[str, int, str]]) -> Path:
    """(customer, second, event id) rows as a canonical events file, in this order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "data" / "events" / "events.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(rows)
    table = pa.table(
        {
            "event_id": [r[2] for r in rows],
            "customer_id": [r[0] for r in rows],
            "timestamp": pa.array([r[1] * 1_000_000 for r in rows], pa.timestamp("us")),
            "event": [["visit", "buy"][i % 2] for i in range(n)],
            "channel": [["web", None, "shop"][i % 3] for i in range(n)],
            "value": pa.array([float(i) if i % 4 else None for i in range(n)], pa.float64()),
        }
    )
    pq.write_table(table, path)
    return path


CLUSTERED = [("b", 5, "b1"), ("b", 6, "b2"), ("b", 6, "b3"), ("a", 1, "a1"), ("a", 9, "a2")]
CLUSTERED += [("c", i, f"c{i:02d}") for i in range(9)] + [("d", 3, "d1")]


@pytest.mark.parametrize(
    ("rows", "clustered"),
    [
        (CLUSTERED, True),  # customers not in id order, a tie in event id order
        ([*CLUSTERED, ("b", 7, "b4")], False),  # b again, batches later
        ([("a", 1, "a1"), ("b", 2, "b1"), ("a", 3, "a2")], False),  # a again in one batch
        ([("a", 2, "a1"), ("a", 1, "a2"), ("b", 1, "b1")], False),  # out of time order
        ([("a", 1, "a2"), ("a", 1, "a1"), ("b", 1, "b1")], False),  # a tie out of id order
    ],
    ids=["clustered", "again-later", "again-at-once", "time-order", "tie-order"],
)
def test_a_clustered_file_is_taken_in_its_own_order_and_others_are_sorted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[tuple[str, int, str]],
    clustered: bool,
) -> None:
    files = [_events_file(tmp_path, rows)]
    assert _build_both(tmp_path, files, monkeypatch) is clustered


def test_two_files_are_sorted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _events_file(tmp_path, CLUSTERED)
    second = first.with_name("more.parquet")
    first.rename(second)
    files = [second, _events_file(tmp_path, [("e", 1, "e1"), ("a", 2, "a0")])]
    assert _build_both(tmp_path, files, monkeypatch) is False


def test_the_link_column_equals_the_sql_linking_of_every_event(
    ws: klantreis.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only events a property rule may match go through the SQL linking with properties; the
    others link by (event, channel). Glob and regex patterns, a channel condition and rules
    without properties mixed: the column equals linking every event in SQL."""
    import numpy as np

    from klantreis.engine import sequence
    from klantreis.engine.sequence import index_for
    from klantreis.model import MatchRule

    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    source = open_source(ws)
    index = index_for(source)
    assert index is not None
    journey = ws.journey().model_copy(deep=True)
    tps = journey.touchpoints
    tps[0].match = [
        MatchRule(event_glob="page_view*", properties={"page_type": "product"}),
        *tps[0].match,
    ]
    tps[1].match = [
        MatchRule(event_regex="email_.*", channel="email", properties={"campaign_type": ["newsletter"]}),
        MatchRule(event="search"),
    ]  # fmt: skip
    assert sequence._property_candidates(source, journey, list(index.events))
    hybrid = np.array(index.touchpoint_codes(source, journey))
    for f in index.path.glob("link-*.npy"):
        f.unlink()
    monkeypatch.setattr(sequence, "_property_candidates", lambda *a: None)  # all through SQL
    full = np.array(index.touchpoint_codes(source, journey))
    assert np.array_equal(hybrid, full)
    assert (full == 0).any() and (full == 1).any() and (full == -1).any()
