"""The journey simulator: schema, linkability, determinism, planted truth, realism."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import klantreis
from klantreis.errors import UsageError
from klantreis.model import list_templates, load_journey, load_template
from klantreis.simulator import Plant, simulate, simulate_frames
from klantreis.simulator.model import timeline_seconds
from klantreis.store.schema import ACCOUNTS, CUSTOMERS, EVENTS, RESPONSES

FILLED_BY_STORE = {"source_file", "source_line", "ingest_id"}


def _rule_ok(rule, event, channel, props) -> bool:
    """Plain-Python reading of a match rule (independent of the simulator's own)."""
    if rule.event is not None and event != rule.event:
        return False
    if rule.event_glob is not None and not fnmatch.fnmatchcase(event, rule.event_glob):
        return False
    if rule.event_regex is not None and not re.fullmatch(rule.event_regex, event):
        return False
    if rule.channel is not None:
        allowed = [rule.channel] if isinstance(rule.channel, str) else rule.channel
        if channel not in allowed:
            return False
    for key, want in (rule.properties or {}).items():
        options = want if isinstance(want, list) else [want]
        if props.get(key) not in [
            str(o).lower() if isinstance(o, bool) else str(o) for o in options
        ]:
            return False
    return True


def _linked(journey, event, channel, props) -> list[str]:
    return [
        t.id
        for t in journey.touchpoints
        if any(_rule_ok(r, event, channel, props) for r in t.match)
    ]


@pytest.mark.parametrize("tpl", list_templates(), ids=lambda t: f"{t.name}.{t.lang}")
def test_every_event_links_back_to_the_touchpoint_that_made_it(tpl):
    journey = load_journey(tpl.path)
    sim = simulate_frames(journey, customers=400, seed=5, with_touchpoint=True)
    ev = sim.events
    assert len(ev) > 1000
    noise = 0
    for event, channel, props, tp in zip(
        ev.event, ev.channel, ev.properties, ev.touchpoint, strict=True
    ):
        linked = _linked(journey, event, channel, props)
        if tp is None or pd.isna(tp):
            noise += 1
            assert linked == [], f"noise event {event} links to {linked}"
        else:
            assert linked == [tp], f"{event}/{channel}/{props} made by {tp} links to {linked}"
    assert 0.04 <= noise / len(ev) <= 0.11


def test_tables_have_exactly_the_store_columns_and_types(tmp_path):
    res = simulate("b2b", customers=300, seed=1, out=tmp_path / "sim")
    con = duckdb.connect()
    for table in (EVENTS, RESPONSES, CUSTOMERS, ACCOUNTS):
        path = res.paths[table.name]
        assert path.name == f"{table.name}.parquet"
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        expected = [(c.name, c.type) for c in table.columns if c.name not in FILLED_BY_STORE]
        assert [(name, typ) for name, typ, *_ in described] == expected
        assert res.rows[table.name] == pq.read_metadata(path).num_rows > 0


def test_timestamps_are_utc_microseconds_without_zone(tmp_path):
    res = simulate("five-phases", customers=50, seed=1, out=tmp_path)
    field = pq.read_schema(res.paths["events"]).field("timestamp")
    assert str(field.type) == "timestamp[us]"


def test_same_seed_gives_the_same_files_whatever_the_chunk_size(tmp_path):
    a = simulate("five-phases", customers=2500, seed=7, out=tmp_path / "a", chunk_customers=100)
    b = simulate("five-phases", customers=2500, seed=7, out=tmp_path / "b", chunk_customers=1000)
    c = simulate("five-phases", customers=2500, seed=8, out=tmp_path / "c", chunk_customers=1000)
    for name in ("events", "responses", "customers"):
        ta, tb = pq.read_table(a.paths[name]), pq.read_table(b.paths[name])
        assert ta.num_rows > 0 and ta.equals(tb), name
        assert pq.read_metadata(a.paths[name]).num_row_groups == 25
        assert pq.read_metadata(b.paths[name]).num_row_groups == 3
    assert not pq.read_table(c.paths["events"]).equals(pq.read_table(a.paths["events"]))
    assert (tmp_path / "a" / "truth.json").read_text() == (
        tmp_path / "b" / "truth.json"
    ).read_text()


def test_csv_has_properties_as_plain_columns(tmp_path):
    res = simulate("five-phases", customers=200, seed=2, out=tmp_path, fmt="csv")
    df = pd.read_csv(res.paths["events"])
    canonical = [
        c.name for c in EVENTS.columns if c.name not in FILLED_BY_STORE and c.name != "properties"
    ]
    assert list(df.columns[: len(canonical)]) == canonical
    assert {"journey", "page", "page_type", "source", "device"} <= set(df.columns)
    assert len(df) == res.rows["events"]
    assert (df.journey == "five-phases").all()
    customers = pd.read_csv(res.paths["customers"])
    assert {"customer_id", "journey", "persona"} <= set(customers.columns)


def _stage_reach(journey, ev: pd.DataFrame) -> tuple[pd.Series, dict[str, int]]:
    order = {s.id: s.order for s in journey.stages}
    tp_order = {t.id: order[t.stage] for t in journey.touchpoints}
    linked = ev[ev.touchpoint.notna()].copy()
    linked["order"] = linked.touchpoint.map(tp_order)
    return linked.groupby("customer_id")["order"].max(), tp_order


@pytest.mark.parametrize("target", ["checkout", "product-page"])
def test_a_planted_pain_point_scores_lower_and_loses_more_customers(target):
    journey = load_template("five-phases")
    sim = simulate_frames(
        journey, customers=6000, seed=11, plant=[f"pain:{target}"], with_touchpoint=True
    )
    ev, rs = sim.events, sim.responses
    csat = rs[rs.metric == "csat"].groupby("touchpoint")["score"].mean()
    assert csat.idxmin() == target
    assert csat[target] < csat.drop(target).min() - 0.5

    reach, tp_order = _stage_reach(journey, ev)
    last = max(tp_order.values())
    drop = {}
    linked = ev[ev.touchpoint.notna()]
    for tp, order in tp_order.items():
        if order == last:
            continue
        who = linked.loc[linked.touchpoint == tp, "customer_id"].unique()
        drop[tp] = float((reach.loc[who] == order).mean())
    assert max(drop, key=drop.get) == target
    others = np.mean([v for k, v in drop.items() if k != target])
    assert drop[target] > others + 0.15
    assert sim.truth["planted"][0]["target"] == target


def test_without_plants_no_touchpoint_stands_out():
    sim = simulate_frames("five-phases", customers=3000, seed=3)
    assert sim.truth["planted"] == []
    csat = sim.responses[sim.responses.metric == "csat"].groupby("touchpoint")["score"].mean()
    assert csat.max() - csat.min() < 1.2


def test_a_planted_slow_spot_makes_the_wait_before_it_longer():
    def wait_days(plant):
        sim = simulate_frames(
            "five-phases", customers=3000, seed=4, plant=plant, with_touchpoint=True
        )
        ev = sim.events.sort_values(["customer_id", "timestamp"])
        gap = ev.groupby("customer_id")["timestamp"].diff().dt.total_seconds() / 86400
        return float(gap[ev.touchpoint == "delivery"].median())

    assert wait_days(["slow:delivery"]) > 3 * wait_days([])


def test_a_planted_driver_raises_nps_and_repeat_purchases():
    sim = simulate_frames(
        "five-phases",
        customers=8000,
        seed=9,
        plant=["driver:customer-service"],
        with_touchpoint=True,
    )
    ev, rs = sim.events, sim.responses
    had = set(ev.loc[ev.touchpoint == "customer-service", "customer_id"])
    nps = rs[rs.metric == "nps"].copy()
    nps["had"] = nps.customer_id.isin(had)
    means = nps.groupby("had")["score"].mean()
    assert means[True] > means[False] + 0.8
    buyers = ev[ev.value.notna()].groupby("customer_id").size()
    repeat = (buyers > 1).groupby(buyers.index.isin(had)).mean()
    assert repeat[True] > repeat[False] + 0.1


def test_b2b_accounts_have_several_contacts():
    sim = simulate_frames("b2b", customers=1500, seed=1)
    cust = sim.customers
    assert cust.account_id.notna().all()
    per_account = cust.groupby("account_id").size()
    assert per_account.mean() > 2 and per_account.max() >= 4
    assert set(sim.accounts.account_id) == set(cust.account_id)
    ev = sim.events
    assert (ev.contact_id == ev.customer_id).all() and ev.account_id.notna().all()
    roles = {a["role"] for a in cust.attributes}
    assert "decision_maker" in roles and len(roles) >= 3
    assert sim.events.value.dropna().median() > 5000  # B2B deals, not webshop orders


def test_consumer_journeys_have_no_accounts():
    sim = simulate_frames("five-phases", customers=300, seed=1)
    assert sim.accounts.empty and sim.customers.account_id.isna().all()


def test_delays_span_minutes_to_months():
    sim = simulate_frames("five-phases", customers=3000, seed=1)
    ev = sim.events.sort_values(["customer_id", "timestamp"])
    gap_s = ev.groupby("customer_id")["timestamp"].diff().dt.total_seconds().dropna()
    assert gap_s.quantile(0.1) < 10 * 60
    assert gap_s.max() > 60 * 86400
    b2b = simulate_frames("b2b", customers=1000, seed=1).events
    span = b2b.groupby("customer_id")["timestamp"].agg(lambda t: (t.max() - t.min()).days)
    assert span.quantile(0.9) > 180  # B2B cycles take months to years


def test_sessions_allow_bounce_rate_and_time_on_page():
    ev = simulate_frames("five-phases", customers=2000, seed=1).events
    web = ev[ev.session_id.notna()]
    assert len(web) > 0.3 * len(ev)
    assert (web.groupby("session_id")["customer_id"].nunique() == 1).all()
    size = web.groupby("session_id").size()
    bounce = (size == 1).mean()
    assert 0.2 < bounce < 0.8
    first = web.sort_values("timestamp").groupby("session_id").head(1)
    assert all("source" in p for p in first.properties)
    span = web.groupby("session_id")["timestamp"].agg(lambda t: (t.max() - t.min()).total_seconds())
    assert span.max() < 6 * 3600 and span[size > 1].median() > 5
    assert all("page" in p and "page_type" in p for p in web.properties)


def test_scores_stay_within_their_scales_and_comments_follow_the_language():
    for name, words in (
        ("five-phases.nl", {"de", "het", "een", "ik"}),
        ("five-phases.en", {"the", "i", "was", "with"}),
    ):
        rs = simulate_frames(name, customers=1500, seed=2).responses
        for metric, lo, hi in (("csat", 1, 5), ("nps", 0, 10), ("ces", 1, 7)):
            s = rs.loc[rs.metric == metric, "score"]
            assert len(s) > 20 and s.between(lo, hi).all()
            assert (rs.loc[rs.metric == metric, "scale_min"] == lo).all()
        comments = rs.comment.dropna()
        assert 0.2 < len(comments) / len(rs) < 0.5
        tokens = {w.strip(".,!").lower() for c in comments for w in c.split()}
        assert len(words & tokens) >= 3, name


def test_purchases_carry_revenue_and_customers_buy_again():
    sim = simulate_frames("five-phases", customers=3000, seed=1, with_touchpoint=True)
    ev = sim.events
    buys = ev[ev.value.notna()]
    assert set(buys.touchpoint) <= {"order-confirmation", "repeat-purchase"}
    assert (buys.value > 0).all() and 20 < buys.value.median() < 200
    per = buys.groupby("customer_id").size()
    assert 0.1 < (per > 1).mean() < 0.9
    status = pd.Series([a["status"] for a in sim.customers.attributes])
    assert {"prospect", "active", "churned"} <= set(status)


def test_personas_behave_differently():
    sim = simulate_frames("five-phases", customers=4000, seed=1)
    persona = {r.customer_id: r.attributes["persona"] for r in sim.customers.itertuples()}
    buys = sim.events[sim.events.value.notna()].copy()
    buys["persona"] = buys.customer_id.map(persona)
    spend = buys.groupby("persona")["value"].median()
    assert spend.max() > 1.3 * spend.min()


def test_truth_file_describes_the_plants(tmp_path):
    res = simulate(
        "five-phases",
        customers=100,
        seed=1,
        out=tmp_path,
        plant=["pain:checkout", "slow:retention:2", Plant("driver", "newsletter")],
    )
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth == res.truth
    kinds = {(p["kind"], p["target"], p["target_type"]) for p in truth["planted"]}
    assert kinds == {
        ("pain", "checkout", "touchpoint"),
        ("slow", "retention", "stage"),
        ("driver", "newsletter", "touchpoint"),
    }
    slow = next(p for p in truth["planted"] if p["kind"] == "slow")
    assert slow["effects"]["delay_factor"] == 11.0
    assert truth["rows"]["events"] == res.rows["events"]


def test_bad_plants_are_usage_errors():
    with pytest.raises(UsageError, match="KIND:TARGET"):
        Plant.parse("checkout")
    with pytest.raises(UsageError, match=r"Unknown touchpoint 'kassa'.*checkout"):
        simulate_frames("five-phases", customers=10, plant=["pain:kassa"])
    with pytest.raises(UsageError, match="not a number"):
        Plant.parse("pain:checkout:hard")


def test_timeline_text_sets_the_delay_scale():
    assert timeline_seconds("minutes to weeks") == (60.0, 7 * 86400.0)
    assert timeline_seconds("dagen tot maanden") == (86400.0, 30.4 * 86400)
    assert timeline_seconds("hours") == (3600.0, 86400.0)
    assert timeline_seconds("soon") is None


def test_the_public_api(tmp_path):
    assert "simulate" in klantreis.__all__
    res = klantreis.simulate("podiatrist.nl", customers=100, seed=1, out=tmp_path)
    assert res.journey == load_template("podiatrist", "nl").id
    assert res.to_frame().set_index("table").loc["events", "rows"] == res.rows["events"]
    assert json.dumps(res.to_dict())


def test_journey_files_work_too(tmp_path: Path):
    src = tmp_path / "j.yaml"
    src.write_text(load_template("five-phases").model_dump_json(), encoding="utf-8")
    ws = klantreis.init(tmp_path / "ws", template="five-phases")
    sim = simulate_frames(ws.journey_path("five-phases"), customers=20, seed=1)
    assert len(sim.customers) == 20


def test_worker_processes_give_the_same_files(tmp_path):
    a = simulate("b2b", customers=4500, seed=3, out=tmp_path / "a", workers=1)
    b = simulate("b2b", customers=4500, seed=3, out=tmp_path / "b", workers=2, chunk_customers=700)
    for name in ("events", "responses", "customers", "accounts"):
        assert pq.read_table(a.paths[name]).equals(pq.read_table(b.paths[name])), name
