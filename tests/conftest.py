from __future__ import annotations

import os
from pathlib import Path

import pytest

import klantreis


@pytest.fixture
def workspace(tmp_path: Path) -> klantreis.Workspace:
    """A fresh workspace with the five-phases journey."""
    return klantreis.init(tmp_path / "ws", template="five-phases")


@pytest.fixture(autouse=True)
def _no_workspace_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLANTREIS_WORKSPACE", raising=False)


def spark_enabled() -> bool:
    return os.environ.get("KLANTREIS_SKIP_SPARK") != "1"
