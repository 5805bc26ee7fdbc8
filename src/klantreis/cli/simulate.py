"""Commands that make data: ``simulate`` (synthetic journeys with known truth) and ``demo``."""

from __future__ import annotations

from pathlib import Path

import click

from ..simulator import simulate as run_simulation
from ..simulator.demo import build_demo
from .output import emit, format_option

__all__ = ["register"]


@click.command()
@click.option(
    "--journey",
    "-j",
    required=True,
    help="A journey YAML file or a template name (five-phases, b2b.nl, ...).",
)
@click.option(
    "--customers", "-n", type=click.IntRange(min=1), required=True, help="How many customers."
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed."
)
@click.option(
    "--out", "-o", type=click.Path(file_okay=False), required=True, help="Directory to write to."
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="File format of the tables.",
)
@click.option(
    "--chunk-customers",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="Customers per written chunk (memory use; the data is the same for any value).",
)
@click.option(
    "--plant",
    multiple=True,
    metavar="KIND:TARGET[:STRENGTH]",
    help="Plant a known truth: pain:TOUCHPOINT, slow:TOUCHPOINT_OR_STAGE, driver:TOUCHPOINT. Repeatable.",
)
@click.option("--lang", type=click.Choice(["en", "nl"]), help="Template language (default en).")
@click.option(
    "--noise-share",
    type=click.FloatRange(0, 0.5),
    default=0.07,
    show_default=True,
    help="Share of unlinked events (scroll, login, ...).",
)
@click.option(
    "--customer-prefix", default="c", show_default=True, help="Customer ids start with this."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes that generate data (the same data for any value).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def simulate(
    journey: str,
    customers: int,
    seed: int,
    out: str,
    file_format: str,
    chunk_customers: int,
    plant: tuple[str, ...],
    lang: str | None,
    noise_share: float,
    customer_prefix: str,
    workers: int,
    quiet: bool,
) -> None:
    """Simulate customers walking a journey; write events, responses, customers, accounts.

    Writes OUT/events.parquet (or .csv), responses, customers, accounts with the store's
    column names (ingest them with no mapping) and OUT/truth.json with what was planted.
    """
    res = run_simulation(
        journey,
        customers=customers,
        seed=seed,
        out=Path(out),
        fmt="csv" if file_format == "csv" else "parquet",
        chunk_customers=chunk_customers,
        plant=list(plant),
        lang=lang,
        noise_share=noise_share,
        customer_prefix=customer_prefix,
        progress=not quiet,
        workers=workers,
    )
    rate = res.rows["events"] / max(res.seconds, 1e-9)
    click.echo(
        f"Simulated {res.customers:,} customers of {res.journey}: {res.rows['events']:,} events, "
        f"{res.rows['responses']:,} responses in {res.seconds:.1f} s ({rate:,.0f} events/s)."
    )
    for table, path in res.paths.items():
        click.echo(f"  {table:<10} {res.rows[table]:>12,}  {path}")
    click.echo(f"  truth      {res.truth_path}")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False), default="demo-workspace")
@click.option(
    "--customers",
    "-n",
    type=click.IntRange(min=10),
    default=4000,
    show_default=True,
    help="Customers of the webshop journey (the others get a share of it).",
)
@click.option("--seed", type=click.IntRange(min=0), default=2024, show_default=True)
@click.option("--force", is_flag=True, help="Replace DIRECTORY if it is a klantreis workspace.")
@click.option("--no-serve", is_flag=True, help="Do not start the web app afterwards.")
@format_option
def demo(
    directory: str,
    customers: int,
    seed: int,
    force: bool,
    no_serve: bool,
    fmt: str,
) -> None:
    """Build a demo workspace in DIRECTORY with three journeys and simulated data, then serve it.

    The journeys: a Dutch webshop (five phases), a B2B software purchase and the podiatrist
    journey, each with planted pain points, slow spots and drivers (see imports/*/truth.json).
    """
    res = build_demo(
        directory,
        customers=customers,
        seed=seed,
        force=force,
        progress=fmt == "table",
        echo=click.echo if fmt == "table" else None,
    )
    if fmt != "table":
        emit(res.to_dict(), fmt)
        return
    shown = ("journey", "lang", "customers", "accounts", "events", "responses")
    rows = [{k: r[k] for k in shown} for r in res.journeys]
    emit(rows, fmt, title=f"Demo workspace {res.directory} ({res.seconds:.0f} s)")
    click.echo("Planted (see imports/<journey>/truth.json):")
    for r in res.journeys:
        click.echo(f"  {r['journey']:<12} {r['planted']}")
    for note in res.notes:
        click.echo(f"Note: {note}")
    ws = f"-w {directory}"
    steps = [
        (f"klantreis {ws} journeys", "the three journeys"),
        (f"klantreis {ws} analyze coverage --journey five-phases", "events not yet on the map"),
        (f"klantreis {ws} analyze funnel --journey five-phases", "where customers drop out"),
        (f"klantreis {ws} analyze pain-points --journey five-phases", "the planted pain point"),
        (f"klantreis {ws} analyze drivers --journey five-phases --outcome promoter", "loyalty"),
        (f"klantreis {ws} analyze scores --journey podiatrist", "CSAT, NPS, CES per touchpoint"),
        (f"klantreis {ws} map b2b -o b2b.html", "the journey map with its numbers"),
        (f"klantreis {ws} report five-phases -o rapport.pdf", "the report for stakeholders"),
        (f"cat {directory}/imports/five-phases/truth.json", "what was planted in the data"),
    ]
    if no_serve:
        steps.append((f"klantreis {ws} serve", "the web app"))
    click.echo("\nNext, try:")
    for cmd, what in steps:
        click.echo(f"  {cmd:<62} # {what}")
    if not no_serve:
        from ..web import serve as run_server

        click.echo()
        run_server(res.directory, echo=click.echo)


def register(group: click.Group) -> None:
    for command in (simulate, demo):
        group.add_command(command)
