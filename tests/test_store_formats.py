"""Every input format, with deliberate errors: Parquet, NDJSON, JSON, XES, GA4 export, Segment."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import klantreis
from klantreis.store.readers import detect_format


def rows(
    ws: klantreis.Workspace, table: str = "events", order: str = "source_file, source_line"
) -> pd.DataFrame:
    files = [str(p) for p in ws.data_files(table)]
    assert files, f"no committed {table} files"
    return duckdb.sql(f"SELECT * FROM read_parquet($f) ORDER BY {order}", params={"f": files}).df()


def quarantined(ws: klantreis.Workspace) -> list[list[object]]:
    return ws.quarantine()[["source_line", "reason"]].values.tolist()


def test_parquet_with_typed_columns_and_a_map(workspace, tmp_path):
    utc = dt.UTC
    table = pa.table(
        {
            "event_id": ["p1", "p2", "p3", "p1"],
            "customer_id": ["c1", "c2", None, "c1"],
            "timestamp": pa.array(
                [dt.datetime(2024, 5, 1, 8, tzinfo=utc)] * 4,
                type=pa.timestamp("ms", tz="Europe/Amsterdam"),
            ),
            "event": ["view", "buy", "view", "view"],
            "value": [None, 30, None, None],
            "properties": pa.array(
                [[("page", "home")], [("page", "cart"), ("coupon", "X")], [], [("page", "home")]],
                type=pa.map_(pa.string(), pa.string()),
            ),
        }
    )
    src = tmp_path / "events.parquet"
    pq.write_table(table, src)
    report = workspace.ingest_events(src, progress=False)
    assert (report.accepted, report.duplicates, report.quarantined) == (2, 1, 1)
    got = rows(workspace)
    assert (
        got["timestamp"].tolist() == [pd.Timestamp("2024-05-01 08:00")] * 2
    )  # instants stay instants
    assert got["value"].tolist()[1] == 30.0
    assert got["properties"].tolist() == [{"page": "home"}, {"page": "cart", "coupon": "X"}]
    assert quarantined(workspace) == [[3, "missing_customer"]]  # Parquet lines are row numbers


NDJSON = """\
{"customer_id": "c1", "timestamp": "2024-02-01T09:00:00Z", "event": "login", "device": {"os": "ios"}, "n": 3}
{"customer_id": "c2", "timestamp": "2024-02-01T09:05:00Z", "event": "login", "ok": true}
{"customer_id": "c3", "timestamp": "2024-02-01T09:05:00Z", "event": "login"

["not", "an", "object"]
{"customer_id": "c4", "timestamp": 1706778300, "event": "logout"}
{"customer_id": "c5", "timestamp": "2024-02-30T09:05:00Z", "event": "logout"}
"""


def test_ndjson_with_bad_lines(workspace, tmp_path):
    src = tmp_path / "events.ndjson"
    src.write_text(NDJSON, encoding="utf-8")
    report = workspace.ingest_events(src, progress=False)
    assert (report.accepted, report.quarantined) == (3, 3)
    got = rows(workspace)
    assert got["source_line"].tolist() == [1, 2, 6]
    assert got["properties"].tolist() == [{"device": '{"os":"ios"}', "n": "3"}, {"ok": "true"}, {}]
    assert got["timestamp"].tolist()[2] == pd.Timestamp("2024-02-01 09:05")  # epoch seconds
    assert quarantined(workspace) == [[3, "bad_json"], [5, "bad_record"], [7, "bad_timestamp"]]


def test_json_array_and_wrapped_list(workspace, tmp_path):
    records = [
        {"customer_id": "c1", "timestamp": "2024-02-01T09:00:00+02:00", "event": "a"},
        {"customer_id": "c1", "timestamp": "2024-02-01T09:00:00+02:00"},
    ]
    src = tmp_path / "events.json"
    src.write_text(json.dumps(records, indent=2), encoding="utf-8")
    report = workspace.ingest_events(src, progress=False)
    assert (report.accepted, report.quarantined) == (1, 1)
    assert rows(workspace)["timestamp"][0] == pd.Timestamp("2024-02-01 07:00")
    assert quarantined(workspace) == [[2, "missing_event"]]  # JSON lines are element numbers
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"events": [dict(records[0], event="b")]}), encoding="utf-8")
    assert workspace.ingest_events(wrapped, progress=False).accepted == 1


XES = """\
<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <string key="concept:name" value="the log"/>
  <trace>
    <string key="concept:name" value="case-1"/>
    <string key="segment" value="retail"/>
    <event>
      <string key="concept:name" value="register"/>
      <date key="time:timestamp" value="2023-01-02T10:00:00.000+01:00"/>
      <string key="org:resource" value="Anne"/>
      <float key="cost" value="12.5"/>
    </event>
    <event>
      <string key="concept:name" value="pay"/>
      <string key="org:resource" value="Bob"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="case-2"/>
    <event>
      <string key="concept:name" value="register"/>
      <date key="time:timestamp" value="2023-01-03T09:30:00.000Z"/>
      <list key="items"><int key="n" value="1"/></list>
    </event>
  </trace>
</log>
"""


def test_xes(workspace, tmp_path):
    src = tmp_path / "log.xes"
    src.write_text(XES, encoding="utf-8")
    assert detect_format(src) == "xes"
    report = workspace.ingest_events(src, progress=False)
    assert (report.accepted, report.quarantined) == (2, 1)
    got = rows(workspace)
    assert got[["customer_id", "event"]].values.tolist() == [
        ["case-1", "register"],
        ["case-2", "register"],
    ]
    assert got["timestamp"].tolist() == [
        pd.Timestamp("2023-01-02 09:00"),
        pd.Timestamp("2023-01-03 09:30"),
    ]
    assert got["properties"][0] == {
        "case:segment": "retail",
        "org:resource": "Anne",
        "cost": "12.5",
    }
    assert got["source_line"].tolist() == [11, 24]  # the line of each <event>
    assert quarantined(workspace) == [[17, "missing_timestamp"]]


GA4_ROWS = [
    {
        "event_date": "20240301",
        "event_timestamp": "1709287200123456",
        "event_name": "page_view",
        "event_params": [
            {"key": "ga_session_id", "value": {"int_value": "1709287000"}},
            {"key": "page_location", "value": {"string_value": "https://shop.example/"}},
            {"key": "engagement_time_msec", "value": {"int_value": "120"}},
        ],
        "user_pseudo_id": "123.456",
        "user_id": None,
        "traffic_source": {"name": "(organic)", "medium": "organic", "source": "google"},
        "device": {"category": "mobile"},
        "ecommerce": None,
    },
    {
        "event_date": "20240301",
        "event_timestamp": "1709287260000000",
        "event_name": "purchase",
        "event_params": [
            {"key": "ga_session_id", "value": {"int_value": "1709287000"}},
            {"key": "value", "value": {"double_value": 49.95}},
        ],
        "user_pseudo_id": "123.456",
        "user_id": "klant-9",
        "traffic_source": {"name": "spring", "medium": "cpc", "source": "google"},
        "ecommerce": {"purchase_revenue": 49.95, "transaction_id": "T1"},
    },
    {
        "event_timestamp": "1709287260000000",
        "event_name": "scroll",
        "event_params": [],
        "user_pseudo_id": None,
        "user_id": None,
    },
]


def test_ga4_export(workspace, tmp_path):
    src = tmp_path / "events_20240301.json"
    src.write_text("\n".join(json.dumps(r) for r in GA4_ROWS) + "\n", encoding="utf-8")
    assert detect_format(src) == "ga4"
    report = workspace.ingest_events(src, progress=False)
    assert (report.accepted, report.quarantined) == (2, 1)
    got = rows(workspace)
    assert got["customer_id"].tolist() == ["123.456", "klant-9"]
    assert got["event"].tolist() == ["page_view", "purchase"]
    assert got["timestamp"][0] == pd.Timestamp("2024-03-01 10:00:00.123456")
    assert got["session_id"].tolist() == ["1709287000", "1709287000"]
    assert got["channel"].tolist() == ["organic", "cpc"]
    assert got["value"].tolist()[1] == 49.95
    props = got["properties"][0]
    assert props["page_location"] == "https://shop.example/"
    assert props["traffic_source.source"] == "google"
    assert props["device.category"] == "mobile"
    assert "ga_session_id" not in props
    assert got["properties"][1]["user_pseudo_id"] == "123.456"
    assert quarantined(workspace) == [[3, "missing_customer"]]
    # the same export as Parquet (as BigQuery writes it) gives the same events: all duplicates
    pq.write_table(pa.Table.from_pylist(GA4_ROWS[:2]), tmp_path / "events.parquet")
    again = workspace.ingest_events(tmp_path / "events.parquet", progress=False)
    assert (again.accepted, again.duplicates) == (0, 2)


SEGMENT = [
    {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "anonymousId": "a1",
        "messageId": "m1",
        "timestamp": "2024-04-01T12:00:00.000Z",
        "properties": {"revenue": 25, "products": [{"id": "p1"}]},
        "context": {"campaign": {"medium": "email", "source": "newsletter"}},
    },
    {
        "type": "page",
        "name": "Home",
        "anonymousId": "a2",
        "messageId": "m2",
        "timestamp": "2024-04-01T12:01:00.000Z",
        "properties": {"url": "https://shop.example/", "path": "/"},
    },
    {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "u1@example.com", "plan": "pro"},
        "messageId": "m3",
    },
    {
        "type": "group",
        "userId": "u1",
        "groupId": "acme",
        "traits": {"industry": "retail"},
        "messageId": "m4",
    },
    {"type": "track", "event": "Signed Up", "messageId": "m5", "timestamp": "2024-04-01T12:02:00Z"},
]


def test_segment_calls_go_to_their_tables(workspace, tmp_path):
    src = tmp_path / "segment.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in SEGMENT) + "\n", encoding="utf-8")
    assert detect_format(src) == "segment"
    events = workspace.ingest_events(src, progress=False)
    assert (events.accepted, events.quarantined) == (2, 1)
    assert events.notes == {
        "identify calls (ingest them with 'ingest customers')": 1,
        "group calls (ingest them with 'ingest accounts')": 1,
    }
    got = rows(workspace)
    assert got[["event_id", "customer_id", "event", "channel", "value"]].values.tolist()[0] == [
        "m1",
        "u1",
        "Order Completed",
        "email",
        25.0,
    ]
    assert got["properties"][0]["anonymous_id"] == "a1"
    assert got["properties"][0]["products"] == '[{"id":"p1"}]'
    assert got[["customer_id", "event"]].values.tolist()[1] == ["a2", "page_view"]
    assert got["properties"][1] == {"name": "Home", "url": "https://shop.example/", "path": "/"}
    assert quarantined(workspace) == [[5, "missing_customer"]]
    customers = workspace.ingest_customers(src, progress=False)
    assert customers.accepted == 1
    assert rows(workspace, "customers", "customer_id")["attributes"][0] == {
        "email": "u1@example.com",
        "plan": "pro",
    }
    accounts = workspace.ingest_accounts(src, progress=False)
    assert accounts.accepted == 1
    assert rows(workspace, "accounts", "account_id")["attributes"][0] == {"industry": "retail"}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.CSV.gz", "csv"),
        ("a.tsv", "tsv"),
        ("a.parquet", "parquet"),
        ("a.ndjson", "ndjson"),
        ("a.jsonl", "ndjson"),
        ("a.json", "ndjson"),  # one object per line, whatever the name says
        ("a.xes.gz", "xes"),
    ],
)
def test_format_from_the_name_and_content(tmp_path: Path, name: str, fmt: str):
    path = tmp_path / name
    if fmt == "parquet":
        pq.write_table(pa.table({"customer_id": ["c"]}), path)
    else:
        path.write_text(
            '{"a": 1}\n{"a": 2}\n' if "json" in name else "a,b\n1,2\n", encoding="utf-8"
        )
    assert detect_format(path) == fmt


def test_segment_batch_wrapper_on_one_line(workspace, tmp_path):
    src = tmp_path / "batch.json"
    src.write_text(
        json.dumps({"batch": SEGMENT[:2], "sentAt": "2024-04-01T12:05:00Z"}), encoding="utf-8"
    )
    assert detect_format(src) == "segment"
    assert workspace.ingest_events(src, progress=False).accepted == 2


def test_records_without_a_key_are_quarantined_not_refused(workspace, tmp_path):
    src = tmp_path / "e.ndjson"
    src.write_text('{"customer_id": "c1", "timestamp": "2024-01-01T00:00:00Z"}\n', encoding="utf-8")
    report = workspace.ingest_events(src, progress=False)
    assert (report.accepted, report.quarantined) == (0, 1)
    assert quarantined(workspace) == [[1, "missing_event"]]
    mapped = workspace.ingest_events(src, mapping={"value": "amount"}, progress=False)
    assert mapped.quarantined == 1
