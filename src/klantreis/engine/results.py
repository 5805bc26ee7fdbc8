"""Results: a small pandas DataFrame with documented columns, plus what it was computed over.

Every result knows its query, the scope (filters applied, customers in and out), the denominator
its rates use, any secondary tables, and the lazy Ibis expression behind its main table
(``result.expr``; execute it yourself with ``result.expr.execute()`` or compile it with
``ibis.to_sql(result.expr)``). ``expr`` is None when the main table came from a derived index
(``engine/sequence.py``) instead of one query; run the analysis with
``KLANTREIS_SEQUENCE_INDEX=never`` to get the query.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["Result", "Scope", "jsonable"]


def jsonable(value: Any) -> Any:
    """Plain JSON values: ISO 8601 timestamps, None for NaN, lists for arrays."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


@dataclass(frozen=True)
class Scope:
    """Filters applied and what they did to the customer base (never drop customers silently)."""

    level: str
    journey: str | None
    segment: str | None
    persona: str | None
    attributes: dict[str, Any]
    since: str | None
    until: str | None
    customers_total: int
    customers_in_scope: int
    unit: str = "customer"  # "account": the counts are accounts (B2B buying groups)
    channel: str | None = None  # only events in this channel (or channels)

    @property
    def customers_filtered_out(self) -> int:
        return self.customers_total - self.customers_in_scope

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "journey": self.journey,
            "segment": self.segment,
            "persona": self.persona,
            "attributes": jsonable(self.attributes),
            "since": self.since,
            "until": self.until,
            "customers_total": self.customers_total,
            "customers_in_scope": self.customers_in_scope,
            "customers_filtered_out": self.customers_filtered_out,
            "unit": self.unit,
            "channel": self.channel,
        }

    def caption(self) -> str:
        parts = [f"level {self.level}"]
        if self.journey:
            parts.append(f"journey {self.journey}")
        if self.segment:
            parts.append(f"segment {self.segment}")
        if self.persona:
            parts.append(f"persona {self.persona}")
        if self.channel:
            parts.append(f"channel {self.channel} only")
        if self.since or self.until:
            parts.append(f"period {self.since or '…'} – {self.until or '…'}")
        parts.append(
            f"{self.customers_in_scope:,} of {self.customers_total:,} {self.unit}s in scope"
            f" ({self.customers_filtered_out:,} filtered out)"
        )
        return "; ".join(parts)


@dataclass
class Result:
    """The outcome of one analysis. ``frame`` holds the rows (documented in docs/analyses.md)."""

    analysis: str
    frame: pd.DataFrame
    query: Any
    scope: Scope
    denominator: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    expr: ir.Table | None = field(default=None, repr=False)

    #: The columns a terminal table shows (all columns when empty); JSON and CSV have all.
    display_columns: ClassVar[tuple[str, ...]] = ()

    def display_frame(self) -> pd.DataFrame:
        if not self.display_columns:
            return self.frame
        return self.frame[[c for c in self.display_columns if c in self.frame.columns]]

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready objects (the documented output contract)."""
        return [jsonable(r) for r in self.frame.to_dict(orient="records")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.analysis,
            "query": self.query.to_dict(),
            "scope": self.scope.to_dict(),
            "denominator": self.denominator,
            "meta": jsonable(self.meta),
            "rows": self.records(),
            "tables": {
                name: [jsonable(r) for r in t.to_dict(orient="records")]
                for name, t in self.tables.items()
            },
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def caption(self) -> str:
        text = self.scope.caption()
        if self.denominator:
            text += f". Rates are shares of {self.denominator}"
        return text

    def __len__(self) -> int:
        return len(self.frame)
