"""The front door: ``klantreis.analyze(data, "funnel", steps=[...], level="event")``.

``data`` is a :class:`~klantreis.Workspace` (read with ``engine``: ``duckdb``, ``spark``,
``spark:MASTER`` or an Ibis URL) or a :class:`~klantreis.engine.Source`. The analysis is named
(see ``ANALYSES``) or given as a ready ``*Query`` object; options are the query's keyword-only
fields, documented in docs/analyses.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import UsageError
from .query import Query
from .results import Result
from .source import open_source

__all__ = ["ANALYSES", "analyze", "make_query"]

#: name → Query class; filled in by klantreis.engine (one module per analysis).
ANALYSES: dict[str, type[Query]] = {}


def make_query(analysis: str, **options: Any) -> Query:
    """The ``*Query`` of a named analysis with the given options (unknown options are refused)."""
    cls = ANALYSES.get(analysis)
    if cls is None:
        raise UsageError(
            f"Unknown analysis {analysis!r}.", hint=f"use one of: {', '.join(sorted(ANALYSES))}."
        )
    allowed = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise UsageError(
            f"Unknown option {unknown[0]!r} for analysis {analysis!r}.",
            hint=f"options: {', '.join(sorted(allowed))}.",
        )
    return cls(**options)


def analyze(data: Any, analysis: str | Query, *, engine: str = "duckdb", **options: Any) -> Result:
    """Run one analysis and return its result (a small DataFrame plus its scope and metadata)."""
    query = analysis if isinstance(analysis, Query) else make_query(analysis, **options)
    if isinstance(analysis, Query) and options:
        query = dataclasses.replace(analysis, **options)
    source = open_source(data, engine=engine)
    result: Result = query.run(source)
    return result
