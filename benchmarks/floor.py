"""The floor: what the machine allows, measured in the same run.

- ``bandwidth_gbs``: memory read bandwidth, numpy summing a 512 MiB float64 array in as many
  threads as there are cores (numpy releases the GIL), best of 5;
- ``decode_seconds``: the time to merely read the columns a sequence analysis needs
  (``customer_id``, ``timestamp``, ``event``) from the workspace's committed Parquet files, with
  pyarrow (``read_table``) and with DuckDB (a scan that decodes every value); median of 3 each;
- ``scan_seconds``: the events × 17 bytes a sequence analysis needs (a 4-byte customer code, an
  8-byte timestamp, a 2-byte event code, a 3-byte margin), at that bandwidth.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from typing import Any

__all__ = ["BYTES_PER_EVENT", "COLUMNS", "run"]

BYTES_PER_EVENT = 17
COLUMNS = ["customer_id", "timestamp", "event"]


def bandwidth_gbs(size_mib: int = 512, repeats: int = 5) -> float:
    import numpy as np

    a = np.ones(size_mib * 1024 * 1024 // 8)
    threads = max(1, os.cpu_count() or 1)
    parts = np.array_split(a, threads)
    best = float("inf")
    for _ in range(repeats):
        workers = [threading.Thread(target=p.sum) for p in parts]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - t0)
    return a.nbytes / best / 1e9


def _median_time(fn: Any, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(spec: dict[str, Any]) -> dict[str, Any]:
    import duckdb
    import pyarrow.parquet as pq

    files = list(spec["files"])
    bw = bandwidth_gbs()
    arrow_s = _median_time(lambda: pq.read_table(files, columns=COLUMNS))
    con = duckdb.connect()
    sql = (
        "SELECT max(length(customer_id)), max(timestamp), max(length(event)) "
        "FROM read_parquet($files)"
    )
    duck_s = _median_time(lambda: con.execute(sql, {"files": files}).fetchall())
    events = int(spec["events"])
    return {
        "bandwidth_gbs": bw,
        "decode_arrow_seconds": arrow_s,
        "decode_duckdb_seconds": duck_s,
        "decode_seconds": min(arrow_s, duck_s),
        "scan_seconds": events * BYTES_PER_EVENT / (bw * 1e9),
        "parquet_bytes": sum(os.path.getsize(f) for f in files),
    }
