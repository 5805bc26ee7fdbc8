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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import UsageError
from .schema import METRICS

__all__ = [
    "DEFAULT_SCALES",
    "IGNORED_COLUMNS",
    "LINE_COLUMN",
    "REQUIRED_SOURCE",
    "CanonicalQuery",
    "canonical_query",
    "quote_ident",
]

LINE_COLUMN = "__klantreis_line"

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
IGNORED_COLUMNS = frozenset({"source_file", "source_line", "ingest_id", LINE_COLUMN})

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


def _timestamp(q: str, t: pa.DataType, date_format: str | None, p: _Params) -> str:
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return f"(CAST({q} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return _epoch(f"CAST({q} AS DOUBLE)")
    raw = f"TRIM({_as_text(q, t)})"
    if date_format:
        parsed = f"CAST(try_strptime({raw}, {p.add(date_format)}) AS TIMESTAMPTZ)"
    else:
        parsed = f"TRY_CAST({raw} AS TIMESTAMPTZ)"
    return (
        f"CASE WHEN regexp_full_match({raw}, {p.add(_EPOCH_RE)}) "
        f"THEN {_epoch(f'TRY_CAST({raw} AS DOUBLE)')} "
        f"ELSE ({parsed} AT TIME ZONE 'UTC') END"
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
) -> CanonicalQuery:
    """The SELECT that turns ``raw_batch`` (``schema``) into canonical rows of ``table``.

    ``columns`` maps canonical names to source columns (the mapping); canonical names present
    in the source need no entry. Parameters ``$source_file`` and ``$ingest_id`` are left for
    the caller to bind.
    """
    if table not in _FIELDS:
        raise KeyError(table)
    names = [n for n in schema.names if n != LINE_COLUMN]
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

    def text(c: str, *, trim: bool = True) -> str:
        s = src.get(c)
        if s is None:
            return "CAST(NULL AS VARCHAR)"
        t = _as_text(quote_ident(s), types[s])
        return f"NULLIF(TRIM({t}), '')" if trim else f"NULLIF({t}, '')"

    def raw(c: str) -> str:
        s = src.get(c)
        if s is None:
            return "CAST(NULL AS VARCHAR)"
        return f"NULLIF(TRIM({_as_text(quote_ident(s), types[s])}), '')"

    map_sql = ""
    ignored: list[str] = []
    map_column = _MAP_COLUMN.get(table)
    if map_column is not None:
        entries = [
            f"struct_pack(k := {p.add(n)}, v := {_as_text(quote_ident(n), types[n])})"
            for n in extras
        ]
        extra_map = (
            f"map_from_entries(list_filter([{', '.join(entries)}], lambda e: e.v IS NOT NULL))"
            if entries
            else _EMPTY_MAP
        )
        if src.get(map_column) is not None:
            s = src[map_column]
            assert s is not None
            given = _map_of(quote_ident(s), types[s])
            map_sql = (
                f"CASE WHEN ({given}) IS NULL THEN NULL ELSE map_concat({extra_map}, {given}) END"
            )
            map_raw = raw(map_column)
        else:
            map_sql = extra_map
            map_raw = "CAST(NULL AS VARCHAR)"
    else:
        ignored = extras

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
            f"{_timestamp(q('timestamp'), types[src['timestamp'] or ''], date_format, p)} AS ts",
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
            f"{map_sql} AS properties",
            f"{map_raw} AS properties_raw",
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
            (
                "properties IS NULL",
                "properties",
                "bad_properties",
                "'properties is not a JSON object'",
                "properties_raw",
            ),
        ]
        key = " || chr(31) || ".join(
            [
                _canonical_key("customer_id"),
                "strftime(ts, '%Y-%m-%dT%H:%M:%S.%f')",
                _canonical_key("event"),
                _canonical_key("channel"),
                _canonical_key("session_id"),
                _canonical_key("value"),
                _map_text("properties"),
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
            "properties",
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
            f"{_timestamp(q('timestamp'), types[src['timestamp'] or ''], date_format, p)} AS ts",
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
            f"{text('comment', trim=False)} AS comment",
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
                "printf('score %s is outside the %s scale %s-%s', score_raw, metric, "
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
        inner = f"SELECT *, {scaled} FROM (SELECT {typed_sql} FROM raw_batch)"
        return _finish(inner, checks, out, p, names, ignored)
    elif table == "customers":
        typed = [
            f"{text('customer_id')} AS customer_id",
            f"{text('account_id')} AS account_id",
            f"{map_sql} AS attributes",
            f"{map_raw} AS attributes_raw",
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
            (
                "attributes IS NULL",
                "attributes",
                "bad_attributes",
                "'attributes is not a JSON object'",
                "attributes_raw",
            ),
        ]
        out = ["customer_id", "account_id", "attributes"]
    else:
        typed = [
            f"{text('account_id')} AS account_id",
            f"{map_sql} AS attributes",
            f"{map_raw} AS attributes_raw",
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
            (
                "attributes IS NULL",
                "attributes",
                "bad_attributes",
                "'attributes is not a JSON object'",
                "attributes_raw",
            ),
        ]
        out = ["account_id", "attributes"]
    inner = f"SELECT {', '.join(typed)} FROM raw_batch"
    return _finish(inner, checks, out, p, names, ignored)


def _finish(
    inner: str,
    checks: list[tuple[str, str, str, str, str]],
    out: list[str],
    p: _Params,
    names: list[str],
    ignored: list[str],
) -> CanonicalQuery:
    def case(pick: int) -> str:
        arms = " ".join(f"WHEN {c[0]} THEN {c[pick]}" for c in checks)
        return f"CASE {arms} END"

    field_case = " ".join(f"WHEN {c[0]} THEN '{c[1]}'" for c in checks)
    reason_case = " ".join(f"WHEN {c[0]} THEN '{c[2]}'" for c in checks)
    sql = (
        f"SELECT {', '.join(out)}, "
        "$source_file AS source_file, source_line, $ingest_id AS ingest_id, "
        f"CASE {field_case} END AS _field, "
        f"CASE {reason_case} END AS _reason, "
        f"{case(3)} AS _message, "
        f"{case(4)} AS _value "
        f"FROM ({inner})"
    )
    return CanonicalQuery(sql=sql, params=p.values, used_columns=names, ignored_columns=ignored)
