"""The write lock: who holds it, re-entry within a process, release on exit."""

from __future__ import annotations

import json
import os

import pytest

from klantreis.errors import WorkspaceLocked
from klantreis.store.lock import LOCK_FILE, lock_holder, write_lock


def test_lock_file_names_the_holder_and_is_emptied_on_release(tmp_path):
    assert lock_holder(tmp_path) is None
    with write_lock(tmp_path, command="klantreis ingest events big.csv") as took:
        assert took is True
        data = json.loads((tmp_path / LOCK_FILE).read_text(encoding="utf-8"))
        assert data["pid"] == os.getpid()
        assert data["command"] == "klantreis ingest events big.csv"
        with write_lock(tmp_path) as again:  # re-entered by the same process
            assert again is False
    assert (tmp_path / LOCK_FILE).read_text(encoding="utf-8") == ""
    assert lock_holder(tmp_path) is None


def test_a_second_open_file_description_is_refused(tmp_path):
    import fcntl

    path = tmp_path / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(
            fd,
            json.dumps({"pid": 4242, "host": "etl-1", "command": "nightly", "since": "t"}).encode(),
        )
        holder = lock_holder(tmp_path)
        assert holder is not None and holder.describe() == "pid 4242 on etl-1 ('nightly', since t)"
        with (
            pytest.raises(WorkspaceLocked, match=r"being written by pid 4242 on etl-1 \('nightly'"),
            write_lock(tmp_path),
        ):
            pass
    finally:
        os.close(fd)
    with write_lock(tmp_path) as took:  # released when the holder's descriptor is closed
        assert took
