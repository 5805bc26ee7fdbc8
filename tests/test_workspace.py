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
