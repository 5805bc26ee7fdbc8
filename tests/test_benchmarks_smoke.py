"""The benchmark harness on tiny data: agreement logic, the pandas peers and the report writer.

No timing is asserted anywhere (the benchmark suite is the only place that times things).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import agreement, ours, peers
from benchmarks.dataset import parse_size, size_label
from benchmarks.measure import run_command
from benchmarks.report import write_report

import klantreis
from klantreis.engine import Source

# Three customers, times in order within each customer (the file order).
EVENTS = [
    ("a", "ad_click", "search", 1), ("a", "add_to_cart", "website", 2),
    ("a", "purchase", "website", 3), ("a", "ad_click", "social", 4),
    ("b", "ad_click", "social", 1), ("b", "ad_click", "social", 2),
    ("b", "add_to_cart", "website", 3),
    ("c", "add_to_cart", "website", 1), ("c", "ad_click", "email", 2),
    ("c", "add_to_cart", "website", 3), ("c", "purchase", "website", 4),
]  # fmt: skip


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = [
        {
            "event_id": f"{c}-{i}",
            "customer_id": c,
            "event": e,
            "channel": ch,
            "timestamp": pd.Timestamp("2024-03-01") + pd.Timedelta(minutes=m),
        }
        for i, (c, e, ch, m) in enumerate(EVENTS)
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def parquet(frame: pd.DataFrame, tmp_path: Path) -> str:
    path = tmp_path / "events.parquet"
    frame.to_parquet(path)
    return str(path)


def _peer(name: str, parquet: str, **spec: object) -> object:
    return peers.run(name, {"files": [parquet], **spec})["answer"]


def test_pandas_peers_compute_the_definitions(parquet: str) -> None:
    dfg = {(a, b): n for a, b, n in _peer("pandas.transitions", parquet)}
    # a: ad→cart→purchase→ad; b: ad→ad→cart; c: cart→ad→cart→purchase
    assert dfg == {
        ("ad_click", "add_to_cart"): 3,
        ("add_to_cart", "purchase"): 2,
        ("purchase", "ad_click"): 1,
        ("ad_click", "ad_click"): 1,
        ("add_to_cart", "ad_click"): 1,
    }
    assert sum(dfg.values()) == len(EVENTS) - 3  # events − customers
    variants = _peer("pandas.paths", parquet)
    assert variants["customers"] == 3
    assert sorted(n for _, n in variants["top"]) == [1, 1, 1]
    steps = ["ad_click", "add_to_cart", "purchase"]
    # a: all three; b: ad, cart; c: ad (2nd event), cart (3rd), purchase
    assert _peer("pandas.funnel", parquet, funnel_steps=steps) == [3, 3, 2]


def test_channel_paths_split_at_conversions(frame: pd.DataFrame) -> None:
    paths = peers.channel_paths(frame, "purchase").set_index("path")
    # a: [search>website] converts, [social] does not; b: [social>social>website] null;
    # c: [website>email>website] converts
    assert paths.loc["search>website"].tolist() == [1, 0]
    assert paths.loc["social"].tolist() == [0, 1]
    assert paths.loc["social>social>website"].tolist() == [0, 1]
    assert paths.loc["website>email>website"].tolist() == [1, 0]
    assert int(paths["total_conversions"].sum()) == 2


def test_klantreis_agrees_with_the_pandas_peers(frame: pd.DataFrame, parquet: str) -> None:
    source = Source.from_frames(frame)
    steps = ["ad_click", "add_to_cart", "purchase"]
    ours_funnel = klantreis.analyze(source, "funnel", level="event", steps=steps)
    ours_dfg = klantreis.analyze(source, "transitions", level="event")
    ours_paths = klantreis.analyze(source, "paths", level="event", top_k=20, repeats="keep")
    checks = [
        agreement.compare(
            "funnel",
            "pandas",
            ours.answer_of("funnel", ours_funnel),
            _peer("pandas.funnel", parquet, funnel_steps=steps),
        ),
        agreement.compare(
            "transitions",
            "pandas",
            ours.answer_of("transitions", ours_dfg),
            _peer("pandas.transitions", parquet),
        ),
        agreement.compare(
            "paths", "pandas", ours.answer_of("paths", ours_paths), _peer("pandas.paths", parquet)
        ),
    ]
    assert [c.ok for c in checks] == [True, True, True], [c.detail for c in checks]


def test_agreement_finds_differences() -> None:
    same = [["a", "b", 3], ["b", "c", 1]]
    assert agreement.compare("transitions", "x", same, list(reversed(same))).ok
    bad = agreement.compare("transitions", "x", same, [["a", "b", 3], ["b", "c", 2]])
    assert not bad.ok and "b → c" in bad.detail and "1 of 2 edges" in bad.detail
    missing = agreement.compare("transitions", "x", same, [["a", "b", 3]])
    assert not missing.ok
    assert not agreement.compare("funnel", "x", [5, 3], [5, 2]).ok
    # variants tied at the cut may be different ones; counts by rank must be equal
    mine = {"top": [[["a"], 5], [["b"], 2]], "customers": 9}
    tied = {"top": [[["a"], 5], [["c"], 2]], "customers": 9}
    assert agreement.compare("paths", "x", mine, tied).ok
    other = {"top": [[["z"], 5], [["b"], 2]], "customers": 9}
    assert not agreement.compare("paths", "x", mine, other).ok
    assert not agreement.compare("paths", "x", mine, {**mine, "customers": 8}).ok
    # Markov: shares within the tolerance
    a = {"search": 60.0, "email": 40.0}
    assert agreement.compare("attribution", "x", a, {"search": 61.0, "email": 39.0}).ok
    assert not agreement.compare("attribution", "x", a, {"search": 70.0, "email": 30.0}).ok


def test_sizes() -> None:
    assert parse_size("1M") == 1_000_000
    assert parse_size("250k") == 250_000
    assert parse_size("100m") == 100_000_000
    assert size_label(10_000_000) == "10M"
    with pytest.raises(ValueError):
        parse_size("ten")


def test_run_command_reports_rss_and_errors() -> None:
    ok = run_command([sys.executable, "-c", "x = bytearray(64 * 2**20); x[-1] = 1"])
    assert ok.ok and ok.peak_rss_mib >= 64
    bad = run_command([sys.executable, "-c", "raise SystemExit('no')"])
    assert not bad.ok and bad.error is not None and "no" in bad.error


def test_report_writer(tmp_path: Path) -> None:
    result = {
        "size": "10M",
        "events": 10_000_000,
        "customers": 1_226_994,
        "command": "python -m benchmarks --sizes 10M",
        "finished_at": "2026-01-01 00:00:00",
        "bench_seconds": 100.0,
        "floor": {
            "bandwidth_gbs": 10.0,
            "scan_seconds": 0.017,
            "decode_arrow_seconds": 0.4,
            "decode_duckdb_seconds": 0.3,
            "decode_seconds": 0.3,
            "parquet_bytes": 2**28,
        },
        "ingest": {
            "parquet": {"median": 2.0, "events_per_s": 5e6, "peak_rss_mib": 900.0},
            "csv": {"error": "exit 1: boom", "peak_rss_mib": 10.0},
        },
        "analyses": {
            "funnel": {
                "median": 0.15,
                "first_seconds": 0.5,
                "events_per_s": 6.7e7,
                "peak_rss_mib": 500.0,
                "answer": [1, 1],
            },
            "scores": {"error": "exit 1: no"},
        },
        "cli": {"funnel": {"times": [1.0, 1.2], "median": 1.1, "peak_rss_mib": 300.0}},
        "peers": {
            "retentioneering.funnel": {
                "analysis": "funnel",
                "peak_rss_mib": 4000.0,
                "error": None,
                "median": {"load": 2.0, "prepare": 14.0, "analysis": 0.6, "total": 16.6},
                "runs": [{}],
            },
        },
        "agreement": [
            {"analysis": "funnel", "peer": "retentioneering", "ok": True, "detail": "equal"}
        ],
    }
    out = tmp_path / "benchmarks.md"
    write_report([json.loads(json.dumps(result))], out, command="python -m benchmarks --sizes 10M")
    text = out.read_text()
    assert "python -m benchmarks --sizes 10M" in text
    assert "cores" in text and "GiB memory" in text and "duckdb" in text
    # funnel: 0.15 s ≤ 0.2 s and retentioneering's step 0.6 s is 4× slower → met
    row = next(line for line in text.splitlines() if line.startswith("| funnel | 0.150 | 0.500"))
    assert "retentioneering 0.600" in row and "4.0×" in row and row.endswith("met |")
    assert "| 0.5× | 9× |" in row  # 0.15 s over the 0.3 s read floor and the 0.017 s scan
    # end to end: ingest 2.0 + first call 0.5 = 2.5 s vs 16.6 s: 6.6× → met
    e2e = next(line for line in text.splitlines() if line.startswith("| funnel | retentioneering"))
    assert "2.500" in e2e and "6.6×" in e2e and e2e.endswith("met |")
    assert "5.00M" in text and "error: exit 1: boom" in text and "agree" in text
