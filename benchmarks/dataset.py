"""Sizes and the simulated data behind them, cached in ``.bench-cache/sim-<size>/``.

A size is a number of events (``1M``, ``10M``, ``100M``, ``250k``); the simulator is asked for
``ceil(size / EVENTS_PER_CUSTOMER)`` customers of the ``five-phases`` journey, seed 8, and the
real event count is reported. The cache is keyed by the customer count, the seed and the format,
and reused only when the simulator finished (``truth.json`` is written last).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["JOURNEY", "KLANTREIS", "SEED", "Dataset", "dataset", "parse_size", "size_label"]

JOURNEY = "five-phases"
SEED = 8
#: Events per customer of the five-phases simulation (measured: 81,464 events / 10,000).
EVENTS_PER_CUSTOMER = 8.15
#: The ``klantreis`` command of this interpreter's environment.
KLANTREIS = str(Path(sys.executable).with_name("klantreis"))


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise ValueError(f"size {text!r}: write e.g. 250k, 1M, 10M or 100M")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(float(m.group(1)) * factor)


def size_label(events: int) -> str:
    if events >= 1_000_000 and events % 1_000_000 == 0:
        return f"{events // 1_000_000}M"
    if events >= 1_000 and events % 1_000 == 0:
        return f"{events // 1_000}k"
    return str(events)


@dataclass(frozen=True)
class Dataset:
    label: str
    customers: int
    directory: Path  # Parquet tables
    csv_directory: Path | None  # the same data as CSV (None: not made)
    simulate_seconds: float | None  # None: taken from the cache

    @property
    def events_file(self) -> Path:
        return self.directory / "events.parquet"

    @property
    def events_csv(self) -> Path | None:
        return self.csv_directory / "events.csv" if self.csv_directory else None


def _simulate(out: Path, customers: int, fmt: str) -> float | None:
    if (out / "truth.json").exists():
        return None
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    subprocess.run(
        [
            KLANTREIS,
            "simulate",
            "-j",
            JOURNEY,
            "-n",
            str(customers),
            "--seed",
            str(SEED),
            "--format",
            fmt,
            "-o",
            str(out),
            "-q",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def dataset(cache: Path, events: int, *, csv: bool = True) -> Dataset:
    """The simulated data for ``events`` events (made once, then read from the cache)."""
    customers = max(1, math.ceil(events / EVENTS_PER_CUSTOMER))
    base = cache / f"sim-{JOURNEY}-s{SEED}-n{customers}"
    seconds = _simulate(base / "parquet", customers, "parquet")
    csv_dir = None
    if csv:
        csv_dir = base / "csv"
        _simulate(csv_dir, customers, "csv")
    return Dataset(size_label(events), customers, base / "parquet", csv_dir, seconds)
