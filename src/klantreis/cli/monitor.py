"""``klantreis monitor``: check the KPIs once or on a schedule, and send alerts.

A thin skin over :func:`klantreis.notify.check` / :func:`klantreis.notify.watch`.
"""

from __future__ import annotations

from typing import Any

import click

from .analyze import _csv_list
from .context import workspace_of
from .output import emit, format_option

__all__ = ["monitor", "register"]


@click.command()
@click.option("--once", "mode", flag_value="once", default=True, help="Check once (default).")
@click.option("--every", type=float, help="Check every MINUTES until stopped.")
@click.option("--webhook", help="POST the alerts as JSON to this URL.")
@click.option("--smtp", help="Send the alerts by e-mail through HOST:PORT.")
@click.option("--to", "to", multiple=True, help="E-mail recipient (repeat for several).")
@click.option("--from", "sender", default="klantreis@localhost", show_default=True)
@click.option("--trend", type=click.Choice(["week", "month"]), default="week", show_default=True)
@click.option("--kpis", help="Comma-separated: reach, conversion, csat, nps, ces, time.")
@click.option("--level", type=click.Choice(["touchpoint", "stage"]), default="touchpoint")
@click.option("--journey", "-j", help="Journey id (default: the workspace's default).")
@click.option("--min-n", type=int, default=30, show_default=True)
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--engine", default="duckdb", show_default=True)
@format_option
@click.pass_context
def monitor(ctx: click.Context, **params: Any) -> None:
    """KPIs per touchpoint over time; alert (webhook, e-mail) on significant change."""
    from ..notify import CheckReport, check, watch

    if params["smtp"] and not params["to"]:
        raise click.UsageError("--smtp needs at least one --to ADDRESS.")
    options: dict[str, Any] = {
        "webhook": params["webhook"],
        "smtp": params["smtp"],
        "to": list(params["to"]),
        "sender": params["sender"],
        "engine": params["engine"],
        "trend": params["trend"],
        "level": params["level"],
        "journey": params["journey"],
        "min_n": params["min_n"],
        "alpha": params["alpha"],
    }
    kpis = _csv_list(params["kpis"])
    if kpis:
        options["kpis"] = kpis
    fmt = params["fmt"]

    def show(report: CheckReport) -> None:
        alerts = report.result.tables["alerts"]
        if fmt == "table":
            title = (
                f"monitor: {len(alerts)} alert(s) over {report.result.meta['tested_series']} "
                f"series tested; {len(report.new_alerts)} new"
                + (f", sent to {', '.join(report.sent_to)}" if report.sent_to else "")
            )
            emit(alerts[["node", "kpi", "period", "message"]], "table", title=title)
        else:
            emit(report.new_alerts, fmt)

    ws = workspace_of(ctx)
    if params["every"] is not None:
        watch(ws, every_minutes=params["every"], on_report=show, **options)
    else:
        show(check(ws, **options))


def register(group: click.Group) -> None:
    group.add_command(monitor)
