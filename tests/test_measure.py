"""The measured journey (klantreis.measure_journey) and the map/report commands that use it."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import klantreis
from klantreis import testing as kt
from klantreis.cli import cli
from klantreis.engine.measure import MEASURED_FIELDS, measure_journey
from klantreis.render import MeasuredJourney, TouchpointMeasure, render_map
from klantreis.render.labels import fmt_int, fmt_pct
from klantreis.render.priorities import priority_rows

# -- exact values on a tiny log ------------------------------------------------------------------
JOURNEY = kt.journey(
    ["look", "buy"],
    {"v": ("look", "view"), "c": ("buy", "cart"), "p": ("buy", "pay")},
    conversion=["p"],
)
# a: view → cart → pay (pay 10 min after the view); b: view → cart; c: view (February)
EVENTS = kt.events(
    [
        ("a", "2024-01-01T10:00:00", "view"),
        ("a", "2024-01-01T10:01:00", "cart"),
        ("a", "2024-01-01T10:10:00", "pay"),
        ("b", "2024-01-02T10:00:00", "view"),
        ("b", "2024-01-02T10:05:00", "cart"),
        ("c", "2024-02-01T09:00:00", "view"),
    ]
)
# CSAT at v: 5, 4, 2 → top-2-box 2/3 (n=3); CES at v too (CSAT wins on the card); NPS at c: 10, 6
RESPONSES = kt.responses(
    [
        ("a", "2024-01-01T10:00:30", "v", "csat", 5),
        ("b", "2024-01-02T10:00:30", "v", "csat", 4),
        ("c", "2024-02-01T09:00:30", "v", "csat", 2),
        ("a", "2024-01-01T10:00:40", "v", "ces", 6),
        ("a", "2024-01-01T10:01:30", "c", "nps", 10),
        ("b", "2024-01-02T10:05:30", "c", "nps", 6),
    ]
)


def _tiny() -> klantreis.engine.Source:
    return kt.source(events=EVENTS, responses=RESPONSES, journey=JOURNEY)


def test_exact_numbers_per_touchpoint() -> None:
    m = measure_journey(_tiny(), "test")
    rows = {r["touchpoint"]: r for r in m.frame.to_dict(orient="records")}
    assert list(m.frame.touchpoint) == ["v", "c", "p"]
    assert [rows[t]["reach_customers"] for t in "vcp"] == [3, 2, 1]
    # v: 3 entered, a bought after → 1/3; c: a and b, a bought → 1/2; p is the conversion itself
    assert (rows["v"]["conversion_n"], rows["v"]["conversion_share"]) == (3, pytest.approx(1 / 3))
    assert (rows["c"]["conversion_n"], rows["c"]["conversion_share"]) == (2, 0.5)
    assert math.isnan(rows["p"]["conversion_share"]) and rows["v"]["conversion_target"] == "p"
    # v's card shows CSAT (preferred over CES): the top-2-box share 2/3 with the Wilson interval
    z = 1.959963984540054
    p, n = 2 / 3, 3
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    v = rows["v"]
    assert (v["score_metric"], v["score_n"], v["score_min"], v["score_max"]) == ("csat", 3, 0, 1)
    assert v["score_value"] == pytest.approx(2 / 3)
    assert v["score_ci_low"] == pytest.approx(centre - half)
    assert v["score_ci_high"] == pytest.approx(centre + half)
    # c: NPS = 50% promoters − 50% detractors = 0 points, on −100..100
    c = rows["c"]
    assert (c["score_metric"], c["score_n"], c["score_value"]) == ("nps", 2, 0.0)
    assert (c["score_min"], c["score_max"]) == (-100.0, 100.0)
    assert m.scope.customers_in_scope == 3
    assert m.meta["responses"] == 6 and m.meta["conversion_touchpoints"] == ["p"]


def test_measured_json_is_what_the_renderer_takes() -> None:
    m = measure_journey(_tiny(), "test", priorities=False)
    data = m.measured
    assert data is not None
    assert set(MEASURED_FIELDS) <= set(TouchpointMeasure.__dataclass_fields__)
    assert data["touchpoints"]["p"] == {"reach_customers": 1}
    mj = MeasuredJourney.from_dict(json.loads(json.dumps(data)))
    assert [mj.evidence(t) for t in "vcp"] == ["measured", "measured", "partly"]
    assert mj.touchpoints["v"].conversion_share == pytest.approx(1 / 3)
    assert "priorities" not in m.tables


def test_period_and_window() -> None:
    # January only: c (February) is out of reach, and v's conversion is a of a, b = 1/2
    m = measure_journey(_tiny(), "test", since="2024-01-01", until="2024-01-31")
    rows = {r["touchpoint"]: r for r in m.frame.to_dict(orient="records")}
    assert rows["v"]["reach_customers"] == 2 and rows["v"]["conversion_share"] == 0.5
    assert rows["v"]["score_n"] == 2 and rows["v"]["score_value"] == 1.0
    assert m.measured is not None and m.measured["period"] == "2024-01-01 – 2024-01-31"
    # a window of 5 minutes from the entry: a paid 10 minutes after the view, 9 after the cart
    m = measure_journey(_tiny(), "test", window_seconds=300)
    rows = {r["touchpoint"]: r for r in m.frame.to_dict(orient="records")}
    assert rows["v"]["conversion_share"] == 0.0 and rows["c"]["conversion_share"] == 0.0
    m = measure_journey(_tiny(), "test", window_seconds=540)
    rows = {r["touchpoint"]: r for r in m.frame.to_dict(orient="records")}
    assert rows["v"]["conversion_share"] == 0.0 and rows["c"]["conversion_share"] == 0.5


def test_no_data_is_no_measured_journey() -> None:
    m = measure_journey(kt.source(journey=JOURNEY), "test")
    assert m.measured is None
    assert m.priorities.empty


# -- a small simulated workspace ------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_ws(tmp_path_factory: pytest.TempPathFactory) -> klantreis.Workspace:
    ws = klantreis.init(tmp_path_factory.mktemp("measure") / "ws", template="five-phases")
    frames = klantreis.simulate_frames(
        ws.journey(), customers=400, seed=11, plant=["pain:checkout"]
    )
    ws.ingest_events(frames.events, progress=False)
    ws.ingest_feedback(frames.responses, progress=False)
    ws.ingest_customers(frames.customers, progress=False)
    return ws


def test_cards_show_what_the_analyses_return(sim_ws: klantreis.Workspace) -> None:
    journey = sim_ws.journey()
    m = measure_journey(sim_ws, journey)
    scores = klantreis.analyze(sim_ws, "scores", level="touchpoint").frame
    csat = scores[scores.metric == "csat"].set_index("touchpoint")
    reach = klantreis.analyze(sim_ws, "pain-points").frame.set_index("touchpoint")
    rows = m.frame.set_index("touchpoint")
    scored = [t for t in rows.index if t in csat.index]
    assert len(scored) >= 8
    for tp in scored:
        assert rows.loc[tp, "score_metric"] == "csat"
        assert rows.loc[tp, "score_value"] == csat.loc[tp, "value"]
        assert rows.loc[tp, "score_ci_low"] == csat.loc[tp, "ci_low"]
        assert rows.loc[tp, "score_n"] == csat.loc[tp, "n"]
    for tp in reach.index:
        assert rows.loc[tp, "reach_customers"] == reach.loc[tp, "reach_customers"]
    # the one query for all conversions equals the two-step funnel of each touchpoint
    for tp in rows.index[rows.conversion_n.notna()]:
        f = klantreis.analyze(
            sim_ws, "funnel", level="touchpoint", steps=[tp, rows.loc[tp, "conversion_target"]]
        ).frame
        assert rows.loc[tp, "conversion_n"] == f.customers[0]
        assert rows.loc[tp, "conversion_share"] == pytest.approx(f.customers[1] / f.customers[0])
        assert rows.loc[tp, "conversion_n"] == rows.loc[tp, "reach_customers"]
    # the planted pain point (checkout) tops the priorities
    assert m.priorities.touchpoint.iloc[0] == "checkout"
    assert m.priorities.extra_conversions.iloc[0] > 0

    # the map: evidence goes from hypothesis to measured, and the card shows those numbers
    svg = render_map(journey, fmt="svg", measured=None)
    assert set(re.findall(r'data-evidence="(\w+)"', str(svg))) == {"hypothesis"}
    svg = str(render_map(journey, fmt="svg", measured=m.measured))
    evidence = dict(re.findall(r'data-touchpoint="([\w-]+)"[^>]*data-evidence="(\w+)"', svg))
    assert evidence["checkout"] == "measured"
    assert sum(e == "measured" for e in evidence.values()) == len(scored)
    lang = journey.lang
    card = f"CSAT {fmt_pct(csat.loc['checkout', 'value'], lang)}"
    card += f" [{fmt_pct(csat.loc['checkout', 'ci_low'], lang)}–"
    card += f"{fmt_pct(csat.loc['checkout', 'ci_high'], lang)}]"
    card += f" n={fmt_int(csat.loc['checkout', 'n'], lang)}"
    assert card in svg.replace("&#8211;", "–")
    assert f"{fmt_int(reach.loc['checkout', 'reach_customers'], lang)}" in svg


def test_priority_rows_in_words(sim_ws: klantreis.Workspace) -> None:
    journey = sim_ws.journey()
    m = measure_journey(sim_ws, journey)
    first = m.priorities.iloc[0]
    rows = priority_rows(m.priorities, journey, lang="nl", top_k=3)
    assert len(rows) == 3
    assert rows[0]["touchpoint"] == _name(journey, "checkout")
    assert rows[0]["stage"] == journey.stage_label("purchase", "nl")
    assert f"CSAT {fmt_pct(first.score_value, 'nl')} (n={first.score_n})" in rows[0]["evidence"]
    assert rows[0]["estimated_impact"].startswith("+")
    assert "conversies" in rows[0]["estimated_impact"]


def _name(journey: klantreis.Journey, touchpoint: str) -> str:
    return next(t.name for t in journey.touchpoints if t.id == touchpoint)


# -- the commands ------------------------------------------------------------------------------
def _run(ws: klantreis.Workspace, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["-w", str(ws.root), *args])
    return r.exit_code, r.output


def test_map_command_uses_the_data(sim_ws: klantreis.Workspace, tmp_path: Path) -> None:
    out = tmp_path / "m.svg"
    code, text = _run(sim_ws, "map", "-o", str(out))
    assert code == 0, text
    svg = out.read_text(encoding="utf-8")
    assert 'data-touchpoint="checkout"' in svg
    assert re.search(r'data-touchpoint="checkout"[^>]*data-evidence="measured"', svg)
    code, text = _run(sim_ws, "map", "-o", str(out), "--no-data")
    assert code == 0, text
    assert set(re.findall(r'data-evidence="(\w+)"', out.read_text(encoding="utf-8"))) == {
        "hypothesis"
    }
    # a period: the numbers are those of measure_journey with the same period
    code, text = _run(
        sim_ws, "map", "-o", str(out), "--since", "2024-03-01", "--until", "2024-04-30"
    )
    assert code == 0, text
    m = measure_journey(sim_ws, None, since="2024-03-01", until="2024-04-30", priorities=False)
    reach = int(m.frame.set_index("touchpoint").loc["social-ad", "reach_customers"])
    assert f"Reach {fmt_int(reach, 'en')} customers" in out.read_text(encoding="utf-8")
    code, text = _run(sim_ws, "map", "-o", str(out), "--no-data", "--since", "2024-03-01")
    assert code == 2 and "--since" in text


def test_report_command_lists_the_priorities(sim_ws: klantreis.Workspace, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, text = _run(sim_ws, "report", "-o", str(out))
    assert code == 0, text
    html = out.read_text(encoding="utf-8")
    assert _name(sim_ws.journey(), "checkout") in html and " conversions (95%: " in html
    assert "customers in scope" in html  # the denominators in the method notes


def test_commands_without_events(tmp_path: Path) -> None:
    ws = klantreis.init(tmp_path / "ws", template="five-phases")
    out = tmp_path / "m.svg"
    code, text = _run(ws, "map", "-o", str(out))
    assert code == 0, text
    assert set(re.findall(r'data-evidence="(\w+)"', out.read_text(encoding="utf-8"))) == {
        "hypothesis"
    }
    code, text = _run(ws, "map", "-o", str(out), "--segment", "x")
    assert code == 2 and "no events" in text


def test_web_map_shows_the_same_numbers(sim_ws: klantreis.Workspace) -> None:
    from klantreis.web import create_app
    from klantreis.web.views.mapview import map_view

    app = create_app(sim_ws)
    journey = sim_ws.journey()
    view = map_view(app.state.web, journey, lang="nl")
    want = MeasuredJourney.from_dict(measure_journey(sim_ws, journey).measured or {})
    assert view["measured"] == want.to_dict()
    assert 'data-evidence="measured"' in view["svg"]
