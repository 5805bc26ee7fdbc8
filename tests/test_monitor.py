"""Monitor: KPI series, significance with correction, and alerts through a real local HTTP
receiver and a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
from click.testing import CliRunner

import klantreis
from klantreis import testing as kt
from klantreis.cli import cli
from klantreis.engine.inference import adjust_pvalues, two_proportions
from klantreis.errors import NotificationError
from klantreis.notify import check, parse_smtp, send_email, send_webhook, watch

JOURNEY = kt.journey(
    ["look", "buy"], {"v": ("look", "view"), "p": ("buy", "pay")}, conversion=["p"]
)


def _events() -> pd.DataFrame:
    # week of 1 Jan: 40 view, 10 of them pay; week of 8 Jan: 40 view, 30 pay (5 minutes later)
    rows: list[tuple[Any, ...]] = []
    for week, buyers in ((0, 10), (1, 30)):
        day = dt.datetime(2024, 1, 1) + dt.timedelta(days=7 * week)
        for i in range(40):
            c = f"w{week}-{i:02d}"
            rows.append((c, day.isoformat(), "view"))
            if i < buyers:
                rows.append((c, (day + dt.timedelta(minutes=5)).isoformat(), "pay", {"value": 9.0}))
    return kt.events(rows)


def test_series_and_alerts_by_hand() -> None:
    r = klantreis.analyze(kt.source(events=_events(), journey=JOURNEY), "monitor", min_n=10)
    series = r.frame.set_index(["node", "kpi", "period"])
    assert series.loc[("v", "conversion", "2024-01-08"), "value"] == 0.75
    assert series.loc[("v", "conversion", "2024-01-01"), "value"] == 0.25
    assert series.loc[("p", "reach", "2024-01-01"), "value"] == 10
    assert series.loc[("p", "time", "2024-01-08"), "value"] == pytest.approx(5 / 60)
    # tested: v reach (40 vs 40), v conversion, p reach (30 vs 10), p conversion (100% both);
    # p time has no spread (every wait is 5 minutes): no test
    p_conv = two_proportions(30, 40, 10, 40)[3]
    p_reach = klantreis.engine.stats.p_value_two_sided(20 / 40**0.5)
    adjusted = adjust_pvalues([1.0, p_conv, p_reach, 1.0], "holm")  # the default
    assert r.meta["tested_series"] == 4
    alerts = r.tables["alerts"].set_index(["node", "kpi"])
    assert set(alerts.index) == {("v", "conversion"), ("p", "reach")}
    assert alerts.loc[("v", "conversion"), "p_adjusted"] == pytest.approx(adjusted[1])
    assert alerts.loc[("p", "reach"), "p_adjusted"] == pytest.approx(adjusted[2])
    assert alerts.loc[("v", "conversion"), "direction"] == "up"
    assert "v: conversion went up from 25.0%" in alerts.loc[("v", "conversion"), "message"]
    # a higher minimum n tests nothing, so nothing alerts
    none = klantreis.analyze(kt.source(events=_events(), journey=JOURNEY), "monitor", min_n=41)
    assert none.meta["tested_series"] == 0 and none.meta["alerts"] == []


def _sim(plant: list[str]) -> klantreis.engine.Source:
    journey = klantreis.load_template("five-phases", "en")
    before = klantreis.simulate_frames(
        journey, customers=5000, seed=4, start=dt.date(2024, 1, 1), period_days=213, follow_days=0
    )
    after = klantreis.simulate_frames(
        journey, customers=1000, seed=4, start=dt.date(2024, 8, 1), period_days=31,
        follow_days=0, customer_prefix="b", plant=plant,
    )  # fmt: skip
    return kt.source(
        events=pd.concat([before.events, after.events]),
        responses=pd.concat([before.responses, after.responses]),
        journey=journey,
    )


def test_planted_change_alerts_and_nothing_else() -> None:
    opts = {"trend": "month", "kpis": ["csat", "ces"], "since": "2024-07-01", "until": "2024-08-31",
            "min_n": 20}  # fmt: skip
    r = klantreis.analyze(_sim(["pain:checkout:2"]), "monitor", **opts)
    assert {(a["node"], a["kpi"]) for a in r.meta["alerts"]} == {
        ("checkout", "csat"),
        ("checkout", "ces"),
    }
    assert all(a["direction"] == "down" for a in r.meta["alerts"])
    calm = klantreis.analyze(_sim([]), "monitor", **opts)
    assert calm.meta["alerts"] == [] and calm.meta["tested_series"] > 5


# -- notifications -------------------------------------------------------------------------------
class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, list[Any]]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    inbox: list[Any] = []

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            inbox.append(message)

    with socket.socket() as probe:  # a free port (aiosmtpd checks its server by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield f"127.0.0.1:{port}", inbox
    controller.stop()


def test_webhook_and_email_reach_local_servers(
    receiver: str, smtp_server: tuple[str, list[Any]]
) -> None:
    src = kt.source(events=_events(), journey=JOURNEY)
    address, inbox = smtp_server
    sent: set[tuple[str, str, str]] = set()
    report = check(src, webhook=receiver, smtp=address, to=["cx@example.org"], sent=sent)
    assert len(report.new_alerts) == 1  # min_n 30: only v is tested (p has 10 in week 1)
    assert len(_Receiver.received) == 1
    payload = _Receiver.received[0]
    assert payload["source"] == "klantreis" and payload["trend"] == "week"
    assert [(a["node"], a["kpi"]) for a in payload["alerts"]] == [("v", "conversion")]
    assert len(inbox) == 1
    mail = inbox[0]
    assert mail["To"] == "cx@example.org" and "1 KPI alert" in mail["Subject"]
    assert "v: conversion went up" in mail.get_payload()
    # a second check sends nothing new (the alerts were sent already)
    again = check(src, webhook=receiver, smtp=address, to=["cx@example.org"], sent=sent)
    assert again.new_alerts == [] and len(_Receiver.received) == 1 and len(inbox) == 1
    # watch: three rounds, sleeping between them, sending once
    naps: list[float] = []
    watch(src, every_minutes=5, iterations=3, sleep=naps.append, webhook=receiver)
    assert naps == [300, 300] and len(_Receiver.received) == 2


def test_notification_errors_name_the_target() -> None:
    with pytest.raises(NotificationError, match=re.escape("Webhook http://127.0.0.1:9/x failed")):
        send_webhook("http://127.0.0.1:9/x", {"a": 1}, timeout_s=2)
    with pytest.raises(NotificationError, match=re.escape("127.0.0.1:9")):
        send_email([{"message": "m"}], host="127.0.0.1", port=9, to=["a@b"], timeout_s=2)
    assert parse_smtp("mail.example.org:2525") == ("mail.example.org", 2525)
    assert parse_smtp("mail.example.org") == ("mail.example.org", 25)


def test_cli_monitor_once_posts_to_the_webhook(tmp_path: Path, receiver: str) -> None:
    ws = klantreis.init(tmp_path / "ws", template="five-phases")
    ev = _events().replace({"event": {"view": "review_read", "pay": "purchase"}})
    ws.ingest_events(ev, progress=False)
    runner = CliRunner()
    out = runner.invoke(
        cli, ["-w", str(ws.root), "monitor", "--once", "--webhook", receiver, "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    alerts = json.loads(out.output)
    assert alerts and len(_Receiver.received) == 1
    series = runner.invoke(cli, ["-w", str(ws.root), "analyze", "monitor", "--format", "json"])
    assert series.exit_code == 0, series.output
    assert {r["kpi"] for r in json.loads(series.output)} >= {"reach", "conversion"}


def test_monitor_on_a_workspace_without_data_has_no_series_and_no_alerts(tmp_path: Path) -> None:
    ws = klantreis.init(tmp_path / "empty", template="five-phases")
    result = klantreis.analyze(ws, "monitor")
    assert len(result.frame) == 0
    assert result.meta["alerts"] == []
