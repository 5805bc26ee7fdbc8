"""Commands about measured data: ingest, quarantine, ingests, export, forget."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ..store.mapping import ColumnMapping, load_mapping, parse_map_options
from ..store.readers import FORMATS
from .context import workspace_of
from .output import emit, format_option, to_jsonable

__all__ = ["register"]


def _mapping(maps: tuple[str, ...], mapping_file: str | None) -> ColumnMapping:
    base = load_mapping(mapping_file) if mapping_file else ColumnMapping()
    return base.merged(parse_map_options(maps))


def _scales(values: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for v in values:
        metric, sep, rng = v.partition("=")
        lo, dash, hi = rng.partition("-")
        try:
            if not sep or not dash:
                raise ValueError
            out[metric.strip().lower()] = (float(lo), float(hi))
        except ValueError:
            raise UsageError(
                f"--scale {v!r} is not of the form METRIC=MIN-MAX.",
                hint="for example --scale csat=1-10",
            ) from None
    return out


def _source_options(fn: Any) -> Any:
    options: list[Callable[[Any], Any]] = [
        click.argument("files", nargs=-1, required=True, type=click.Path(exists=True)),
        click.option(
            "--map",
            "maps",
            multiple=True,
            metavar="CANONICAL=SOURCE",
            help="Read a canonical column from another source column (repeatable), "
            "e.g. --map customer_id=user_id.",
        ),
        click.option(
            "--mapping",
            "mapping_file",
            type=click.Path(dir_okay=False, exists=True),
            help="YAML mapping file (columns, timezone, date_format, delimiter); --map wins.",
        ),
        click.option(
            "--input-format",
            "input_format",
            type=click.Choice(FORMATS),
            help="Format of the files (default: from the file name and content).",
        ),
        click.option("--delimiter", help="CSV delimiter (default: detected; 'tab' for tabs)."),
        click.option(
            "--strict", is_flag=True, help="Store nothing and exit 1 when any row fails validation."
        ),
        click.option("--no-progress", is_flag=True, help="Do not show the progress bar."),
        format_option,
        click.pass_context,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _time_options(fn: Any) -> Any:
    fn = click.option(
        "--date-format",
        help="strptime format of the timestamp column, e.g. '%d-%m-%Y %H:%M' (default: ISO 8601 or epoch).",
    )(fn)
    fn = click.option(
        "--timezone",
        help="Time zone of timestamps without an offset (default UTC), e.g. Europe/Amsterdam.",
    )(fn)
    return fn


def _report(report: Any, fmt: str) -> None:
    if fmt == "table":
        click.echo(report.summary())
    else:
        emit(report.to_dict(), fmt)


@click.group()
def ingest() -> None:
    """Bring measured data into the workspace: events, feedback, customers, accounts.

    Rows that fail validation go to the quarantine ('klantreis quarantine'); the same rows
    ingested twice are stored once.
    """


@ingest.command("events")
@_source_options
@_time_options
def ingest_events(ctx: click.Context, files: tuple[str, ...], maps: tuple[str, ...], mapping_file: str | None,
                  input_format: str | None, delimiter: str | None, strict: bool, no_progress: bool, fmt: str,
                  timezone: str | None, date_format: str | None) -> None:  # fmt: skip
    """Ingest events from FILES (CSV/TSV, Parquet, NDJSON/JSON, XES, GA4 export, Segment)."""
    ws = workspace_of(ctx)
    report = ws.ingest_events(
        [Path(f) for f in files],
        mapping=_mapping(maps, mapping_file),
        timezone=timezone,
        date_format=date_format,
        delimiter=delimiter,
        fmt=input_format,
        strict=strict,
        progress=not no_progress,
    )
    _report(report, fmt)


@ingest.command("feedback")
@_source_options
@_time_options
@click.option(
    "--scale",
    "scales",
    multiple=True,
    metavar="METRIC=MIN-MAX",
    help="Scale of a metric when the rows do not give one (defaults csat=1-5, nps=0-10, ces=1-7).",
)
def ingest_feedback(ctx: click.Context, files: tuple[str, ...], maps: tuple[str, ...], mapping_file: str | None,
                    input_format: str | None, delimiter: str | None, strict: bool, no_progress: bool, fmt: str,
                    timezone: str | None, date_format: str | None, scales: tuple[str, ...]) -> None:  # fmt: skip
    """Ingest survey responses (CSAT, NPS, CES, custom; comments) from FILES."""
    ws = workspace_of(ctx)
    report = ws.ingest_feedback(
        [Path(f) for f in files],
        mapping=_mapping(maps, mapping_file),
        timezone=timezone,
        date_format=date_format,
        delimiter=delimiter,
        fmt=input_format,
        strict=strict,
        progress=not no_progress,
        scales=_scales(scales) or None,
    )
    _report(report, fmt)


@ingest.command("customers")
@_source_options
def ingest_customers(ctx: click.Context, files: tuple[str, ...], maps: tuple[str, ...], mapping_file: str | None,
                     input_format: str | None, delimiter: str | None, strict: bool, no_progress: bool,
                     fmt: str) -> None:  # fmt: skip
    """Ingest customers and their attributes from FILES (also Segment identify calls)."""
    ws = workspace_of(ctx)
    report = ws.ingest_customers(
        [Path(f) for f in files],
        mapping=_mapping(maps, mapping_file),
        delimiter=delimiter,
        fmt=input_format,
        strict=strict,
        progress=not no_progress,
    )
    _report(report, fmt)


@ingest.command("accounts")
@_source_options
def ingest_accounts(ctx: click.Context, files: tuple[str, ...], maps: tuple[str, ...], mapping_file: str | None,
                    input_format: str | None, delimiter: str | None, strict: bool, no_progress: bool,
                    fmt: str) -> None:  # fmt: skip
    """Ingest B2B accounts and their attributes from FILES (also Segment group calls)."""
    ws = workspace_of(ctx)
    report = ws.ingest_accounts(
        [Path(f) for f in files],
        mapping=_mapping(maps, mapping_file),
        delimiter=delimiter,
        fmt=input_format,
        strict=strict,
        progress=not no_progress,
    )
    _report(report, fmt)


_TABLE = click.option(
    "--table",
    type=click.Choice(["events", "responses", "customers", "accounts"]),
    help="Only this table.",
)
_INGEST = click.option(
    "--ingest", "ingest_id", type=int, help="Only rows of this ingest (see 'klantreis ingests')."
)
_REASON = click.option(
    "--reason", help="Only rows quarantined for this reason, e.g. bad_timestamp."
)


_LIMIT = click.option(
    "--limit", type=int, default=100, show_default=True, help="At most this many rows (0: all)."
)


@click.group(invoke_without_command=True)
@_TABLE
@_INGEST
@_REASON
@_LIMIT
@format_option
@click.pass_context
def quarantine(
    ctx: click.Context,
    table: str | None,
    ingest_id: int | None,
    reason: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Rows that failed validation: list them (the default) or export them to fix and re-ingest."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(
            quarantine_list, table=table, ingest_id=ingest_id, reason=reason, limit=limit, fmt=fmt
        )


@quarantine.command("list")
@_TABLE
@_INGEST
@_REASON
@_LIMIT
@format_option
@click.pass_context
def quarantine_list(ctx: click.Context, table: str | None = None, ingest_id: int | None = None,
                    reason: str | None = None, limit: int = 100, fmt: str = "table") -> None:  # fmt: skip
    """List quarantined rows: file, line, field, value, reason."""
    ws = workspace_of(ctx)
    rows = ws.quarantine(table=table, ingest_id=ingest_id, reason=reason, limit=limit or None)
    if fmt == "table":
        rows = rows.drop(columns=["raw", "quarantined_at", "customer_id"])
    emit(rows, fmt, title="Quarantine")


@quarantine.command("export")
@click.argument("dest", type=click.Path(dir_okay=False))
@_TABLE
@_INGEST
@_REASON
@click.pass_context
def quarantine_export(ctx: click.Context, dest: str, table: str | None, ingest_id: int | None,
                      reason: str | None) -> None:  # fmt: skip
    """Write the quarantined source rows to DEST (.csv, .tsv, .ndjson, .json) to fix and re-ingest."""
    from ..store.quarantine import export_quarantine

    ws = workspace_of(ctx)
    n = export_quarantine(ws.quarantine(table=table, ingest_id=ingest_id, reason=reason), dest)
    click.echo(f"Wrote {n:,} quarantined rows to {dest}")


@click.command()
@format_option
@click.pass_context
def ingests(ctx: click.Context, fmt: str) -> None:
    """The ingest log: every ingest with its status and counts, newest first."""
    ws = workspace_of(ctx)
    log = ws.ingest_log()
    if fmt == "table":
        log = log[
            ["ingest_id", "table_name", "status", "finished_at", "rows_read", "accepted",
             "duplicates", "quarantined", "replaced"]
        ]  # fmt: skip
    emit(log, fmt, title="Ingests")


@click.command("export")
@click.argument("customer")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the JSON to this file."
)
@click.pass_context
def export(ctx: click.Context, customer: str, output: str | None) -> None:
    """Write everything held on CUSTOMER as JSON (every table, quarantine, caches)."""
    ws = workspace_of(ctx)
    text = json.dumps(to_jsonable(ws.export_customer(customer)), ensure_ascii=False, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(f"Wrote the data held on the customer to {output}", err=True)
    else:
        click.echo(text)


@click.command()
@click.argument("customer")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@format_option
@click.pass_context
def forget(ctx: click.Context, customer: str, yes: bool, fmt: str) -> None:
    """Erase CUSTOMER from every table, the quarantine and caches; the erasure is audited."""
    ws = workspace_of(ctx)
    if not yes:
        click.confirm(
            f"Erase every row held on customer {customer!r}? This cannot be undone", abort=True
        )
    report = ws.forget_customer(customer)
    if fmt == "table":
        click.echo(
            f"Erased {report.total_rows:,} rows "
            f"({', '.join(f'{k} {v}' for k, v in sorted(report.rows_removed.items()))}); "
            f"{report.files_rewritten} files rewritten; audit entry {report.audit_id}."
        )
    else:
        emit(report.to_dict(), fmt)


def register(group: click.Group) -> None:
    for command in (ingest, quarantine, ingests, export, forget):
        group.add_command(command)
