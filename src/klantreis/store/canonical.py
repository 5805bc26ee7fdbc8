"""Raw columns to canonical rows, in one DuckDB query per batch: parse, check, key.

:func:`canonical_query` builds a parameterised SELECT over a registered Arrow batch
(``raw_batch``) that returns the canonical columns of one table (``store/schema.py``) plus
four columns saying why a row is rejected (``_field``, ``_reason``, ``_message``, ``_value``;
all NULL for a good row). Column names from the source are quoted identifiers; values from
the user (date format, touchpoint ids, scales, property names) are named parameters. The
session time zone of the connection is the ingest's ``timezone``: naive timestamps are read
in it, every timestamp is stored in UTC without a zone.

Content key (when the source has no ``event_id`` / ``response_id``): the MD5 of the fields
below joined by U+001F, a missing field written as the empty string, the timestamp as
``YYYY-MM-DDTHH:MM:SS.ffffff`` (UTC), the value as DuckDB prints a DOUBLE, the properties as
``key=value`` pairs sorted by key and joined by U+001E:

- events: customer_id, timestamp, event, channel, session_id, value, properties
- responses: customer_id, timestamp, touchpoint, event, metric, score, comment, channel
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import UsageError
from .schema import METRICS

__all__ = [
    "DEFAULT_SCALES",
    "IGNORED_COLUMNS",
    "LINE_COLUMN",
    "MAP_COLUMN",
    "REQUIRED_SOURCE",
    "CanonicalQuery",
    "canonical_query",
    "constant_text",
    "extras_map",
    "quote_ident",
]

LINE_COLUMN = "__klantreis_line"
MAP_COLUMN = "__klantreis_map"

#: Default scale (min, max) per metric; ``custom`` has none and needs one in the row.
DEFAULT_SCALES: dict[str, tuple[float, float]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}

#: Columns a source must provide (directly or through the mapping), per table.
REQUIRED_SOURCE: dict[str, tuple[str, ...]] = {
    "events": ("customer_id", "timestamp", "event"),
    "responses": ("timestamp", "metric", "score"),
    "customers": ("customer_id",),
    "accounts": ("account_id",),
}

#: Input columns never kept as properties (the store writes them itself).
IGNORED_COLUMNS = frozenset({"source_file", "source_line", "ingest_id", LINE_COLUMN, MAP_COLUMN})

_FIELDS: dict[str, tuple[str, ...]] = {
    "events": (
        "event_id",
        "customer_id",
        "account_id",
        "contact_id",
        "session_id",
        "timestamp",
        "event",
        "channel",
        "value",
    ),
    "responses": (
        "response_id",
        "customer_id",
        "timestamp",
        "touchpoint",
        "event",
        "metric",
        "score",
        "scale",
        "scale_min",
        "scale_max",
        "comment",
        "channel",
    ),
    "customers": ("customer_id", "account_id"),
    "accounts": ("account_id",),
}

_MAP_COLUMN = {"events": "properties", "customers": "attributes", "accounts": "attributes"}
_EMPTY_MAP = "map_from_entries(CAST([] AS STRUCT(k VARCHAR, v VARCHAR)[]))"
_EPOCH_RE = r"^-?[0-9]{9,19}(\.[0-9]+)?$"


def quote_ident(name: str) -> str:
    """A DuckDB identifier for any column name (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class CanonicalQuery:
    sql: str
    params: dict[str, Any]
    used_columns: list[str]
    ignored_columns: list[str] = field(default_factory=list)
    #: how the map column is made: "none" (responses), "extras" (Arrow: extras_map of
    #: map_extras, attached after the query), "given" (the source's map column, attached
    #: after the query) or "sql" (the query reads MAP_COLUMN = extras_map and merges it)
    map_mode: str = "none"
    map_extras: list[str] = field(default_factory=list)
    map_given: str | None = None


class _Params:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _is_nested(t: pa.DataType) -> bool:
    return bool(pa.types.is_nested(t))


def _as_text(q: str, t: pa.DataType) -> str:
    if _is_text(t):
        return q
    if _is_nested(t):
        return f"CAST(to_json({q}) AS VARCHAR)"
    return f"CAST({q} AS VARCHAR)"


def _epoch(x: str) -> str:
    """A number of seconds, milliseconds, microseconds or nanoseconds since 1970 (by size)."""
    return (
        f"CASE WHEN abs({x}) < 1e11 THEN make_timestamp(CAST({x} * 1e6 AS BIGINT)) "
        f"WHEN abs({x}) < 1e14 THEN make_timestamp(CAST({x} * 1e3 AS BIGINT)) "
        f"WHEN abs({x}) < 1e17 THEN make_timestamp(CAST({x} AS BIGINT)) "
        f"ELSE make_timestamp(CAST({x} / 1e3 AS BIGINT)) END"
    )


def _timestamp(q: str, t: pa.DataType, date_format: str | None, utc: bool, p: _Params) -> str:
    """UTC TIMESTAMP from any input type; naive values are in the session time zone."""
    if pa.types.is_timestamp(t) and t.tz is not None:
        return f"make_timestamp(epoch_us({q}))"  # an instant: no time zone arithmetic needed
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return (
            f"CAST({q} AS TIMESTAMP)" if utc else f"(CAST({q} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
        )
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return _epoch(f"CAST({q} AS DOUBLE)")
    raw = _as_text(q, t)
    fast = ""
    if date_format:
        parsed = f"CAST(try_strptime(TRIM({raw}), {p.add(date_format)}) AS TIMESTAMPTZ)"
    else:
        parsed = f"TRY_CAST({raw} AS TIMESTAMPTZ)"
        if utc:
            # naive text in UTC needs no time zone work: a plain TIMESTAMP cast is ~5x faster.
            # That cast ignores an offset, so text with one (…Z, …+01:00, …-04:00 after the
            # minutes) takes the TIMESTAMPTZ cast below.
            tail = f"{raw}[17:]"
            fast = (
                f"CASE WHEN suffix({raw}, 'Z') OR contains({tail}, '+') OR contains({tail}, '-') "
                f"THEN NULL ELSE TRY_CAST({raw} AS TIMESTAMP) END, "
            )
    return (
        f"coalesce({fast}({parsed} AT TIME ZONE 'UTC'), "
        f"CASE WHEN regexp_full_match(TRIM({raw}), {p.add(_EPOCH_RE)}) "
        f"THEN {_epoch(f'TRY_CAST({raw} AS DOUBLE)')} END)"
    )


def _number(q: str, t: pa.DataType) -> str:
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return f"CAST({q} AS DOUBLE)"
    return f"TRY_CAST(TRIM({_as_text(q, t)}) AS DOUBLE)"


def _map_of(q: str, t: pa.DataType) -> str:
    if pa.types.is_map(t):
        return f"CAST({q} AS MAP(VARCHAR, VARCHAR))"
    if pa.types.is_struct(t):
        return f"TRY_CAST(json(to_json({q})) AS MAP(VARCHAR, VARCHAR))"
    text = _as_text(q, t)
    return (
        f"CASE WHEN {text} IS NULL OR TRIM({text}) = '' THEN {_EMPTY_MAP} "
        f"WHEN json_valid({text}) THEN TRY_CAST(json({text}) AS MAP(VARCHAR, VARCHAR)) END"
    )


def _text_array(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    t = arr.type
    if _is_text(t):
        return arr.cast(pa.string())
    if _is_nested(t):
        return pa.array(
            [
                None if v is None else json.dumps(v, default=str, ensure_ascii=False)
                for v in arr.to_pylist()
            ],
            type=pa.string(),
        )
    return arr.cast(pa.string())


def constant_text(value: str, n: int) -> pa.Array:
    """``n`` times the same string, built from buffers (a DuckDB constant exported to Arrow
    costs as much as a real column)."""
    data = value.encode("utf-8")
    size = len(data)
    if (n + 1) * size < 2**31 - 1:
        offsets = (
            np.arange(0, (n + 1) * size, size, dtype=np.int32)
            if size
            else np.zeros(n + 1, dtype=np.int32)
        )
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))
    offsets64 = np.arange(0, (n + 1) * size, size, dtype=np.int64)
    large = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets64), pa.py_buffer(data * n))
    return large.cast(pa.string())


def extras_map(data: pa.Table, names: Sequence[str]) -> pa.MapArray:
    """Pack columns ``names`` of ``data`` into one MAP(VARCHAR, VARCHAR) per row, skipping nulls.

    Vectorised (no per-row Python): the values are interleaved row by row with a ``take``,
    null entries filtered out and the offsets taken from the running count per row.
    """
    n, k = data.num_rows, len(names)
    if k == 0 or n == 0:
        return pa.MapArray.from_arrays(
            pa.array(np.zeros(n + 1, dtype=np.int32)),
            pa.array([], type=pa.string()),
            pa.array([], type=pa.string()),
        )
    columns = [_text_array(data[name]) for name in names]
    if k == 1:  # one extra column: already in row order
        values = columns[0]
        keys = constant_text(names[0], n)
    else:
        order = (
            np.arange(n, dtype=np.int64)[:, None] + np.arange(k, dtype=np.int64)[None, :] * n
        ).ravel()
        values = pa.concat_arrays(columns).take(pa.array(order))
        keys = pa.array(list(names), type=pa.string()).take(pa.array(np.tile(np.arange(k), n)))
    if values.null_count == 0:
        offsets = np.arange(0, n * k + 1, k, dtype=np.int32)
    else:
        valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        values = values.filter(pa.array(valid))
        keys = keys.filter(pa.array(valid))
        counts = valid.reshape(n, k).sum(axis=1)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.MapArray.from_arrays(pa.array(offsets), keys, values)


def _canonical_key(expr: str) -> str:
    return f"coalesce(CAST({expr} AS VARCHAR), '')"


def _map_text(expr: str) -> str:
    return (
        f"coalesce(array_to_string(list_transform(list_sort(map_entries({expr})), "
        f"lambda e: e.key || '=' || coalesce(e.value, '')), chr(30)), '')"
    )


def canonical_query(
    table: str,
    schema: pa.Schema,
    *,
    columns: Mapping[str, str],
    date_format: str | None = None,
    touchpoints: Sequence[str] | None = None,
    scales: Mapping[str, tuple[float, float]] | None = None,
    source_name: str = "the source",
    timezone: str = "UTC",
    relation: str = "raw_batch",
    carry: Sequence[tuple[str, str]] = (),
) -> CanonicalQuery:
    """The SELECT that turns ``raw_batch`` (``schema``) into canonical rows of ``table``.

    ``columns`` maps canonical names to source columns (the mapping); canonical names present
    in the source need no entry. The parameter ``$ingest_id`` is left for the caller to bind;
    ``source_file`` (a constant) is not in the result: the caller adds it (``constant_text``).
    ``relation`` is what the query reads (a registered batch, or a subquery over a file);
    ``carry`` lists ``(expression, alias)`` pairs of that relation passed through to the result
    unchanged (not for responses; the direct Parquet path carries the map and the raw row).
    """
    if table not in _FIELDS:
        raise KeyError(table)
    names = [n for n in schema.names if n not in (LINE_COLUMN, MAP_COLUMN)]
    utc = timezone == "UTC"
    types = {n: schema.field(n).type for n in names}
    for canonical, source in columns.items():
        if canonical not in (*_FIELDS[table], _MAP_COLUMN.get(table, "")):
            allowed = ", ".join((*_FIELDS[table], _MAP_COLUMN.get(table, "")))
            raise UsageError(
                f"Cannot map onto {canonical!r}: it is not a column of {table}. "
                f"Columns of {table}: {allowed.strip(', ')}."
            )
        if source not in types:
            raise UsageError(
                f"Mapping {canonical}={source}: {source_name} has no column {source!r}. "
                f"Its columns are: {', '.join(names)}.",
                hint="column names are case-sensitive; check the header of the file.",
            )
    src: dict[str, str | None] = {}
    for c in (*_FIELDS[table], _MAP_COLUMN.get(table)):
        if c is None:
            continue
        if c in columns:
            src[c] = columns[c]
        elif c in types and c not in columns.values():
            src[c] = c
        else:
            src[c] = None
    missing = [c for c in REQUIRED_SOURCE[table] if src.get(c) is None]
    if missing:
        raise UsageError(
            f"{source_name} has no column for {', '.join(missing)} (needed for {table}). "
            f"Its columns are: {', '.join(names) or '(none)'}.",
            hint=f"map a column onto it, e.g. --map {missing[0]}=YOUR_COLUMN, "
            "or use a mapping file (--mapping FILE).",
        )
    used = {s for s in src.values() if s is not None}
    extras = [n for n in names if n not in used and n not in IGNORED_COLUMNS]
    p = _Params()

    def q(c: str) -> str:
        s = src[c]
        assert s is not None
        return quote_ident(s)

    def text(c: str) -> str:
        s = src.get(c)
        if s is None:
            return "CAST(NULL AS VARCHAR)"
        return f"NULLIF({_as_text(quote_ident(s), types[s])}, '')"

    def raw(c: str) -> str:
        """The source value as it is (text: empty is missing); cast to text only when reported."""
        s = src.get(c)
        if s is None:
            return "CAST(NULL AS VARCHAR)"
        return f"NULLIF({quote_ident(s)}, '')" if _is_text(types[s]) else quote_ident(s)

    # The map column (properties / attributes) is built in Arrow when it can be (fast): from
    # the extra columns ("extras"), or the source's own map column as it is ("given"). Only a
    # JSON text or struct column, or a map column plus extra columns, is merged in SQL ("sql").
    map_sql = ""
    map_raw = "CAST(NULL AS VARCHAR)"
    map_mode = "none"
    map_key = "''"
    ignored: list[str] = []
    map_column = _MAP_COLUMN.get(table)
    map_extras: list[str] = []
    passed: list[str] = []  # source columns the content key reads, passed through untouched
    given_column = src.get(map_column) if map_column else None
    if map_column is None:
        ignored = extras
    elif given_column is None:
        map_mode, map_extras = "extras", extras
        ordered = sorted(extras) if table == "events" else []  # only events have a content key
        passed = [f"{quote_ident(n)} AS _x{i}" for i, n in enumerate(ordered)]
        pairs = [
            f"CASE WHEN _x{i} IS NOT NULL THEN {p.add(n + '=')} || {_as_text(f'_x{i}', types[n])} END"
            for i, n in enumerate(ordered)
        ]
        map_key = f"concat_ws(chr(30), {', '.join(pairs)})" if pairs else "''"
    elif pa.types.is_map(types[given_column]) and not extras:
        map_mode = "given"
        passed = [f"{quote_ident(given_column)} AS _xg"]
        map_key = _map_text("CAST(_xg AS MAP(VARCHAR, VARCHAR))")
    else:
        map_mode, map_extras = "sql", extras
        given = _map_of(quote_ident(given_column), types[given_column])
        map_sql = (
            f"CASE WHEN ({given}) IS NULL THEN NULL "
            f"ELSE map_concat({quote_ident(MAP_COLUMN)}, {given}) END"
        )
        map_raw = raw(map_column)
        map_key = _map_text(map_column)
    in_sql = map_mode == "sql"
    map_typed = [f"{map_sql} AS {map_column}", f"{map_raw} AS {map_column}_raw"] if in_sql else []
    map_typed += passed if table == "events" else []
    map_check = (
        [
            (
                f"{map_column} IS NULL",
                str(map_column),
                f"bad_{map_column}",
                f"'{map_column} is not a JSON object'",
                f"{map_column}_raw",
            )
        ]
        if in_sql
        else []
    )
    map_out = [str(map_column)] if in_sql else []

    fmt_msg = (
        f"not a timestamp in the date format {date_format!r}"
        if date_format
        else "not a timestamp (ISO 8601 such as 2024-03-01T10:00:00+01:00, or epoch seconds)"
    )
    line = f"{quote_ident(LINE_COLUMN)}"
    if table == "events":
        typed = [
            f"{text('event_id')} AS event_id_in",
            f"{text('customer_id')} AS customer_id",
            f"{text('account_id')} AS account_id",
            f"{text('contact_id')} AS contact_id",
            f"{text('session_id')} AS session_id",
            f"{_timestamp(q('timestamp'), types[src['timestamp'] or ''], date_format, utc, p)} AS ts",
            f"{raw('timestamp')} AS ts_raw",
            f"{text('event')} AS event",
            f"{text('channel')} AS channel",
            (
                f"{_number(q('value'), types[src['value']])}"
                if src["value"]
                else "CAST(NULL AS DOUBLE)"
            )
            + " AS value",
            f"{raw('value')} AS value_raw",
            *map_typed,
            f"{line} AS source_line",
        ]
        checks = [
            (
                "customer_id IS NULL",
                "customer_id",
                "missing_customer",
                "'customer_id is empty'",
                "NULL",
            ),
            ("ts_raw IS NULL", "timestamp", "missing_timestamp", "'timestamp is empty'", "NULL"),
            ("ts IS NULL", "timestamp", "bad_timestamp", f"{p.add(fmt_msg)}", "ts_raw"),
            ("event IS NULL", "event", "missing_event", "'event is empty'", "NULL"),
            (
                "value_raw IS NOT NULL AND value IS NULL",
                "value",
                "bad_value",
                "'value is not a number'",
                "value_raw",
            ),
            *map_check,
        ]
        key = " || chr(31) || ".join(
            [
                _canonical_key("customer_id"),
                "strftime(ts, '%Y-%m-%dT%H:%M:%S.%f')",
                _canonical_key("event"),
                _canonical_key("channel"),
                _canonical_key("session_id"),
                _canonical_key("value"),
                map_key,
            ]
        )
        out = [
            f"coalesce(event_id_in, md5({key})) AS event_id",
            "customer_id",
            "account_id",
            "contact_id",
            "session_id",
            'ts AS "timestamp"',
            "event",
            "channel",
            "value",
            *map_out,
        ]
    elif table == "responses":
        known = list(touchpoints) if touchpoints else None
        scale_cases = []
        merged_scales = {**DEFAULT_SCALES, **(scales or {})}
        for metric, (lo, hi) in merged_scales.items():
            scale_cases.append((p.add(metric), p.add(float(lo)), p.add(float(hi))))
        lo_default = " ".join(f"WHEN metric = {m} THEN {lo}" for m, lo, _ in scale_cases)
        hi_default = " ".join(f"WHEN metric = {m} THEN {hi}" for m, _, hi in scale_cases)
        scale_re = p.add(
            r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*(?:-|\.\.|–|to)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$"
        )
        scale_text = raw("scale")
        typed = [
            f"{text('response_id')} AS response_id_in",
            f"{text('customer_id')} AS customer_id",
            f"{_timestamp(q('timestamp'), types[src['timestamp'] or ''], date_format, utc, p)} AS ts",
            f"{raw('timestamp')} AS ts_raw",
            f"{text('touchpoint')} AS touchpoint",
            f"{text('event')} AS event",
            f"lower({text('metric')}) AS metric",
            f"{raw('metric')} AS metric_raw",
            f"{_number(q('score'), types[src['score'] or ''])} AS score",
            f"{raw('score')} AS score_raw",
            f"{scale_text} AS scale_raw",
            f"regexp_extract({scale_text}, {scale_re}, ['lo', 'hi']) AS scale_parts",
            (
                f"{_number(q('scale_min'), types[src['scale_min']])}"
                if src["scale_min"]
                else "CAST(NULL AS DOUBLE)"
            )
            + " AS scale_min_in",
            (
                f"{_number(q('scale_max'), types[src['scale_max']])}"
                if src["scale_max"]
                else "CAST(NULL AS DOUBLE)"
            )
            + " AS scale_max_in",
            f"{text('comment')} AS comment",
            f"{text('channel')} AS channel",
            f"{line} AS source_line",
        ]
        scaled = (
            "coalesce(scale_min_in, TRY_CAST(nullif(scale_parts.lo, '') AS DOUBLE), "
            f"CASE {lo_default} END) AS scale_min, "
            "coalesce(scale_max_in, TRY_CAST(nullif(scale_parts.hi, '') AS DOUBLE), "
            f"CASE {hi_default} END) AS scale_max"
        )
        checks = [
            ("ts_raw IS NULL", "timestamp", "missing_timestamp", "'timestamp is empty'", "NULL"),
            ("ts IS NULL", "timestamp", "bad_timestamp", f"{p.add(fmt_msg)}", "ts_raw"),
            ("metric IS NULL", "metric", "missing_metric", "'metric is empty'", "NULL"),
            (
                f"NOT list_contains({p.add(list(METRICS))}, metric)",
                "metric",
                "unknown_metric",
                f"{p.add('unknown metric; allowed: ' + ', '.join(METRICS))}",
                "metric_raw",
            ),
            ("score_raw IS NULL", "score", "missing_score", "'score is empty'", "NULL"),
            ("score IS NULL", "score", "bad_score", "'score is not a number'", "score_raw"),
            (
                "scale_raw IS NOT NULL AND scale_parts.lo = ''",
                "scale",
                "bad_scale",
                "'scale is not of the form MIN-MAX, e.g. 1-5'",
                "scale_raw",
            ),
            (
                "scale_min IS NULL OR scale_max IS NULL",
                "scale",
                "missing_scale",
                "'a custom metric needs a scale (a scale column such as 1-10, or scale_min and scale_max)'",
                "NULL",
            ),
            (
                "score < scale_min OR score > scale_max",
                "score",
                "score_out_of_scale",
                "printf('score %s is outside the %s scale %s-%s', CAST(score_raw AS VARCHAR), metric, "
                "CAST(scale_min AS VARCHAR), CAST(scale_max AS VARCHAR))",
                "score_raw",
            ),
        ]
        if known:
            checks.append(
                (
                    f"touchpoint IS NOT NULL AND NOT list_contains({p.add(known)}, touchpoint)",
                    "touchpoint",
                    "unknown_touchpoint",
                    f"{p.add('unknown touchpoint; it is not in any journey of the workspace')}",
                    "touchpoint",
                )
            )
        key = " || chr(31) || ".join(
            [
                _canonical_key("customer_id"),
                "strftime(ts, '%Y-%m-%dT%H:%M:%S.%f')",
                _canonical_key("touchpoint"),
                _canonical_key("event"),
                _canonical_key("metric"),
                _canonical_key("score"),
                _canonical_key("comment"),
                _canonical_key("channel"),
            ]
        )
        out = [
            f"coalesce(response_id_in, md5({key})) AS response_id",
            "customer_id",
            'ts AS "timestamp"',
            "touchpoint",
            "event",
            "metric",
            "score",
            "scale_min",
            "scale_max",
            "comment",
            "channel",
        ]
        typed_sql = ", ".join(typed)
        inner = f"SELECT *, {scaled} FROM (SELECT {typed_sql} FROM {relation})"
        return _finish(inner, checks, out, p, names, ignored, map_extras, map_mode, given_column)
    elif table == "customers":
        typed = [
            f"{text('customer_id')} AS customer_id",
            f"{text('account_id')} AS account_id",
            *map_typed,
            f"{line} AS source_line",
        ]
        checks = [
            (
                "customer_id IS NULL",
                "customer_id",
                "missing_customer",
                "'customer_id is empty'",
                "NULL",
            ),
            *map_check,
        ]
        out = ["customer_id", "account_id", *map_out]
    else:
        typed = [
            f"{text('account_id')} AS account_id",
            *map_typed,
            f"{line} AS source_line",
        ]
        checks = [
            (
                "account_id IS NULL",
                "account_id",
                "missing_account",
                "'account_id is empty'",
                "NULL",
            ),
            *map_check,
        ]
        out = ["account_id", *map_out]
    typed += [f"{expr} AS {alias}" for expr, alias in carry]
    out += [alias for _expr, alias in carry]
    inner = f"SELECT {', '.join(typed)} FROM {relation}"
    return _finish(inner, checks, out, p, names, ignored, map_extras, map_mode, given_column)


def _finish(
    inner: str,
    checks: list[tuple[str, str, str, str, str]],
    out: list[str],
    p: _Params,
    names: list[str],
    ignored: list[str],
    map_extras: list[str],
    map_mode: str,
    given_column: str | None,
) -> CanonicalQuery:
    # the checks run once per row (first failing check number in _k); the rest reads _k
    first_failing = " ".join(f"WHEN {c[0]} THEN {i}" for i, c in enumerate(checks, start=1))

    def pick(column: int, quote: bool) -> str:
        arms = " ".join(
            f"WHEN {i} THEN " + (f"'{c[column]}'" if quote else f"CAST({c[column]} AS VARCHAR)")
            for i, c in enumerate(checks, start=1)
        )
        return f"CASE _k {arms} END"

    sql = (
        f"SELECT {', '.join(out)}, "
        "source_line, $ingest_id AS ingest_id, "
        f"{pick(1, True)} AS _field, {pick(2, True)} AS _reason, "
        f"{pick(3, False)} AS _message, {pick(4, False)} AS _value "
        f"FROM (SELECT *, CASE {first_failing} END AS _k FROM ({inner}))"
    )
    return CanonicalQuery(
        sql=sql,
        params=p.values,
        used_columns=names,
        ignored_columns=ignored,
        map_extras=map_extras,
        map_mode=map_mode,
        map_given=given_column,
    )
