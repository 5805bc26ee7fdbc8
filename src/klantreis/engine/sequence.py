"""The sequence index: every event as small integers, sorted by (customer, timestamp, event_id).

Sequence analyses (funnel, transitions, paths, Markov attribution) all read the same thing: each
customer's events in order. Over the raw Parquet files every query sorts the events again (a
window over ``customer_id`` ordered by ``(timestamp, event_id)``) and decodes string columns;
at 10M events that is most of the time. The sequence index is that order, computed once per
version of the data and kept as plain arrays (NumPy ``.npy`` files, memory-mapped):

=============  ===========  ===============================================================
``cust``       int32        the customer's code (position in ``customers.parquet``)
``ts``         int64        the timestamp in microseconds since 1970-01-01 UTC
``t_s``        int64        the timestamp in whole seconds, as the SQL path computes it
``event``      int32        the event name's code (``meta.json`` ``events``)
``channel``    int16        the channel's code (``meta.json`` ``channels``); -1 = no channel
``value``      float64      the event's value; NaN = none
``origin``     int64        the row's position in the registered files (derived columns);
                            no file when the build took the file in its own order
=============  ===========  ===============================================================

42 bytes per event. Each customer's events are one contiguous run of rows (``starts``) in
``(timestamp, event_id)`` order — the order every sequence analysis defines — and ``cust`` never
decreases, so a sequence analysis is one pass over arrays (``engine/kernels/``), with no sort.
The build sorts the events by ``(customer_id, timestamp, event_id)`` in DuckDB; a single file
that is clustered that way already (each customer's events together and in order, as in an
export per customer) is taken in its own order instead, with no sort, and its customers are
numbered in the order they appear (``_write_clustered``). Journeys whose
match rules read event properties get a derived touchpoint column per version of their rules
(``link-<digest>.npy``, computed by the SQL linking over the files, put in index order by
``origin``).

It is *derived data*, like a database index, not a cache of answers: every analysis still runs
in full on it, with its own period, filters and options. Its directory
``data/_index/events-<digest>`` is named by a digest of the registered event files (name, size,
modification time), so an ingest or an erasure (``forget`` rewrites files) makes a new version;
the old one is deleted when the new one is built, and ``forget`` deletes the whole directory. It
is built on first use by an analysis (or :func:`build_index`), never under the write lock: it
only reads committed files and appears by an atomic rename. ADR 0012 has the reasons.

When it is used (``KLANTREIS_SEQUENCE_INDEX``): ``auto`` (the default) for workspaces on DuckDB
whose event files hold at least 2 MB (about 100,000 events; below that the SQL path takes
milliseconds); ``always``; ``never``. An analysis falls back to its SQL (same answers, see
``tests/test_sequence*.py``) for options its kernel does not implement, ``unit="account"``,
Spark and URL engines.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from ..store.database import INDEX_DIR, sql_literal

if TYPE_CHECKING:
    from ..model import Journey
    from .query import Prepared
    from .source import Source

__all__ = [
    "INDEX_DIR",
    "Nodes",
    "Selection",
    "SequenceIndex",
    "build_index",
    "codes_at_level",
    "index_for",
    "index_mode",
    "link_pairs",
    "micros",
    "nodes_for",
    "select",
]

VERSION = 3
AUTO_MIN_BYTES = 2_000_000
BATCH_ROWS = 1_000_000  # rows per batch the build reads from DuckDB (at most)
_COLUMNS = {
    "cust": np.int32,
    "ts": np.int64,
    "t_s": np.int64,
    "event": np.int32,
    "channel": np.int16,
}
_VALUE = "value"
_ORIGIN = "origin"  # the row's position in the registered files (for derived columns)
_build_lock = threading.Lock()
_remember_lock = threading.Lock()
log = logging.getLogger("klantreis.engine")
#: What a failed build raises; the analysis then runs its SQL (the index is only a speed-up).
BUILD_ERRORS: tuple[type[BaseException], ...] = (OSError, RuntimeError, ValueError, duckdb.Error)
_loaded: dict[str, SequenceIndex] = {}  # path → an index this process has open


def index_mode() -> str:
    mode = os.environ.get("KLANTREIS_SEQUENCE_INDEX", "auto").strip().lower() or "auto"
    return mode if mode in ("auto", "always", "never") else "auto"


def _key(files: list[Path]) -> str:
    return _digest([(f, f.stat()) for f in files])


def _digest(stats: list[tuple[Path, os.stat_result]]) -> str:
    h = hashlib.sha1(f"v{VERSION}".encode())
    for f, st in sorted(stats, key=lambda fs: fs[0]):
        h.update(f"{f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def table_files(source: Source, table: str) -> list[Path]:
    """The committed files of ``table`` as the source read them (one registry read)."""
    if source.files is not None:
        return source.files[table]
    assert source.workspace is not None
    return [Path(p) for p in source.workspace.data_files(table)]


def applies(source: Source, files: list[Path], min_bytes: int) -> str | None:
    """The digest naming the index of ``files`` when an index is to be used for this source
    (mode, a workspace on DuckDB, ``auto``: at least ``min_bytes`` of files), else None. Each
    file is looked at once."""
    mode = index_mode()
    if mode == "never" or source.workspace is None or source.engine != "duckdb" or not files:
        return None
    stats = [(f, f.stat()) for f in files]
    if mode == "auto" and sum(st.st_size for _, st in stats) < min_bytes:
        return None
    return _digest(stats)


@dataclass
class SequenceIndex:
    """The arrays of one version of the events (see the module doc)."""

    path: Path
    cust: np.ndarray
    ts: np.ndarray
    t_s: np.ndarray
    event: np.ndarray
    channel: np.ndarray
    value: np.ndarray
    events: list[str]
    channels: list[str]
    n_customers: int
    meta: dict[str, Any] = field(default_factory=dict, repr=False)
    _starts: np.ndarray | None = field(default=None, repr=False)
    _customer_ids: Any = field(default=None, repr=False)

    @property
    def n_events(self) -> int:
        return len(self.cust)

    @property
    def starts(self) -> np.ndarray:
        """Row where each customer's run starts (length n_customers + 1)."""
        if self._starts is None:
            self._starts = np.searchsorted(self.cust, np.arange(self.n_customers + 1))
        return self._starts

    @property
    def customers_file(self) -> Path:
        return self.path / "customers.parquet"

    def customer_ids(self, codes: np.ndarray) -> list[str]:
        """The customer ids of ``codes``."""
        if self._customer_ids is None:
            import pyarrow.parquet as pq

            self._customer_ids = pq.read_table(self.customers_file).column("customer_id")
        return [str(c) for c in self._customer_ids.take(np.asarray(codes, dtype=np.int64))]

    def origin(self) -> np.ndarray:
        """Each row's position in the registered files (``origin.npy``; a build that took the
        file in its own order writes none: row *i* is then position *i*)."""
        stored = self.path / f"{_ORIGIN}.npy"
        if stored.exists():
            return np.load(stored, mmap_mode="r")
        return np.arange(self.n_events, dtype=np.int64)

    @classmethod
    def load(cls, path: Path) -> SequenceIndex:
        meta = json.loads((path / "meta.json").read_text())
        arrays = {
            name: np.load(path / f"{name}.npy", mmap_mode="r") for name in [*_COLUMNS, _VALUE]
        }
        return cls(
            path,
            arrays["cust"],
            arrays["ts"],
            arrays["t_s"],
            arrays["event"],
            arrays["channel"],
            arrays["value"],
            events=list(meta["events"]),
            channels=list(meta["channels"]),
            n_customers=int(meta["customers"]),
            meta=meta,
        )

    def touchpoint_codes(self, source: Source, journey: Journey) -> np.ndarray:
        """Per event, the position in ``journey.touchpoints`` of the touchpoint it links to
        (-1: none), by the SQL linking itself (:func:`klantreis.engine.linking.link`, so match
        rules on event properties work exactly as there). Computed once per version of the
        match rules and kept next to the index (``link-<digest>.npy``)."""
        rules = [
            [tp.id, [r.model_dump(mode="json", exclude_none=True) for r in tp.match]]
            for tp in journey.touchpoints
        ]
        digest = hashlib.sha1(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:16]
        path = self.path / f"link-{digest}.npy"
        if not path.exists():
            self._write_link(source, journey, path)
        return np.load(path, mmap_mode="r")

    def _write_link(self, source: Source, journey: Journey, path: Path) -> None:
        """Only the events a property rule may match go through the SQL linking with their
        properties (decoding the property maps is most of its time); every other event links
        by its (event, channel) pair (``link_pairs``), which is then the same answer: a rule
        whose event pattern fails cannot match, whatever the properties."""
        import ibis
        import pyarrow as pa
        import pyarrow.compute as pc

        from .linking import link

        data_dir = self.path.parent.parent
        ids = pa.array([tp.id for tp in journey.touchpoints], pa.string())
        tp_names = [tp.id for tp in journey.touchpoints]
        events: list[str | None] = list(self.events)
        candidates = _property_candidates(source, journey, events)
        n_ch = len(self.channels) + 1
        if candidates is not None and len(events) * n_ch > 2_000_000:
            candidates = None  # too many pairs for a table: every event through the SQL
        not_linked = -2  # in file order: a row the SQL did not link (not a candidate)
        fill = -1 if candidates is None else not_linked
        scattered = np.full(int(self.meta["events_count"]), fill, dtype=np.int16)
        files = zip(self.meta["files"], self.meta["offsets"], strict=False)
        for rel, offset in files if candidates != [] else []:
            table = source.con.read_parquet(str(data_dir / rel), file_row_number=True)
            if candidates is not None:
                table = table.filter(table.event.isin(candidates))
            linked = link(table, journey)
            # streamed (at 100M events the whole column takes gigabytes); by DuckDB's own reader:
            # Ibis' to_pyarrow_batches calls a method this DuckDB no longer has
            sql = str(ibis.to_sql(linked.select("file_row_number", "touchpoint"), "duckdb"))
            batches = source.con.con.sql(sql).to_arrow_reader(BATCH_ROWS)
            for got in batches:
                codes = pc.index_in(got.column("touchpoint"), value_set=ids)
                rows = got.column("file_row_number").to_numpy() + int(offset)
                scattered[rows] = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False)
        origin = self.origin()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        in_order = np.empty(len(origin), dtype=np.int16)
        if candidates is not None:
            from .kernels.common import link_in_order

            channels = list(self.channels)
            lut = link_pairs(source, journey, events, channels, tp_names).astype(np.int16)
            link_in_order(
                scattered, origin, self.event, self.channel, lut, n_ch, not_linked, in_order
            )
        else:
            step = 10_000_000
            for a in range(0, len(origin), step):  # origin read in slices, not kept resident
                in_order[a : a + step] = scattered[origin[a : a + step]]
        np.save(tmp, in_order)
        Path(f"{tmp}.npy").replace(path)


def index_for(source: Source) -> SequenceIndex | None:
    """The sequence index of a workspace source (built if missing), or None when the index is
    not to be used for it (see the module doc)."""
    if source.workspace is None:
        return None
    files = table_files(source, "events")
    key = applies(source, files, AUTO_MIN_BYTES)
    if key is None:
        return None
    expected = Path(source.workspace.data_dir) / INDEX_DIR / f"events-{key}"
    cached = source._index or _loaded.get(str(expected))
    if cached is not None and cached.path == expected and (expected / "meta.json").exists():
        source._index = cached
        return cached
    try:
        index = build_index(source.workspace, files=files, key=key)
    except BUILD_ERRORS as exc:  # read-only or full disk, files erased meanwhile: SQL answers
        log.warning("not using the sequence index: %s", exc)
        return None
    source._index = index
    remember(_loaded, str(index.path), index)
    return index


def remember(opened: dict[str, Any], path: str, index: Any) -> None:
    """Keeps an opened index for the next call (memory maps are cheap; at most four)."""
    with _remember_lock:  # the web app analyses on several threads
        opened.pop(path, None)
        while len(opened) >= 4:
            opened.pop(next(iter(opened)))
        opened[path] = index


def build_index(
    ws: Any, *, files: list[Path] | None = None, key: str | None = None
) -> SequenceIndex:
    """Builds the sequence index of the workspace's events if it is missing; returns it."""
    files = [Path(p) for p in ws.data_files("events")] if files is None else files
    path = build_versioned(ws, "events", files, _write, key=key)
    return SequenceIndex.load(path)


def build_versioned(
    ws: Any,
    kind: str,
    files: list[Path],
    write: Callable[[list[Path], Path], None],
    *,
    key: str | None = None,
) -> Path:
    """The directory ``data/_index/<kind>-<digest of files>``, written by ``write(files, dir)``
    if missing: into a temporary directory renamed into place (atomic; a concurrent builder of
    the same version loses the rename and uses the winner's), then older versions of ``kind``
    (and builds a killed process left) are deleted."""
    name = f"{kind}-{key or _key(files)}"
    root = Path(ws.data_dir) / INDEX_DIR
    path = root / name
    if (path / "meta.json").exists():
        return path
    with _build_lock:
        if (path / "meta.json").exists():
            return path
        root.mkdir(parents=True, exist_ok=True)
        _announce(kind, files)
        tmp = root / f".build-{name}-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            write(files, tmp)
            with contextlib.suppress(OSError):  # another process built this version first
                tmp.rename(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in root.iterdir():
            older = old.name.startswith(f"{kind}-") and old.name != name
            orphan = old.name.startswith(".build-") and not _alive(old.name)
            if older or orphan:
                shutil.rmtree(old, ignore_errors=True)
        return path


def _announce(kind: str, files: list[Path]) -> None:
    """One line on an interactive terminal, so a pause on a big workspace is explained."""
    if not sys.stderr.isatty() or sum(f.stat().st_size for f in files) < 50 * AUTO_MIN_BYTES:
        return
    print(
        f"klantreis: building the {kind} index of this workspace (once after each ingest) ...",
        file=sys.stderr,
        flush=True,
    )


def _alive(name: str) -> bool:
    try:
        pid = int(name.split("-")[-2])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _write(files: list[Path], out: Path) -> None:
    import pyarrow.parquet as pq

    from .connect import duckdb_settings

    settings = duckdb_settings()
    con = duckdb.connect(config={k: str(v) for k, v in settings.items()})
    try:
        con.execute("SET enable_progress_bar = false")
        # the sort spills beyond this; with the arrays written by write() the build stays within
        # the 8 GiB an analysis may use at 100M events
        con.execute(f"SET memory_limit = '{_build_memory(settings)}'")
        names = [str(f) for f in files]
        sizes = [pq.ParquetFile(f).metadata.num_rows for f in files]
        offsets = [0, *np.cumsum(sizes).tolist()]
        both = con.execute(
            "SELECT list(DISTINCT event ORDER BY event), "
            "list(DISTINCT channel ORDER BY channel) FILTER (channel IS NOT NULL) "
            "FROM read_parquet($f, union_by_name = true)",
            {"f": names},
        ).fetchall()[0]
        events, channels = list(both[0] or []), list(both[1] or [])
        if len(channels) > np.iinfo(np.int16).max:
            raise ValueError("too many distinct channels for the sequence index")
        n = int(offsets[-1])
        numbering = _Numbering()
        if len(files) != 1 or not _write_clustered(
            con, names[0], n, events, channels, out, numbering
        ):
            numbering = _Numbering()
            _write_sorted(con, names, offsets, events, channels, out, numbering)
        n_customers = numbering.write(out / "customers.parquet")
        data_dir = out.parent.parent
        meta = {
            "version": VERSION,
            "events_count": n,
            "customers": n_customers,
            "events": events,
            "channels": channels,
            "files": [f.relative_to(data_dir).as_posix() for f in files],
            "offsets": offsets,
        }
        (out / "meta.json").write_text(json.dumps(meta))
    finally:
        con.close()


#: The index's arrays as written by ``_Arrays`` (``cust`` comes from ``_Numbering``).
_DTYPES = {**_COLUMNS, _VALUE: np.float64, _ORIGIN: np.int64}


class _Arrays:
    """The ``.npy`` files of one build, appended to batch by batch. Appended with write(), not
    through a memory map: written pages of a map count as the process's memory (at 100M events
    the map's 4 GB came on top of DuckDB's sort)."""

    def __init__(self, out: Path, n: int, *, origin: bool = True) -> None:
        self.n = n
        self.rows = 0
        names = [name for name in _DTYPES if origin or name != _ORIGIN]
        self.files = {name: _npy_writer(out / f"{name}.npy", _DTYPES[name], n) for name in names}

    def write(self, columns: dict[str, Any]) -> None:
        for name, fh in self.files.items():
            fh.write(np.ascontiguousarray(columns[name], dtype=_DTYPES[name]).data)  # no copy
        self.rows += len(columns["cust"])

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()


def _write_sorted(
    con: Any,
    names: list[str],
    offsets: list[int],
    events: list[str],
    channels: list[str],
    out: Path,
    numbering: _Numbering,
) -> None:
    """The arrays in ``(customer_id, timestamp, event_id)`` order, by one sort in DuckDB."""
    listed = "[" + ", ".join(sql_literal(n) for n in names) + "]"
    con.execute(  # a view cannot take parameters: the file list as a literal
        f"CREATE TEMP VIEW ev AS SELECT * FROM read_parquet({listed}, filename = true, "
        "file_row_number = true, union_by_name = true)"  # adopted files: fewer columns
    )
    con.execute(
        "CREATE TEMP TABLE fdict AS SELECT unnest($f::VARCHAR[]) AS filename, "
        "unnest($o::BIGINT[]) AS offset_",
        {"f": names, "o": offsets[:-1]},
    )
    con.execute(
        "CREATE TEMP TABLE edict AS SELECT unnest($e::VARCHAR[]) AS event, "
        "(generate_subscripts($e::VARCHAR[], 1) - 1)::INTEGER AS ecode",
        {"e": events},
    )
    con.execute(
        "CREATE TEMP TABLE chdict AS SELECT unnest($c::VARCHAR[]) AS channel, "
        "(generate_subscripts($c::VARCHAR[], 1) - 1)::SMALLINT AS chcode",
        {"c": channels},
    )
    # one sort, by the customer id itself: a customer's code is the rank of its id, numbered
    # as the sorted stream passes (one sort instead of a DISTINCT, a numbering sort and a
    # join: 0.4–0.6 s less at 10M events)
    reader = con.sql(
        "SELECT e.customer_id AS customer_id, epoch_us(e.timestamp) AS ts, d.ecode AS event, "
        "coalesce(h.chcode, -1::SMALLINT) AS channel, e.value AS value, "
        "f.offset_ + e.file_row_number AS origin "
        "FROM ev e JOIN edict d USING (event) "
        "JOIN fdict f USING (filename) LEFT JOIN chdict h ON e.channel = h.channel "
        "ORDER BY e.customer_id, e.timestamp, e.event_id"
    ).to_arrow_reader(BATCH_ROWS)
    arrays = _Arrays(out, offsets[-1])
    try:
        for batch in reader:
            columns = {"cust": numbering.codes(batch.column("customer_id"))}
            for name in _DTYPES:
                if name not in ("cust", "t_s"):
                    columns[name] = batch.column(name).to_numpy(zero_copy_only=False)
            columns["t_s"] = whole_seconds(columns["ts"])
            arrays.write(columns)
    finally:
        arrays.close()
    if arrays.rows != arrays.n:
        raise RuntimeError(f"sequence index: wrote {arrays.rows} of {arrays.n} events")


def _write_clustered(
    con: Any,
    name: str,
    n: int,
    events: list[str],
    channels: list[str],
    out: Path,
    numbering: _Numbering,
) -> bool:
    """The arrays of one file whose rows are clustered already: each customer's events one run
    of rows, in ``(timestamp, event_id)`` order. They are then written in file order with no
    sort (0.7 s less of 2.2 s at 10M events). Customers are numbered in the order they first
    appear, so ``cust`` still never decreases. False (what was written is to be overwritten)
    when the file is not clustered; the first batch usually shows it (a customer met twice),
    at worst after one pass over the file. Files exported per customer are clustered (so are
    the simulator's); an event log in time order is not."""
    if not events:
        return False

    def enum(values: list[str]) -> str:
        return "ENUM (" + ", ".join(sql_literal(v) for v in values) + ")"

    con.execute(f"CREATE TYPE klantreis_event AS {enum(events)}")
    channel = "-1::SMALLINT"
    if channels:
        con.execute(f"CREATE TYPE klantreis_channel AS {enum(channels)}")
        channel = "coalesce(enum_code(channel::klantreis_channel)::SMALLINT, -1::SMALLINT)"
    # projections only (no join, no sort), so DuckDB keeps the file's row order; the origin
    # check below makes sure of it
    reader = con.sql(
        "SELECT customer_id, hash(customer_id) AS id_hash, epoch_us(timestamp) AS ts, "
        f"enum_code(event::klantreis_event)::INTEGER AS event, {channel} AS channel, "
        "value, file_row_number AS origin FROM read_parquet($f, file_row_number = true)",
        params={"f": name},
    ).to_arrow_reader(BATCH_ROWS)
    arrays = _Arrays(out, n, origin=False)  # row i is row i of the file: no origin.npy
    from .kernels.distinct import repeated_count

    starts: list[np.ndarray] = []  # per batch the id hashes of the customers it starts
    ties: list[np.ndarray] = []  # rows with the customer and timestamp of the row before
    last_ts = 0
    try:
        for batch in reader:
            m = batch.num_rows
            origin = batch.column("origin").to_numpy()
            if not np.array_equal(origin, np.arange(arrays.rows, arrays.rows + m)):
                return False
            cust = numbering.codes(batch.column("customer_id"))
            new = numbering.new
            hashes = batch.column("id_hash").to_numpy()[new]  # a copy: the count reorders it
            if repeated_count(hashes):
                return False  # a customer met twice (or two ids with one hash: sort them)
            starts.append(hashes)
            ts = batch.column("ts").to_numpy()
            before = np.concatenate([[last_ts], ts[:-1]])
            if (~new & (ts < before)).any():
                return False  # a customer's events out of time order
            ties.append(np.flatnonzero(~new & (ts == before)) + arrays.rows)
            last_ts = ts[-1] if m else last_ts
            columns = {"cust": cust, "ts": ts, "t_s": whole_seconds(ts)}  # origin: the row
            for column in ("event", "channel", "value"):
                columns[column] = batch.column(column).to_numpy(zero_copy_only=False)
            arrays.write(columns)
    finally:
        arrays.close()
    hashes = np.concatenate(starts) if starts else np.empty(0, np.uint64)
    if arrays.rows != n or repeated_count(hashes):
        return False  # a customer met in two batches (or two ids with one hash)
    tied = np.concatenate(ties) if ties else np.empty(0, np.int64)
    return len(tied) == 0 or _in_event_id_order(con, name, tied)


def _in_event_id_order(con: Any, name: str, tied: np.ndarray) -> bool:
    """Whether each row of ``tied`` (same customer and timestamp as the row before it) has a
    larger event id than the row before it, the order's tie-break; only these rows' ids are
    read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = np.sort(np.concatenate([tied - 1, tied]))
    rows = rows[np.r_[True, rows[1:] != rows[:-1]]]  # (np.unique is slow on int64 here)
    con.register("klantreis_tied", pa.table({"row": pa.array(rows, pa.int64())}))
    try:
        ids = (
            con.sql(
                "SELECT e.event_id FROM read_parquet($f, file_row_number = true) e SEMI JOIN "
                "klantreis_tied t ON e.file_row_number = t.row ORDER BY e.file_row_number",
                params={"f": name},
            )
            .to_arrow_table()
            .column("event_id")
        )
    finally:
        con.unregister("klantreis_tied")
    at = np.searchsorted(rows, tied)  # each tied row; at - 1 is the row before it
    later, earlier = ids.take(pa.array(at)), ids.take(pa.array(at - 1))
    return bool(pc.all(pc.greater(later, earlier)).as_py())


class _Numbering:
    """Customer codes for a stream with each customer's rows together (sorted by customer id,
    or clustered): 0 for the first id, +1 at each new id; ``new`` marks the rows of the last
    batch that start a customer. The ids in code order become the index's
    ``customers.parquet`` (customer_id, code)."""

    def __init__(self) -> None:
        self.last: Any = None  # the id the previous batch ended with
        self.next = 0
        self.ids: list[Any] = []
        self.new = np.ones(0, dtype=bool)

    def codes(self, ids: Any) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(ids)
        new = np.ones(n, dtype=bool)
        if n > 1:
            later, earlier = ids.slice(1), ids.slice(0, n - 1)
            new[1:] = pc.not_equal(later, earlier).to_numpy(zero_copy_only=False)
        if n and self.last is not None:
            new[0] = ids[0].as_py() != self.last
        codes = np.cumsum(new, dtype=np.int32)
        codes += self.next - 1
        if n:
            self.ids.append(ids.filter(pa.array(new)))
            self.last = ids[n - 1].as_py()
            self.next = int(codes[-1]) + 1
        self.new = new
        return codes

    def write(self, path: Path) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        ids = pa.concat_arrays([a.cast(pa.string()) for a in self.ids]) if self.ids else []
        table = pa.table(
            {
                "customer_id": pa.array(ids, pa.string()),
                "code": pa.array(np.arange(self.next, dtype=np.int32)),
            }
        )
        # ids are mostly distinct: a dictionary would be tried and dropped (0.2 s against
        # 0.05 s for 1.2M ids)
        pq.write_table(table, path, use_dictionary=False)
        return self.next


def _build_memory(settings: dict[str, Any]) -> str:
    """DuckDB's memory for a build: the engine's limit, at most 4 GB."""
    text = str(settings.get("memory_limit", "4GB")).strip().upper().replace(" ", "")
    units = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
    for unit, factor in sorted(units.items(), key=lambda u: -len(u[0])):
        if text.endswith(unit):
            try:
                return f"{min(float(text[: -len(unit)]) * factor, 4e9) / 1e6:.0f}MB"
            except ValueError:
                break
    return "4000MB"


def _npy_writer(path: Path, dtype: Any, n: int) -> Any:
    """A file to append ``n`` values of ``dtype`` to, with the ``.npy`` header already written."""
    fh = path.open("wb")
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False}
    np.lib.format.write_array_header_1_0(fh, {**header, "shape": (n,)})
    return fh


# -- the events of an analysis, as node codes --------------------------------------------------


@dataclass
class Nodes:
    """The prepared events as nodes of one level, in sequence order (a subset of the index).

    ``cust``, ``node``, ``ts`` (µs), ``t_s`` (s), ``channel``, ``value``, ``event`` are parallel
    arrays; ``names[node]`` is a node's name; ``rows`` the positions in the index.
    """

    index: SequenceIndex
    rows: np.ndarray
    cust: np.ndarray
    node: np.ndarray
    names: list[str]
    ts: np.ndarray
    t_s: np.ndarray

    @property
    def channel(self) -> np.ndarray:
        return np.asarray(self.index.channel[self.rows])

    @property
    def value(self) -> np.ndarray:
        return np.asarray(self.index.value[self.rows])

    @property
    def event(self) -> np.ndarray:
        return np.asarray(self.index.event[self.rows])

    def __len__(self) -> int:
        return len(self.rows)

    def collapse_repeats(self) -> Nodes:
        """Drops a node that repeats the customer's previous node (see ``linking``)."""
        if len(self.rows) == 0:
            return self
        keep = np.ones(len(self.rows), dtype=bool)
        keep[1:] = (self.cust[1:] != self.cust[:-1]) | (self.node[1:] != self.node[:-1])
        return self.take(keep)

    def take(self, mask: np.ndarray) -> Nodes:
        return Nodes(
            self.index,
            self.rows[mask],
            self.cust[mask],
            self.node[mask],
            self.names,
            self.ts[mask],
            self.t_s[mask],
        )

    def firsts(self) -> np.ndarray:
        """True at the first node of each customer."""
        out = np.ones(len(self.cust), dtype=bool)
        out[1:] = self.cust[1:] != self.cust[:-1]
        return out


def _property_candidates(
    source: Source, journey: Journey, events: list[str | None]
) -> list[str] | None:
    """The event names a rule with a property condition may match (its event pattern alone,
    evaluated by the SQL linking's own condition); None: such a rule names no event, so any
    event may match."""
    import ibis

    from ..model import MatchRule
    from .linking import rule_condition

    patterns = []
    for tp in journey.touchpoints:
        for rule in tp.match:
            if rule.properties:
                if rule.event_pattern() is None:
                    return None
                only = {k: v for k, v in rule.model_dump().items() if k.startswith("event")}
                patterns.append(MatchRule(**only))
    names = [e for e in events if e is not None]
    if not patterns or not names:
        return []
    table = ibis.memtable({"event": names}, schema={"event": "string"})
    cond = rule_condition(table, patterns[0])
    for rule in patterns[1:]:
        cond = cond | rule_condition(table, rule)
    hit = source.con.to_pyarrow(table.filter(cond).select("event"))
    return sorted(hit.column("event").to_pylist())


def _has_property_rules(journey: Journey | None) -> bool:
    if journey is None:
        return False
    return any(rule.properties for tp in journey.touchpoints for rule in tp.match)


def whole_seconds(ts: np.ndarray) -> np.ndarray:
    """Microseconds since the epoch as whole seconds, exactly as the SQL path computes ``t_s``
    (``CAST(epoch(timestamp) AS BIGINT)`` on DuckDB: the seconds as a double, rounded half to
    even). In NumPy per batch, 0.15 s less at 10M events than in the build's query."""
    seconds = ts / 1e6
    return np.rint(seconds, out=seconds).astype(np.int64)


def micros(moment: Any) -> int:
    """A naive UTC datetime as microseconds since 1970 (the index's ``ts``)."""
    import datetime as dt

    delta = moment - dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _node_codes(p: Prepared, index: SequenceIndex) -> tuple[np.ndarray, list[str]] | None:
    """Per event the node code at the query's level (-1: not a node), and the node names."""
    level = p.level
    if level == "event":
        return np.asarray(index.event), list(index.events)
    journey = p.journey
    if journey is None:  # only the channel level goes without a journey: the own channel
        return np.asarray(index.channel, dtype=np.int32), list(index.channels)
    tp_names = [t.id for t in journey.touchpoints]
    tp: np.ndarray
    if _has_property_rules(journey):  # the stored link column (int16), as it is
        tp = index.touchpoint_codes(p.source, journey)
    else:  # links depend on event and channel only: link every pair once, then look up
        n_ch = len(index.channels) + 1
        if len(index.events) * n_ch > 2_000_000:
            return None
        events: list[str | None] = list(index.events)
        lut = link_pairs(
            p.source, journey, events, list(index.channels), tp_names, keep_in=index.path
        )
        from .kernels.common import code_of_pair

        tp = np.empty(len(index.event), dtype=np.int32)  # lut[event * n_ch + channel + 1]
        code_of_pair(
            index.event, index.channel, np.r_[np.full(n_ch, -1, dtype=np.int32), lut], n_ch, tp
        )
    return codes_at_level(level, journey, tp, tp_names, index.channel, list(index.channels))


def link_pairs(
    source: Source,
    journey: Journey,
    events: list[str | None],
    channels: list[str],
    tp_names: list[str],
    *,
    keep_in: Path | None = None,
) -> np.ndarray:
    """For every (event, channel) pair, ``event`` major and channel ``None`` first
    (``pair = e * (len(channels) + 1) + channel + 1``): the position in ``tp_names`` of the
    touchpoint it links to (-1: none), by the SQL linking itself with no event properties.

    With ``keep_in`` (an index directory) the answer is kept there per version of the match
    rules (``pairs-<digest>.npy``, like the link column), so a new process needs no Ibis."""
    if keep_in is not None:
        rules = [
            [tp.id, [r.model_dump(mode="json", exclude_none=True) for r in tp.match]]
            for tp in journey.touchpoints
        ]
        text = json.dumps([rules, events, channels, tp_names], sort_keys=True)
        path = keep_in / f"pairs-{hashlib.sha1(text.encode()).hexdigest()[:16]}.npy"
        with contextlib.suppress(OSError, ValueError):
            return np.asarray(np.load(path), dtype=np.int32)
        linked = link_pairs(source, journey, events, channels, tp_names)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.npy")
        with contextlib.suppress(OSError):  # a read-only index: computed again next time
            np.save(tmp, linked)
            tmp.replace(path)
        return linked
    import ibis
    import pyarrow as pa
    import pyarrow.compute as pc

    from .linking import link

    n_ch = len(channels) + 1
    pairs = ibis.memtable(
        pa.table(
            {
                "event": pa.array(np.repeat(np.array(events, dtype=object), n_ch), pa.string()),
                "channel": pa.array(
                    np.tile(np.array([None, *channels], dtype=object), len(events)), pa.string()
                ),
                "properties": pa.nulls(len(events) * n_ch, pa.map_(pa.string(), pa.string())),
            }
        )
    )
    got = source.con.to_pyarrow(link(pairs, journey).select("touchpoint"))
    linked = pc.fill_null(pc.index_in(got.column("touchpoint"), value_set=pa.array(tp_names)), -1)
    return np.asarray(linked.to_numpy(zero_copy_only=False), dtype=np.int32)


def codes_at_level(
    level: str,
    journey: Journey,
    tp: np.ndarray,
    tp_names: list[str],
    channel: np.ndarray,
    channel_names: list[str],
) -> tuple[np.ndarray, list[str]]:
    """Node codes at ``level`` (touchpoint, stage or channel) from per-row touchpoint codes
    (positions in ``tp_names``, -1: none) and channel codes (positions in ``channel_names``,
    -1: none), as ``linking.at_level`` defines the nodes; and the node names."""
    if level == "touchpoint":
        return np.asarray(tp, dtype=np.int32), tp_names
    by_id = {t.id: t for t in journey.touchpoints}
    if level == "stage":
        names = [s.id for s in journey.stages_in_order()]
        names += sorted({t.stage for t in journey.touchpoints} - set(names))
        code = {n: i for i, n in enumerate(names)}
        lut = [code[by_id[n].stage] if n in by_id else -1 for n in tp_names]
        return np.array([*lut, -1], dtype=np.int32)[tp], names  # tp -1 → the appended -1
    # channel: the row's own channel, else the linked touchpoint's
    tp_channels = {t.channel for t in journey.touchpoints if t.channel}
    names = sorted(set(channel_names) | tp_channels)
    code = {n: i for i, n in enumerate(names)}
    of_tp = [
        code.get(by_id[n].channel, -1) if n in by_id and by_id[n].channel else -1 for n in tp_names
    ]
    # table[channel + 1, touchpoint + 1]: no channel (row 0) takes the touchpoint's
    width = len(tp_names) + 1
    table = np.empty((len(channel_names) + 1, width), dtype=np.int32)
    table[0] = [-1, *of_tp]
    table[1:] = np.array([code[c] for c in channel_names], dtype=np.int32)[:, None]
    from .kernels.common import code_of_pair

    node = np.empty(len(channel), dtype=np.int32)
    code_of_pair(np.asarray(channel), np.asarray(tp), table.ravel(), width, node)
    return node, names


@dataclass
class Selection:
    """The prepared events as index rows, not yet materialised: per row its ``node`` code at the
    level (-1: not a node), and which customers (``keep_customer[code]``), channels
    (``keep_channel[channel + 1]``) and times (``since <= ts < until``, µs) the query keeps.
    Kernels (:mod:`klantreis.engine.kernels`) read it in one pass; :meth:`nodes` gives the kept
    rows as arrays for NumPy code."""

    index: SequenceIndex
    node: np.ndarray
    names: list[str]
    keep_customer: np.ndarray
    keep_channel: np.ndarray
    since: int
    until: int

    def mask(self) -> np.ndarray:
        index = self.index
        mask = self.node >= 0
        if not self.keep_customer.all():
            mask &= self.keep_customer[index.cust]
        if not self.keep_channel.all():
            mask &= self.keep_channel[index.channel + 1]
        if self.since > _MIN_US:
            mask &= index.ts >= self.since
        if self.until < _MAX_US:
            mask &= index.ts < self.until
        return mask

    def nodes(self) -> Nodes:
        index = self.index
        rows = np.flatnonzero(self.mask())
        return Nodes(
            index,
            rows,
            np.asarray(index.cust[rows]),
            np.asarray(self.node[rows], dtype=np.int32),
            self.names,
            np.asarray(index.ts[rows]),
            np.asarray(index.t_s[rows]),
        )


_MIN_US = -(1 << 62)
_MAX_US = 1 << 62


def select(p: Prepared, *, in_period: bool = True) -> Selection | None:
    """The prepared events (scope, channel filter, and with ``in_period`` the period) as a
    :class:`Selection` of the sequence index; None when the index does not apply (the caller
    then runs its SQL)."""
    index = p.index
    if index is None:
        return None
    table = _node_codes(p, index)
    if table is None:
        return None
    node, names = table
    keep_customer = np.ones(index.n_customers, dtype=bool)
    if p.in_scope is not None:
        keep_customer[:] = False
        keep_customer[p.scope_codes()] = True
    keep_channel = np.ones(len(index.channels) + 1, dtype=bool)
    if p.query.channel:
        wanted = {c.strip() for c in p.query.channel.split(",") if c.strip()}
        keep_channel[:] = False
        keep_channel[[i + 1 for i, c in enumerate(index.channels) if c in wanted]] = True
    since, until = _MIN_US, _MAX_US
    if in_period and p.period.since is not None:
        since = micros(p.period.since)
    if in_period and p.period.until is not None:
        until = micros(p.period.until)
    return Selection(index, node, names, keep_customer, keep_channel, since, until)


def nodes_for(p: Prepared, *, in_period: bool = True) -> Nodes | None:
    """:func:`select`, materialised as :class:`Nodes` (the kept rows as arrays)."""
    selection = select(p, in_period=in_period)
    return None if selection is None else selection.nodes()


# -- grouped statistics over arrays (what the SQL path's GROUP BY computes) -------------------


def grouped(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable order that puts rows with the same code together (rows keep their sequence
    order inside a group), and where each group starts (length ``n_groups + 1``)."""
    codes = np.asarray(codes)
    if n_groups <= 1 << 16:  # NumPy radix-sorts 16-bit keys: O(n)
        order = np.argsort(codes.astype(np.uint16), kind="stable")
    else:
        order = np.argsort(codes, kind="stable")
    bounds = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=n_groups), out=bounds[1:])
    return order, bounds


def distinct_runs(keys: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """True where (group, key) starts a new run; with keys sorted inside each group (as customer
    codes are after :func:`grouped`), counting these per group counts distinct keys."""
    out = np.ones(len(keys), dtype=bool)
    out[1:] = (keys[1:] != keys[:-1]) | (groups[1:] != groups[:-1])
    return out


def quantiles(values: np.ndarray, bounds: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Per group (rows ``bounds[g]:bounds[g+1]`` of ``values``) the continuous quantiles
    ``qs`` (linear interpolation, as SQL ``quantile_cont`` / ``median``); NaN for an empty
    group. Shape (groups, len(qs))."""
    out = np.full((len(bounds) - 1, len(qs)), np.nan)
    for g in range(len(bounds) - 1):
        a, b = int(bounds[g]), int(bounds[g + 1])
        m = b - a
        if m == 0:
            continue
        positions = [(m - 1) * q for q in qs]
        kth = sorted({int(np.floor(x)) for x in positions} | {int(np.ceil(x)) for x in positions})
        part = np.partition(values[a:b], kth)
        for j, x in enumerate(positions):
            lo, hi = int(np.floor(x)), int(np.ceil(x))
            low = float(part[lo])
            out[g, j] = low + (x - lo) * (float(part[hi]) - low)
    return out
