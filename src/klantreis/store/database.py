"""The embedded DuckDB file ``data/klantreis.duckdb``: registry, ingest log, quarantine, audit log.

The measured rows themselves live in Parquet files under ``data/<table>/``; this database
says which of those files are *committed*. A file becomes part of the store in the same
transaction that writes its ingest-log entry, so an ingest is all or nothing. Files on disk
that the registry does not name (left by a killed writer) are never read and are deleted by
the next writer (:func:`recover`).

Connections are short-lived: a writer opens the database only to commit, so a reader (which
opens it read-only) waits at most for one commit. DuckDB lets one process write the file at a
time; concurrent openers retry for ``LOCK_WAIT_S`` seconds.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..errors import WorkspaceLocked
from .schema import ACCOUNTS, CUSTOMERS, EVENTS, RESPONSES, Table

__all__ = [
    "CANONICAL",
    "DATABASE_FILE",
    "LOCK_WAIT_S",
    "STAGING_DIR",
    "Adopted",
    "adopted_files",
    "canonical_table",
    "committed_files",
    "connect",
    "ensure_schema",
    "now_utc",
    "read_connection",
    "recover",
    "salt",
    "sql_literal",
    "write_transaction",
]

DATABASE_FILE = "klantreis.duckdb"
STAGING_DIR = ".staging"
#: Derived data (the engine's sequence index); deleted whenever a customer is forgotten.
INDEX_DIR = "_index"
LOCK_WAIT_S = 30.0

#: The canonical tables kept as Parquet files, by name.
CANONICAL: dict[str, Table] = {t.name: t for t in (EVENTS, RESPONSES, CUSTOMERS, ACCOUNTS)}

SCHEMA_VERSION = "1"

_DDL = """
CREATE TABLE IF NOT EXISTS store_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS data_files (
    path VARCHAR PRIMARY KEY,
    table_name VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    ingest_id BIGINT,
    committed_at TIMESTAMP NOT NULL,
    source_file VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS ingest_id_seq START 1;
CREATE TABLE IF NOT EXISTS ingest_log (
    ingest_id BIGINT PRIMARY KEY,
    table_name VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    sources VARCHAR,
    format VARCHAR,
    rows_read BIGINT,
    accepted BIGINT,
    duplicates BIGINT,
    quarantined BIGINT,
    replaced BIGINT,
    command VARCHAR,
    options VARCHAR,
    message VARCHAR
);
CREATE TABLE IF NOT EXISTS quarantine (
    ingest_id BIGINT NOT NULL,
    table_name VARCHAR NOT NULL,
    source_file VARCHAR,
    source_line BIGINT,
    field VARCHAR,
    value VARCHAR,
    reason VARCHAR NOT NULL,
    message VARCHAR,
    customer_id VARCHAR,
    raw VARCHAR,
    quarantined_at TIMESTAMP NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS audit_id_seq START 1;
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id BIGINT PRIMARY KEY,
    erased_at TIMESTAMP NOT NULL,
    action VARCHAR NOT NULL,
    subject_hash VARCHAR NOT NULL,
    rows_removed VARCHAR NOT NULL,
    files_rewritten BIGINT NOT NULL,
    command VARCHAR
);
"""

#: Tables of the database that belong to the store itself (not caches of other modules).
STORE_TABLES = frozenset({"store_meta", "data_files", "ingest_log", "quarantine", "audit_log"})


@dataclass(frozen=True)
class Adopted:
    """Where the rows of an adopted file come from: row *n* of the file is line *n* of
    ``source_file``, ingested by ``ingest_id``."""

    source_file: str
    ingest_id: int


def now_utc() -> dt.datetime:
    """The current time in UTC without a time zone (how the store keeps timestamps)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal, for the few places DuckDB takes no parameter (a view's
    file list, an ENUM's values)."""
    return "'" + text.replace("'", "''") + "'"


def canonical_table(name: str) -> Table:
    try:
        return CANONICAL[name]
    except KeyError:
        raise KeyError(f"Unknown table {name!r}. Known tables: {', '.join(CANONICAL)}.") from None


def connect(
    path: Path, *, read_only: bool, wait_s: float = LOCK_WAIT_S
) -> duckdb.DuckDBPyConnection:
    """Open the database, retrying while another process has it open for writing."""
    deadline = time.monotonic() + wait_s
    delay = 0.01
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            con.execute("SET enable_progress_bar = false")
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                if "lock" in str(exc).lower():
                    raise WorkspaceLocked(
                        f"The workspace database {str(path)!r} stayed busy for {wait_s:.0f} s.",
                        hint="another klantreis process keeps it open; try again later.",
                    ) from exc
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)
    # added after the first release: a store written before gets it on its next write
    con.execute("ALTER TABLE data_files ADD COLUMN IF NOT EXISTS source_file VARCHAR")
    con.execute(
        "INSERT INTO store_meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
        [SCHEMA_VERSION],
    )
    con.execute(
        "INSERT INTO store_meta VALUES ('salt', ?) ON CONFLICT DO NOTHING",
        [secrets.token_hex(16)],
    )


@contextmanager
def read_connection(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection, or None when the store has no database yet (nothing ingested)."""
    if not db_path.exists():
        yield None
        return
    con = connect(db_path, read_only=True)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def write_transaction(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction on the database (the caller holds the write lock)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(db_path, read_only=False)
    try:
        ensure_schema(con)
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


def committed_files(con: duckdb.DuckDBPyConnection | None, table: str) -> list[str]:
    """Paths (relative to the data directory) of the committed files of ``table``."""
    if con is None:
        return []
    rows = con.execute(
        "SELECT path FROM data_files WHERE table_name = ? ORDER BY path", [table]
    ).fetchall()
    return [r[0] for r in rows]


def adopted_files(con: duckdb.DuckDBPyConnection | None, table: str) -> dict[str, Adopted]:
    """The committed files of ``table`` that are source files kept as they are, by relative
    path (see ``store/adopt.py``); they lack the provenance columns, which readers fill."""
    if con is None:
        return {}
    try:
        rows = con.execute(
            "SELECT path, source_file, ingest_id FROM data_files "
            "WHERE table_name = ? AND source_file IS NOT NULL",
            [table],
        ).fetchall()
    except duckdb.BinderException:  # a store written before adoption existed: none adopted
        return {}
    return {r[0]: Adopted(r[1], int(r[2])) for r in rows}


def salt(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT value FROM store_meta WHERE key = 'salt'").fetchall()[0][0])


def recover(data_dir: Path) -> dict[str, int]:
    """Undo what a killed writer left behind (call with the write lock held).

    Deletes the staging directory and every store file (``part-*.parquet``) under
    ``data/<table>/`` that the registry does not name, and marks ingests still 'running' as
    'aborted'. Files with other names are left alone (and never read). Without a database
    nothing was ever committed or staged by a writer that got as far as writing data (an
    ingest creates the database before it writes a file), so only staging is removed.
    Returns how many files and ingests it cleaned up.
    """
    db_path = data_dir / DATABASE_FILE
    staging = data_dir / STAGING_DIR
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
    if not db_path.exists():
        return {"files": 0, "ingests": 0}
    with write_transaction(db_path) as con:
        registered = {r[0] for r in con.execute("SELECT path FROM data_files").fetchall()}
        aborted = con.execute(
            "UPDATE ingest_log SET status = 'aborted', finished_at = ?, "
            "message = 'the ingest was interrupted; nothing of it was committed' "
            "WHERE status = 'running' RETURNING ingest_id",
            [now_utc()],
        ).fetchall()
    removed_files = 0
    for name in CANONICAL:
        for f in (data_dir / name).glob("part-*.parquet*"):
            if f.relative_to(data_dir).as_posix() not in registered:
                f.unlink(missing_ok=True)
                removed_files += 1
    return {"files": removed_files, "ingests": len(aborted)}
