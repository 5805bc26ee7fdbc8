"""Pages: web sessions — landing pages, bounce rate against a threshold, time on page, source.

A page view is an event with a ``session_id`` and a page (``properties[page_property]``, else
``properties["url"]``). Per session, ordered by ``(timestamp, event_id)``: the landing page is
the first page view; the session *bounces* when it has exactly one page view; time on page is the
time to the session's next page view (the last view of a session has no time); the acquisition
source is the landing view's ``properties[source_property]``, else its ``channel``.

``by="page"`` gives one row per landing page (sessions, bounces, bounce_rate, views and median
time on that page); ``by="source"`` one row per acquisition source. ``above_threshold`` flags a
bounce rate above ``bounce_threshold`` (default 0.4). Only sessions that start in the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import UsageError
from .lazy import ibis
from .query import Query, prepare
from .results import Result
from .source import Source

__all__ = ["PagesQuery", "PagesResult"]

NONE = "(none)"


class PagesResult(Result):
    """Rows: one per landing page (or acquisition source), most sessions first."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "page",
        "source",
        "sessions",
        "bounce_rate",
        "above_threshold",
        "median_seconds_on_page",
        "pages_per_session",
    )


@dataclass(frozen=True, kw_only=True)
class PagesQuery(Query):
    analysis: ClassVar[str] = "pages"
    default_level: ClassVar[str] = "event"

    by: str = "page"
    bounce_threshold: float = 0.4
    page_property: str = "page"
    source_property: str = "source"

    def run(self, source: Source) -> PagesResult:
        if self.by not in ("page", "source"):
            raise UsageError(f"Unknown by {self.by!r}.", hint="use page or source.")
        p = prepare(source, self)
        ev = p.keep_customers(p.source.events)
        page = ev.properties.get(self.page_property).fill_null(ev.properties.get("url"))
        views = ev.filter(ev.session_id.notnull()).mutate(page=page)
        views = views.filter(views.page.notnull())
        order = ibis.window(group_by=views.session_id, order_by=[views.timestamp, views.event_id])
        ts = views.timestamp.epoch_seconds().cast("int64")
        views = views.mutate(
            t_s=ts,
            pos=ibis.row_number().over(order),
            on_page=ts.lead().over(order) - ts,
            src=views.properties.get(self.source_property).fill_null(views.channel),
        )
        sessions = views.group_by("session_id").aggregate(
            views=views.count(),
            landing=views.page.argmin(views.pos),
            source=views.src.argmin(views.pos),
            start=views.timestamp.min(),
        )
        cond = p.period.condition(sessions.start)
        if cond is not None:
            sessions = sessions.filter(cond)
        sessions = sessions.mutate(
            bounced=(sessions.views == 1).cast("int64"), source=sessions.source.fill_null(NONE)
        )
        key = "landing" if self.by == "page" else "source"
        agg = sessions.group_by(key).aggregate(
            sessions=sessions.count(),
            bounces=sessions.bounced.sum(),
            views=sessions.views.sum(),
        )
        if self.by == "page":
            kept = views.semi_join(sessions, "session_id")
            times = kept.group_by("page").aggregate(median_seconds_on_page=kept.on_page.median())
            agg = agg.left_join(times, agg.landing == times.page).drop("page")
            agg = agg.rename(page="landing")
            name = "page"
        else:
            name = "source"
        expr = agg.order_by([ibis.desc("sessions"), name])
        frame = source.execute(expr)
        frame["sessions"] = frame["sessions"].astype("int64")
        frame["bounces"] = frame["bounces"].astype("int64")
        frame["views"] = frame["views"].astype("int64")
        frame["bounce_rate"] = frame["bounces"] / frame["sessions"]
        frame["above_threshold"] = frame["bounce_rate"] > self.bounce_threshold
        frame["pages_per_session"] = frame["views"] / frame["sessions"]
        frame["bounce_threshold"] = self.bounce_threshold
        total = int(frame["sessions"].sum())
        bounces = int(frame["bounces"].sum())
        return PagesResult(
            analysis=self.analysis,
            frame=frame.reset_index(drop=True),
            query=self,
            scope=p.scope(),
            denominator="sessions landing on the page (or from the source) in the period",
            meta={
                "sessions": total,
                "bounces": bounces,
                "bounce_rate": bounces / total if total else None,
                "bounce_threshold": self.bounce_threshold,
            },
            expr=expr,
        )
