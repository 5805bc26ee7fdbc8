"""``klantreis analyze NAME``: every analysis of the engine, one subcommand each.

A thin skin: parse the options, call ``klantreis.analyze`` once, format the result. The engine is
imported inside the commands so that ``klantreis --help`` stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

from ..errors import UsageError
from . import end_without_teardown
from .context import workspace_of
from .output import emit, format_option

__all__ = ["analyze", "parse_exclude", "parse_seconds", "parse_step_options", "register"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_seconds(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``2h``, ``30d`` or ``1w`` as seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not m:
        raise UsageError(
            f"Duration {text!r} is not understood.", hint="write e.g. 90s, 15m, 2h, 30d or 1w."
        )
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def _pairs(option: str, values: tuple[str, ...]) -> dict[str, float]:
    """``checkout=1h`` values of a repeatable option as {step: seconds}."""
    out: dict[str, float] = {}
    for item in values:
        name, sep, duration = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                f"{option} {item!r} is not STEP=DURATION.", hint=f"e.g. {option} checkout=1h."
            )
        out[name.strip()] = parse_seconds(duration)
    return out


def parse_step_options(
    steps: list[str] | None,
    *,
    windows: tuple[str, ...] = (),
    minimums: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
) -> list[Any] | None:
    """``--steps`` with ``--step-window STEP=DUR``, ``--step-min STEP=DUR`` and ``--optional``
    as a list of names and ``klantreis.engine.funnel.Step`` objects."""
    from ..engine.funnel import Step

    within = _pairs("--step-window", windows)
    least = _pairs("--step-min", minimums)
    skippable = {s.strip() for item in optional for s in item.split(",") if s.strip()}
    named = set(within) | set(least) | skippable
    if not named:
        return steps
    if not steps:
        raise UsageError("--step-window, --step-min and --optional need --steps.")
    unknown = sorted(named - set(steps))
    if unknown:
        raise UsageError(f"{unknown[0]!r} is not one of the --steps: {', '.join(steps)}.")
    return [
        Step(s, within_seconds=within.get(s), min_seconds=least.get(s), optional=s in skippable)
        if s in named
        else s
        for s in steps
    ]


def parse_exclude(text: str) -> Any:
    """``NODE[:KEY=V1|V2,KEY=V][@FROM-TO]`` as a ``klantreis.engine.funnel.Exclude``.

    ``refund``, ``refund:reason=fraud|chargeback``, ``support_call:topic=cancel@2-3``.
    """
    from ..engine.funnel import Exclude

    body, _, between = text.partition("@")
    name, _, filters = body.partition(":")
    where: dict[str, str | list[str]] = {}
    for part in filter(None, (p.strip() for p in filters.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--exclude {text!r}: {part!r} is not KEY=VALUE.",
                hint="write e.g. --exclude 'refund:reason=fraud|chargeback@1-3'.",
            )
        values = value.split("|")
        where[key.strip()] = values[0] if len(values) == 1 else values
    after, before = 1, None
    if between:
        m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d*)\s*", between)
        if not m:
            raise UsageError(
                f"--exclude {text!r}: {between!r} is not FROM-TO step numbers.",
                hint="write e.g. @1-3 (between step 1 and step 3) or @2- (after step 2).",
            )
        after, before = int(m.group(1)), int(m.group(2)) if m.group(2) else None
    if not name.strip():
        raise UsageError(f"--exclude {text!r} names no event or touchpoint.")
    return Exclude(name.strip(), where=where or None, after_step=after, before_step=before)


def _csv_list(text: str | None) -> list[str] | None:
    return [s.strip() for s in text.split(",")] if text else None


#: the query options every analysis takes (see klantreis.engine.query.Query)
COMMON_KEYS = ("journey", "level", "segment", "persona", "since", "until", "channel", "unit")


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--journey", "-j", help="Journey id (default: the workspace's default)."),
        click.option(
            "--level",
            type=click.Choice(["event", "touchpoint", "stage", "channel"]),
            help="Raw events, touchpoints, stages or channels (default per analysis).",
        ),
        click.option(
            "--engine",
            default="duckdb",
            show_default=True,
            help="duckdb, spark, spark:MASTER or an Ibis URL (postgres://…).",
        ),
        click.option("--segment", help="Only customers of this segment (journey segment id)."),
        click.option("--persona", help="Only customers of this persona (journey persona id)."),
        click.option("--since", help="Start of the period (ISO 8601 date or date-time)."),
        click.option("--until", help="End of the period (a date is inclusive)."),
        click.option(
            "--channel", help="Only events in this channel (or channels, comma-separated)."
        ),
        click.option(
            "--unit",
            type=click.Choice(["customer", "account"]),
            default="customer",
            show_default=True,
            help="The unit counted: customers, or B2B accounts (all their contacts as one).",
        ),
        click.option(
            "--full", is_flag=True, help="JSON with query, scope, denominator and all tables."
        ),
        format_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _run(ctx: click.Context, analysis: str, params: dict[str, Any], options: dict[str, Any]) -> Any:
    import klantreis

    end_without_teardown()
    query = {k: params[k] for k in COMMON_KEYS}
    query.update({k: v for k, v in options.items() if v is not None})
    return klantreis.analyze(workspace_of(ctx), analysis, engine=params["engine"], **query)


def _show(result: Any, params: dict[str, Any]) -> None:
    for note in result.meta.get("notes") or ():  # on stderr: JSON and CSV output stay clean
        click.echo(f"Note: {note}", err=True)
    fmt = params["fmt"]
    if params["full"]:
        click.echo(result.to_json())
        return
    if fmt == "json":
        emit(result.records(), "json")
        return
    if fmt == "csv":
        emit(result.frame, "csv")
        return
    title = f"{result.analysis}"
    if result.analysis == "coverage":
        m = result.meta
        title = (
            f"coverage: {m['linked_events']:,} of {m['events']:,} events linked"
            f" ({_pct(m['linked_share'])}); {m['linked_customers']:,} of {m['customers']:,}"
            f" customers ({_pct(m['customers_linked_share'])}). Most frequent unlinked events:"
        )
    if len(result.frame) == 0:
        click.echo(f"{title}: no rows.\n{result.caption()}")
    else:
        frame = result.display_frame()
        sentences = frame.pop("sentence") if "sentence" in frame.columns else None
        emit(frame, "table", title=title, caption=result.caption())
        if sentences is not None:  # plain-language findings read better as lines than as cells
            click.echo("In words:")
            for i, text in enumerate(sentences, start=1):
                click.echo(f"  {i}. {text}")
    for name, table in result.tables.items():
        emit(table, "table", title=f"{result.analysis}: {name}")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


@click.group()
def analyze() -> None:
    """Journey analytics: funnel, timing, transitions, paths, scores, gaps, pain points,
    pages, loyalty and coverage (see docs/analyses.md for every field)."""


@analyze.command()
@click.option("--steps", help="Comma-separated steps at the level (default: stages in order).")
@click.option("--window", help="Conversion window from entry, e.g. 30d, 2h.")
@click.option(
    "--step-windows", help="Max time from the previous step, per step after the first: ',2h,1d'."
)
@click.option(
    "--step-window",
    multiple=True,
    help="Max time from the previous (required) step to this one: STEP=DURATION, e.g. checkout=1h.",
)
@click.option(
    "--step-min",
    multiple=True,
    help="Min time from the previous (required) step to this one: STEP=DURATION, e.g. pay=30s.",
)
@click.option("--optional", multiple=True, help="A step customers may skip (repeat or a,b).")
@click.option(
    "--exclude",
    multiple=True,
    help="Leave out customers with this event between steps: NODE[:KEY=V1|V2,...][@FROM-TO].",
)
@click.option(
    "--breakdown", help="segment, persona, channel or attribute:KEY (a customer attribute)."
)
@click.option("--customers-at", help="Instead of the funnel: the customer ids at this step.")
@click.option(
    "--status",
    type=click.Choice(["reached", "dropped"]),
    default="reached",
    show_default=True,
    help="With --customers-at: customers who reached the step, or dropped before it.",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="With --customers-at: write CSV here."
)
@_common
@click.pass_context
def funnel(ctx: click.Context, **params: Any) -> None:
    """Ordered funnel: customers per step, conversion, drop-off and time to convert."""
    options = {
        "steps": parse_step_options(
            _csv_list(params["steps"]),
            windows=params["step_window"],
            minimums=params["step_min"],
            optional=params["optional"],
        ),
        "exclude": [parse_exclude(e) for e in params["exclude"]] or None,
        "window_seconds": parse_seconds(params["window"]) if params["window"] else None,
        "step_window_seconds": [
            parse_seconds(s) if s.strip() else None for s in params["step_windows"].split(",")
        ][1:]
        if params["step_windows"]
        else None,
        "breakdown": params["breakdown"],
    }
    if params["customers_at"]:
        import klantreis
        from klantreis.engine import open_source

        query = {k: params[k] for k in COMMON_KEYS}
        query.update({k: v for k, v in options.items() if v is not None})
        query.pop("breakdown", None)
        q = klantreis.FunnelQuery(**query)
        step: str | int = params["customers_at"]
        ids = q.customers_at(
            open_source(workspace_of(ctx), engine=params["engine"]),
            int(step) if str(step).isdigit() else step,
            status=params["status"],
        )
        if params["output"]:
            with open(params["output"], "w", encoding="utf-8") as fh:
                fh.write("customer_id\n" + "".join(f"{i}\n" for i in ids))
            click.echo(f"Wrote {len(ids):,} customer ids to {params['output']}")
        else:
            emit([{"customer_id": i} for i in ids], params["fmt"])
        return
    _show(_run(ctx, "funnel", params, options), params)


@analyze.command()
@click.option("--steps", help="Comma-separated steps (default: stages or touchpoints in order).")
@click.option("--long-wait-days", type=float, default=7.0, show_default=True)
@click.option("--repeat-window-days", type=float, default=7.0, show_default=True)
@_common
@click.pass_context
def timing(ctx: click.Context, **params: Any) -> None:
    """Time between steps (median, p90), long waits, loops and repeated contacts."""
    options = {
        "steps": _csv_list(params["steps"]),
        "long_wait_days": params["long_wait_days"],
        "repeat_window_days": params["repeat_window_days"],
    }
    _show(_run(ctx, "timing", params, options), params)


@analyze.command()
@click.option(
    "--repeats", type=click.Choice(["keep", "collapse"]), default="keep", show_default=True
)
@click.option("--min-count", type=int, default=1, show_default=True, help="Drop rarer edges.")
@click.option("--top-k", type=int, help="Keep the k most frequent edges per source node.")
@click.option("--focus", help="Only edges into or out of this node.")
@_common
@click.pass_context
def transitions(ctx: click.Context, **params: Any) -> None:
    """Directly-follows counts with median durations (process-mining definition)."""
    options = {k: params[k] for k in ("repeats", "min_count", "top_k", "focus")}
    _show(_run(ctx, "transitions", params, options), params)


@analyze.command()
@click.option("--top-k", type=int, default=20, show_default=True)
@click.option("--max-steps", type=int, help="Cut paths after this many steps (prefixes).")
@click.option(
    "--repeats", type=click.Choice(["keep", "collapse"]), default="collapse", show_default=True
)
@_common
@click.pass_context
def paths(ctx: click.Context, **params: Any) -> None:
    """Most frequent paths (or prefixes) with their share; the rest as 'other'."""
    options = {k: params[k] for k in ("top_k", "max_steps", "repeats")}
    _show(_run(ctx, "paths", params, options), params)


@analyze.command()
@click.option("--metric", help="Only this metric (csat, nps, ces or a custom one).")
@click.option("--trend", type=click.Choice(["week", "month"]), help="One row per period.")
@click.option(
    "--min-n", type=int, default=30, show_default=True, help="Flag cells with fewer responses."
)
@_common
@click.pass_context
def scores(ctx: click.Context, **params: Any) -> None:
    """CSAT, NPS, CES and custom scores with n and a 95% interval."""
    options = {k: params[k] for k in ("metric", "trend", "min_n")}
    _show(_run(ctx, "scores", params, options), params)


@analyze.command()
@click.option("--metric", default="csat", show_default=True)
@click.option("--alpha", type=float, default=0.05, show_default=True)
@_common
@click.pass_context
def gaps(ctx: click.Context, **params: Any) -> None:
    """Score differences between consecutive touchpoints (or stages), with significance."""
    _show(_run(ctx, "gaps", params, {k: params[k] for k in ("metric", "alpha")}), params)


@analyze.command("pain-points")
@click.option("--metric", default="csat", show_default=True)
@click.option("--top-k", type=int)
@_common
@click.pass_context
def pain_points(ctx: click.Context, **params: Any) -> None:
    """Touchpoints ranked by reach × severity, with the evidence."""
    _show(_run(ctx, "pain-points", params, {k: params[k] for k in ("metric", "top_k")}), params)


@analyze.command()
@click.option("--by", type=click.Choice(["page", "source"]), default="page", show_default=True)
@click.option("--bounce-threshold", type=float, default=0.4, show_default=True)
@click.option("--page-property", default="page", show_default=True)
@click.option("--source-property", default="source", show_default=True)
@_common
@click.pass_context
def pages(ctx: click.Context, **params: Any) -> None:
    """Web sessions: landing pages, bounce rate vs threshold, time on page, source."""
    options = {k: params[k] for k in ("by", "bounce_threshold", "page_property", "source_property")}
    _show(_run(ctx, "pages", params, options), params)


@analyze.command()
@click.option("--conversion", help="Event name of a purchase (default: conversion touchpoints).")
@click.option("--groups", default="1,2,4", show_default=True, help="Lower bounds of the groups.")
@_common
@click.pass_context
def loyalty(ctx: click.Context, **params: Any) -> None:
    """Loyal versus new customers: purchases, revenue per customer, share of revenue."""
    try:
        groups = [int(g) for g in params["groups"].split(",")]
    except ValueError:
        raise UsageError(f"--groups {params['groups']!r} must be integers like 1,2,4.") from None
    options = {"conversion": params["conversion"], "groups": groups}
    _show(_run(ctx, "loyalty", params, options), params)


@analyze.command()
@click.option("--top-k", type=int, default=20, show_default=True)
@_common
@click.pass_context
def coverage(ctx: click.Context, **params: Any) -> None:
    """Share of events and customers linked to touchpoints; most frequent unlinked events."""
    _show(_run(ctx, "coverage", params, {"top_k": params["top_k"]}), params)


def register(group: click.Group) -> None:
    group.add_command(analyze)
