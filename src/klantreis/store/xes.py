"""XES (IEEE 1849-2016), the process-mining event log standard, read with a streaming parser.

A trace is one customer: its ``concept:name`` becomes ``customer_id``. Each ``<event>``
becomes an event: ``concept:name`` is the event name, ``time:timestamp`` the timestamp (with
its offset), ``case:concept:name`` on an event (flat exports) overrides the trace's id. Every
other attribute of the event is kept as a property under its XES key (``org:resource``,
``lifecycle:transition``, ...), every other trace attribute as ``case:<key>``. Values of
nested attributes (lists, containers) are not read. ``<global>`` defaults are not applied.

The file is parsed with expat in chunks of 1 MiB, so memory does not grow with the log.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import IngestError
from .readers import RawBatch, Rejected, open_binary, rows_to_table

__all__ = ["xes_batches"]

_ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id"})
_CHUNK = 1 << 20


def xes_batches(path: Path, *, batch_rows: int) -> Iterator[RawBatch]:
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    stack: list[str] = []
    trace_attrs: dict[str, str] = {}
    event: dict[str, str] | None = None
    event_line = 0
    rows: list[dict[str, Any]] = []
    lines: list[int] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal event, event_line, trace_attrs
        local = tag
        parent = stack[-1] if stack else None
        stack.append(local)
        if local == "trace" and parent == "log":
            trace_attrs = {}
        elif local == "event" and parent == "trace":
            event = {}
            event_line = parser.CurrentLineNumber
        elif local in _ATTRIBUTE_TAGS and "key" in attrs:
            value = attrs.get("value")
            if value is None:
                return
            if parent == "event" and event is not None and len(stack) >= 3 and stack[-3] == "trace":
                event[attrs["key"]] = value
            elif parent == "trace" and len(stack) >= 3 and stack[-3] == "log":
                trace_attrs[attrs["key"]] = value

    def end(tag: str) -> None:
        nonlocal event
        local = stack.pop() if stack else tag
        if local == "event" and event is not None and stack and stack[-1] == "trace":
            rows.append(_row(trace_attrs, event))
            lines.append(event_line)
            event = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    rejected: list[Rejected] = []
    seen_event = False
    with open_binary(path) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            try:
                parser.Parse(chunk, not chunk)
            except xml.parsers.expat.ExpatError as exc:
                if not seen_event and not rows:
                    raise IngestError(
                        f"{str(path)!r} is not an XES (XML) file: {exc}",
                        hint="XES files start with <log> and hold <trace> and <event> elements.",
                    ) from None
                rejected.append(
                    Rejected(
                        exc.lineno,
                        None,
                        None,
                        "bad_xml",
                        f"the XES file is not well-formed XML from here on: {exc}",
                    )
                )
                break
            seen_event = seen_event or bool(rows)
            if (len(rows) >= batch_rows or not chunk) and (rows or rejected):
                yield RawBatch(
                    rows_to_table(rows, lines, "properties"), str(path), rejected, flexible=True
                )
                rows, lines, rejected = [], [], []
            if not chunk:
                break
    if rows or rejected:
        yield RawBatch(rows_to_table(rows, lines, "properties"), str(path), rejected, flexible=True)


def _row(trace: dict[str, str], event: dict[str, str]) -> dict[str, Any]:
    props: dict[str, str] = {}
    for k, v in trace.items():
        if k != "concept:name":
            props[f"case:{k}"] = v
    for k, v in event.items():
        if k not in {"concept:name", "time:timestamp", "case:concept:name"}:
            props[k] = v
    return {
        "customer_id": event.get("case:concept:name") or trace.get("concept:name"),
        "event": event.get("concept:name"),
        "timestamp": event.get("time:timestamp"),
        "properties": props,
    }
