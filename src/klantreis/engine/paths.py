"""Paths: the most frequent complete paths (or path prefixes) of customers, with their share.

A customer's path is the sequence of their nodes at the level in the period, ordered by
``(timestamp, event_id)``; ``repeats="collapse"`` (the default) merges a node repeating the
previous one. With ``max_steps`` paths are cut after that many nodes (prefixes). The top ``top_k``
paths are listed; all others are summed in one ``other`` row, so shares add up to exactly 1 over
the customers with a path in the period (the denominator).

Engine note: DuckDB builds each path with an ordered ``string_agg``; PySpark has no ordered
aggregate in Ibis, so there the path is collected as (position, node) structs and sorted — the
only per-backend branch in the engine (see ADR 0006). On a workspace's sequence index
(:mod:`klantreis.engine.sequence`) no string is built per customer: each customer's path gets a
128-bit hash, customers are counted per hash, and only the paths that can make the top are
decoded (same frame, scope and meta as the SQL; ``tests/test_sequence_paths.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import UsageError
from .connect import backend_kind
from .lazy import ibis, ir
from .linking import collapse_repeats
from .query import Prepared, Query, prepare
from .results import Result
from .sequence import micros, select
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
        fast = self._top_indexed(p)
        if fast is not None:
            return self._result(p, *fast, None)
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
        counts = [
            (str(k), int(n)) for k, n in zip(frame["path_key"], frame["customers"], strict=True)
        ]
        return self._result(p, counts, total, distinct, top)

    def _result(
        self,
        p: Prepared,
        top: list[tuple[str, int]],
        total: int,
        distinct: int,
        expr: ir.Table | None,
    ) -> PathsResult:
        """The result of the top paths ``(path_key, customers)`` in order, the customers with a
        path (``total``) and the number of distinct paths."""
        rows: list[dict[str, Any]] = [
            {
                "path": k.split(SEPARATOR),
                "customers": n,
                "share": (n / total) if total else None,
                "steps": len(k.split(SEPARATOR)),
                "is_other": False,
            }
            for k, n in top
        ]
        rest = total - sum(n for _, n in top)
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
            expr=expr,
        )

    def _top_indexed(self, p: Prepared) -> tuple[list[tuple[str, int]], int, int] | None:
        """The top paths, the customers with a path and the distinct paths, from the sequence
        index (None: the index does not apply; the SQL above answers).

        Each customer's path gets two independent 64-bit hashes (a sum of random values per
        (position, node), so equal paths hash equal and distinct paths collide with probability
        2**-64 per hash); customers are grouped by hash and only the paths that can be in the
        top are decoded to their ``path_key``.
        """
        # with keep, the SQL numbers ``seq`` over ALL times before the period filter, so
        # ``max_steps`` keeps the nodes among the customer's first max_steps ever that also
        # lie in the period; with collapse it is renumbered over the period's nodes
        all_times = self.repeats == "keep" and self.max_steps is not None
        sel = select(p, in_period=not all_times)
        if sel is None or not _orders_like_keys(sel.names):
            return None
        rows = np.flatnonzero(sel.mask())
        cust = np.asarray(sel.index.cust[rows])
        node = np.asarray(sel.node[rows])
        ts = np.asarray(sel.index.ts[rows]) if all_times else None  # (keep: rows stay aligned)
        del rows
        if self.repeats == "collapse" and len(cust):
            again = np.empty(len(cust), dtype=bool)
            again[0] = False
            np.equal(node[1:], node[:-1], out=again[1:])
            again[1:] &= cust[1:] == cust[:-1]
            cust, node = cust[~again], node[~again]
        if self.max_steps is not None:
            keep = _positions(_run_starts(cust), len(cust)) < self.max_steps
            if ts is not None:
                if p.period.since is not None:
                    keep &= ts >= micros(p.period.since)
                if p.period.until is not None:
                    keep &= ts < micros(p.period.until)
            cust, node = cust[keep], node[keep]
        if len(cust) == 0:
            return [], 0, 0
        starts = _run_starts(cust)
        lengths = np.diff(starts, append=len(cust))
        h1, h2 = _path_hashes(node, starts, lengths, len(sel.names))
        code, _ = pd.factorize(h1)  # a hash table over the customers: O(customers)
        distinct = int(code.max()) + 1
        second = np.empty(distinct, dtype=np.uint64)
        second[code] = h2
        if not np.array_equal(second[code], h2):  # two paths share h1 (about 2**-64 per pair)
            _, code = np.unique(np.stack([h1, h2], axis=1), axis=0, return_inverse=True)
            code = code.ravel()
            distinct = int(code.max()) + 1
        counts = np.bincount(code, minlength=distinct)
        first = np.empty(distinct, dtype=np.int64)
        first[code] = starts  # a customer having each path
        size = np.empty(distinct, dtype=np.int64)
        size[code] = lengths
        chosen = _top_paths(counts, first, size, node, _ranks(sel.names), self.top_k)
        names = np.array(sel.names, dtype=object)
        top = [
            (SEPARATOR.join(names[node[first[c] : first[c] + size[c]]]), int(counts[c]))
            for c in chosen
        ]
        top.sort(key=lambda kn: (-kn[1], kn[0]))
        return top, len(starts), distinct


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


# -- the index path ---------------------------------------------------------------------------

_TABLE_MAX = 1 << 18  # random values per (position, node) up to this many; else products
_SEED = 0x6B6C616E74726569  # fixed: the same hashes (and so the same answers) every run


def _orders_like_keys(names: list[str]) -> bool:
    """True when the order of paths as sequences of names (by name, a shorter prefix first)
    is the string order of their path_keys: no name holds a character up to SEPARATOR."""
    return all(not n or min(n) > SEPARATOR for n in names)


def _ranks(names: list[str]) -> np.ndarray:
    """Each node's rank in string (code point = UTF-8 byte) order of the names."""
    ranks = np.empty(len(names), dtype=np.int64)
    ranks[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    return ranks


def _run_starts(cust: np.ndarray) -> np.ndarray:
    """The row where each customer's run starts (``cust`` non-decreasing)."""
    starts = np.flatnonzero(cust[1:] != cust[:-1])
    starts += 1
    return np.concatenate([np.zeros(min(len(cust), 1), dtype=starts.dtype), starts])


def _positions(
    starts: np.ndarray, n: int, *, step: int = 1, dtype: type[np.integer[Any]] = np.int64
) -> np.ndarray:
    """Each of the ``n`` rows' position in its customer's run from 0 (as the SQL ``seq``),
    times ``step``: a running sum of ``step`` that drops back at each run's start."""
    out: np.ndarray = np.full(n, step, dtype=dtype)
    if n == 0:
        return out
    out[starts[1:]] = (starts[:-1] - starts[1:] + 1) * step
    out[0] = 0
    np.cumsum(out, out=out)
    return out


def _path_hashes(
    node: np.ndarray, starts: np.ndarray, lengths: np.ndarray, n_names: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each run's sequence of nodes: the sum (mod 2**64) over
    its positions i of a random value of (i, node_i). Equal paths hash equal; two different
    paths differ in at least one (position, node) term, so they collide with probability about
    2**-64 per hash."""
    rng = np.random.default_rng(_SEED)
    width = int(lengths.max())
    ends = starts + lengths - 1
    out: list[np.ndarray] = []
    term = np.empty(len(node), dtype=np.uint64)
    if width * n_names <= _TABLE_MAX:  # one gather from a small table per hash
        key = _positions(starts, len(node), step=n_names, dtype=np.intp)
        key += node
        for _ in range(2):
            table = rng.integers(0, 2**64, size=width * n_names, dtype=np.uint64, endpoint=False)
            np.take(table, key, out=term, mode="clip")  # clip: unbuffered
            out.append(_run_sums(term, ends))
    else:  # long paths: a random odd factor per node times a random factor per position
        pos = _positions(starts, len(node), dtype=np.intp)
        for _ in range(2):
            by_node = rng.integers(0, 2**64, size=n_names, dtype=np.uint64, endpoint=False) | 1
            by_pos = rng.integers(0, 2**64, size=width, dtype=np.uint64, endpoint=False)
            np.take(by_node, node, out=term, mode="clip")
            term *= by_pos[pos]
            out.append(_run_sums(term, ends))
    return out[0], out[1]


def _run_sums(term: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The sum (mod 2**64) of ``term`` over each run ending at ``ends`` (runs contiguous from
    row 0); overwrites ``term`` with its running sum (faster than ``np.add.reduceat``)."""
    np.cumsum(term, out=term)
    total = term[ends]
    total[1:] -= term[ends[:-1]]
    return total


def _kth_smallest(values: np.ndarray, k: int) -> int:
    """The k-th smallest (k >= 1) of small non-negative integers, by counting (np.partition
    is slow on the many equal values here)."""
    seen = np.cumsum(np.bincount(values))
    return int(np.searchsorted(seen, k))


def _top_paths(
    counts: np.ndarray,
    first: np.ndarray,
    size: np.ndarray,
    node: np.ndarray,
    ranks: np.ndarray,
    top_k: int,
) -> np.ndarray:
    """The ``top_k`` paths by customers desc, then path_key: all paths with more customers than
    the k-th, and of the paths tied with it the smallest by path_key, found position by
    position on the node ranks (a path ending sorts first) without building strings."""
    if len(counts) <= top_k:
        return np.arange(len(counts))
    most = int(counts.max())
    kth = most - _kth_smallest(most - counts, top_k)  # the k-th largest count
    sure = np.flatnonzero(counts > kth)
    left = top_k - len(sure)
    tied = np.flatnonzero(counts == kth)
    chosen = [sure]
    step = 0
    while left > 0:
        if len(tied) <= left:
            chosen.append(tied)
            break
        at = first[tied] + step
        ended = size[tied] <= step
        key = np.where(ended, -1, ranks[node[np.where(ended, 0, at)]])
        bound = _kth_smallest(key + 1, left) - 1
        if bound < 0:  # the path ending here comes first (only one can: paths are distinct)
            chosen.append(tied[key < 0][:left])
            break
        below = key < bound
        chosen.append(tied[below])
        left -= int(below.sum())
        tied = tied[key == bound]
        step += 1
    return np.concatenate(chosen)
