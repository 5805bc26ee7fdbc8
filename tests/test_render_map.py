"""The map as data and as SVG/HTML: structure, curves, evidence, escaping, snapshots, labels."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import klantreis
from klantreis.model import Journey, list_templates, load_template
from klantreis.render import MeasuredJourney, TouchpointMeasure, map_data, render_map
from klantreis.render.labels import LABELS, fmt_num, fmt_pct, label
from klantreis.render.mapdata import extremes
from klantreis.render.textfit import text_width, wrap

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("KLANTREIS_UPDATE_SNAPSHOTS") == "1"

MEASURED = {
    "period": "2026-01-01..2026-03-31",
    "touchpoints": {
        "checkout": {
            "reach_customers": 1234,
            "conversion_share": 0.45,
            "conversion_n": 1234,
            "score_metric": "csat",
            "score_value": 2.0,
            "score_ci_low": 1.8,
            "score_ci_high": 2.2,
            "score_n": 230,
        },
        "customer-service": {
            "reach_customers": 800,
            "score_metric": "nps",
            "score_value": -20,
            "score_ci_low": -35,
            "score_ci_high": -5,
            "score_n": 25,
        },
        "delivery": {"reach_customers": 2000},
    },
}


def big_journey(n_stages: int = 12, n_touchpoints: int = 50) -> Journey:
    """A generated journey with long texts, for layout tests."""
    stages = []
    for i in range(n_stages):
        stages.append(
            {
                "id": f"s{i}",
                "name": {"en": f"Stage {i} with a rather long name", "nl": f"Fase {i}"},
                "order": i + 1,
                "goal": "I want to understand what this organisation offers me " * (1 + i % 2),
                "content": [f"Brochure {i}"],
                "lanes": {
                    "actions": [
                        f"Action {i}.{k} that takes a few words to describe" for k in range(2)
                    ],
                    "pain_points": ["Averyveryverylongwordwithoutanyspacesthatmustbebroken"],
                    "timeline": "days",
                },
            }
        )
    tps = []
    for k in range(n_touchpoints):
        tps.append(
            {
                "id": f"t{k}",
                "name": f"Touchpoint {k} " + ("with a long descriptive name " * (k % 3)),
                "stage": f"s{k % n_stages}",
                "channel": ["website", "email", "store", "call_centre"][k % 4],
                "owner": "Customer experience department",
                "emotion": [-2, -1, 0, 1, 2][k % 5],
            }
        )
    return Journey.model_validate(
        {"id": "big", "name": "Generated", "stages": stages, "touchpoints": tps}
    )


def test_map_data_columns_cards_and_curves() -> None:
    j = load_template("five-phases", "en")
    data = map_data(j, MeasuredJourney.from_dict(MEASURED))
    assert [c.stage for c in data.columns] == [s.id for s in j.stages_in_order()]
    assert len(data.cards) == len(j.touchpoints)
    assert len(data.designed) == sum(1 for t in j.touchpoints if t.emotion is not None)
    # measured curve: only touchpoints with a score; CSAT 2.0 on 1..5 -> -2 + 4 * 0.25 = -1
    by_key = {p.key: p for p in data.measured}
    assert set(by_key) == {"checkout", "customer-service"}
    assert by_key["checkout"].value == pytest.approx(-1.0)
    assert by_key["checkout"].low == pytest.approx(-2 + 4 * 0.8 / 4)
    # NPS -20 on -100..100 -> -2 + 4 * 0.4 = -0.4
    assert by_key["customer-service"].value == pytest.approx(-0.4)
    evidence = {c.touchpoint: c.evidence for c in data.cards}
    assert evidence["checkout"] == "measured"
    assert evidence["delivery"] == "partly"
    assert evidence["cart"] == "hypothesis"
    frame = data.cards_frame()
    assert list(frame.loc[frame.touchpoint == "checkout", "reach_customers"]) == [1234]


def test_curve_by_stage_averages_expected_emotion() -> None:
    j = load_template("five-phases", "en")
    data = map_data(j, curve_by="stage")
    for p in data.designed:
        emotions = [t.emotion for t in j.touchpoints_in(p.key) if t.emotion is not None]
        assert p.value == pytest.approx(sum(emotions) / len(emotions))


def test_extremes_marks_peaks_and_valleys() -> None:
    assert extremes([0, 1, 0, -1, 0]) == [None, "peak", None, "valley", None]
    assert extremes([0, 2, 2, 1]) == [None, "peak", None, None]
    assert extremes([0, 0.5, 0]) == [None, None, None]  # not pronounced enough
    assert extremes([2]) == [None]


def test_evidence_levels_and_scale() -> None:
    assert TouchpointMeasure("a").evidence == "hypothesis"
    assert TouchpointMeasure("a", conversion_share=0.2).evidence == "partly"
    assert (
        TouchpointMeasure(
            "a", reach_customers=5, score_metric="csat", score_value=3, score_n=3
        ).evidence
        == "measured"
    )
    assert TouchpointMeasure("a", score_metric="ces", score_value=7).emotion() == (2.0, None, None)
    with pytest.raises(klantreis.KlantreisError):
        TouchpointMeasure("a", conversion_share=45)
    with pytest.raises(klantreis.KlantreisError):
        MeasuredJourney.from_dict({"touchpoints": {"a": {"reach": 1}}})


def _count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text))


@pytest.mark.parametrize("template", list_templates(), ids=lambda t: f"{t.name}.{t.lang}")
def test_every_template_svg_and_html_structure(template: klantreis.model.Template) -> None:
    j = load_template(template.name, template.lang)
    svg = render_map(j, fmt="svg")
    assert isinstance(svg, str)
    assert svg.startswith("<svg ") and "foreignObject" not in svg
    assert _count(r'class="stage-column"', svg) == len(j.stages)
    assert _count(r'class="touchpoint-card"', svg) == len(j.touchpoints)
    with_emotion = sum(1 for t in j.touchpoints if t.emotion is not None)
    assert _count(r'class="curve-point curve-designed"', svg) == with_emotion
    assert _count(r'data-evidence="hypothesis"', svg) == len(j.touchpoints)
    html = render_map(j, fmt="html", lang="nl")
    assert isinstance(html, str)
    assert _count(r'class="stage-column"', html) == len(j.stages)
    assert "Hypothese: geen gemeten data" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the page must not load anything"
    assert "<script" not in html


def test_measured_map_shows_numbers_and_small_samples() -> None:
    j = load_template("five-phases", "en")
    svg = render_map(j, fmt="svg", measured=MEASURED)
    assert isinstance(svg, str)
    assert "Reach 1,234 customers" in svg
    assert "Conversion 45% (n=1,234)" in svg
    assert "CSAT 2.0 [1.8–2.2] n=230" in svg
    assert "small sample (n&lt;30)" in svg  # customer service has n=25
    assert _count(r'class="curve-point curve-measured"', svg) == 2
    assert 'class="curve-band"' in svg
    assert "3 of 12 touchpoints have measured data" in svg
    nl = render_map(j, fmt="svg", measured=MEASURED, lang="nl")
    assert "Bereik 1.234 klanten" in nl


def test_hostile_text_is_escaped_everywhere() -> None:
    j = load_template("five-phases", "en")
    hostile = "<script>alert(1)</script>\"&'"
    j.name = hostile
    j.touchpoints[0].name = hostile
    j.touchpoints[0].owner = hostile
    j.stages[0].lanes.actions = [hostile]
    j.stages[0].name.en = hostile
    for fmt in ("svg", "html"):
        out = render_map(j, fmt=fmt)
        assert isinstance(out, str)
        assert "<script" not in out
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    report = klantreis.render_report(j, fmt="html")
    assert isinstance(report, str)
    assert "<script" not in report


def test_big_journey_layout() -> None:
    j = big_journey()
    svg = render_map(j, fmt="svg")
    assert isinstance(svg, str)
    assert _count(r'class="stage-column"', svg) == 12
    assert _count(r'class="touchpoint-card"', svg) == 50
    assert _count(r'class="curve-point curve-designed"', svg) == 50
    width = float(re.search(r'width="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert width < 2600  # 12 columns stay printable on A3 landscape


def test_wrap_fits_and_breaks_long_words() -> None:
    lines = wrap("a" * 200, 100, 12)
    assert all(text_width(line, 12) <= 100 for line in lines)
    assert "".join(lines) == "a" * 200
    assert wrap("one two three", 1000, 12) == ["one two three"]
    assert wrap("one two three four five", 40, 12, max_lines=2)[-1].endswith("…")


def test_labels_complete_and_numbers_localised() -> None:
    for key, (en, nl) in LABELS.items():
        assert en and nl, key
    assert label("lane.pain_points", "nl") == "Pijnpunten"
    assert fmt_num(1234.5, "en") == "1,234.5"
    assert fmt_num(1234.5, "nl") == "1.234,5"
    assert fmt_num(-0.04, "en") == "0.0"
    assert fmt_pct(0.456, "nl", decimals=1) == "45,6%"


@pytest.mark.parametrize("name", ["five-phases.en", "five-phases.nl"])
def test_golden_svg_snapshot(name: str) -> None:
    template, lang = name.split(".")
    measured = MEASURED if lang == "en" else None
    svg = render_map(load_template(template, lang), fmt="svg", measured=measured)
    assert isinstance(svg, str)
    path = SNAPSHOTS / f"map-{name}.svg"
    if UPDATE or not path.exists():
        path.write_text(svg, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} was missing and has been written; review and rerun")
    assert svg == path.read_text(encoding="utf-8"), (
        f"map SVG differs from {path}; if the change is wanted, rerun with KLANTREIS_UPDATE_SNAPSHOTS=1 "
        "and review the diff"
    )


def test_measured_from_engine_scores_frame() -> None:
    import pandas as pd

    from klantreis.render import measured_from_scores

    frame = pd.DataFrame(
        {
            "touchpoint": ["checkout", "checkout", "delivery"],
            "metric": ["csat", "nps", "nps"],
            "n": [200, 150, 10],
            "value": [0.25, -40.0, 50.0],
            "ci_low": [0.2, -50.0, float("nan")],
            "ci_high": [0.3, -30.0, float("nan")],
            "scale_min": [1.0, 0.0, 0.0],
            "scale_max": [5.0, 10.0, 10.0],
        }
    )
    m = measured_from_scores(frame, reach={"checkout": 900})
    # CSAT top-2-box share 0.25 on 0..1 -> -2 + 4 * 0.25 = -1
    assert m.touchpoints["checkout"].emotion() == pytest.approx((-1.0, -1.2, -0.8))
    assert m.evidence("checkout") == "measured"
    # NPS 50 on -100..100 -> +1; no interval; n=10 is a small sample
    assert m.touchpoints["delivery"].emotion() == (1.0, None, None)
    assert m.touchpoints["delivery"].small_sample()
    assert measured_from_scores(frame, metric="nps").touchpoints["checkout"].score_value == -40.0
    svg = render_map(load_template("five-phases", "en"), measured=m)
    assert isinstance(svg, str) and "CSAT 25% [20%–30%] n=200" in svg
