"""Building blocks of the check query: maps built in Arrow, constant columns, identifiers."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from klantreis.errors import UsageError
from klantreis.store.canonical import canonical_query, constant_text, extras_map, quote_ident


def test_extras_map_packs_columns_row_by_row_without_nulls():
    t = pa.table({"a": ["x", None, "z"], "b": [1, 2, None], "c": [True, None, None]})
    assert extras_map(t, ["a"]).to_pylist() == [[("a", "x")], [], [("a", "z")]]
    assert extras_map(t, ["a", "b", "c"]).to_pylist() == [
        [("a", "x"), ("b", "1"), ("c", "true")],
        [("b", "2")],
        [("a", "z")],
    ]
    assert extras_map(t, []).to_pylist() == [[], [], []]
    assert extras_map(t, ["a"]).type == pa.map_(pa.string(), pa.string())


def test_constant_text():
    assert constant_text("ab", 3).to_pylist() == ["ab", "ab", "ab"]
    assert constant_text("", 2).to_pylist() == ["", ""]
    assert constant_text("é", 1).to_pylist() == ["é"]
    assert constant_text("x", 0).to_pylist() == []


def test_source_column_names_are_quoted_not_glued():
    assert quote_ident('we"ird') == '"we""ird"'
    name = 'klant"); DROP TABLE x; --'
    t = pa.table({name: ["c1"], "ts": ["2024-01-01"], "what": ["x"], "__klantreis_line": [2]})
    q = canonical_query(
        "events", t.schema, columns={"customer_id": name, "timestamp": "ts", "event": "what"}
    )
    con = duckdb.connect()
    t = t.append_column("__klantreis_map", extras_map(t, q.map_extras))
    con.register("raw_batch", t)
    row = con.sql(q.sql, params={**q.params, "ingest_id": 1}).fetchall()[0]
    assert row[1] == "c1"


def test_mapping_onto_an_unknown_column_is_a_usage_error():
    t = pa.table({"a": ["x"]})
    with pytest.raises(UsageError, match="not a column of events"):
        canonical_query("events", t.schema, columns={"klant": "a"})
