from __future__ import annotations

from pathlib import Path

import pytest

import klantreis
from klantreis import JourneyNotFound, WorkspaceExists, WorkspaceNotFound
from klantreis.errors import TemplateNotFound


def test_init_without_template_has_no_journey(tmp_path: Path):
    ws = klantreis.init(tmp_path / "empty")
    assert ws.journey_ids() == []
    assert (ws.root / "klantreis.yaml").is_file()
    assert ws.data_dir.is_dir()
    with pytest.raises(JourneyNotFound, match="has no journey"):
        ws.journey()


def test_init_with_template_sets_default_journey(tmp_path: Path):
    ws = klantreis.init(tmp_path / "shop", template="five-phases", lang="en")
    assert ws.journey_ids() == ["five-phases"]
    assert ws.config["default_journey"] == "five-phases"
    again = klantreis.open(tmp_path / "shop")
    assert again.journey().stage("purchase").name.nl == "Aankoop"


def test_init_twice_is_refused(tmp_path: Path):
    klantreis.init(tmp_path / "ws")
    with pytest.raises(WorkspaceExists):
        klantreis.init(tmp_path / "ws")


def test_unknown_template_lists_known(tmp_path: Path):
    with pytest.raises(TemplateNotFound, match=r"Known templates: .*five-phases"):
        klantreis.init(tmp_path / "ws", template="six-phases")


def test_open_finds_workspace_from_env_and_parents(tmp_path: Path, monkeypatch):
    ws = klantreis.init(tmp_path / "ws", template="five-phases")
    sub = ws.root / "journeys"
    monkeypatch.chdir(sub)
    assert klantreis.open().root == ws.root
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkspaceNotFound, match="No klantreis workspace"):
        klantreis.open()
    monkeypatch.setenv("KLANTREIS_WORKSPACE", str(ws.root))
    assert klantreis.open().root == ws.root


def test_save_journey_round_trips_through_workspace(workspace):
    j = workspace.journey()
    j.touchpoint("checkout").emotion = -2
    workspace.save_journey(j)
    assert workspace.journey().touchpoint("checkout").emotion == -2


def test_unknown_journey_names_known(workspace):
    with pytest.raises(JourneyNotFound, match="Known journeys: five-phases"):
        workspace.journey("nope")


def test_every_public_name_resolves_and_import_is_lazy():
    import subprocess
    import sys

    code = (
        "import sys, klantreis; "
        "heavy = [m for m in ('pandas', 'ibis', 'duckdb', 'pyarrow') if m in sys.modules]; "
        "missing = [n for n in klantreis.__all__ if not hasattr(klantreis, n)]; "
        "print(heavy, missing)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] []"


def test_journey_is_parsed_once_per_file_version_and_copied(workspace):
    first = workspace.journey()
    first.name = "changed in memory only"
    again = workspace.journey()
    assert again is not first and again.name != first.name  # callers get their own copy
    path = workspace.journey_path(again.id)
    text = path.read_text()
    path.write_text(text.replace("stages:", "# edited\nstages:", 1))  # a new version of the file
    assert workspace.journey() == again  # same content, parsed again
    edited = again.model_copy(update={"stage_model": "edited-model"})
    workspace.save_journey(edited)
    assert workspace.journey().stage_model == "edited-model"


def test_data_files_by_table_equals_data_files(workspace):
    tables = ["events", "responses", "customers"]
    assert workspace.data_files_by_table(tables) == {t: [] for t in tables}
    frame = __import__("pandas").DataFrame(
        {"customer_id": ["a"], "timestamp": ["2024-01-01T00:00:00"], "event": ["x"]}
    )
    workspace.ingest_events(frame, progress=False)
    by_table = workspace.data_files_by_table(tables)
    assert by_table == {t: workspace.data_files(t) for t in tables}
    assert len(by_table["events"]) == 1


def test_no_public_name_is_shadowed_by_a_subpackage():
    import importlib
    import pkgutil

    import klantreis

    for info in pkgutil.iter_modules(klantreis.__path__):
        if info.name == "__main__":
            continue
        importlib.import_module(f"klantreis.{info.name}")
        assert info.name not in klantreis.__all__ or info.name in ("cli",), info.name
    assert callable(klantreis.simulate)
