"""The typed results of the store: what an ingest did, what an erasure removed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

__all__ = ["ForgetReport", "IngestReport", "ReasonCount"]


@dataclass(frozen=True)
class ReasonCount:
    """How many rows were quarantined for one reason, and the first such row."""

    reason: str
    count: int
    field: str | None
    message: str
    first_file: str | None
    first_line: int | None
    first_value: str | None

    def describe(self) -> str:
        where = f"{self.first_file}, line {self.first_line}" if self.first_file else "?"
        value = f" (value {self.first_value!r})" if self.first_value is not None else ""
        return f"{self.count} × {self.reason}: {self.message}{value}; first at {where}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did. ``rows_read = accepted + duplicates + quarantined``.

    ``replaced`` (customers and accounts only) counts accepted rows that replaced a stored
    row of the same id with other attributes. ``notes`` counts records a format adapter
    skipped on purpose (e.g. Segment ``identify`` calls in an events ingest).
    """

    ingest_id: int
    table: str
    status: str  # committed | rejected (strict mode, nothing stored)
    sources: list[str]
    formats: list[str]
    rows_read: int
    accepted: int
    duplicates: int
    quarantined: int
    replaced: int = 0
    reasons: list[ReasonCount] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: how many of ``files`` are source files kept as they are (``store/adopt.py``)
    adopted: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no row was quarantined."""
        return self.quarantined == 0

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows_per_s"] = round(self.rows_per_s, 1)
        data["seconds"] = round(self.seconds, 3)
        return data

    def to_frame(self) -> pd.DataFrame:
        """One row with the counts (reasons and notes as JSON-able lists)."""
        return pd.DataFrame([self.to_dict()])

    def summary(self) -> str:
        """The readable report the CLI prints."""
        lines = [
            f"Ingest {self.ingest_id} into {self.table} ({self.status}): "
            f"{self.rows_read:,} rows read from {len(self.sources)} source(s) in "
            f"{self.seconds:.2f} s ({self.rows_per_s:,.0f} rows/s)",
            f"  accepted            {self.accepted:,}",
            f"  duplicates skipped  {self.duplicates:,}",
            f"  quarantined         {self.quarantined:,}",
        ]
        if self.replaced:
            lines.append(f"  replaced            {self.replaced:,} (same id, new attributes)")
        for note, n in sorted(self.notes.items()):
            lines.append(f"  skipped             {n:,} {note}")
        if self.adopted:
            lines.append(
                f"  kept as it is       {self.adopted} clean canonical Parquet file(s), "
                "not rewritten"
            )
        if self.ignored_columns:
            lines.append(f"  ignored columns     {', '.join(self.ignored_columns)}")
        if self.reasons:
            lines.append("First reasons (see 'klantreis quarantine'):")
            lines.extend(f"  - {r.describe()}" for r in self.reasons)
        return "\n".join(lines)


@dataclass(frozen=True)
class ForgetReport:
    """What an erasure removed. The customer id itself is not kept, only its salted hash."""

    audit_id: int
    subject_hash: str
    rows_removed: dict[str, int]
    files_rewritten: int
    erased_at: str

    @property
    def total_rows(self) -> int:
        return sum(self.rows_removed.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_rows"] = self.total_rows
        return data

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"table": t, "rows_removed": n} for t, n in sorted(self.rows_removed.items())]
        )
