"""A workspace: one directory with a config file, its journeys and an embedded database.

    my-workspace/
      klantreis.yaml        config: name, default language, default journey
      journeys/*.yaml       one file per journey (the designed journeys)
      data/                 the measured data (embedded DuckDB database and Parquet files)

Commands act on the workspace in the current directory, the one given with ``--workspace``
or the one in ``KLANTREIS_WORKSPACE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ruamel.yaml import YAML

from ..errors import JourneyNotFound, WorkspaceExists, WorkspaceNotFound
from ..model import Journey, load_journey, load_template, save_journey

if TYPE_CHECKING:
    import pandas as pd

    from .database import Adopted
    from .mapping import ColumnMapping
    from .report import ForgetReport, IngestReport

#: A source to ingest: a path, a DataFrame, or a list of them.
IngestSource: TypeAlias = "str | Path | pd.DataFrame | Sequence[str | Path | pd.DataFrame]"
#: A column mapping: a ColumnMapping, a dict canonical -> source column, or a YAML file path.
MappingLike: TypeAlias = "ColumnMapping | Mapping[str, str] | str | Path | None"

__all__ = [
    "CONFIG_FILE",
    "DataFiles",
    "Workspace",
    "find_workspace",
    "init_workspace",
    "open_workspace",
]

CONFIG_FILE = "klantreis.yaml"
ENV_VAR = "KLANTREIS_WORKSPACE"


class DataFiles(list[Path]):
    """The committed files of a table (a list of paths), knowing which of them are adopted
    source files (``store/adopt.py``): ``adopted`` maps ``str(path)`` to where the rows come
    from. Read them with ``adopt.scan_sql``, which fills the provenance columns they lack."""

    adopted: dict[str, Adopted]

    def __init__(self, paths: Any = ()) -> None:
        super().__init__(paths)
        self.adopted = {}


class Workspace:
    """An open workspace. Create with :func:`klantreis.init` or :func:`klantreis.open`."""

    def __init__(self, root: Path, config: dict[str, Any]) -> None:
        self.root = root
        self.config = config

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # -- layout ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.root.name)

    @property
    def lang(self) -> Literal["en", "nl"]:
        return "nl" if self.config.get("lang") == "nl" else "en"

    @property
    def journeys_dir(self) -> Path:
        return self.root / "journeys"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "klantreis.duckdb"

    # -- journeys --------------------------------------------------------------------------
    def journey_ids(self) -> list[str]:
        return sorted(p.stem for p in self.journeys_dir.glob("*.yaml"))

    def journey_path(self, journey_id: str) -> Path:
        return self.journeys_dir / f"{journey_id}.yaml"

    def journeys(self) -> list[Journey]:
        return [self.journey(i) for i in self.journey_ids()]

    def journey(self, journey_id: str | None = None, *, copy: bool = True) -> Journey:
        """A journey by id; without an id the default (or only) journey. ``copy=False`` hands
        out the parsed journey itself (read-only use, e.g. the engine: a deep copy costs
        ~0.1 s per call)."""
        if journey_id is None:
            journey_id = self.default_journey_id()
        path = self.journey_path(journey_id)
        if not path.is_file():
            known = ", ".join(self.journey_ids()) or "(none)"
            raise JourneyNotFound(
                f"No journey {journey_id!r} in workspace {str(self.root)!r}. Known journeys: {known}.",
                hint="add one with 'klantreis init --template NAME' or copy a YAML file into journeys/.",
            )
        return self._parsed_journey(path, copy=copy)

    def _parsed_journey(self, path: Path, *, copy: bool = True) -> Journey:
        """The journey in ``path``, parsed once per version of the file (a deep copy each time,
        so callers may change it freely). Saves parsing the YAML on every analysis call."""
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        cache: dict[tuple[str, int, int], Journey] = self.__dict__.setdefault("_journeys", {})
        if key not in cache:
            for old in [k for k in cache if k[0] == key[0]]:
                del cache[old]
            cache[key] = load_journey(path)
        return cache[key].model_copy(deep=True) if copy else cache[key]

    def default_journey_id(self) -> str:
        configured = self.config.get("default_journey")
        if configured:
            return str(configured)
        ids = self.journey_ids()
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise JourneyNotFound(
                f"Workspace {str(self.root)!r} has no journey.",
                hint="analyses still work on raw event names with --level event; "
                "add a journey with 'klantreis init --template NAME'.",
            )
        raise JourneyNotFound(
            f"Workspace {str(self.root)!r} has several journeys ({', '.join(ids)}); name one.",
            hint="pass --journey ID, or set default_journey in klantreis.yaml.",
        )

    def save_journey(self, journey: Journey) -> Path:
        return save_journey(journey, self.journey_path(journey.id))

    def add_template(self, name: str, lang: str = "en") -> Journey:
        """Copy a shipped template into the workspace's journeys and return it."""
        from ..model import template_path

        src = template_path(name, lang)
        journey = load_template(name, lang)
        dest = self.journey_path(journey.id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(src.read_bytes())
        return journey

    # -- measured data (store) -------------------------------------------------------------
    def data_files(self, table: str) -> list[Path]:
        """The committed Parquet files of a canonical table (events, responses, customers,
        accounts); an empty list is an empty table. Files a killed writer left are never listed.
        """
        return self.data_files_by_table([table])[table]

    def data_files_by_table(self, tables: Sequence[str]) -> dict[str, list[Path]]:
        """``data_files`` of several tables, read from the registry with one connection."""
        from .database import adopted_files, canonical_table, committed_files, read_connection

        for table in tables:
            canonical_table(table)
        out: dict[str, list[Path]] = {}
        with read_connection(self.database_path) as con:
            for t in tables:
                files = DataFiles(self.data_dir / p for p in committed_files(con, t))
                files.adopted = {
                    str(self.data_dir / p): a for p, a in adopted_files(con, t).items()
                }
                out[t] = files
        return out

    def write_lock(self, *, command: str | None = None) -> AbstractContextManager[bool]:
        """Hold the workspace's write lock (raises WorkspaceLocked naming the holder)."""
        from .database import recover
        from .lock import write_lock

        @contextmanager
        def _locked() -> Iterator[bool]:
            with write_lock(self.data_dir, command=command) as took:
                if took:
                    recover(self.data_dir)
                yield took

        return _locked()

    def ingest_events(
        self,
        source: IngestSource,
        *,
        mapping: MappingLike = None,
        timezone: str | None = None,
        strict: bool = False,
        fmt: str | None = None,
        progress: bool = True,
        date_format: str | None = None,
        delimiter: str | None = None,
        batch_rows: int | None = None,
    ) -> IngestReport:
        """Ingest events from files (CSV/TSV, Parquet, NDJSON/JSON, XES, GA4, Segment) or a
        DataFrame. See docs/store.md for formats, mapping, validation and the report."""
        return self._ingest("events", source, locals())

    def ingest_feedback(
        self,
        source: IngestSource,
        *,
        mapping: MappingLike = None,
        timezone: str | None = None,
        strict: bool = False,
        fmt: str | None = None,
        progress: bool = True,
        date_format: str | None = None,
        delimiter: str | None = None,
        scales: Mapping[str, tuple[float, float]] | None = None,
        batch_rows: int | None = None,
    ) -> IngestReport:
        """Ingest survey responses (CSAT, NPS, CES, custom) into the responses table."""
        return self._ingest("responses", source, locals())

    def ingest_customers(
        self,
        source: IngestSource,
        *,
        mapping: MappingLike = None,
        strict: bool = False,
        fmt: str | None = None,
        progress: bool = True,
        delimiter: str | None = None,
        batch_rows: int | None = None,
    ) -> IngestReport:
        """Ingest customers and their attributes (the latest row per customer_id wins)."""
        return self._ingest("customers", source, locals())

    def ingest_accounts(
        self,
        source: IngestSource,
        *,
        mapping: MappingLike = None,
        strict: bool = False,
        fmt: str | None = None,
        progress: bool = True,
        delimiter: str | None = None,
        batch_rows: int | None = None,
    ) -> IngestReport:
        """Ingest B2B accounts and their attributes (the latest row per account_id wins)."""
        return self._ingest("accounts", source, locals())

    def _ingest(self, table: str, source: IngestSource, args: dict[str, Any]) -> IngestReport:
        from .ingest import BATCH_ROWS, IngestOptions, ingest
        from .mapping import as_mapping

        cm = as_mapping(args.get("mapping")).with_options(
            timezone=args.get("timezone"),
            date_format=args.get("date_format"),
            delimiter=args.get("delimiter"),
        )
        opts = IngestOptions(
            table=table,
            mapping=cm,
            timezone=cm.timezone or "UTC",
            strict=bool(args.get("strict")),
            fmt=args.get("fmt"),
            progress=bool(args.get("progress", True)),
            scales=args.get("scales"),
            batch_rows=args.get("batch_rows") or BATCH_ROWS,
            command=args.get("command"),
        )
        return ingest(self, source, opts)

    def ingest_log(self) -> pd.DataFrame:
        """Every ingest with its status and counts, newest first."""
        from .quarantine import ingest_log

        return ingest_log(self.database_path)

    def quarantine(
        self,
        *,
        table: str | None = None,
        ingest_id: int | None = None,
        reason: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Quarantined rows (file, line, field, value, reason, message, raw row as JSON)."""
        from .quarantine import quarantine_rows

        return quarantine_rows(
            self.database_path, table=table, ingest_id=ingest_id, reason=reason, limit=limit
        )

    def export_customer(self, customer_id: str) -> dict[str, Any]:
        """Everything held on one customer, from every table (the GDPR right of access)."""
        from .rights import export_customer

        return export_customer(self, customer_id)

    def forget_customer(self, customer_id: str) -> ForgetReport:
        """Erase one customer from every table, quarantine and cache; audit it without the id."""
        from .rights import forget_customer

        return forget_customer(self, customer_id)

    # -- config ----------------------------------------------------------------------------
    def save_config(self) -> None:
        _write_config(self.root / CONFIG_FILE, self.config)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _write_config(path: Path, config: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        _yaml().dump(config, fh)
    tmp.replace(path)


def find_workspace(path: str | Path | None = None) -> Path:
    """The workspace root: ``path``, else ``$KLANTREIS_WORKSPACE``, else cwd or a parent of it."""
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    if path is not None:
        root = Path(path).expanduser().resolve()
        if not (root / CONFIG_FILE).is_file():
            raise WorkspaceNotFound(
                f"{str(root)!r} is not a klantreis workspace (no {CONFIG_FILE}).",
                hint=f"create one with 'klantreis init {path}'.",
            )
        return root
    here = Path.cwd().resolve()
    for candidate in [here, *here.parents]:
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise WorkspaceNotFound(
        f"No klantreis workspace in {str(here)!r} or its parents.",
        hint=f"create one with 'klantreis init DIR', or pass --workspace DIR (or set {ENV_VAR}).",
    )


def open_workspace(path: str | Path | None = None) -> Workspace:
    """Open an existing workspace (see :func:`find_workspace` for how it is found)."""
    root = find_workspace(path)
    with (root / CONFIG_FILE).open(encoding="utf-8") as fh:
        config = _yaml().load(fh) or {}
    return Workspace(root, dict(config))


def init_workspace(
    path: str | Path,
    *,
    template: str | None = None,
    lang: Literal["en", "nl"] = "en",
    name: str | None = None,
) -> Workspace:
    """Create a workspace; with ``template`` it starts with that journey.

    Without a template the workspace has no journey: analyses then work on raw event names.
    """
    root = Path(path).expanduser().resolve()
    if (root / CONFIG_FILE).exists():
        raise WorkspaceExists(
            f"{str(root)!r} is already a klantreis workspace.",
            hint="open it with klantreis.open(path), or choose another directory.",
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / "journeys").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    config: dict[str, Any] = {"name": name or root.name, "lang": lang}
    _write_config(root / CONFIG_FILE, config)
    ws = Workspace(root, config)
    if template is not None:
        journey = ws.add_template(template, lang)
        ws.config["default_journey"] = journey.id
        ws.save_config()
    return ws
