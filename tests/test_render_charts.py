"""The dashboard's chart additions: pain points, trends (small multiples), CSAT as a share,
and the formatted cells of the table next to each chart."""

from __future__ import annotations

import pandas as pd

from klantreis.render import chart_svg, charts


def test_table_cell_formats_shares_durations_and_counts() -> None:
    assert charts.table_cell(0.0263, "reach_share") == "2.6%"
    assert charts.table_cell(0.0263, "reach_share", lang="nl") == "2,6%"
    assert charts.table_cell(0.68, "conversion_from_previous") == "68.0%"
    assert charts.table_cell(50501.0, "median_seconds_to_convert") == "14.0 h"  # 50501 / 3600
    assert charts.table_cell(90.0, "median_seconds_after") == "1.5 min"
    assert charts.table_cell(2000, "customers") == "2,000"
    assert charts.table_cell(2000, "customers", lang="nl") == "2.000"
    assert charts.table_cell(5.35632, "value") == "5.36"
    assert charts.table_cell(None, "value") == "—"
    assert charts.table_cell(True, "small_n") == "yes"


def test_scores_data_marks_csat_as_share_and_axis_stays_in_0_100() -> None:
    frame = pd.DataFrame(
        {
            "touchpoint": ["a", "b", "a"],
            "metric": ["csat", "csat", "ces"],
            "value": [0.02, 0.99, 5.0],
            "ci_low": [0.0, 0.95, 4.5],
            "ci_high": [0.1, 1.0, 5.5],
            "n": [40, 12, 50],
        }
    )
    data = charts.scores_data(frame)
    assert data["share"].to_list() == [True, True, False]
    assert data["small_sample"].to_list() == [False, True, False]
    svg = chart_svg.scores_svg(data)
    assert svg.count('class="estimate"') == 3
    assert ">0%<" in svg and ">100%<" in svg and "−" not in svg


def test_pain_points_ranked_with_evidence() -> None:
    frame = pd.DataFrame(
        {
            "rank": [2, 1, 3],
            "touchpoint": ["b", "a <x>", "c"],
            "priority": [0.1, 0.2, 0.05],
            "reach_customers": [10, 20, 5],
            "reach_share": [0.1, 0.2, 0.05],
            "score_metric": ["csat", "csat", None],
            "score_value": [0.5, 0.25, None],
            "score_n": [12, 40, None],
            "drop_off_share": [0.3, 0.4, 0.0],
            "median_seconds_after": [120.0, 7200.0, None],
        }
    )
    data = charts.pain_points_data(frame, top_k=2)
    assert data["rows"]["touchpoint"].to_list() == ["a <x>", "b"]
    assert data["hidden"] == 1
    svg = chart_svg.pain_points_svg(data)
    assert svg.count('class="bar"') == 2
    assert "a &lt;x&gt;" in svg and "a <x>" not in svg
    assert "reach 20% (20) · CSAT 25% (n=40) · drop-off 40% · median 2.0 h" in svg
    assert "CSAT 50% (n=12) ⚠" in svg
    assert "1 more not shown" in svg


def test_trends_small_multiples_one_panel_per_stage() -> None:
    rows = []
    for stage in ("late", "early"):
        for i, period in enumerate(("2024-01-01", "2024-02-01", "2024-03-01")):
            rows.append(
                {
                    "stage": stage,
                    "metric": "csat",
                    "period": period,
                    "value": 0.5 + i / 10,
                    "ci_low": 0.4,
                    "ci_high": 0.9,
                    "n": 10 * (i + 1),
                }
            )
            rows.append({"stage": stage, "metric": "ces", "period": period, "value": 5.0, "n": 40})
    data = charts.trends_data(pd.DataFrame(rows), groups=["early", "late"])
    assert data["metric"] == "csat" and data["metrics"] == ["csat", "ces"] and data["share"]
    assert list(dict.fromkeys(data["series"]["group"])) == ["early", "late"]
    assert data["series"]["small_sample"].to_list() == [True, True, False] * 2
    svg = chart_svg.trends_svg(data)
    assert svg.count('class="point"') == 6
    assert svg.count('class="band"') == 2
    assert "latest: 70% (n=30)" in svg
    ces = charts.trends_data(pd.DataFrame(rows), metric="ces")
    assert not ces["share"] and len(ces["series"]) == 6
    assert chart_svg.trends_svg(ces).count('class="band"') == 0
