"""``klantreis analyze drivers|attribution|personas|conformance|impact|monitor``.

The advanced analyses, added to the ``analyze`` group with the same common options, output
formats and thin-skin rule (parse, call ``klantreis.analyze`` once, format).
"""

from __future__ import annotations

from typing import Any

import click

from .analyze import _common, _csv_list, _run, _show
from .analyze import analyze as analyze_group

__all__ = ["register"]


def _names(text: str | None) -> str | list[str] | None:
    names = _csv_list(text)
    if names is None:
        return None
    return names[0] if len(names) == 1 else names


@click.command()
@click.option(
    "--outcome",
    type=click.Choice(["nps", "promoter", "conversion", "repeat_purchase", "retention"]),
    default="nps",
    show_default=True,
)
@click.option("--metric", default="csat", show_default=True, help="Score whose effect is measured.")
@click.option("--conversion", help="Purchase event name(s), comma-separated.")
@click.option("--retention-days", type=float, default=180.0, show_default=True)
@click.option("--adjust", help="Customer attributes to compare within (default: persona keys).")
@click.option(
    "--correction", type=click.Choice(["bh", "holm", "none"]), default="bh", show_default=True
)
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--min-n", type=int, default=30, show_default=True)
@_common
@click.pass_context
def drivers(ctx: click.Context, **params: Any) -> None:
    """Which touchpoints move NPS, promoters, conversion, repeat purchase or retention."""
    options = {
        "outcome": params["outcome"],
        "metric": params["metric"],
        "conversion": _names(params["conversion"]),
        "retention_days": params["retention_days"],
        "adjust": _csv_list(params["adjust"]),
        "correction": params["correction"],
        "alpha": params["alpha"],
        "min_n": params["min_n"],
    }
    _show(_run(ctx, "drivers", params, options), params)


@click.command()
@click.option(
    "--models",
    help="Comma-separated: first_touch, last_touch, linear, time_decay, position_based, "
    "markov, shapley (default: all).",
)
@click.option("--conversion", help="Conversion event name (default: conversion touchpoints).")
@click.option("--half-life-days", type=float, default=7.0, show_default=True)
@click.option("--markov-order", type=int, default=1, show_default=True)
@click.option("--lookback-days", type=float, help="Ignore touches longer before the conversion.")
@click.option("--shapley-max-channels", type=int, default=12, show_default=True)
@_common
@click.pass_context
def attribution(ctx: click.Context, **params: Any) -> None:
    """Multi-touch attribution of conversions and revenue, every model side by side."""
    options = {
        "models": _csv_list(params["models"]),
        "conversion": params["conversion"],
        "half_life_days": params["half_life_days"],
        "markov_order": params["markov_order"],
        "lookback_days": params["lookback_days"],
        "shapley_max_channels": params["shapley_max_channels"],
    }
    _show(_run(ctx, "attribution", params, options), params)


@click.command()
@click.option("--k", type=int, help="Number of clusters (default: chosen by silhouette).")
@click.option("--max-k", type=int, default=8, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--conversion", help="Purchase event name (default: conversion touchpoints).")
@_common
@click.pass_context
def personas(ctx: click.Context, **params: Any) -> None:
    """Data-driven personas: clusters of similar journeys, compared with declared personas."""
    options = {k: params[k] for k in ("k", "max_k", "seed", "conversion")}
    _show(_run(ctx, "personas", params, options), params)


@click.command()
@click.option(
    "--breakdown", type=click.Choice(["persona", "none"]), default="persona", show_default=True
)
@click.option("--top-k", type=int, default=20, show_default=True, help="Unmapped events shown.")
@_common
@click.pass_context
def conformance(ctx: click.Context, **params: Any) -> None:
    """Designed versus actual: stage order followed, skips, backward moves, unused touchpoints."""
    options = {"breakdown": params["breakdown"], "top_k": params["top_k"]}
    _show(_run(ctx, "conformance", params, options), params)


@click.command()
@click.option("--target-drop-off", type=float, help="Target drop-off share (default: median).")
@click.option("--target-repeat", type=float, help="Target repeat share (default: median).")
@click.option("--conversion", help="Purchase event name(s), comma-separated.")
@click.option("--metric", default="csat", show_default=True)
@click.option("--top-k", type=int)
@_common
@click.pass_context
def impact(ctx: click.Context, **params: Any) -> None:
    """What fixing each pain point is worth: extra conversions, retained customers, revenue."""
    options = {
        "target_drop_off": params["target_drop_off"],
        "target_repeat": params["target_repeat"],
        "conversion": _names(params["conversion"]),
        "metric": params["metric"],
        "top_k": params["top_k"],
    }
    _show(_run(ctx, "impact", params, options), params)


@click.command("monitor")
@click.option("--trend", type=click.Choice(["week", "month"]), default="week", show_default=True)
@click.option("--kpis", help="Comma-separated: reach, conversion, csat, nps, ces, time.")
@click.option("--conversion", help="Purchase event name(s), comma-separated.")
@click.option("--min-n", type=int, default=30, show_default=True)
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option(
    "--correction", type=click.Choice(["bh", "holm", "none"]), default="holm", show_default=True
)
@_common
@click.pass_context
def monitor_series(ctx: click.Context, **params: Any) -> None:
    """KPI series per touchpoint and period, with alerts on significant change."""
    options = {
        "trend": params["trend"],
        "kpis": _csv_list(params["kpis"]),
        "conversion": _names(params["conversion"]),
        "min_n": params["min_n"],
        "alpha": params["alpha"],
        "correction": params["correction"],
    }
    _show(_run(ctx, "monitor", params, options), params)


def register(group: click.Group) -> None:
    for command in (drivers, attribution, personas, conformance, impact, monitor_series):
        analyze_group.add_command(command)
