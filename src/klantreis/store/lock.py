"""One writer at a time: an exclusive lock file in the workspace's data directory.

A writer (ingest, forget) holds ``data/.write.lock`` with ``fcntl.flock`` for as long as it
writes; the file says who holds it (pid, host, command, since) so a second writer is told
whom it waits for. The operating system releases a flock when its holder dies, so a killed
writer never leaves a stale lock behind. Readers never take the lock.

The lock is re-entrant within one process (a writer may call another writer).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import WorkspaceLocked

__all__ = ["LOCK_FILE", "LockHolder", "lock_holder", "write_lock"]

LOCK_FILE = ".write.lock"

_held: dict[Path, tuple[int, int]] = {}  # lock path -> (fd, depth) held by this process
_guard = threading.Lock()


@dataclass(frozen=True)
class LockHolder:
    """Who holds the write lock, as written in the lock file."""

    pid: int | None
    host: str
    command: str
    since: str

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "command": self.command, "since": self.since}

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} ({self.command!r}, since {self.since})"


def _read_holder(path: Path) -> LockHolder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return None
    if not data:
        return None
    return LockHolder(
        pid=data.get("pid"),
        host=str(data.get("host", "?")),
        command=str(data.get("command", "?")),
        since=str(data.get("since", "?")),
    )


def lock_holder(data_dir: Path) -> LockHolder | None:
    """The current holder of the write lock, or None when nobody writes."""
    path = data_dir / LOCK_FILE
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path) or LockHolder(None, "?", "?", "?")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _command() -> str:
    return " ".join(Path(sys.argv[0]).name if i == 0 else a for i, a in enumerate(sys.argv))


@contextmanager
def write_lock(
    data_dir: Path, *, command: str | None = None, wait_s: float = 0.0
) -> Iterator[bool]:
    """Hold the workspace's write lock; yields True when this call took it (not re-entered).

    Raises :class:`WorkspaceLocked` naming the holder when another process holds it and it
    is not released within ``wait_s`` seconds.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = (data_dir / LOCK_FILE).resolve()
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield False
        finally:
            with _guard:
                fd, depth = _held[path]
                _held[path] = (fd, depth - 1)
        return

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            os.close(fd)
            holder = _read_holder(path)
            who = holder.describe() if holder else "another process"
            raise WorkspaceLocked(
                f"The workspace data in {str(data_dir)!r} is being written by {who}.",
                hint="wait until that command has finished and try again; reading "
                "(analyses, export) keeps working meanwhile.",
            ) from None
    holder_text = json.dumps(
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command or _command(),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )
    os.ftruncate(fd, 0)
    os.pwrite(fd, holder_text.encode("utf-8"), 0)
    with _guard:
        _held[path] = (fd, 1)
    try:
        yield True
    finally:
        with _guard:
            del _held[path]
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
