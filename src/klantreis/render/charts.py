"""Chart data: the "headless twin" behind every chart (compute here, draw in ``chart_svg``).

Each ``*_data`` function takes an analysis result (a ``Result`` with ``.frame`` or a plain
DataFrame with the columns named below) and returns exactly what its chart draws, as a
DataFrame or a dict of DataFrames: the web app and reports show it next to the chart. Nothing
is dropped silently: what a chart leaves out (paths beyond the top k, weak transitions) is
counted in the returned data and said on the chart.

Input columns (extra columns are ignored):

- funnel: ``step``, ``customers`` (ordered as the funnel).
- paths: ``path`` (list of steps or ``"a > b > c"``), ``customers``.
- transitions: ``source``, ``target``, ``customers``.
- scores: ``touchpoint``, ``metric``, ``value``, ``ci_low``, ``ci_high``, ``n``.
- timing: ``step``, ``median``, ``p25``, ``p75``, ``n``.
- kpi: ``period``, ``value`` (optional ``ci_low``, ``ci_high``, ``n``).
- attribution: ``touchpoint``, ``model``, ``share``.
- personas: ``persona``, ``customers`` (optional ``conversion_share``).
- pain points: ``rank``, ``touchpoint``, ``priority`` (optional evidence: ``reach_customers``,
  ``reach_share``, ``score_metric``, ``score_value``, ``score_n``, ``drop_off_share``,
  ``median_seconds_after``).
- trends: ``period``, ``metric``, ``value`` and a group column (``stage`` or ``touchpoint``;
  optional ``ci_low``, ``ci_high``, ``n``).

``table_cell(value, column, lang=)`` formats one cell of the data next to a chart the way a
reader reads it (shares as percentages, durations in s/min/h/d, thousands separators).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .labels import fmt_int, fmt_num, fmt_pct
from .measured import SMALL_SAMPLE_N

__all__ = [
    "attribution_data",
    "funnel_data",
    "kpi_data",
    "pain_points_data",
    "paths_data",
    "personas_data",
    "scores_data",
    "table_cell",
    "timing_data",
    "transitions_data",
    "trends_data",
]

#: metrics whose ``value`` is a share 0..1 (CSAT is the top-2-box share, see engine/scores.py)
SHARE_METRICS = frozenset({"csat"})


def _frame(result: Any, required: tuple[str, ...], chart: str) -> pd.DataFrame:
    frame = result.frame if hasattr(result, "frame") else result
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        from ..errors import DataError

        raise DataError(
            f"The {chart} chart needs column(s) {', '.join(missing)}; got {', '.join(map(str, frame.columns)) or '(none)'}.",
            hint="pass the analysis result or a DataFrame with the documented columns.",
        )
    return frame.reset_index(drop=True)


def funnel_data(result: Any) -> pd.DataFrame:
    """step, customers, share_of_start, share_of_previous, previous_customers, small_sample."""
    f = _frame(result, ("step", "customers"), "funnel")
    out = pd.DataFrame({"step": f["step"].astype(str), "customers": f["customers"].astype(int)})
    start = int(out["customers"].iloc[0]) if len(out) else 0
    prev = out["customers"].shift(1)
    out["previous_customers"] = prev.fillna(out["customers"]).astype(int)
    out["share_of_start"] = out["customers"] / start if start else float("nan")
    out["share_of_previous"] = (out["customers"] / out["previous_customers"]).where(
        out["previous_customers"] > 0
    )
    out["small_sample"] = out["previous_customers"] < SMALL_SAMPLE_N
    return out


def _steps(path: Any) -> list[str]:
    if isinstance(path, str):
        return [p.strip() for p in path.split(">") if p.strip()]
    return [str(p) for p in path]


def paths_data(result: Any, *, top_k: int = 8, max_steps: int = 5) -> dict[str, Any]:
    """The top ``top_k`` paths as a sankey: ``nodes`` and ``links`` frames plus what is hidden.

    Nodes are (position, step); a link joins consecutive positions of a shown path. Paths
    are cut after ``max_steps`` steps. ``hidden_paths`` / ``hidden_customers`` count the
    paths that were not drawn, so the totals stay those of the analysis.
    """
    f = _frame(result, ("path", "customers"), "paths")
    f = f.assign(customers=f["customers"].astype(int)).sort_values(
        "customers", ascending=False, kind="stable"
    )
    shown, hidden = f.head(top_k), f.iloc[top_k:]
    nodes: dict[tuple[int, str], int] = {}
    links: dict[tuple[int, str, str], int] = {}
    for path, customers in zip(shown["path"], shown["customers"], strict=True):
        steps = _steps(path)[:max_steps]
        for pos, step in enumerate(steps):
            nodes[(pos, step)] = nodes.get((pos, step), 0) + customers
            if pos + 1 < len(steps):
                key = (pos, step, steps[pos + 1])
                links[key] = links.get(key, 0) + customers
    node_frame = pd.DataFrame(
        [{"position": p, "step": s, "customers": c} for (p, s), c in nodes.items()],
        columns=["position", "step", "customers"],
    ).sort_values(["position", "customers"], ascending=[True, False], kind="stable")
    link_frame = pd.DataFrame(
        [
            {"position": p, "source": s, "target": t, "customers": c}
            for (p, s, t), c in links.items()
        ],
        columns=["position", "source", "target", "customers"],
    )
    paths = pd.DataFrame(
        {
            "path": [" > ".join(_steps(p)) for p in shown["path"]],
            "customers": shown["customers"].to_list(),
        }
    )
    total = int(f["customers"].sum())
    return {
        "nodes": node_frame.reset_index(drop=True),
        "links": link_frame,
        "paths": paths,
        "total_customers": total,
        "hidden_paths": len(hidden),
        "hidden_customers": int(hidden["customers"].sum()),
    }


def transitions_data(
    result: Any, *, top_k_per_node: int = 3, min_customers: int = 1
) -> dict[str, Any]:
    """Transitions kept for drawing: per source the ``top_k_per_node`` strongest edges with at
    least ``min_customers``; ``edges`` (with ``share_of_source``), ``nodes`` in first-seen
    order, and ``hidden_edges`` / ``hidden_customers``."""
    f = _frame(result, ("source", "target", "customers"), "transitions")
    f = f.assign(
        source=f["source"].astype(str),
        target=f["target"].astype(str),
        customers=f["customers"].astype(int),
    )
    out_total = f.groupby("source")["customers"].transform("sum")
    f = f.assign(share_of_source=f["customers"] / out_total)
    strong = f[f["customers"] >= min_customers].sort_values(
        ["source", "customers"], ascending=[True, False], kind="stable"
    )
    kept = strong.groupby("source", sort=False).head(top_k_per_node)
    hidden = f.drop(kept.index)
    order: list[str] = []
    for a, b in zip(f["source"], f["target"], strict=True):
        for n in (a, b):
            if n not in order:
                order.append(n)
    return {
        "nodes": pd.DataFrame({"node": order}),
        "edges": kept.reset_index(drop=True)[["source", "target", "customers", "share_of_source"]],
        "hidden_edges": len(hidden),
        "hidden_customers": int(hidden["customers"].sum()),
    }


def scores_data(result: Any) -> pd.DataFrame:
    """touchpoint, metric, value, ci_low, ci_high, n, small_sample (in the input order).

    An optional boolean column ``share`` (the value is a share 0..1, shown as a percentage)
    is kept; without it, ``share`` is true for the share metrics (CSAT, a top-2-box share).
    """
    f = _frame(result, ("touchpoint", "metric", "value", "ci_low", "ci_high", "n"), "scores")
    keep = ["touchpoint", "metric", "value", "ci_low", "ci_high", "n"]
    out = f[keep + (["share"] if "share" in f.columns else [])].copy()
    if "share" not in out.columns:
        out["share"] = out["metric"].astype(str).str.lower().isin(SHARE_METRICS)
    out[["value", "ci_low", "ci_high"]] = out[["value", "ci_low", "ci_high"]].astype(float)
    out["n"] = out["n"].astype(int)
    out["small_sample"] = out["n"] < SMALL_SAMPLE_N
    return out


def timing_data(result: Any, *, unit: str = "days") -> pd.DataFrame:
    """step, median, p25, p75, n, unit, small_sample."""
    f = _frame(result, ("step", "median", "p25", "p75", "n"), "timing")
    out = f[["step", "median", "p25", "p75", "n"]].copy()
    out["n"] = out["n"].astype(int)
    out["unit"] = unit
    out["small_sample"] = out["n"] < SMALL_SAMPLE_N
    return out


def kpi_data(result: Any) -> pd.DataFrame:
    """period, value, ci_low, ci_high, n, small_sample (sorted by period)."""
    f = _frame(result, ("period", "value"), "kpi")
    out = pd.DataFrame({"period": f["period"].astype(str), "value": f["value"].astype(float)})
    for col in ("ci_low", "ci_high", "n"):
        out[col] = f[col] if col in f.columns else None
    out = out.sort_values("period", kind="stable").reset_index(drop=True)
    out["small_sample"] = [
        n is not None and not pd.isna(n) and n < SMALL_SAMPLE_N for n in out["n"]
    ]
    return out


def attribution_data(result: Any) -> pd.DataFrame:
    """One row per touchpoint, one column per model (share of conversions, 0..1)."""
    f = _frame(result, ("touchpoint", "model", "share"), "attribution")
    wide = f.pivot_table(
        index="touchpoint", columns="model", values="share", aggfunc="sum", sort=False
    ).fillna(0.0)
    wide = wide.loc[wide.max(axis=1).sort_values(ascending=False, kind="stable").index]
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def personas_data(result: Any) -> pd.DataFrame:
    """persona, customers, share (of all customers), conversion_share, small_sample."""
    f = _frame(result, ("persona", "customers"), "personas")
    out = pd.DataFrame(
        {"persona": f["persona"].astype(str), "customers": f["customers"].astype(int)}
    )
    total = int(out["customers"].sum())
    out["share"] = out["customers"] / total if total else 0.0
    out["conversion_share"] = f["conversion_share"] if "conversion_share" in f.columns else None
    out["small_sample"] = out["customers"] < SMALL_SAMPLE_N
    return out


def pain_points_data(result: Any, *, top_k: int = 10) -> dict[str, Any]:
    """The ``top_k`` pain points by rank with their evidence: ``rows`` (rank, touchpoint,
    priority, reach_customers, reach_share, score_metric, score_value, score_n, small_sample,
    drop_off_share, median_seconds_after; missing evidence is None) and ``hidden`` (how many
    ranked pain points were not drawn)."""
    f = _frame(result, ("rank", "touchpoint", "priority"), "pain points")
    f = f.sort_values("rank", kind="stable").reset_index(drop=True)
    evidence = (
        "reach_customers",
        "reach_share",
        "score_metric",
        "score_value",
        "score_n",
        "drop_off_share",
        "median_seconds_after",
    )
    out = pd.DataFrame(
        {
            "rank": f["rank"].astype(int),
            "touchpoint": f["touchpoint"].astype(str),
            "priority": f["priority"].astype(float),
        }
    )
    for col in evidence:
        out[col] = [None if pd.isna(v) else v for v in f[col]] if col in f.columns else None
    out["small_sample"] = [
        n is not None and not pd.isna(n) and n < SMALL_SAMPLE_N for n in out["score_n"]
    ]
    return {"rows": out.head(top_k), "hidden": max(len(out) - top_k, 0)}


def trends_data(
    result: Any, *, metric: str | None = None, groups: list[str] | None = None
) -> dict[str, Any]:
    """One KPI series per group (stage or touchpoint) for one metric, for small multiples.

    ``metric`` defaults to CSAT when present, else the first metric. Returns ``series``
    (group, period, value, ci_low, ci_high, n, small_sample; groups in input order, periods
    sorted; ``groups`` gives the group order, e.g. the journey's stage order, others follow),
    ``group`` (the group column), ``metric``, ``metrics`` (all metrics present, for a
    selector) and ``share`` (the values are shares 0..1).
    """
    f = _frame(result, ("period", "metric", "value"), "trends")
    group = next((c for c in ("stage", "touchpoint", "node") if c in f.columns), None)
    if group is None:
        from ..errors import DataError

        raise DataError(
            "The trends chart needs a group column (stage, touchpoint or node).",
            hint="pass a scores result with level='stage' and a trend.",
        )
    metrics = list(dict.fromkeys(f["metric"].astype(str)))
    chosen = metric if metric in metrics else ("csat" if "csat" in metrics else None)
    chosen = chosen or (metrics[0] if metrics else (metric or ""))
    part = f[f["metric"].astype(str) == chosen]
    series = pd.DataFrame(
        {
            "group": part[group].astype(str),
            "period": part["period"].astype(str).str[:10],
            "value": part["value"].astype(float),
        }
    )
    for col in ("ci_low", "ci_high", "n"):
        series[col] = part[col].astype(float) if col in part.columns else float("nan")
    order = {g: i for i, g in enumerate(dict.fromkeys([*(groups or []), *series["group"]]))}
    series = series.assign(_o=series["group"].map(order)).sort_values(
        ["_o", "period"], kind="stable"
    )
    series = series.drop(columns="_o").reset_index(drop=True)
    series["small_sample"] = series["n"].notna() & (series["n"] < SMALL_SAMPLE_N)
    return {
        "series": series,
        "group": group,
        "metric": chosen,
        "metrics": metrics,
        "share": chosen.lower() in SHARE_METRICS,
    }


_SHARE_WORDS = ("share", "conversion", "rate")


def _duration(seconds: float, lang: str) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if abs(seconds) >= size:
            return f"{fmt_num(seconds / size, lang)} {unit}"
    return f"{fmt_int(seconds, lang)} s"


def table_cell(value: Any, column: str = "", *, lang: str = "en") -> str:
    """One table cell as a reader reads it: ``*_seconds*`` columns as durations (s/min/h/d),
    ``*share*``/``conversion*``/``*rate*`` columns as percentages, whole numbers with thousands
    separators, other numbers with 3 significant digits, empty as "—"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return ("ja" if value else "nee") if lang == "nl" else ("yes" if value else "no")
    if isinstance(value, (int, float)):
        name = column.lower()
        v = float(value)
        if name.endswith("seconds") or "_seconds_" in name:
            return _duration(v, lang)
        if any(w in name for w in _SHARE_WORDS) and -1.0 <= v <= 1.0:
            return fmt_pct(v, lang, decimals=1)
        if v == int(v) and abs(v) < 1e15:
            return fmt_int(v, lang)
        if abs(v) >= 100:
            return fmt_int(v, lang)
        digits = max(0, 2 - math.floor(math.log10(abs(v)))) if v else 0
        return fmt_num(v, lang, decimals=min(digits, 6))
    if isinstance(value, list):
        return " → ".join(str(v) for v in value)
    return str(value)
