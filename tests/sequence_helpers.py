"""What the index parity tests share: run an analysis on the SQL path and on the sequence
index, and require the same answer."""

from __future__ import annotations

import pandas as pd
import pytest

import klantreis


def both(
    monkeypatch: pytest.MonkeyPatch, ws: klantreis.Workspace, analysis: str, **options: object
) -> tuple[klantreis.Result, klantreis.Result]:
    """The result of the SQL path, then of the index path."""
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "never")
    sql = klantreis.analyze(ws, analysis, **options)
    monkeypatch.setenv("KLANTREIS_SEQUENCE_INDEX", "always")
    indexed = klantreis.analyze(ws, analysis, **options)
    return sql, indexed


def assert_same(sql: klantreis.Result, indexed: klantreis.Result) -> None:
    """Same frame (floats to 1e-9 relative), scope, meta and denominator."""
    pd.testing.assert_frame_equal(
        sql.frame.reset_index(drop=True),
        indexed.frame.reset_index(drop=True),
        check_dtype=False,
        rtol=1e-9,
    )
    assert sql.scope == indexed.scope
    assert sql.meta == indexed.meta
    assert sql.denominator == indexed.denominator
