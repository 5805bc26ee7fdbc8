"""Ingestion: validation with quarantine (exact rows and lines), mapping, time zones, exactly once."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import klantreis
from klantreis.errors import IngestError, UsageError

EVENTS_CSV = """\
event_id,customer_id,timestamp,event,channel,value,page
e1,c1,2024-03-01T10:00:00Z,view,web,,home
e2,c1,2024-03-01 11:00,purchase,web,12.5,checkout
e3,,2024-03-01T12:00:00Z,view,web,,home
e4,c2,yesterday,view,web,,home
e5,c2,2024-03-02T10:00:00+01:00,,web,,home
e6,c2,2024-03-02T10:00:00+01:00,buy,web,abc,home
e1,c1,2024-03-01T10:00:00Z,view,web,,home
"""


def rows(ws: klantreis.Workspace, table: str = "events") -> pd.DataFrame:
    files = [str(p) for p in ws.data_files(table)]
    if not files:
        return pd.DataFrame()
    order = {"customers": "customer_id", "accounts": "account_id"}.get(
        table, "source_file, source_line"
    )
    return duckdb.sql(f"SELECT * FROM read_parquet($f) ORDER BY {order}", params={"f": files}).df()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_errors_is_split_into_accepted_duplicates_and_quarantine(workspace, tmp_path):
    src = write(tmp_path / "events.csv", EVENTS_CSV)
    report = workspace.ingest_events(src, timezone="Europe/Amsterdam", progress=False)
    assert (report.rows_read, report.accepted, report.duplicates, report.quarantined) == (
        7,
        2,
        1,
        4,
    )
    assert report.status == "committed"
    got = rows(workspace)
    assert got["event_id"].tolist() == ["e1", "e2"]
    # 11:00 in Amsterdam (CET, +01:00) is 10:00 UTC; the Z timestamp stays 10:00
    assert got["timestamp"].tolist() == [pd.Timestamp("2024-03-01 10:00")] * 2
    assert got["value"].tolist()[1] == 12.5
    assert got["properties"].tolist() == [{"page": "home"}, {"page": "checkout"}]
    assert got["source_line"].tolist() == [2, 3]
    q = workspace.quarantine()
    assert q[["source_line", "field", "reason"]].values.tolist() == [
        [4, "customer_id", "missing_customer"],
        [5, "timestamp", "bad_timestamp"],
        [6, "event", "missing_event"],
        [7, "value", "bad_value"],
    ]
    assert [v if isinstance(v, str) else None for v in q["value"]] == [
        None,
        "yesterday",
        None,
        "abc",
    ]
    assert json.loads(q["raw"][1]) == {
        "event_id": "e4",
        "customer_id": "c2",
        "timestamp": "yesterday",
        "event": "view",
        "channel": "web",
        "value": None,
        "page": "home",
    }
    assert [r.reason for r in report.reasons] == [
        "missing_customer",
        "bad_timestamp",
        "missing_event",
        "bad_value",
    ]
    assert report.reasons[1].first_line == 5
    assert "5" in report.summary() and "quarantined         4" in report.summary()


def test_reingest_adds_nothing_and_does_not_repeat_the_quarantine(workspace, tmp_path):
    src = write(tmp_path / "events.csv", EVENTS_CSV)
    workspace.ingest_events(src, progress=False)
    again = workspace.ingest_events(src, progress=False)
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 3, 4)
    assert len(rows(workspace)) == 2
    assert len(workspace.quarantine()) == 4
    log = workspace.ingest_log()
    assert log["status"].tolist() == ["committed", "committed"]
    assert log["accepted"].tolist() == [0, 2]


def test_overlapping_files_store_each_event_once(workspace, tmp_path):
    head = "customer_id,timestamp,event\n"
    a = write(
        tmp_path / "a.csv", head + "".join(f"c{i},2024-01-0{i}T00:00:00Z,x\n" for i in range(1, 6))
    )
    b = write(
        tmp_path / "b.csv", head + "".join(f"c{i},2024-01-0{i}T00:00:00Z,x\n" for i in range(4, 9))
    )
    ra = workspace.ingest_events(a, progress=False)
    rb = workspace.ingest_events(b, progress=False)
    assert (ra.accepted, ra.duplicates) == (5, 0)
    assert (rb.accepted, rb.duplicates) == (3, 2)
    got = rows(workspace)
    assert sorted(got["customer_id"]) == [f"c{i}" for i in range(1, 9)]
    assert got["event_id"].nunique() == 8  # content keys
    # both files in one ingest: also once each
    both = workspace.ingest_events([a, b], progress=False)
    assert (both.accepted, both.duplicates) == (0, 10)


def test_content_key_is_the_documented_md5(workspace, tmp_path):
    src = write(
        tmp_path / "e.csv",
        "customer_id,timestamp,event,channel,session_id,value,b,a\n"
        "c1,2024-01-01T10:00:00Z,view,web,s1,2.5,y,x\n",
    )
    workspace.ingest_events(src, progress=False)
    import hashlib

    text = "\x1f".join(
        ["c1", "2024-01-01T10:00:00.000000", "view", "web", "s1", "2.5", "a=x\x1eb=y"]
    )
    assert rows(workspace)["event_id"][0] == hashlib.md5(text.encode()).hexdigest()


def test_separators_quotes_bom_and_gzip(workspace, tmp_path):
    text = (
        "\ufeffklant;tijd;actie;opmerking\n"
        'k1;01-03-2024 10:00;bezoek;"met ; puntkomma"\n'
        'k2;01-03-2024 11:30;koop;"twee\nregels"\n'
        "k3;01-03-2024;koop\n"
        "k4;31-02-2024 10:00;koop;x\n"
    )
    src = tmp_path / "export.csv.gz"
    src.write_bytes(gzip.compress(text.encode("utf-8")))
    report = workspace.ingest_events(
        src,
        mapping={"customer_id": "klant", "timestamp": "tijd", "event": "actie"},
        date_format="%d-%m-%Y %H:%M",
        timezone="Europe/Amsterdam",
        progress=False,
    )
    assert (report.accepted, report.quarantined) == (2, 2)
    got = rows(workspace)
    assert got["customer_id"].tolist() == ["k1", "k2"]
    assert got["timestamp"].tolist() == [
        pd.Timestamp("2024-03-01 09:00"),
        pd.Timestamp("2024-03-01 10:30"),
    ]
    assert got["properties"].tolist() == [
        {"opmerking": "met ; puntkomma"},
        {"opmerking": "twee\nregels"},
    ]
    q = workspace.quarantine()
    # the header is line 1; a quoted value over two lines counts as one record
    assert q[["source_line", "reason"]].values.tolist() == [[4, "bad_row"], [5, "bad_timestamp"]]
    assert q["message"][0] == "row has 3 fields, the header has 4"


def test_tsv_and_mapping_file(workspace, tmp_path):
    src = write(tmp_path / "e.tsv", "user\twhen\twhat\n u1 \t1709287200\tlogin\n")
    mapping = write(
        tmp_path / "map.yaml",
        "columns:\n  customer_id: user\n  timestamp: when\n  event: what\ntimezone: UTC\n",
    )
    report = workspace.ingest_events(src, mapping=mapping, progress=False)
    assert report.accepted == 1
    got = rows(workspace)
    assert got["timestamp"][0] == pd.Timestamp("2024-03-01 10:00")  # epoch seconds
    assert got["customer_id"][0] == " u1 "  # values are kept as they are


def test_mapping_errors_name_the_columns(workspace, tmp_path):
    src = write(tmp_path / "e.csv", "user,ts,what\nu1,2024-01-01,x\n")
    with pytest.raises(
        UsageError, match=r"no column for customer_id, timestamp, event.*user, ts, what"
    ):
        workspace.ingest_events(src, progress=False)
    with pytest.raises(UsageError, match="has no column 'usr'"):
        workspace.ingest_events(src, mapping={"customer_id": "usr"}, progress=False)
    with pytest.raises(UsageError, match="Unknown time zone 'Mars/Base'"):
        workspace.ingest_events(
            src,
            mapping={"customer_id": "user", "timestamp": "ts", "event": "what"},
            timezone="Mars/Base",
            progress=False,
        )


def test_strict_stores_nothing_and_raises(workspace, tmp_path):
    src = write(tmp_path / "events.csv", EVENTS_CSV)
    with pytest.raises(IngestError, match="4 of 7 rows failed validation") as info:
        workspace.ingest_events(src, strict=True, progress=False)
    assert info.value.report.status == "rejected"  # type: ignore[attr-defined]
    assert workspace.data_files("events") == []
    assert workspace.quarantine().empty
    assert workspace.ingest_log()["status"].tolist() == ["rejected"]


def test_dataframe_with_typed_columns(workspace):
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", None],
            "timestamp": pd.to_datetime(
                ["2024-01-01 10:00", "2024-07-01 10:00", "2024-01-01 00:00"]
            ).tz_localize("Europe/Amsterdam"),
            "event": ["x", "y", "z"],
            "n": [1.5, None, 2.0],
            "flag": [True, False, True],
        }
    )
    report = workspace.ingest_events(df, progress=False)
    assert (report.accepted, report.quarantined) == (2, 1)
    got = rows(workspace)
    assert got["timestamp"].tolist() == [
        pd.Timestamp("2024-01-01 09:00"),
        pd.Timestamp("2024-07-01 08:00"),
    ]
    assert got["properties"].tolist() == [{"n": "1.5", "flag": "true"}, {"flag": "false"}]
    assert workspace.quarantine()["source_line"].tolist() == [3]


FEEDBACK_CSV = """\
customer_id,timestamp,touchpoint,metric,score,scale,comment
c1,2024-03-01T10:00:00Z,checkout,csat,4,,Snel
c1,2024-03-01T10:00:00Z,checkout,csat,6,,Te hoog
c2,2024-03-01T10:00:00Z,delivery,NPS,10,,
c3,2024-03-01T10:00:00Z,delivery,nps,-1,,
c4,2024-03-01T10:00:00Z,kassa,ces,3,,
c5,2024-03-01T10:00:00Z,checkout,effort,3,,
c6,2024-03-01T10:00:00Z,checkout,custom,8,,
c7,2024-03-01T10:00:00Z,checkout,custom,8,1-10,
c8,2024-03-01T10:00:00Z,checkout,csat,veel,,
c9,2024-03-01T10:00:00Z,,csat,9,0-10,
"""


def test_feedback_validation(workspace, tmp_path):
    src = write(tmp_path / "feedback.csv", FEEDBACK_CSV)
    report = workspace.ingest_feedback(src, progress=False)
    assert (report.accepted, report.quarantined) == (4, 6)
    q = workspace.quarantine()
    assert q[["source_line", "field", "reason"]].values.tolist() == [
        [3, "score", "score_out_of_scale"],
        [5, "score", "score_out_of_scale"],
        [6, "touchpoint", "unknown_touchpoint"],
        [7, "metric", "unknown_metric"],
        [8, "scale", "missing_scale"],
        [10, "score", "bad_score"],
    ]
    assert q["message"][0] == "score 6 is outside the csat scale 1.0-5.0"
    got = rows(workspace, "responses")
    assert got[["customer_id", "metric", "score", "scale_min", "scale_max"]].values.tolist() == [
        ["c1", "csat", 4.0, 1.0, 5.0],
        ["c2", "nps", 10.0, 0.0, 10.0],
        ["c7", "custom", 8.0, 1.0, 10.0],
        ["c9", "csat", 9.0, 0.0, 10.0],
    ]
    assert got["comment"].tolist()[0] == "Snel"
    # a scale given for a metric replaces its default
    report = workspace.ingest_feedback(src, scales={"csat": (1, 10)}, progress=False)
    assert report.accepted == 1  # line 3 (csat 6 of 10) now fits; the rest were stored already


def test_customers_latest_row_wins(workspace, tmp_path):
    first = write(
        tmp_path / "c1.csv",
        "customer_id,segment,city\nc1,new,Utrecht\nc2,new,Delft\nc1,loyal,Utrecht\n",
    )
    r1 = workspace.ingest_customers(first, progress=False)
    assert (r1.accepted, r1.duplicates, r1.replaced) == (2, 1, 0)
    second = write(
        tmp_path / "c2.csv",
        "customer_id,segment,city\nc2,new,Delft\nc3,new,Gouda\nc1,vip,Utrecht\n",
    )
    r2 = workspace.ingest_customers(second, progress=False)
    assert (r2.accepted, r2.duplicates, r2.replaced) == (2, 1, 1)
    got = rows(workspace, "customers").sort_values("customer_id")
    assert got["customer_id"].tolist() == ["c1", "c2", "c3"]
    assert got["attributes"].tolist() == [
        {"segment": "vip", "city": "Utrecht"},
        {"segment": "new", "city": "Delft"},
        {"segment": "new", "city": "Gouda"},
    ]


def test_accounts(workspace, tmp_path):
    src = write(
        tmp_path / "a.csv", "account_id,industry,size\nacme,retail,50-249\n,software,1-49\n"
    )
    report = workspace.ingest_accounts(src, progress=False)
    assert (report.accepted, report.quarantined) == (1, 1)
    assert rows(workspace, "accounts")["attributes"].tolist() == [
        {"industry": "retail", "size": "50-249"}
    ]


def test_data_files_lists_committed_files_only(workspace, tmp_path):
    assert workspace.data_files("events") == []
    src = write(tmp_path / "e.csv", "customer_id,timestamp,event\nc1,2024-01-01,x\n")
    workspace.ingest_events(src, progress=False)
    files = workspace.data_files("events")
    assert len(files) == 1 and files[0].parent == workspace.data_dir / "events"
    stray = workspace.data_dir / "events" / "part-99999999-dead.parquet"
    stray.write_bytes(files[0].read_bytes())
    own = workspace.data_dir / "events" / "my-copy.parquet"
    own.write_bytes(files[0].read_bytes())
    assert workspace.data_files("events") == files
    with pytest.raises(KeyError, match="Known tables"):
        workspace.data_files("nope")
    # the next writer deletes what is not registered
    with workspace.write_lock():
        pass
    assert not stray.exists()
    assert own.exists()  # not a store file: left alone, never read


def test_timestamps_are_utc_without_zone_in_the_schema(workspace, tmp_path):
    src = write(tmp_path / "e.csv", "customer_id,timestamp,event\nc1,2024-06-01T12:00:00-04:00,x\n")
    workspace.ingest_events(src, progress=False)
    con = duckdb.connect()
    types = dict(
        con.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($f))",
            {"f": str(workspace.data_files("events")[0])},
        ).fetchall()
    )
    assert types["timestamp"] == "TIMESTAMP"
    assert types["properties"] == "MAP(VARCHAR, VARCHAR)"
    assert rows(workspace)["timestamp"][0].to_pydatetime() == dt.datetime(2024, 6, 1, 16, 0)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (
            "UTC",
            ["2024-03-01 10:00", "2024-03-01 10:00", "2024-06-01 16:00", "2024-03-01 00:00",
             "2024-03-01 10:00", "2024-03-01 10:00:00.123", "2024-07-01 10:00"],
        ),
        (
            "Europe/Amsterdam",  # +01:00 in winter, +02:00 in summer
            ["2024-03-01 09:00", "2024-03-01 10:00", "2024-06-01 16:00", "2024-02-29 23:00",
             "2024-03-01 10:00", "2024-03-01 10:00:00.123", "2024-07-01 08:00"],
        ),
    ],
)  # fmt: skip
def test_timestamp_text_in_every_form(workspace, tmp_path, zone, expected):
    texts = [
        "2024-03-01 10:00",  # naive: read in the zone
        "2024-03-01T10:00:00Z",
        "2024-06-01T12:00:00-04:00",
        "2024-03-01",
        "1709287200",  # seconds since 1970 (UTC)
        "1709287200123",  # milliseconds
        "2024-07-01 10:00",
    ]
    body = "".join(f"c{i},{t},x\n" for i, t in enumerate(texts))
    src = write(tmp_path / "t.csv", "customer_id,timestamp,event\n" + body)
    report = workspace.ingest_events(src, timezone=zone, progress=False)
    assert report.accepted == len(texts)
    assert rows(workspace)["timestamp"].tolist() == [pd.Timestamp(e) for e in expected]


def test_a_damaged_parquet_file_is_a_clear_error_and_stores_nothing(workspace, tmp_path):
    good = tmp_path / "good.parquet"
    duckdb.execute(
        "COPY (SELECT 'c1' AS customer_id, TIMESTAMP '2024-01-01' AS \"timestamp\", "
        "'visit' AS event) TO $f (FORMAT parquet)",
        {"f": str(good)},
    )
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(good.read_bytes()[:100])  # cut off: no footer
    with pytest.raises(IngestError, match=r"Cannot read '.*broken\.parquet' as Parquet"):
        workspace.ingest_events(broken, progress=False)
    assert workspace.data_files("events") == []
    assert workspace.ingest_log().empty
