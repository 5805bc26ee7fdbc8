"""Reading sources in batches: CSV/TSV, Parquet, NDJSON, JSON, XES, GA4, Segment, DataFrames.

Every reader yields :class:`RawBatch` objects: an Arrow table of the source's own columns
(plus the 1-based line of each row in ``LINE_COLUMN``), and the rows the reader itself could
not parse (a CSV row with the wrong number of fields, a line that is not JSON). Memory stays
constant: CSV and Parquet are streamed by Arrow, NDJSON, XES, GA4 and Segment line by line.

Line numbers: CSV/TSV count the header as line 1 (a record whose quoted value spans several
lines counts as one); Parquet and DataFrames the row (1-based); NDJSON the line; a JSON
array the element (1-based); XES the line of the ``<event>`` tag.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import IngestError, UsageError
from .canonical import LINE_COLUMN

__all__ = [
    "FORMATS",
    "RawBatch",
    "Rejected",
    "detect_format",
    "open_text",
    "read_source",
    "rows_to_table",
    "text_value",
]

FORMATS = ("csv", "tsv", "parquet", "ndjson", "json", "xes", "ga4", "segment")

_SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "json",
    ".xes": "xes",
}


@dataclass(frozen=True)
class Rejected:
    """A row a reader could not turn into columns (it goes to the quarantine)."""

    source_line: int | None
    field: str | None
    value: str | None
    reason: str
    message: str
    raw: str | None = None
    customer_id: str | None = None


@dataclass
class RawBatch:
    data: pa.Table
    source_file: str
    rejected: list[Rejected] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    #: records (JSON, XES, GA4, Segment) have no fixed columns: a column no record of the
    #: batch has is missing in its rows (a quarantine reason), not in the source
    flexible: bool = False


def text_value(v: Any) -> str | None:
    """A JSON value as text: strings as they are, numbers and booleans as JSON, objects as JSON."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, float) else str(v)
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip (detected by its magic number)."""
    if _is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def open_text(path: Path) -> IO[str]:
    """The file as text (UTF-8, a byte order mark skipped, gzip decompressed)."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline="")


def _peek_records(path: Path) -> Any:
    """The first JSON record of a JSON or NDJSON file (for format detection), or None."""
    with open_text(path) as fh:
        head = fh.read(1 << 16)
    stripped = head.lstrip()
    if stripped.startswith("{"):
        first_line = stripped.split("\n", 1)[0]
        try:
            obj = json.loads(first_line)
        except ValueError:
            try:
                obj = json.loads(stripped)
            except ValueError:
                return None
        if isinstance(obj, dict) and _json_kind(obj) is None:  # a wrapper: {"batch": [...]}
            for v in obj.values():
                if isinstance(v, list) and v and isinstance(v[0], dict):
                    return v[0]
        return obj
    if stripped.startswith("["):
        depth, start = 0, None
        for i, ch in enumerate(stripped):
            if ch == "{":
                depth += 1
                start = i if start is None else start
            elif ch == "}":
                depth -= 1
                if depth == 0 and start is not None:
                    try:
                        return json.loads(stripped[start : i + 1])
                    except ValueError:
                        return None
    return None


def _json_kind(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    if "event_timestamp" in record and "event_name" in record:
        return "ga4"
    if record.get("type") in {"track", "page", "screen", "identify", "group", "alias"} and (
        "userId" in record or "anonymousId" in record
    ):
        return "segment"
    return None


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The format of ``path``: ``fmt`` when given, else from the suffix and the content."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise UsageError(
                f"Unknown format {fmt!r}. Known formats: {', '.join(FORMATS)}.",
            )
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".gzip"}:
        suffixes = suffixes[:-1]
    base = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if base is None:
        raise UsageError(
            f"Cannot tell the format of {str(path)!r} from its name.",
            hint=f"pass --format with one of: {', '.join(FORMATS)}.",
        )
    if base in {"json", "ndjson"}:
        kind = _json_kind(_peek_records(path))
        if kind:
            return kind
        if base == "json":
            with open_text(path) as fh:
                head = fh.read(1 << 16).lstrip()
            lines = [ln for ln in head.splitlines() if ln.strip()]
            if len(lines) > 1 and all(ln.lstrip().startswith("{") for ln in lines[:2]):
                first = lines[0].strip()
                if first.endswith("}"):
                    try:
                        json.loads(first)
                        return "ndjson"
                    except ValueError:
                        pass
    if base == "parquet":
        try:
            names = set(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise IngestError(
                f"Cannot read {str(path)!r} as Parquet: {exc}",
                hint="the file is damaged or not Parquet; pass --format if its name misleads.",
            ) from None
        if {"event_timestamp", "event_name", "event_params"} <= names:
            return "ga4"
    return base


# -- CSV -------------------------------------------------------------------------------------
def _sniff(path: Path, delimiter: str | None, fmt: str) -> tuple[str, list[str]]:
    with open_text(path) as fh:
        sample = fh.read(1 << 16)
    if not sample.strip():
        return delimiter or ",", []
    if delimiter is None:
        if fmt == "tsv":
            delimiter = "\t"
        else:
            lines = sample.splitlines()
            trimmed = "\n".join(lines[:50] if len(lines) > 1 else lines)
            try:
                delimiter = csv.Sniffer().sniff(trimmed, delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
    delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    if len(delimiter) != 1:
        raise UsageError(f"The delimiter must be one character, got {delimiter!r}.")
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    names: list[str] = []
    for i, raw in enumerate(header):
        name = raw.strip() or f"column_{i + 1}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return delimiter, names


def _csv_batches(
    path: Path, fmt: str, *, delimiter: str | None, batch_rows: int
) -> Iterator[RawBatch]:
    delimiter, names = _sniff(path, delimiter, fmt)
    if not names:
        return
    skipped: list[tuple[int, str]] = []
    expected = len(names)

    def on_invalid(row: Any) -> str:
        skipped.append((int(row.number) if row.number is not None else -1, str(row.text)))
        return "skip"

    stream = pa.input_stream(str(path), compression="gzip" if _is_gzip(path) else None)
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(
            use_threads=False, column_names=names, skip_rows=1, block_size=1 << 23
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    done_valid = 0  # valid rows yielded so far
    reported = 0  # skipped rows reported so far
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def flush(final: bool) -> Iterator[RawBatch]:
        nonlocal pending, pending_rows, done_valid, reported
        if not pending and not (final and reported < len(skipped)):
            return
        table = pa.Table.from_batches(pending, schema=reader.schema)
        n = table.num_rows
        # data index of a valid row = its valid index + skipped rows before it (S[i] - i <= j)
        s_idx = np.array(sorted(num - 2 for num, _ in skipped if num >= 2), dtype=np.int64)
        shift = s_idx - np.arange(len(s_idx), dtype=np.int64)
        j = np.arange(done_valid, done_valid + n, dtype=np.int64)
        data_idx = j + np.searchsorted(shift, j, side="right")
        lines = data_idx + 2
        table = table.append_column(LINE_COLUMN, pa.array(lines, type=pa.int64()))
        rejected = []
        for num, text in skipped[reported:]:
            got = len(next(csv.reader([text], delimiter=delimiter), []))
            rejected.append(
                Rejected(
                    source_line=num if num >= 0 else None,
                    field=None,
                    value=text[:1000],
                    reason="bad_row",
                    message=f"row has {got} fields, the header has {expected}",
                    raw=json.dumps({"row": text}, ensure_ascii=False),
                )
            )
        reported = len(skipped)
        done_valid += n
        pending, pending_rows = [], 0
        yield RawBatch(table, str(path), rejected, bytes_read=stream.tell() if not final else 0)

    try:
        for batch in reader:
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= batch_rows:
                yield from flush(False)
        yield from flush(True)
    except pa.ArrowInvalid as exc:
        raise IngestError(
            f"Cannot read {str(path)!r} as {fmt.upper()} (delimiter {delimiter!r}): {exc}",
            hint="check the delimiter (--delimiter) and the quoting of the file.",
        ) from None


# -- Parquet -----------------------------------------------------------------------------------
def _parquet_batches(path: Path, *, batch_rows: int) -> Iterator[RawBatch]:
    pf = pq.ParquetFile(path)
    start = 1
    for batch in pf.iter_batches(batch_size=batch_rows):
        n = batch.num_rows
        table = pa.Table.from_batches([batch])
        table = table.append_column(
            LINE_COLUMN, pa.array(np.arange(start, start + n, dtype=np.int64), type=pa.int64())
        )
        start += n
        yield RawBatch(table, str(path))


def _duckdb_parquet_batches(path: Path, con: Any, *, batch_rows: int) -> Iterator[RawBatch]:
    """Parquet read by DuckDB (parallel, often several times faster than row-group reads)."""
    rel = con.read_parquet(str(path), file_row_number=True)
    rel = rel.project(f"* EXCLUDE (file_row_number), file_row_number + 1 AS {LINE_COLUMN}")
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in rel.to_arrow_reader(batch_rows):  # DuckDB hands out row-group sized batches
        pending.append(batch)
        rows += batch.num_rows
        if rows >= batch_rows:
            yield RawBatch(pa.Table.from_batches(pending), str(path))
            pending, rows = [], 0
    if rows:
        yield RawBatch(pa.Table.from_batches(pending), str(path))


def _frame_batches(frame: Any, *, batch_rows: int, name: str) -> Iterator[RawBatch]:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for offset in range(0, max(table.num_rows, 1), batch_rows):
        part = table.slice(offset, batch_rows)
        if part.num_rows == 0:
            break
        lines = np.arange(offset + 1, offset + 1 + part.num_rows, dtype=np.int64)
        yield RawBatch(part.append_column(LINE_COLUMN, pa.array(lines)), name)


# -- JSON records --------------------------------------------------------------------------------
Record = tuple[int, Any]  # (line, parsed object) or (line, Rejected)


def _ndjson_records(path: Path) -> Iterator[tuple[int, Any]]:
    with open_text(path) as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield i, json.loads(line)
            except ValueError as exc:
                yield (
                    i,
                    Rejected(
                        i,
                        None,
                        line.strip()[:1000],
                        "bad_json",
                        f"not valid JSON: {exc}",
                        json.dumps({"line": line.rstrip("\r\n")}, ensure_ascii=False),
                    ),
                )


def _json_records(path: Path) -> Iterator[tuple[int, Any]]:
    with open_text(path) as fh:
        try:
            data = json.load(fh)
        except ValueError as exc:
            raise IngestError(
                f"{str(path)!r} is not valid JSON: {exc}",
                hint="a file with one JSON object per line is NDJSON (--format ndjson).",
            ) from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else [data]
    if not isinstance(data, list):
        raise IngestError(
            f"{str(path)!r} holds a JSON {type(data).__name__}, not a list of records."
        )
    yield from enumerate(data, start=1)


def _parquet_records(path: Path, batch_rows: int) -> Iterator[tuple[int, Any]]:
    line = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=min(batch_rows, 50_000)):
        for rec in batch.to_pylist():
            line += 1
            yield line, rec


def rows_to_table(rows: list[dict[str, Any]], lines: list[int], map_column: str | None) -> pa.Table:
    """Rows of text values (and one map column of text pairs) as an Arrow table."""
    names: list[str] = []
    seen: set[str] = set()
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                names.append(k)
    arrays: dict[str, pa.Array] = {}
    for n in names:
        values = [r.get(n) for r in rows]
        if n == map_column:
            arrays[n] = pa.array(
                [list(v.items()) if v is not None else None for v in values],
                type=pa.map_(pa.string(), pa.string()),
            )
        else:
            arrays[n] = pa.array([text_value(v) for v in values], type=pa.string())
    arrays[LINE_COLUMN] = pa.array(lines, type=pa.int64())
    return pa.table(arrays)


RowMaker = Callable[[dict[str, Any]], tuple[dict[str, Any] | None, str | None]]


def _record_batches(
    records: Iterable[tuple[int, Any]],
    make_row: RowMaker,
    *,
    source: str,
    batch_rows: int,
    map_column: str | None,
) -> Iterator[RawBatch]:
    """Turn parsed records into batches; ``make_row`` returns (row, None) or (None, note)."""
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    rejected: list[Rejected] = []
    notes: dict[str, int] = {}
    for line, rec in records:
        if isinstance(rec, Rejected):
            rejected.append(rec)
            continue
        if not isinstance(rec, dict):
            rejected.append(
                Rejected(
                    line, None, text_value(rec), "bad_record", "not a JSON object", text_value(rec)
                )
            )
            continue
        row, note = make_row(rec)
        if row is None:
            if note:
                notes[note] = notes.get(note, 0) + 1
            continue
        rows.append(row)
        lines.append(line)
        if len(rows) >= batch_rows:
            yield RawBatch(
                rows_to_table(rows, lines, map_column), source, rejected, notes, flexible=True
            )
            rows, lines, rejected, notes = [], [], [], {}
    if rows or rejected or notes:
        yield RawBatch(
            rows_to_table(rows, lines, map_column), source, rejected, notes, flexible=True
        )


def _plain_row(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    return rec, None


def read_source(
    source: Path | Any,
    *,
    table: str,
    fmt: str | None,
    batch_rows: int,
    delimiter: str | None = None,
    name: str | None = None,
    con: Any = None,
) -> Iterator[RawBatch]:
    """The batches of one source (a file path or a pandas DataFrame) for ``table``.

    With ``con`` (a DuckDB connection not used for anything else meanwhile) Parquet files
    are read by DuckDB; without it by Arrow.
    """
    if not isinstance(source, Path):
        yield from _frame_batches(source, batch_rows=batch_rows, name=name or "<DataFrame>")
        return
    if not source.is_file():
        raise UsageError(f"No file {str(source)!r}.")
    kind = detect_format(source, fmt)
    src = str(source)
    if kind in {"csv", "tsv"}:
        yield from _csv_batches(source, kind, delimiter=delimiter, batch_rows=batch_rows)
    elif kind == "parquet" and con is not None:
        yield from _duckdb_parquet_batches(source, con, batch_rows=batch_rows)
    elif kind == "parquet":
        yield from _parquet_batches(source, batch_rows=batch_rows)
    elif kind in {"ndjson", "json"}:
        plain = _ndjson_records(source) if kind == "ndjson" else _json_records(source)
        yield from _record_batches(
            plain, _plain_row, source=src, batch_rows=batch_rows, map_column=None
        )
    elif kind == "xes":
        from .xes import xes_batches

        if table != "events":
            raise UsageError("XES files hold events; ingest them with 'ingest events'.")
        yield from xes_batches(source, batch_rows=batch_rows)
    elif kind in {"ga4", "segment"}:
        if kind == "ga4":
            from .ga4 import ga4_row_maker

            maker, map_column = ga4_row_maker(table)
        else:
            from .segment import segment_row_maker

            maker, map_column = segment_row_maker(table)
        if source.suffix.lower() in {".parquet", ".pq"}:
            records: Iterable[tuple[int, Any]] = _parquet_records(source, batch_rows)
        elif _looks_like_ndjson(source):
            records = _ndjson_records(source)
        else:
            records = _json_records(source)
        yield from _record_batches(
            records, maker, source=src, batch_rows=batch_rows, map_column=map_column
        )


def _looks_like_ndjson(path: Path) -> bool:
    with open_text(path) as fh:
        head = fh.read(1 << 16).lstrip()
    if not head.startswith("{"):
        return False
    first = head.split("\n", 1)[0].strip()
    try:
        obj = json.loads(first)
    except ValueError:
        return False
    return _json_kind(obj) is not None  # a record per line, not a wrapper like {"batch": [...]}
