"""The unit of analysis: the customer (default) or, for B2B, the account (a buying group).

With ``unit="account"`` every analysis treats ``account_id`` as the unit instead of
``customer_id``: the events of all contacts of an account form ONE sequence (ordered by
``(timestamp, event_id)`` as always), responses count for their contact's account, and every
count of "customers" is a count of accounts. Events without an account are left out (the scope
says how many units remain). Segment and persona filters still select contacts by their
attributes; an account is in scope when one of its contacts is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import UsageError
from .lazy import ir

if TYPE_CHECKING:
    from .source import Source

__all__ = ["UNITS", "by_account", "check_unit"]

UNITS: tuple[str, ...] = ("customer", "account")


def check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise UsageError(f"Unknown unit {unit!r}.", hint=f"use one of: {', '.join(UNITS)}.")


def _account_of(source: Source) -> ir.Table:
    """customer_id → account_id, from the customers table, else from the events."""
    c = source.customers
    from_customers = c.filter(c.account_id.notnull()).select("customer_id", "account_id")
    e = source.events
    from_events = e.filter(e.account_id.notnull()).select("customer_id", "account_id")
    both = from_customers.union(from_events.anti_join(from_customers, "customer_id"))
    return both.distinct(on="customer_id", keep="first")


def by_account(source: Source, in_scope: ir.Table | None) -> tuple[Source, ir.Table | None]:
    """The source re-keyed by account (``customer_id`` holds the account id), and the scope."""
    account = _account_of(source)
    e = source.events.filter(source.events.account_id.notnull())
    events = e.mutate(customer_id=e.account_id)
    r = source.responses.join(account, "customer_id", how="inner")
    responses = r.mutate(customer_id=r.account_id).select(source.responses.columns)
    c = source.customers.filter(source.customers.account_id.notnull())
    customers = c.mutate(customer_id=c.account_id)
    scope = None
    if in_scope is not None:
        s = in_scope.join(account, "customer_id", how="inner")
        scope = s.select(customer_id=s.account_id).distinct()
    rekeyed = source.with_tables(events=events, responses=responses, customers=customers)
    return rekeyed, scope
