"""Coverage: how much of the measured data the journey's match rules link to touchpoints.

``linked_share`` = linked events / all events in scope and period; ``customers_linked_share`` =
customers with at least one linked event / customers with an event; ``unlinked`` lists the most
frequent unlinked event names (candidates for new touchpoints or match rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import UsageError
from .lazy import ibis
from .linking import link
from .query import Query, prepare
from .results import Result, jsonable
from .source import Source

__all__ = ["CoverageQuery", "CoverageResult"]


class CoverageResult(Result):
    """Rows: the most frequent unlinked events (``event``, ``count``, ``customers``, ``share``).

    The summary (``linked_share`` …) is in ``meta`` and is the JSON object of ``records()``.
    """

    @property
    def linked_share(self) -> float | None:
        value = self.meta.get("linked_share")
        return None if value is None else float(value)

    def records(self) -> list[dict[str, Any]]:
        summary = dict(jsonable(self.meta))
        summary["unlinked"] = [jsonable(r) for r in self.frame.to_dict(orient="records")]
        return [summary]


@dataclass(frozen=True, kw_only=True)
class CoverageQuery(Query):
    analysis: ClassVar[str] = "coverage"
    default_level: ClassVar[str] = "event"

    top_k: int = 20

    def run(self, source: Source) -> CoverageResult:
        p = prepare(source, self)
        if p.journey is None:
            raise UsageError(
                "Coverage needs a journey (it measures how many events its touchpoints link).",
                hint="pass --journey ID or add a journey to the workspace.",
            )
        events = p.source.events
        events = p.keep_customers(events)
        cond = p.period.condition(events.timestamp)
        if cond is not None:
            events = events.filter(cond)
        linked = link(events, p.journey)
        is_linked = linked.touchpoint.notnull()
        summary_expr = linked.aggregate(
            events=linked.count(),
            linked_events=is_linked.sum(),
            customers=linked.customer_id.nunique(),
            linked_customers=linked.customer_id.nunique(where=is_linked),
        )
        summary = source.execute(summary_expr).iloc[0]
        unlinked = linked.filter(~is_linked)
        top = (
            unlinked.group_by("event")
            .aggregate(count=unlinked.count(), customers=unlinked.customer_id.nunique())
            .order_by([ibis.desc("count"), "event"])
            .limit(self.top_k)
        )
        frame = source.execute(top)
        n_events = int(summary["events"])
        n_linked = int(summary["linked_events"] or 0)
        n_customers = int(summary["customers"])
        n_linked_customers = int(summary["linked_customers"])
        frame["count"] = frame["count"].astype("int64")
        frame["customers"] = frame["customers"].astype("int64")
        frame["share"] = frame["count"] / n_events if n_events else None
        meta = {
            "events": n_events,
            "linked_events": n_linked,
            "linked_share": n_linked / n_events if n_events else None,
            "customers": n_customers,
            "linked_customers": n_linked_customers,
            "customers_linked_share": n_linked_customers / n_customers if n_customers else None,
            "unlinked_events": n_events - n_linked,
        }
        return CoverageResult(
            analysis=self.analysis,
            frame=frame.reset_index(drop=True),
            query=self,
            scope=p.scope(),
            denominator="all events in scope and period",
            meta=meta,
            expr=top,
        )
