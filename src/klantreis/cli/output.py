"""Formatting of results for the terminal: a readable table, JSON or CSV (``--format``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

import click

__all__ = ["FORMATS", "emit", "format_option", "to_jsonable"]

FORMATS = ("table", "json", "csv")

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format: a readable table, JSON (one object per row) or CSV.",
)


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: ISO 8601 timestamps, None for NaN, lists for arrays."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_jsonable(value.tolist())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _rows(data: Any) -> list[dict[str, Any]]:
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a DataFrame
        return [to_jsonable(r) for r in data.to_dict(orient="records")]
    if isinstance(data, Mapping):
        return [to_jsonable(data)]
    if isinstance(data, Sequence):
        return [to_jsonable(r) for r in data]
    raise TypeError(f"cannot format {type(data).__name__}")


_SHARE_WORDS = ("share", "conversion", "rate", "linked_share")


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if abs(seconds) >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:,.0f} s"


def _number(value: float) -> str:
    if value != value:  # NaN
        return ""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}"


def _cell(value: Any, column: str = "") -> str:
    """A value as a person reads it: durations in s/min/h/d, shares as percentages.

    Only the table format does this; JSON and CSV keep the raw values (seconds, 0..1 shares).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        name = column.lower()
        if name.endswith("seconds") or "_seconds_" in name:
            return _duration(float(value))
        if any(w in name for w in _SHARE_WORDS) and -1.0 <= float(value) <= 1.0:
            return f"{float(value) * 100:.1f}%"
        return _number(float(value))
    if isinstance(value, list):
        return " → ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def emit(data: Any, fmt: str, *, title: str | None = None, caption: str | None = None) -> None:
    """Print rows (a DataFrame, a list of dicts or one dict) in the chosen format."""
    rows = _rows(data)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    columns: list[str] = []
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _csv_cell(r.get(k)) for k in columns})
        click.echo(buf.getvalue(), nl=False)
        return
    from rich.console import Console  # only tables need rich (JSON and CSV start faster)
    from rich.table import Table

    table = Table(title=title, caption=caption, show_lines=False, highlight=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(_cell(r.get(c), c) for c in columns))
    # Piped output is not cut to 80 columns: tables stay one row per line in files and logs.
    width = shutil.get_terminal_size((160, 24)).columns
    Console(soft_wrap=False, markup=False, width=max(width, 100)).print(table)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value
