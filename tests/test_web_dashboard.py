"""The dashboard page: one chart (inline SVG from klantreis.render) per section with as many
bars/points as the section has rows, the numbers formatted in a table next to it, and the
JSON twin unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import klantreis
from klantreis.web import create_app
from web_helpers import JOURNEY, client_as


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root: Path = tmp_path_factory.mktemp("dash")
    ws = klantreis.init(root / "ws", template=JOURNEY)
    sim = klantreis.simulate(JOURNEY, customers=300, seed=3, out=root / "sim")
    ws.ingest_events(sim.paths["events"], progress=False)
    ws.ingest_feedback(sim.paths["responses"], progress=False)
    return create_app(ws, public_posts_per_minute=100_000)


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'aria-labelledby="{heading_id}"')
    end = html.find("<section", start)
    return html[start : end if end > 0 else len(html)]


def test_one_chart_per_section_with_real_counts(app) -> None:  # type: ignore[no-untyped-def]
    viewer = client_as(app, "viewer")
    sections = viewer.get(f"/api/v1/journeys/{JOURNEY}/dashboard").json()["sections"]
    viewer.headers["accept"] = "text/html"
    html = viewer.get(f"/journeys/{JOURNEY}/dashboard").text
    funnel = _section(html, "h-funnel")
    assert funnel.count("<svg") == 1
    assert funnel.count('class="bar"') == 5  # the five stages of five-phases
    assert len(sections["funnel"]["rows"]) == 5
    scores = _section(html, "h-scores")
    assert scores.count("<svg") == 1
    assert scores.count('class="estimate"') == len(sections["scores"]["rows"]) > 0
    pains = _section(html, "h-pain")
    assert pains.count("<svg") == 1
    assert pains.count('class="bar"') == min(len(sections["pain_points"]["rows"]), 10) > 0
    trends = _section(html, "h-trends")
    csat = [r for r in sections["trends"]["rows"] if r["metric"] == "csat"]
    assert trends.count("<svg") == 1
    assert trends.count('class="point"') == len(csat) > 0
    # the other metric is one choice away
    ces = [r for r in sections["trends"]["rows"] if r["metric"] == "ces"]
    other = viewer.get(f"/journeys/{JOURNEY}/dashboard?metric=ces").text
    assert _section(other, "h-trends").count('class="point"') == len(ces) > 0


def test_tables_next_to_charts_are_formatted(app) -> None:  # type: ignore[no-untyped-def]
    viewer = client_as(app, "viewer")
    rows = viewer.get(f"/api/v1/journeys/{JOURNEY}/dashboard").json()["sections"]["funnel"]["rows"]
    viewer.headers["accept"] = "text/html"
    funnel = _section(viewer.get(f"/journeys/{JOURNEY}/dashboard").text, "h-funnel")
    assert "<details" in funnel and "<summary>" in funnel
    share = rows[1]["conversion_from_previous"]
    assert f"{share * 100:.1f}%" in funnel  # a share as a percentage
    assert f"{share:.3g}</td>" not in funnel
    assert re.search(r"<td class=\"num\">[\d.,]+ (s|min|h|d)</td>", funnel)  # a duration
    first = rows[0]["customers"]
    assert f">{first:,}</td>" in funnel  # a count with a thousands separator
    nl = viewer.get(f"/journeys/{JOURNEY}/dashboard?lang=nl").text
    assert "Toon de cijfers" in nl and "Trechter" in nl
    assert f"{share * 100:.1f}%".replace(".", ",") in _section(nl, "h-funnel")
