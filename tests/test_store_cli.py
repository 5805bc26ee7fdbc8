"""The store's commands: ingest, quarantine, ingests, export, forget (output and exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from klantreis.cli import cli

EVENTS = """\
user,ts,what
u1,2024-03-01 10:00,view
u2,2024-03-01 10:05,view
,2024-03-01 10:06,view
u3,later,view
"""


def run(ws, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["-w", str(ws.root), *args], input=input)


def test_ingest_prints_the_report_and_exits_0_with_quarantined_rows(workspace, tmp_path: Path):
    src = tmp_path / "e.csv"
    src.write_text(EVENTS, encoding="utf-8")
    maps = ["--map", "customer_id=user", "--map", "timestamp=ts", "--map", "event=what"]
    result = run(workspace, "ingest", "events", str(src), *maps, "--timezone", "Europe/Amsterdam")
    assert result.exit_code == 0, result.output
    assert "accepted            2" in result.output
    assert "quarantined         2" in result.output
    assert "missing_customer" in result.output and "line 4" in result.output

    tz = ["--timezone", "Europe/Amsterdam"]
    result = run(workspace, "ingest", "events", str(src), *maps, *tz, "--format", "json")
    report = json.loads(result.output)[0]
    assert (report["accepted"], report["duplicates"], report["quarantined"]) == (0, 2, 2)
    # read in another time zone these are other moments, so other events
    result = run(workspace, "ingest", "events", str(src), *maps, "--format", "json")
    assert json.loads(result.output)[0]["accepted"] == 2

    result = run(workspace, "ingest", "events", str(src), *maps, "--strict")
    assert result.exit_code == 1
    assert "Error: Strict ingest refused: 2 of 4 rows failed validation" in result.output


def test_usage_errors_exit_2(workspace, tmp_path: Path):
    src = tmp_path / "e.csv"
    src.write_text(EVENTS, encoding="utf-8")
    result = run(workspace, "ingest", "events", str(src))
    assert result.exit_code == 2
    assert "has no column for customer_id, timestamp, event" in result.output
    assert run(workspace, "ingest", "events", str(src), "--map", "customer_id").exit_code == 2
    assert run(workspace, "ingest", "events", str(tmp_path / "missing.csv")).exit_code == 2


def test_mapping_file_quarantine_export_and_reingest(workspace, tmp_path: Path):
    src = tmp_path / "e.csv"
    src.write_text(EVENTS, encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("customer_id: user\ntimestamp: ts\nevent: what\n", encoding="utf-8")
    assert run(workspace, "ingest", "events", str(src), "--mapping", str(mapping)).exit_code == 0

    listed = run(workspace, "quarantine", "--format", "json")
    assert [(r["source_line"], r["reason"]) for r in json.loads(listed.output)] == [
        (4, "missing_customer"),
        (5, "bad_timestamp"),
    ]
    only = run(workspace, "quarantine", "list", "--reason", "bad_timestamp", "--format", "json")
    assert len(json.loads(only.output)) == 1

    fixed = tmp_path / "fixed.csv"
    assert run(workspace, "quarantine", "export", str(fixed)).exit_code == 0
    text = fixed.read_text(encoding="utf-8").replace(",2024-03-01 10:06", "u9,2024-03-01 10:06")
    fixed.write_text(text.replace("later", "2024-03-01 11:00"), encoding="utf-8")
    again = run(
        workspace, "ingest", "events", str(fixed), "--mapping", str(mapping), "--format", "json"
    )
    assert json.loads(again.output)[0]["accepted"] == 2

    log = json.loads(run(workspace, "ingests", "--format", "json").output)
    assert [(r["ingest_id"], r["accepted"], r["quarantined"]) for r in log] == [
        (2, 2, 0),
        (1, 2, 2),
    ]


def test_feedback_scale_option(workspace, tmp_path: Path):
    src = tmp_path / "f.csv"
    src.write_text("timestamp,metric,score\n2024-01-01,csat,8\n", encoding="utf-8")
    strict = run(workspace, "ingest", "feedback", str(src), "--strict")
    assert strict.exit_code == 1 and "score_out_of_scale" in strict.output
    ok = run(workspace, "ingest", "feedback", str(src), "--scale", "csat=1-10", "--strict")
    assert ok.exit_code == 0, ok.output
    assert run(workspace, "ingest", "feedback", str(src), "--scale", "csat").exit_code == 2


def test_export_and_forget(workspace, tmp_path: Path):
    src = tmp_path / "e.csv"
    src.write_text(
        "customer_id,timestamp,event\nanna,2024-01-01,x\nbert,2024-01-01,x\n", encoding="utf-8"
    )
    run(workspace, "ingest", "events", str(src))
    exported = run(workspace, "export", "anna")
    assert exported.exit_code == 0
    assert json.loads(exported.output)["counts"]["events"] == 1
    out = tmp_path / "anna.json"
    assert run(workspace, "export", "anna", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["customer_id"] == "anna"

    refused = run(workspace, "forget", "anna", input="n\n")
    assert refused.exit_code == 1
    assert json.loads(run(workspace, "export", "anna").output)["counts"]["events"] == 1
    done = run(workspace, "forget", "anna", "--yes")
    assert done.exit_code == 0
    assert "Erased 1 rows" in done.output
    assert json.loads(run(workspace, "export", "anna").output)["counts"]["events"] == 0
