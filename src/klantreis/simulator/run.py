"""The front door: ``simulate`` (files, streamed, any size) and ``simulate_frames`` (in memory).

import klantreis
result = klantreis.simulate("five-phases", customers=10_000, seed=1, out="sim",
                            plant=["pain:checkout", "driver:customer-service"])
result.paths["events"], result.rows["events"], result.truth["planted"]
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import UsageError
from ..model import Journey, load_journey, load_template
from .engine import BLOCK_CUSTOMERS, generate_block
from .model import PersonaBehaviour, Plant, SimulationModel, build_model
from .truth import TRUTH_FILE, truth_of, write_truth
from .writer import ARROW_SCHEMAS, BlockTables, FileFormat, TableWriter, block_tables

__all__ = [
    "SimulationFrames",
    "SimulationResult",
    "resolve_journey",
    "simulate",
    "simulate_frames",
]

MAX_IN_MEMORY_CUSTOMERS = 500_000


@dataclass
class SimulationResult:
    """What ``simulate`` wrote: a path and a row count per table, and the truth."""

    journey: str
    customers: int
    seed: int
    directory: Path
    paths: dict[str, Path]
    rows: dict[str, int]
    truth: dict[str, Any]
    seconds: float
    truth_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "customers": self.customers,
            "seed": self.seed,
            "directory": str(self.directory),
            "paths": {k: str(v) for k, v in self.paths.items()},
            "rows": dict(self.rows),
            "seconds": round(self.seconds, 3),
            "truth": str(self.truth_path) if self.truth_path else None,
            "planted": self.truth.get("planted", []),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per table: table, rows, path."""
        return pd.DataFrame(
            [{"table": k, "rows": self.rows[k], "path": str(self.paths[k])} for k in self.paths]
        )


@dataclass
class SimulationFrames:
    """An in-memory simulation: the four canonical tables as DataFrames, and the truth."""

    events: pd.DataFrame
    responses: pd.DataFrame
    customers: pd.DataFrame
    accounts: pd.DataFrame
    truth: dict[str, Any]
    tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": {
                k: len(getattr(self, k)) for k in ("events", "responses", "customers", "accounts")
            },
            "truth": self.truth,
        }


def resolve_journey(journey: Journey | str | Path, *, lang: str | None = None) -> Journey:
    """A Journey as given, a YAML file, or a template name (``five-phases`` or ``five-phases.nl``)."""
    if isinstance(journey, Journey):
        return journey
    path = Path(journey)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise UsageError(
                f"Journey file {str(path)!r} does not exist.",
                hint="pass a journey YAML file or a template name (see 'klantreis templates').",
            )
        return load_journey(path)
    name = str(journey)
    parts = name.rsplit(".", 1)
    if len(parts) == 2 and parts[1] in ("en", "nl"):
        return load_template(parts[0], parts[1])
    return load_template(name, lang or "en")


def _plants(plant: Sequence[Plant | str] | None) -> list[Plant]:
    return [p if isinstance(p, Plant) else Plant.parse(p) for p in plant or ()]


def _model(
    journey: Journey | str | Path,
    *,
    seed: int,
    plant: Sequence[Plant | str] | None,
    lang: str | None,
    options: dict[str, Any],
) -> SimulationModel:
    if seed < 0:
        raise UsageError(f"Seed {seed} is negative.", hint="use a whole number of 0 or more.")
    return build_model(
        resolve_journey(journey, lang=lang), seed=seed, plant=_plants(plant), **options
    )


def _blocks(
    model: SimulationModel, customers: int, *, with_touchpoint: bool, workers: int = 1
) -> Iterator[BlockTables]:
    """Block after block, in order; with ``workers > 1`` generated in that many processes."""
    jobs = [
        (b, min(BLOCK_CUSTOMERS, customers - b * BLOCK_CUSTOMERS))
        for b in range((customers + BLOCK_CUSTOMERS - 1) // BLOCK_CUSTOMERS)
    ]
    if workers <= 1 or len(jobs) < 4:
        for b, n in jobs:
            yield block_tables(model, generate_block(model, b, n), with_touchpoint=with_touchpoint)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(model, with_touchpoint)) as pool:
        window: deque[Any] = deque()  # at most 3 blocks per worker in flight: constant memory
        for job in jobs:
            window.append(pool.apply_async(_work, (job,)))
            if len(window) >= 3 * workers:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()


_WORKER: dict[str, Any] = {}


def _init_worker(model: SimulationModel, with_touchpoint: bool) -> None:
    _WORKER["model"] = model
    _WORKER["with_touchpoint"] = with_touchpoint


def _work(job: tuple[int, int]) -> BlockTables:
    model = _WORKER["model"]
    block = generate_block(model, job[0], job[1])
    return block_tables(model, block, with_touchpoint=_WORKER["with_touchpoint"])


def simulate(
    journey: Journey | str | Path,
    *,
    customers: int,
    out: str | Path,
    seed: int = 0,
    plant: Sequence[Plant | str] | None = None,
    fmt: FileFormat = "parquet",
    chunk_customers: int = 50_000,
    lang: str | None = None,
    personas: dict[str, PersonaBehaviour] | None = None,
    drop_off: dict[str, float] | None = None,
    delays: dict[str, tuple[float, float]] | None = None,
    order_value: float | None = None,
    noise_share: float = 0.07,
    loop_prob: float = 0.12,
    start: dt.date = dt.date(2024, 1, 1),
    period_days: float = 365.0,
    follow_days: float = 365.0,
    customer_prefix: str = "c",
    progress: bool = False,
    workers: int = 1,
) -> SimulationResult:
    """Simulate ``customers`` customers walking ``journey`` and write the canonical tables.

    Writes ``events``, ``responses``, ``customers`` and ``accounts`` (``.parquet`` or ``.csv``)
    and ``truth.json`` into the directory ``out``. Streamed in chunks of ``chunk_customers``
    (constant memory); the content is the same for a seed whatever the chunk size or the
    number of ``workers`` (processes that generate blocks while this one writes).
    """
    if customers < 1:
        raise UsageError(f"customers must be at least 1, got {customers}.")
    if chunk_customers < 1:
        raise UsageError(f"chunk_customers must be at least 1, got {chunk_customers}.")
    if fmt not in ("parquet", "csv"):
        raise UsageError(f"Unknown format {fmt!r}.", hint="use parquet or csv.")
    options = dict(
        personas=personas,
        drop_off=drop_off,
        delays=delays,
        order_value=order_value,
        noise_share=noise_share,
        loop_prob=loop_prob,
        start=start,
        period_days=period_days,
        follow_days=follow_days,
        customer_prefix=customer_prefix,
    )
    model = _model(journey, seed=seed, plant=plant, lang=lang, options=options)
    directory = Path(out)
    began = time.perf_counter()
    writer = TableWriter(directory, fmt, map_keys=_map_keys(model))
    pending: list[dict[str, pa.Table]] = []
    pending_n = 0

    def flush() -> None:
        nonlocal pending, pending_n
        if pending:
            writer.write(
                {name: pa.concat_tables([p[name] for p in pending]) for name in pending[0]}
            )
        pending, pending_n = [], 0

    with _progress(progress, customers, model.journey.id) as advance:
        try:
            for bt in _blocks(model, customers, with_touchpoint=False, workers=workers):
                lo = 0
                while lo < bt.n:
                    take = min(bt.n - lo, chunk_customers - pending_n)
                    pending.append(bt.slice(lo, lo + take))
                    pending_n += take
                    lo += take
                    if pending_n >= chunk_customers:
                        flush()
                advance(bt.n, int(bt.tables["events"].num_rows))
            flush()
        finally:
            writer.close()
    truth = truth_of(model, customers=customers, counts=dict(writer.rows))
    truth_path = write_truth(directory / TRUTH_FILE, truth)
    return SimulationResult(
        journey=model.journey.id,
        customers=customers,
        seed=seed,
        directory=directory,
        paths=dict(writer.paths),
        rows=dict(writer.rows),
        truth=truth,
        seconds=time.perf_counter() - began,
        truth_path=truth_path,
    )


def simulate_frames(
    journey: Journey | str | Path,
    *,
    customers: int,
    seed: int = 0,
    plant: Sequence[Plant | str] | None = None,
    with_touchpoint: bool = False,
    lang: str | None = None,
    **options: Any,
) -> SimulationFrames:
    """The same simulation in memory, as pandas DataFrames (for tests and notebooks).

    ``with_touchpoint=True`` adds an ``events.touchpoint`` column: the touchpoint that
    generated each event (None for noise), the ground truth for linking.
    """
    if not 1 <= customers <= MAX_IN_MEMORY_CUSTOMERS:
        raise UsageError(
            f"simulate_frames takes 1 to {MAX_IN_MEMORY_CUSTOMERS:,} customers, got {customers:,}.",
            hint="write files with klantreis.simulate(..., out=DIR) for larger simulations.",
        )
    model = _model(journey, seed=seed, plant=plant, lang=lang, options=options)
    parts = list(_blocks(model, customers, with_touchpoint=with_touchpoint))
    tables = {
        name: pa.concat_tables([p.tables[name] for p in parts])
        if parts
        else ARROW_SCHEMAS[name].empty_table()
        for name in ARROW_SCHEMAS
    }
    frames = {name: _frame(t) for name, t in tables.items()}
    counts = {name: t.num_rows for name, t in tables.items()}
    return SimulationFrames(
        events=frames["events"],
        responses=frames["responses"],
        customers=frames["customers"],
        accounts=frames["accounts"],
        truth=truth_of(model, customers=customers, counts=counts),
        tables=tables,
    )


def _frame(table: pa.Table) -> pd.DataFrame:
    """DataFrame with map columns as dicts (how the rest of klantreis handles properties)."""
    df = table.to_pandas()
    for col in ("properties", "attributes"):
        if col in df.columns:
            df[col] = [dict(v) if v is not None else {} for v in df[col]]
    return df


def _map_keys(model: SimulationModel) -> dict[str, list[str]]:
    """The plain CSV columns the map columns turn into."""
    customer_keys = ["journey", "persona", "device", "status"]
    if model.b2b:
        customer_keys.append("role")
    customer_keys += [k for a in model.persona_attributes for k in a]
    if model.b2b:
        customer_keys += ["industry", "account_size"]
    customer_keys += [k for k, _ in model.extra_attributes]
    return {
        "events": list(model.prop_keys),
        "customers": list(dict.fromkeys(customer_keys)),
        "accounts": ["journey", "industry", "account_size"],
    }


class _progress:
    """A rich progress bar over customers (a no-op when ``enabled`` is False)."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.enabled = enabled
        self.total = total
        self.label = label
        self.events = 0

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda customers, events: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("customers · {task.fields[events]:,} events"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self._bar.__enter__()
        self._task = self._bar.add_task(f"simulate {self.label}", total=self.total, events=0)

        def advance(customers: int, events: int) -> None:
            self.events += events
            self._bar.update(self._task, advance=customers, events=self.events)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._bar.__exit__(None, None, None)
