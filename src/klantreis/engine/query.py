"""What every analysis shares: the common options (``Query``) and their preparation.

``prepare(source, query)`` resolves the journey, the level, the segment/persona filter and the
period, and returns the events as nodes of the level (see :func:`klantreis.engine.linking.at_level`)
restricted to the customers in scope. How the period applies is each analysis' own business
(``Prepared.period``); ``Prepared.in_period`` is the common "events in the period" choice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from ..model import Journey
from .filters import Period, customers_matching, parse_period, resolve_attributes
from .lazy import ibis, ir
from .linking import LEVELS, at_level, check_level
from .results import Scope, jsonable
from .sequence import SequenceIndex, index_for
from .source import Source
from .units import by_account, check_unit

__all__ = ["Prepared", "Query", "prepare"]

_SCOPE_MEMO: dict[tuple[Any, ...], Any] = {}  # see Prepared.scope_codes


_SCOPE_LOCK = threading.Lock()  # the web app prepares queries on several threads


def _remember(key: tuple[Any, ...], value: Any) -> None:
    with _SCOPE_LOCK:
        _SCOPE_MEMO.pop(key, None)
        while len(_SCOPE_MEMO) >= 32:
            _SCOPE_MEMO.pop(next(iter(_SCOPE_MEMO)))
        _SCOPE_MEMO[key] = value


@dataclass(frozen=True, kw_only=True)
class Query:
    """Options every analysis takes (keyword-only).

    journey: a journey id (or Journey); None = the workspace's default journey, if any.
    level: ``event`` | ``touchpoint`` | ``stage`` | ``channel``; None = the analysis' default.
    segment / persona: ids of a segment or persona of the journey (customer attribute filters).
    since / until: the period (ISO 8601 date or date-time; a date ``until`` is inclusive).
    channel: only events in this channel (or channels, comma-separated), as the events name it.
    unit: ``customer`` (default) or ``account`` (B2B: account_id is the unit; see units.py).
    """

    analysis: ClassVar[str] = ""
    default_level: ClassVar[str] = "touchpoint"

    journey: str | Journey | None = None
    level: str | None = None
    segment: str | None = None
    persona: str | None = None
    since: str | dt.date | dt.datetime | None = None
    until: str | dt.date | dt.datetime | None = None
    channel: str | None = None
    unit: str = "customer"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.id if isinstance(value, Journey) else jsonable(value)
        return out

    def run(self, source: Source) -> Any:  # each analysis overrides
        raise NotImplementedError


@dataclass
class Prepared:
    source: Source
    journey: Journey | None
    level: str
    period: Period
    attributes: dict[str, Any]
    in_scope: ir.Table | None  # customer_id of customers in scope (None = everyone)
    query: Query
    _index: Any = None
    # built on first use: an analysis the index answers never needs them
    _base_events: ir.Table | None = field(default=None, init=False, repr=False)
    _events: ir.Table | None = field(default=None, init=False, repr=False)

    @property
    def base_events(self) -> ir.Table:
        """The events ``events`` is made from: the channel filter and the scope applied."""
        if self._base_events is None:
            events = self.source.events
            if self.query.channel:
                wanted = [c.strip() for c in self.query.channel.split(",") if c.strip()]
                events = events.filter(events.channel.isin(wanted))
            if self.in_scope is not None:
                events = events.semi_join(self.in_scope, "customer_id")
            self._base_events = events
        return self._base_events

    @property
    def events(self) -> ir.Table:
        """Nodes of the level, customers in scope, ALL times (see ``linking.at_level``)."""
        if self._events is None:
            self._events = at_level(self.base_events, self.journey, self.level)
        return self._events

    @property
    def index(self) -> SequenceIndex | None:
        """The workspace's sequence index when it applies to this query (built on first use),
        else None; see :mod:`klantreis.engine.sequence`."""
        if self._index is None:
            usable = self.query.unit == "customer"
            self._index = (index_for(self.source) if usable else None) or False
        return self._index or None

    def scope_codes(self, dictionary: Path | None = None) -> Any:
        """The codes of the customers in scope in an index's customer dictionary (a Parquet file
        of ``customer_id, code``; default: the sequence index's), as a sorted int64 array.

        The customers in scope are computed once per version of the customers files and filter
        in this process (a derived filter result, like the index itself: a new ingest of
        customers is a new version), then joined with the dictionary in DuckDB."""
        if dictionary is None:
            index = self.index
            assert index is not None
            dictionary = index.customers_file
        assert self.in_scope is not None
        key = (*self._scope_key(), str(dictionary))
        codes = _SCOPE_MEMO.get(key)
        if codes is None:
            con = self.source.con
            ids = self._scope_key_ids()
            coded = con.read_parquet(str(dictionary))
            table = coded.semi_join(ibis.memtable(ids), "customer_id").select("code")
            codes = np.sort(con.to_pyarrow(table).column("code").to_numpy().astype(np.int64))
            _remember(key, codes)
        return codes

    def _scope_key(self) -> tuple[Any, ...]:
        files = (self.source.files or {}).get("customers")
        if files is None:  # not a workspace read by this process: no memo
            return (id(self),)
        stats = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
        return (stats, json.dumps(self.attributes, sort_keys=True, default=str))

    def _scope_key_ids(self) -> pa.Table:
        key = self._scope_key()
        ids = _SCOPE_MEMO.get(key)
        if ids is None:
            assert self.in_scope is not None
            ids = self.source.con.to_pyarrow(self.in_scope.select("customer_id"))
            _remember(key, ids)
        return ids

    def nodes_among(self, names: Sequence[str]) -> ir.Table:
        """Like ``events``, only the nodes named ``names``; ``seq`` numbers them among
        themselves (same order between them as in ``events``, a smaller window to sort)."""
        return at_level(self.base_events, self.journey, self.level, only_nodes=names)

    @property
    def in_period(self) -> ir.Table:
        """The nodes whose timestamp lies in the period."""
        cond = self.period.condition(self.events.timestamp)
        return self.events if cond is None else self.events.filter(cond)

    def keep_customers(self, table: ir.Table) -> ir.Table:
        """``table`` restricted to the customers in scope (by ``customer_id``)."""
        if self.in_scope is None:
            return table
        return table.semi_join(self.in_scope, "customer_id")

    def scope(self) -> Scope:
        """Counts the customers in and out of scope (customers with at least one event)."""
        index = self.index  # it holds every customer with an event, coded: no scan needed
        if index is not None:
            total = index.n_customers
            kept = total if self.in_scope is None else len(self.scope_codes())
        elif self.in_scope is None:
            everyone = self.source.events.select("customer_id").distinct()
            total = int(self.source.execute(everyone.count()))
            kept = total
        else:
            everyone = self.source.events.select("customer_id").distinct()
            flagged = everyone.left_join(
                self.in_scope.mutate(in_scope=ibis.literal(1)), "customer_id"
            )
            row = self.source.execute(
                flagged.aggregate(total=flagged.count(), kept=flagged.in_scope.count())
            )
            total, kept = int(row["total"].iloc[0]), int(row["kept"].iloc[0])
        j = self.journey.id if self.journey is not None else None
        return Scope(
            level=self.level,
            journey=j,
            segment=self.query.segment,
            persona=self.query.persona,
            attributes=self.attributes,
            since=self.period.since.isoformat() if self.period.since else None,
            until=self.period.until.isoformat() if self.period.until else None,
            customers_total=total,
            customers_in_scope=kept,
            unit=self.query.unit,
            channel=self.query.channel,
        )


def prepare(source: Source, query: Query) -> Prepared:
    journey = source.journey(query.journey)
    level = query.level or (query.default_level if journey is not None else "event")
    if level not in LEVELS:
        check_level(level, journey)
    if journey is None and query.default_level in ("touchpoint", "stage") and query.level is None:
        level = "event"
    check_level(level, journey)
    period = parse_period(query.since, query.until)
    attributes = resolve_attributes(journey, segment=query.segment, persona=query.persona)
    if journey is not None and journey.audience:
        attributes = {**journey.audience, **attributes}
    in_scope = customers_matching(source.customers, attributes) if attributes else None
    if query.unit != "customer":
        check_unit(query.unit)
        source, in_scope = by_account(source, in_scope)
    return Prepared(source, journey, level, period, attributes, in_scope, query)
