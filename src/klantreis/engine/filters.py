"""Who and when an analysis looks at: segment and persona filters, and the period.

Segments and personas select customers by ``customers.attributes`` (a value means equals, a list
means in; several attributes must all hold). With such a filter, customers without a row in the
customers table are out. The period is ``since`` (inclusive) to ``until`` (a date: through the
end of that day; a date-time: up to, not including, that moment). How an analysis applies the
period is documented per analysis (the funnel keeps each entrant's full window).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..model import Journey
from .lazy import ibis, ir
from .linking import _text

__all__ = ["Period", "attribute_filter", "customers_matching", "parse_period", "resolve_attributes"]


@dataclass(frozen=True)
class Period:
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive

    def condition(self, ts: ir.TimestampValue) -> ir.BooleanValue | None:
        conds = []
        if self.since is not None:
            conds.append(ts >= ibis.literal(self.since, type="timestamp"))
        if self.until is not None:
            conds.append(ts < ibis.literal(self.until, type="timestamp"))
        if not conds:
            return None
        return conds[0] & conds[1] if len(conds) == 2 else conds[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


def _moment(value: Any, name: str, *, end_of_day: bool) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
        return moment + dt.timedelta(days=1) if end_of_day else moment
    else:
        text = str(value).strip()
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(
                f"{name} {text!r} is not an ISO 8601 date or date-time.",
                hint="write e.g. 2024-03-01 or 2024-03-01T12:00:00.",
            ) from None
        if len(text) == 10 and end_of_day:
            moment += dt.timedelta(days=1)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def parse_period(since: Any, until: Any) -> Period:
    period = Period(
        _moment(since, "since", end_of_day=False), _moment(until, "until", end_of_day=True)
    )
    if period.since and period.until and period.until <= period.since:
        raise UsageError(
            f"The period is empty: since {period.since.isoformat()} is not before until "
            f"{period.until.isoformat()}.",
            hint="until is inclusive for a date: --since 2024-01-01 --until 2024-01-31.",
        )
    return period


def resolve_attributes(
    journey: Journey | None, *, segment: str | None, persona: str | None
) -> dict[str, Any]:
    """The attribute conditions of a segment and/or persona (both: all must hold)."""
    attrs: dict[str, Any] = {}
    for kind, wanted in (("segment", segment), ("persona", persona)):
        if wanted is None:
            continue
        if journey is None:
            raise UsageError(
                f"--{kind} {wanted!r} needs a journey (segments and personas are defined there).",
                hint="pass --journey ID.",
            )
        items = journey.segments if kind == "segment" else journey.personas
        found = next((i for i in items if i.id == wanted), None)
        if found is None:
            known = ", ".join(i.id for i in items) or "(none)"
            raise UsageError(
                f"Unknown {kind} {wanted!r} in journey {journey.id!r}. Known {kind}s: {known}."
            )
        attrs.update(found.attributes)
    return attrs


def attribute_filter(customers: ir.Table, attributes: dict[str, Any]) -> ir.BooleanValue:
    cond: ir.BooleanValue = ibis.literal(True)
    for key, expected in attributes.items():
        value = customers.attributes.get(key)
        if isinstance(expected, list):
            cond = cond & value.isin([_text(v) for v in expected]).fill_null(False)
        else:
            cond = cond & (value == _text(expected)).fill_null(False)
    return cond


def customers_matching(customers: ir.Table, attributes: dict[str, Any]) -> ir.Table:
    """Distinct ``customer_id`` of the customers whose attributes match."""
    return (
        customers.filter(attribute_filter(customers, attributes)).select("customer_id").distinct()
    )
