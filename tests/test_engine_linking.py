"""Linking, levels, filters, sources and results: the engine core."""

from __future__ import annotations

import json

import pytest

import klantreis
from klantreis import testing as kt
from klantreis.engine import at_level, connect, link
from klantreis.errors import UsageError
from klantreis.model import Journey

J = Journey.model_validate(
    {
        "id": "j",
        "name": "j",
        "stages": [{"id": "s1", "name": {"en": "a", "nl": "a"}, "order": 1}],
        "segments": [{"id": "nl", "name": "NL", "attributes": {"country": "nl"}}],
        "touchpoints": [
            {"id": "exact", "name": "x", "stage": "s1", "channel": "website", "match": [{"event": "buy"}]},
            {"id": "glob", "name": "x", "stage": "s1", "channel": "website", "match": [{"event_glob": "page_*"}]},
            {
                "id": "props",
                "name": "x",
                "stage": "s1",
                "channel": "email",
                "match": [{"event": "click", "channel": ["email", "sms"], "properties": {"campaign": ["a", "b"], "ok": True}}],
            },
            {"id": "regex", "name": "x", "stage": "s1", "channel": "phone", "match": [{"event_regex": "call_(in|out)"}]},
            {"id": "shadow", "name": "x", "stage": "s1", "channel": "website", "match": [{"event": "buy"}]},
        ],
    }
)  # fmt: skip

EVENTS = kt.events(
    [
        ("a", "2024-01-01T10:00", "buy"),
        ("a", "2024-01-01T10:01", "page_home"),
        ("a", "2024-01-01T10:02", "pagex"),
        ("b", "2024-01-01T10:00", "click", {"channel": "email", "properties": {"campaign": "a", "ok": "true"}}),
        ("b", "2024-01-01T10:01", "click", {"channel": "email", "properties": {"campaign": "c", "ok": "true"}}),
        ("b", "2024-01-01T10:02", "click", {"channel": "web", "properties": {"campaign": "a", "ok": "true"}}),
        ("c", "2024-01-01T10:00", "call_in", {"channel": None}),
        ("c", "2024-01-01T10:01", "call_inx"),
    ]
)  # fmt: skip


def test_match_rules_and_first_touchpoint_wins() -> None:
    src = kt.source(events=EVENTS, journey=J)
    out = src.execute(link(src.events, J).order_by("event_id"))
    assert list(out.touchpoint.fillna("-")) == [
        "exact",
        "glob",
        "-",
        "props",
        "-",
        "-",
        "regex",
        "-",
    ]
    assert list(out.touchpoint_channel.fillna("-"))[:2] == ["website", "website"]


def test_levels_and_sequence_numbers() -> None:
    src = kt.source(events=EVENTS, journey=J)
    chan = src.execute(at_level(src.events, J, "channel").order_by("event_id"))
    # own channel first, else the touchpoint's (call_in has none → phone); unlinked without one out
    assert list(chan.node) == ["website", "website", "email", "email", "web", "phone"]
    ev = src.execute(at_level(src.events, J, "event").order_by("event_id"))
    assert list(ev.seq) == [0, 1, 2, 0, 1, 2, 0, 1]
    with pytest.raises(UsageError, match="Unknown level"):
        at_level(src.events, J, "page")


def test_scope_counts_customers_filtered_out() -> None:
    customers = kt.customers({"a": {"country": "nl"}, "b": {"country": "be"}})
    src = kt.source(events=EVENTS, customers=customers, journey=J)
    r = klantreis.analyze(src, "transitions", level="event", segment="nl")
    assert (
        r.scope.customers_total,
        r.scope.customers_in_scope,
        r.scope.customers_filtered_out,
    ) == (3, 1, 2)
    assert "1 of 3 customers in scope (2 filtered out)" in r.caption()
    with pytest.raises(
        UsageError, match=r"Unknown segment 'be' in journey 'j'\. Known segments: nl"
    ):
        klantreis.analyze(src, "transitions", segment="be")


def test_period_parsing() -> None:
    src = kt.source(events=EVENTS, journey=J)
    with pytest.raises(UsageError, match="not an ISO 8601"):
        klantreis.analyze(src, "transitions", since="yesterday")
    with pytest.raises(UsageError, match="period is empty"):
        klantreis.analyze(src, "transitions", since="2024-02-01", until="2024-01-01")
    r = klantreis.analyze(
        src, "transitions", level="event", since="2024-01-01T10:01", until="2024-01-01T10:02"
    )
    assert r.frame["count"].sum() == 0  # one event per customer in that minute


def test_result_serialises() -> None:
    src = kt.source(events=EVENTS, journey=J)
    r = klantreis.analyze(src, "funnel", level="event", steps=["buy", "page_home"])
    data = json.loads(r.to_json())
    assert data["analysis"] == "funnel" and data["query"]["steps"] == ["buy", "page_home"]
    assert data["rows"][1]["customers"] == 1 and data["scope"]["customers_total"] == 3
    assert r.to_frame().equals(r.frame) and r.expr is not None
    assert len(src.execute(r.expr)) == 2  # the lazy expression is runnable by hand


def test_unknown_engine_and_analysis() -> None:
    with pytest.raises(UsageError, match="Unknown engine 'oracle'"):
        connect("oracle")
    with pytest.raises(UsageError, match="Unknown analysis 'funel'"):
        klantreis.analyze(kt.source(events=EVENTS), "funel")


def test_missing_pyspark_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    import importlib

    from klantreis.errors import EngineNotAvailable

    connect_module = importlib.import_module("klantreis.engine.connect")
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("pyspark"):
            raise ImportError("No module named 'pyspark'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(connect_module, "_spark", None)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(EngineNotAvailable, match="needs PySpark") as info:
        connect_module.spark_session()
    assert "klantreis[spark]" in str(info.value)


def test_workspace_source_reads_committed_files(tmp_path: pytest.TempPathFactory) -> None:
    ws = klantreis.init(tmp_path / "ws")  # type: ignore[operator]
    r = klantreis.analyze(ws, "transitions")  # no data, no journey: an empty result, not an error
    assert len(r) == 0 and r.scope.level == "event"
