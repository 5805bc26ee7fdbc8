"""The canonical tables of the store: the one contract between ingestion, simulator and engine.

Input files whose columns carry these names need no mapping. Timestamps are stored in UTC
without a time zone (``TIMESTAMP``, microseconds). Extra input columns of events are kept in
``properties`` (string keys and string values), so match rules can test them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCOUNTS",
    "CUSTOMERS",
    "EVENTS",
    "METRICS",
    "RESPONSES",
    "Column",
    "Table",
]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type; Spark and Parquet types follow from it
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    doc: str = ""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


EVENTS = Table(
    "events",
    (
        Column("event_id", "VARCHAR", True, "the source's id, else a content key (hash)"),
        Column("customer_id", "VARCHAR", True, "the customer (klant); a contact's person for B2B"),
        Column("account_id", "VARCHAR", False, "the B2B account (company), if any"),
        Column("contact_id", "VARCHAR", False, "the B2B contact (person at the account), if any"),
        Column("session_id", "VARCHAR", False, "web or app session, if any"),
        Column("timestamp", "TIMESTAMP", True, "when it happened, UTC"),
        Column("event", "VARCHAR", True, "the raw event name"),
        Column("channel", "VARCHAR", False, "the channel as the source names it"),
        Column("value", "DOUBLE", False, "revenue or other value of the event"),
        Column("properties", "MAP(VARCHAR, VARCHAR)", False, "every other input column"),
        Column("source_file", "VARCHAR", False, "file the row came from"),
        Column("source_line", "BIGINT", False, "line (or row number) in that file, 1-based"),
        Column("ingest_id", "BIGINT", False, "the ingest run that added the row"),
    ),
    "One row per interaction of a customer with the organisation.",
)

METRICS = ("csat", "nps", "ces", "custom")

RESPONSES = Table(
    "responses",
    (
        Column("response_id", "VARCHAR", True, "the source's id, else a content key (hash)"),
        Column("customer_id", "VARCHAR", False, "the customer, when known"),
        Column("timestamp", "TIMESTAMP", True, "when the answer was given, UTC"),
        Column("touchpoint", "VARCHAR", False, "touchpoint id the question was about"),
        Column("event", "VARCHAR", False, "or the raw event it was about"),
        Column("metric", "VARCHAR", True, "csat | nps | ces | custom"),
        Column("score", "DOUBLE", True, "the score, within the scale"),
        Column("scale_min", "DOUBLE", True, "lowest score on the scale (csat 1, nps 0, ces 1)"),
        Column("scale_max", "DOUBLE", True, "highest score on the scale (csat 5, nps 10, ces 7)"),
        Column("comment", "VARCHAR", False, "free-text comment"),
        Column("channel", "VARCHAR", False, "where the answer was collected"),
        Column("source_file", "VARCHAR", False, ""),
        Column("source_line", "BIGINT", False, ""),
        Column("ingest_id", "BIGINT", False, ""),
    ),
    "One row per survey answer (CSAT, NPS, CES or a custom metric).",
)

CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", "VARCHAR", True, ""),
        Column("account_id", "VARCHAR", False, "B2B account of this customer (contact)"),
        Column("attributes", "MAP(VARCHAR, VARCHAR)", False, "used by segments and personas"),
    ),
    "One row per customer with the attributes segments and personas select on.",
)

ACCOUNTS = Table(
    "accounts",
    (
        Column("account_id", "VARCHAR", True, ""),
        Column("attributes", "MAP(VARCHAR, VARCHAR)", False, "industry, size, ..."),
    ),
    "One row per B2B account (company).",
)
