"""``klantreis simulate`` and ``klantreis demo`` from the command line, and the demo builder."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from click.testing import CliRunner

import klantreis
from klantreis.cli import cli
from klantreis.simulator.demo import build_demo


def test_simulate_command_writes_the_tables_and_the_truth(tmp_path):
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            "-j",
            "five-phases.nl",
            "-n",
            "300",
            "--seed",
            "4",
            "-o",
            str(out),
            "--plant",
            "pain:checkout",
            "--plant",
            "slow:retention",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Simulated 300 customers of five-phases" in result.output
    assert pq.read_metadata(out / "customers.parquet").num_rows == 300
    truth = json.loads((out / "truth.json").read_text())
    assert [p["kind"] for p in truth["planted"]] == ["pain", "slow"]
    assert truth["lang"] == "nl"


def test_simulate_command_rejects_bad_input(tmp_path):
    runner = CliRunner()
    bad_plant = runner.invoke(
        cli,
        ["simulate", "-j", "five-phases", "-n", "5", "-o", str(tmp_path), "--plant", "pain:nope"],
    )
    assert bad_plant.exit_code == 2
    assert "Unknown touchpoint 'nope'" in bad_plant.output
    unknown = runner.invoke(
        cli, ["simulate", "-j", "no-such-template", "-n", "5", "-o", str(tmp_path)]
    )
    assert unknown.exit_code == 1 and "Unknown template" in unknown.output
    zero = runner.invoke(cli, ["simulate", "-j", "five-phases", "-n", "0", "-o", str(tmp_path)])
    assert zero.exit_code == 2


def test_demo_builds_three_journeys_with_data(tmp_path):
    res = build_demo(tmp_path / "demo", customers=200, seed=1)
    ids = [r["journey"] for r in res.journeys]
    assert ids == ["five-phases", "b2b", "podiatrist"]
    ws = klantreis.open(tmp_path / "demo")
    assert ws.journey_ids() == sorted(ids)
    assert ws.journey("five-phases").lang == "nl"
    assert ws.default_journey_id() == "five-phases"
    rows = {r["journey"]: r for r in res.journeys}
    assert rows["b2b"]["accounts"] > 0 and rows["five-phases"]["accounts"] == 0
    for r in res.journeys:
        assert r["events"] > 5 * r["customers"] / 2 and r["planted"]
        events = pq.read_table(tmp_path / "demo" / "imports" / r["journey"] / "events.parquet")
        assert all(
            c.startswith(f"{r['journey']}-") for c in events.column("customer_id").to_pylist()[:50]
        )
    if res.ingested:
        assert ws.data_files("events")


def test_demo_command_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    target = tmp_path / "demo"
    first = runner.invoke(cli, ["demo", str(target), "-n", "50", "--no-serve", "--format", "json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)[0]["journeys"][0]["journey"] == "five-phases"
    again = runner.invoke(cli, ["demo", str(target), "-n", "50", "--no-serve"])
    assert again.exit_code == 1 and "already exists" in again.output
    forced = runner.invoke(cli, ["demo", str(target), "-n", "50", "--no-serve", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "Next, try:" in forced.output and "truth.json" in forced.output
    assert "analyze funnel --journey five-phases" in forced.output
    assert f"klantreis -w {target} serve" in forced.output  # --no-serve: how to serve later
