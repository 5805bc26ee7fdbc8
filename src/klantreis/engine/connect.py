"""Backends: the embedded DuckDB (default), Apache Spark (PySpark) and any Ibis connection URL.

An *engine* is named by a string:

- ``"duckdb"`` — an in-process DuckDB connection (the default);
- ``"spark"`` — PySpark in local mode (``local[2]``); ``"spark:MASTER"`` names a master, e.g.
  ``"spark:local[4]"`` or ``"spark:spark://host:7077"``;
- anything with ``://`` — an Ibis connection URL (``ibis.connect(url)``), e.g.
  ``"postgres://user@host/db"``; the events must live there in tables named like the canonical
  tables (``events``, ``responses``, ``customers``).

Every process shares ONE SparkSession (small shuffle partitions, UTC session time zone): starting
Spark takes seconds, so it is started once and reused.
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from ..errors import EngineError, EngineNotAvailable, UsageError
from .lazy import ibis

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["ENGINES", "backend_kind", "connect", "duckdb_settings", "spark_session"]

#: The engines named by a word; others are given as ``spark:MASTER`` or as a URL.
ENGINES = ("duckdb", "spark")

_lock = threading.Lock()
_spark: Any = None
_spark_backend: BaseBackend | None = None


def connect(engine: str = "duckdb") -> BaseBackend:
    """An Ibis backend for ``engine`` (see the module docstring for the names)."""
    name = (engine or "duckdb").strip()
    if name == "duckdb":
        return ibis.duckdb.connect(**duckdb_settings())
    if name == "spark" or name.startswith("spark:"):
        master = name.partition(":")[2] or "local[2]"
        return _spark_connect(master)
    if "://" in name:
        try:
            return ibis.connect(name)
        except ImportError as exc:
            raise EngineNotAvailable(
                f"The engine {name.split('://')[0]!r} needs a package that is not installed ({exc}).",
                hint="install the Ibis backend, e.g. pip install 'ibis-framework[postgres]'.",
            ) from exc
        except Exception as exc:
            raise EngineError(
                f"Could not connect to {name!r}: {exc}",
                hint="check the URL; klantreis reads the tables events, responses and customers there.",
            ) from exc
    raise UsageError(
        f"Unknown engine {engine!r}.",
        hint="use duckdb (default), spark, spark:MASTER or an Ibis URL such as postgres://host/db.",
    )


def duckdb_settings() -> dict[str, Any]:
    """The settings of every DuckDB connection of the engine, chosen deliberately.

    - ``threads``: ``KLANTREIS_THREADS``, else every core (DuckDB's default, made explicit);
    - ``memory_limit``: ``KLANTREIS_MEMORY_LIMIT`` (e.g. ``4GB``), else half the machine's
      memory and at most 6 GB. DuckDB's own default is 80% of memory; the cap keeps an analysis
      of 100M events under 8 GiB of RSS (buffers + Python) and makes larger sorts spill;
    - ``temp_directory``: where it spills, ``KLANTREIS_TEMP_DIR``, else
      ``<system temp>/klantreis-duckdb``.
    """
    threads = int(os.environ.get("KLANTREIS_THREADS") or os.cpu_count() or 1)
    limit = os.environ.get("KLANTREIS_MEMORY_LIMIT")
    if not limit:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 8 * 2**30
        limit = f"{max(1, min(6 * 2**30, total // 2) // 2**20)}MB"
    temp = os.environ.get("KLANTREIS_TEMP_DIR") or os.path.join(
        tempfile.gettempdir(), "klantreis-duckdb"
    )
    return {"threads": threads, "memory_limit": limit, "temp_directory": temp}


def spark_session(master: str = "local[2]") -> Any:
    """The process's shared SparkSession (created on first use)."""
    global _spark
    with _lock:
        if _spark is not None:
            return _spark
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise EngineNotAvailable(
                "The Spark engine needs PySpark, which is not installed.",
                hint="pip install 'klantreis[spark]' (PySpark 4.0.1) and a Java 17 runtime "
                "(scripts/setup-system.sh installs it).",
            ) from exc
        builder = (
            SparkSession.builder.master(master)
            .appName("klantreis")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", os.environ.get("KLANTREIS_SPARK_MEMORY", "2g"))
            .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        )
        try:
            _spark = builder.getOrCreate()
        except Exception as exc:  # e.g. no Java runtime
            raise EngineNotAvailable(
                f"Spark could not start: {exc}",
                hint="Spark needs a Java 17 runtime; run scripts/setup-system.sh.",
            ) from exc
        _spark.sparkContext.setLogLevel("ERROR")
        return _spark


def _spark_connect(master: str) -> BaseBackend:
    global _spark_backend
    session = spark_session(master)
    with _lock:
        if _spark_backend is None:
            _spark_backend = ibis.pyspark.connect(session)
        return _spark_backend


def backend_kind(con: BaseBackend) -> str:
    """``duckdb``, ``pyspark`` or the Ibis backend's name."""
    return str(con.name)
