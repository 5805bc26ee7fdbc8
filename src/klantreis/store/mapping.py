"""Column mapping: which source column holds which canonical column, and how to read it.

A mapping is given on the command line (``--map customer_id=user_id``, repeatable) or in a
YAML file (``--mapping FILE``)::

    # mapping of the shop's order export onto events
    columns:
      customer_id: klantnummer
      timestamp: besteldatum
      event: soort
    timezone: Europe/Amsterdam      # for timestamps without an offset
    date_format: "%d-%m-%Y %H:%M"   # strptime format of the timestamp column
    delimiter: ";"                  # CSV/TSV only; detected when left out

A file with only ``canonical: source`` pairs at the top level is a mapping of columns too.
Options given on the command line win over the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ..errors import UsageError

__all__ = ["ColumnMapping", "load_mapping", "parse_map_options"]

_OPTION_KEYS = ("timezone", "date_format", "delimiter")


@dataclass(frozen=True)
class ColumnMapping:
    """``columns`` maps canonical column names to source column names."""

    columns: dict[str, str] = field(default_factory=dict)
    timezone: str | None = None
    date_format: str | None = None
    delimiter: str | None = None

    def source_of(self, canonical: str) -> str | None:
        return self.columns.get(canonical)

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with ``other``'s entries and options on top."""
        return ColumnMapping(
            columns={**self.columns, **other.columns},
            timezone=other.timezone or self.timezone,
            date_format=other.date_format or self.date_format,
            delimiter=other.delimiter or self.delimiter,
        )

    def with_options(
        self,
        *,
        timezone: str | None = None,
        date_format: str | None = None,
        delimiter: str | None = None,
    ) -> ColumnMapping:
        """This mapping with the options that are given (not None) replaced."""
        return replace(
            self,
            timezone=timezone or self.timezone,
            date_format=date_format or self.date_format,
            delimiter=delimiter or self.delimiter,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": dict(self.columns),
            "timezone": self.timezone,
            "date_format": self.date_format,
            "delimiter": self.delimiter,
        }


def _columns(data: Mapping[Any, Any], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in data.items():
        if not isinstance(v, str) or not str(k):
            raise UsageError(
                f"Mapping {where}: entry {k!r} must map a canonical column to a source column "
                f"name (text), got {v!r}.",
                hint="write it as 'customer_id: user_id'.",
            )
        out[str(k)] = v
    return out


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read a mapping file (YAML)."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as fh:
            data = YAML(typ="safe").load(fh) or {}
    except FileNotFoundError:
        raise UsageError(f"Mapping file {str(p)!r} does not exist.") from None
    except YAMLError as exc:
        raise UsageError(f"Mapping file {str(p)!r} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(
            f"Mapping file {str(p)!r} must hold a mapping (columns: ...), got {type(data).__name__}."
        )
    if "columns" in data:
        unknown = sorted(set(data) - {"columns", *_OPTION_KEYS})
        if unknown:
            raise UsageError(
                f"Mapping file {str(p)!r} has unknown keys: {', '.join(unknown)}. "
                f"Allowed: columns, {', '.join(_OPTION_KEYS)}."
            )
        columns = _columns(data.get("columns") or {}, repr(str(p)))
        options = {k: (str(data[k]) if data.get(k) is not None else None) for k in _OPTION_KEYS}
        return ColumnMapping(columns=columns, **options)
    options = {k: str(data.pop(k)) for k in _OPTION_KEYS if data.get(k) is not None}
    return ColumnMapping(columns=_columns(data, repr(str(p))), **options)


def parse_map_options(values: Iterable[str]) -> ColumnMapping:
    """``["customer_id=user_id", "timestamp=ts"]`` as a mapping."""
    columns: dict[str, str] = {}
    for v in values:
        canonical, sep, source = v.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise UsageError(
                f"--map {v!r} is not of the form CANONICAL=SOURCE.",
                hint="for example --map customer_id=user_id --map timestamp=ts",
            )
        columns[canonical.strip()] = source.strip()
    return ColumnMapping(columns=columns)


def as_mapping(value: ColumnMapping | Mapping[str, str] | str | Path | None) -> ColumnMapping:
    """Accept a mapping object, a plain dict (canonical -> source) or a YAML file path."""
    if value is None:
        return ColumnMapping()
    if isinstance(value, ColumnMapping):
        return value
    if isinstance(value, (str, Path)):
        return load_mapping(value)
    return ColumnMapping(columns=_columns(value, "argument"))
