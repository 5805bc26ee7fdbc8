"""The report's priority list from the engine's ranked pain points (plain rows, in words).

:func:`priority_rows` takes the ``priorities`` table of ``klantreis.measure_journey`` (one row
per touchpoint, ranked by reach × severity, with the estimated impact) and returns the rows the
report shows: pain point, stage, touchpoint, owner, status, estimated impact and evidence, with
numbers in the report's language. Pure: it computes nothing, it only writes numbers down.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..model import Journey
from .labels import fmt_int, fmt_num, fmt_pct, resolve_lang

__all__ = ["priority_rows"]

_WORDS: dict[str, tuple[str, str]] = {
    "reach": ("reach {n} customers ({share})", "bereik {n} klanten ({share})"),
    "score": ("{metric} {value} (n={n})", "{metric} {value} (n={n})"),
    "drop_off": (
        "journey ends here without buying: {share}",
        "reis stopt hier zonder aankoop: {share}",
    ),
    "conversions": (
        "+{value} conversions (95%: {low}–{high})",
        "+{value} conversies (95%: {low}–{high})",
    ),
    "revenue": ("+{value} revenue", "+{value} omzet"),
    "none": ("no measurable gain", "geen meetbare winst"),
    "why.score": ("Score: {score}", "Score: {score}"),
    "why.drop_off": ("Journeys ending here: {share}", "Reizen die hier eindigen: {share}"),
    "why.wait": ("Wait afterwards: {days} days", "Wachttijd hierna: {days} dagen"),
}


def _word(key: str, lang: str, **values: object) -> str:
    en, nl = _WORDS[key]
    return (nl if lang == "nl" else en).format(**values)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _score(metric: str, value: float, lang: str) -> str:
    if metric == "csat":  # the engine's CSAT is the top-2-box share
        return fmt_pct(value, lang)
    return fmt_num(value, lang, decimals=0 if metric == "nps" else 1)


def _why(row: dict[str, Any], lang: str) -> str | None:
    """The largest part of the severity in words (score, drop-off or the wait afterwards)."""
    parts = {
        "score": _num(row.get("score_badness")),
        "drop_off": _num(row.get("drop_off_share")),
        "wait": _num(row.get("time_lost")),
    }
    present = {k: v for k, v in parts.items() if v}
    if not present:
        return None
    worst = max(present, key=lambda k: present[k])
    if worst == "score":
        metric = str(row.get("score_metric") or "score")
        value = _num(row.get("score_value")) or 0.0
        return _word("why.score", lang, score=f"{metric.upper()} {_score(metric, value, lang)}")
    if worst == "drop_off":
        return _word("why.drop_off", lang, share=fmt_pct(parts["drop_off"] or 0.0, lang))
    days = (_num(row.get("median_seconds_after")) or 0.0) / 86400
    return _word("why.wait", lang, days=fmt_num(days, lang, decimals=0 if days >= 10 else 1))


def priority_rows(
    priorities: pd.DataFrame,
    journey: Journey,
    *,
    lang: str | None = None,
    top_k: int | None = 10,
) -> list[dict[str, Any]]:
    """The report's priority rows (``report_data(priorities=...)``), best first."""
    lg = resolve_lang(lang, journey.lang)
    names = {t.id: t.name for t in journey.touchpoints}
    rows: list[dict[str, Any]] = []
    frame = priorities if top_k is None else priorities.head(top_k)
    for rec in frame.to_dict(orient="records"):
        r = {str(k): v for k, v in rec.items()}
        tp = str(r["touchpoint"])
        evidence = []
        reach, share = _num(r.get("reach_customers")), _num(r.get("reach_share"))
        if reach is not None and share is not None:
            evidence.append(_word("reach", lg, n=fmt_int(reach, lg), share=fmt_pct(share, lg)))
        value, n = _num(r.get("score_value")), _num(r.get("score_n"))
        if value is not None and n:
            metric = str(r.get("score_metric") or "score")
            evidence.append(
                _word(
                    "score",
                    lg,
                    metric=metric.upper(),
                    value=_score(metric, value, lg),
                    n=fmt_int(n, lg),
                )
            )
        drop = _num(r.get("drop_off_share"))
        if drop:
            evidence.append(_word("drop_off", lg, share=fmt_pct(drop, lg)))
        impact = []
        extra = _num(r.get("extra_conversions"))
        if extra:
            impact.append(
                _word(
                    "conversions",
                    lg,
                    value=fmt_num(extra, lg),
                    low=fmt_num(_num(r.get("extra_conversions_low")) or 0.0, lg),
                    high=fmt_num(_num(r.get("extra_conversions_high")) or 0.0, lg),
                )
            )
        revenue = _num(r.get("extra_revenue"))
        if revenue:
            impact.append(_word("revenue", lg, value=fmt_int(revenue, lg)))
        if not impact and "extra_conversions" in r and extra is not None:
            impact.append(_word("none", lg))
        stage = r.get("stage")
        rows.append(
            {
                "pain_point": _why(r, lg) or names.get(tp, tp),
                "stage": journey.stage_label(str(stage), lg) if stage else "",
                "touchpoint": names.get(tp, tp),
                "owner": r.get("owner") or "",
                "status": "",
                "estimated_impact": "; ".join(impact),
                "evidence": "; ".join(evidence),
            }
        )
    return rows
