"""Notifications for monitoring: run the ``monitor`` analysis and send its alerts.

I/O lives here, not in the engine: a webhook is an HTTP POST of JSON (``urllib``), e-mail goes
through SMTP (``smtplib``). :func:`check` runs the monitor once and sends the alerts that were
not sent before (``sent`` remembers them across runs); :func:`watch` repeats it every
``every_minutes``. The JSON posted to a webhook::

    {"source": "klantreis", "analysis": "monitor", "trend": "week", "alerts": [
      {"node": "checkout", "kpi": "csat", "period": "2024-08-01", "value": 0.05,
       "previous_value": 0.65, "change": -0.6, "p_adjusted": 1e-25, "direction": "down",
       "message": "checkout: CSAT (top-2 share) went down from ..."}]}
"""

from __future__ import annotations

import json
import smtplib
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from .errors import NotificationError, UsageError

__all__ = ["CheckReport", "check", "parse_smtp", "send_email", "send_webhook", "watch"]


def parse_smtp(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (port 25 when left out)."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "25")
    try:
        return host or text, int(port)
    except ValueError:
        raise UsageError(
            f"SMTP server {text!r} is not HOST:PORT.", hint="e.g. --smtp mail.example.com:25"
        ) from None


def send_webhook(url: str, payload: dict[str, Any], *, timeout_s: float = 10.0) -> int:
    """POST ``payload`` as JSON to ``url``; returns the HTTP status."""
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"Webhook URL {url!r} must start with http:// or https://.")
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except OSError as exc:
        raise NotificationError(
            f"Webhook {url} failed: {exc}", hint="check the URL and that the receiver is up."
        ) from exc


def send_email(
    alerts: list[dict[str, Any]],
    *,
    host: str,
    port: int,
    to: list[str],
    sender: str = "klantreis@localhost",
    subject: str | None = None,
    timeout_s: float = 10.0,
) -> None:
    """One plain-text e-mail listing the alerts."""
    if not to:
        raise UsageError("E-mail alerts need a recipient.", hint="pass --to ADDRESS.")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject or f"klantreis: {len(alerts)} KPI alert(s)"
    lines = [f"- {a['message']}" for a in alerts]
    msg.set_content("klantreis found significant changes:\n\n" + "\n".join(lines) + "\n")
    try:
        with smtplib.SMTP(host, port, timeout=timeout_s) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotificationError(
            f"Sending e-mail through {host}:{port} failed: {exc}",
            hint="check --smtp HOST:PORT and that the server accepts mail from this machine.",
        ) from exc


@dataclass
class CheckReport:
    """One monitor run: its result, the alerts that were new, and where they went."""

    result: Any
    new_alerts: list[dict[str, Any]]
    sent_to: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "alerts": len(self.result.meta["alerts"]),
            "new_alerts": self.new_alerts,
            "sent_to": self.sent_to,
            "tested_series": self.result.meta["tested_series"],
        }


def _key(alert: dict[str, Any]) -> tuple[str, str, str]:
    return (str(alert["node"]), str(alert["kpi"]), str(alert["period"]))


def check(
    data: Any,
    *,
    webhook: str | None = None,
    smtp: str | None = None,
    to: list[str] | None = None,
    sender: str = "klantreis@localhost",
    engine: str = "duckdb",
    sent: set[tuple[str, str, str]] | None = None,
    **options: Any,
) -> CheckReport:
    """Run ``monitor`` once and send the alerts not in ``sent`` (which is updated)."""
    from .engine import analyze

    result = analyze(data, "monitor", engine=engine, **options)
    seen = sent if sent is not None else set()
    new = [a for a in result.meta["alerts"] if _key(a) not in seen]
    report = CheckReport(result, new)
    if new:
        payload = {
            "source": "klantreis",
            "analysis": "monitor",
            "trend": result.meta["trend"],
            "alerts": [{k: v for k, v in a.items()} for a in new],
        }
        from .engine.results import jsonable

        if webhook:
            send_webhook(webhook, jsonable(payload))
            report.sent_to.append(webhook)
        if smtp:
            host, port = parse_smtp(smtp)
            send_email(new, host=host, port=port, to=list(to or []), sender=sender)
            report.sent_to.extend(f"mailto:{t}" for t in to or [])
        seen.update(_key(a) for a in new)
    return report


def watch(
    data: Any,
    *,
    every_minutes: float,
    iterations: int | None = None,
    on_report: Callable[[CheckReport], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> None:
    """Run :func:`check` every ``every_minutes`` (``iterations`` times, or until stopped)."""
    if every_minutes <= 0:
        raise UsageError(f"--every must be positive minutes, got {every_minutes}.")
    sent: set[tuple[str, str, str]] = set()
    done = 0
    while iterations is None or done < iterations:
        report = check(data, sent=sent, **options)
        if on_report is not None:
            on_report(report)
        done += 1
        if iterations is None or done < iterations:
            sleep(every_minutes * 60)
