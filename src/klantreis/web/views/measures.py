"""The measured numbers the web shows, from the analytics engine, cached per data version.

Freshness: results are cached under a key made of the journey version and the *data
version*: the list of committed Parquet files of every canonical table with their sizes and
modification times (``Workspace.data_files``). An ingest commits new files, so the key
changes and the next page view computes again; nothing stale is ever served. Survey answers
collected by the app are flushed into the responses table before the key is computed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...errors import KlantreisError
from ...model import Journey
from ...store.surveys import flush_answers

if TYPE_CHECKING:
    from ...render.measured import MeasuredJourney
    from ..app import WebApp

__all__ = ["cached", "data_version", "measured_journey"]

_TABLES = ("events", "responses", "customers", "accounts")
_lock = threading.Lock()
_MAX_ENTRIES = 256


def data_version(app: WebApp) -> tuple[Any, ...]:
    """Changes whenever an ingest commits files (the cache key of every analysis)."""
    # On failure the answers stay buffered and the next page view tries again.
    with contextlib.suppress(KlantreisError):
        flush_answers(app.db, app.ws)
    files = getattr(app.ws, "data_files", None)
    if files is None:
        return ()
    out: list[Any] = []
    for table in _TABLES:
        try:
            paths = files(table)
        except KlantreisError:
            continue
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((table, str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def cached(app: WebApp, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """``compute()`` once per key; the key must include :func:`data_version`.

    Requests for a key that is being computed (by the warmer or another request) wait for
    that computation instead of starting a second one.
    """
    with _lock:
        if key in app.cache:
            return app.cache[key]
        gate = app.cache.setdefault(("inflight", key), threading.Lock())
    with gate:
        with _lock:
            if key in app.cache:
                return app.cache[key]
        value = compute()
        with _lock:
            results = [k for k in app.cache if k and k[0] == "result"]
            for k in results[: len(results) - _MAX_ENTRIES] if len(results) > _MAX_ENTRIES else []:
                del app.cache[k]
            app.cache[key] = value
            app.cache.pop(("inflight", key), None)
    return value


def measured_journey(app: WebApp, journey: Journey) -> tuple[MeasuredJourney | None, str | None]:
    """The numbers on the map (scores per touchpoint) from the engine; None and a note when absent."""
    from .dashboard import engine_measures

    try:
        measured = engine_measures(app, journey)
    except KlantreisError as exc:
        return None, exc.message
    if measured is None:
        return None, "No measured data yet: the map shows the designed journey."
    return measured, None
