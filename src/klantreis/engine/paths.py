"""Paths: the most frequent complete paths (or path prefixes) of customers, with their share.

A customer's path is the sequence of their nodes at the level in the period, ordered by
``(timestamp, event_id)``; ``repeats="collapse"`` (the default) merges a node repeating the
previous one. With ``max_steps`` paths are cut after that many nodes (prefixes). The top ``top_k``
paths are listed; all others are summed in one ``other`` row, so shares add up to exactly 1 over
the customers with a path in the period (the denominator).

Engine note: DuckDB builds each path with an ordered ``string_agg``; PySpark has no ordered
aggregate in Ibis, so there the path is collected as (position, node) structs and sorted — the
only per-backend branch in the engine (see ADR 0006).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import pandas as pd

from ..errors import UsageError
from .connect import backend_kind
from .linking import collapse_repeats
from .query import Query, prepare
from .results import Result
from .source import Source

__all__ = ["OTHER", "PathsQuery", "PathsResult"]

SEPARATOR = "\x1f"
OTHER = "(other)"


class PathsResult(Result):
    """Rows: ``top_k`` paths, most frequent first, then one ``other`` row (``path == []``)."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "path",
        "customers",
        "share",
    )


@dataclass(frozen=True, kw_only=True)
class PathsQuery(Query):
    analysis: ClassVar[str] = "paths"

    top_k: int = 20
    max_steps: int | None = None
    repeats: str = "collapse"

    def run(self, source: Source) -> PathsResult:
        if self.repeats not in ("keep", "collapse"):
            raise UsageError(f"Unknown repeats {self.repeats!r}.", hint="use keep or collapse.")
        if self.top_k < 1:
            raise UsageError(f"top_k must be at least 1, got {self.top_k}.")
        p = prepare(source, self)
        nodes = p.in_period
        if self.repeats == "collapse":
            nodes = collapse_repeats(nodes)
        if self.max_steps is not None:
            nodes = nodes.filter(nodes.seq < self.max_steps)  # seq counts from 0
        per_customer = _path_keys(nodes, backend_kind(source.con))
        counted = per_customer.group_by("path_key").aggregate(customers=per_customer.count())
        everything = ibis.window()
        top = (
            counted.mutate(
                total=counted.customers.sum().over(everything),
                distinct_paths=counted.count().over(everything),
            )
            .order_by([ibis.desc("customers"), "path_key"])
            .limit(self.top_k)
        )
        frame = source.execute(top)  # one pass: the top paths with the totals alongside
        total = int(frame["total"].iloc[0]) if len(frame) else 0
        distinct = int(frame["distinct_paths"].iloc[0]) if len(frame) else 0
        rows: list[dict[str, Any]] = [
            {
                "path": str(k).split(SEPARATOR),
                "customers": int(n),
                "share": (int(n) / total) if total else None,
                "steps": len(str(k).split(SEPARATOR)),
                "is_other": False,
            }
            for k, n in zip(frame["path_key"], frame["customers"], strict=True)
        ]
        rest = total - sum(int(r["customers"]) for r in rows)
        rows.append(
            {
                "path": [],
                "customers": rest,
                "share": (rest / total) if total else None,
                "steps": None,
                "is_other": True,
            }
        )
        out = pd.DataFrame(rows, columns=["path", "customers", "share", "steps", "is_other"])
        out["steps"] = out["steps"].astype("Int64")
        return PathsResult(
            analysis=self.analysis,
            frame=out,
            query=self,
            scope=p.scope(),
            denominator=f"the {total:,} customers with a path in the period",
            meta={
                "customers_with_path": total,
                "distinct_paths": distinct,
            },
            expr=top,
        )


def _path_keys(nodes: ir.Table, backend: str) -> ir.Table:
    """One row per customer: ``path_key`` = the nodes in order, joined by SEPARATOR."""
    if backend == "pyspark":
        items = ibis.struct({"pos": nodes.seq, "node": nodes.node})
        lists = nodes.group_by("customer_id").aggregate(items=items.collect())
        return lists.select(
            "customer_id", path_key=lists["items"].sort().map(lambda s: s.node).join(SEPARATOR)
        )
    return nodes.group_by("customer_id").aggregate(
        # (timestamp, event_id) is the order ``seq`` numbers; ordering by it directly lets the
        # engine drop the row_number() window that makes ``seq`` when nothing else needs it
        path_key=nodes.node.group_concat(SEPARATOR, order_by=[nodes.timestamp, nodes.event_id])
    )
