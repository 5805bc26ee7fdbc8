"""``klantreis analyze``: every subcommand on a workspace with ingested events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import klantreis
from klantreis import testing as kt
from klantreis.cli import cli
from klantreis.cli.analyze import parse_seconds
from klantreis.errors import UsageError


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> klantreis.Workspace:
    ws = klantreis.init(tmp_path_factory.mktemp("cli") / "ws")
    ws.save_journey(
        kt.journey(
            ["look", "buy"],
            {"v": ("look", "view"), "c": ("buy", "cart"), "p": ("buy", "pay")},
            conversion=["p"],
            journey_id="shop",
        )
    )
    events = kt.events(
        [
            ("a", "2024-01-01T10:00:00", "view", {"session_id": "s1", "properties": {"page": "/"}}),
            ("a", "2024-01-01T10:01:00", "cart"),
            ("a", "2024-01-01T10:03:00", "pay", {"value": 20.0}),
            ("b", "2024-01-01T10:00:00", "view"),
            ("b", "2024-01-02T10:00:00", "cart"),
            ("c", "2024-01-03T10:00:00", "view"),
            ("c", "2024-01-03T10:05:00", "newsletter"),
        ],
        properties={},  # the store quarantines a null properties cell
    )
    report = ws.ingest_events(events, progress=False)
    assert report.accepted == 7, report
    return ws


def _run(ws: klantreis.Workspace, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "analyze", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_funnel_json_contract(ws: klantreis.Workspace) -> None:
    rows = json.loads(
        _run(ws, "funnel", "--level", "event", "--steps", "view,cart,pay", "--format", "json")
    )
    assert [(r["step"], r["customers"]) for r in rows] == [("view", 3), ("cart", 2), ("pay", 1)]
    assert {"step", "customers", "conversion_from_previous", "conversion_from_start"} <= set(
        rows[0]
    )


def test_customers_at_step_to_csv(ws: klantreis.Workspace, tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    text = _run(
        ws,
        "funnel",
        "--level",
        "event",
        "--steps",
        "view,cart,pay",
        "--customers-at",
        "cart",
        "--status",
        "dropped",
        "-o",
        str(out),
    )
    assert "Wrote 1 customer ids" in text
    assert out.read_text() == "customer_id\nc\n"


def test_every_subcommand_prints_a_table(ws: klantreis.Workspace) -> None:
    for name in [
        "funnel",
        "timing",
        "transitions",
        "paths",
        "scores",
        "pain-points",
        "pages",
        "loyalty",
        "coverage",
    ]:
        text = " ".join(_run(ws, name).split())  # the table may wrap the caption
        assert "customers in scope" in text, name
    assert "newsletter" in _run(ws, "coverage")


def test_json_full_and_csv(ws: klantreis.Workspace) -> None:
    data = json.loads(_run(ws, "transitions", "--level", "event", "--full"))
    assert data["analysis"] == "transitions" and data["scope"]["customers_total"] == 3
    csv_text = _run(ws, "paths", "--level", "stage", "--format", "csv")
    assert csv_text.splitlines()[0].startswith("path,customers,share")
    cov = json.loads(_run(ws, "coverage", "--format", "json"))
    assert cov[0]["linked_share"] == pytest.approx(6 / 7)
    assert cov[0]["unlinked"] == [
        {"event": "newsletter", "count": 1, "customers": 1, "share": 1 / 7}
    ]
    loyalty = json.loads(_run(ws, "loyalty", "--format", "json"))
    assert loyalty[0] == {**loyalty[0], "group": "1", "customers": 1, "revenue": 20.0}


def test_usage_errors_exit_2(ws: klantreis.Workspace) -> None:
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "analyze", "funnel", "--steps", "nope"])
    assert result.exit_code == 2 and "Unknown stage 'nope'" in result.output
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "analyze", "funnel", "--window", "soon"])
    assert result.exit_code == 2 and "Duration 'soon'" in result.output


def test_parse_seconds() -> None:
    assert [parse_seconds(t) for t in ["90", "90s", "15m", "2h", "30d", "1w", "1.5h"]] == [
        90, 90, 900, 7200, 2592000, 604800, 5400
    ]  # fmt: skip
    with pytest.raises(UsageError):
        parse_seconds("2 days")


def test_channel_option_reaches_the_query(ws: klantreis.Workspace) -> None:
    from click.testing import CliRunner

    from klantreis.cli import cli

    args = ["-w", str(ws.root), "analyze", "coverage", "--format", "json", "--full"]
    out = CliRunner().invoke(cli, [*args, "--channel", "nowhere"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    import json

    full = json.loads(out.output)
    assert full["scope"]["channel"] == "nowhere"
    assert full["query"]["channel"] == "nowhere"
