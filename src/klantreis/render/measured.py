"""What the map shows of the measured journey: a few numbers per touchpoint.

The map can be drawn without any data (every touchpoint is then a *hypothesis*). Measured
numbers come from the analytics engine; the renderers never call it themselves: they take a
:class:`MeasuredJourney`, which is plain data and can be written by hand, read from JSON
(``MeasuredJourney.from_dict``) or built from the engine's results (``from_engine``).

Evidence level of a touchpoint:

- ``hypothesis``: no measured number at all;
- ``partly``: some numbers (reach, conversion or a score) but not both reach and a score;
- ``measured``: reach and a score with at least one response.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..errors import DataError

__all__ = [
    "EVIDENCE_LEVELS",
    "SCORE_SCALES",
    "SMALL_SAMPLE_N",
    "Evidence",
    "MeasuredJourney",
    "TouchpointMeasure",
    "measured_from_scores",
]

Evidence = Literal["hypothesis", "partly", "measured"]
EVIDENCE_LEVELS: tuple[Evidence, ...] = ("hypothesis", "partly", "measured")

#: Below this many observations a rate or score is flagged as a small sample.
SMALL_SAMPLE_N = 30

#: metric -> (scale minimum, scale maximum, higher is better)
SCORE_SCALES: dict[str, tuple[float, float, bool]] = {
    "csat": (1.0, 5.0, True),
    "nps": (-100.0, 100.0, True),
    "ces": (1.0, 7.0, True),
}


@dataclass
class TouchpointMeasure:
    """Measured numbers for one touchpoint; every field is optional.

    ``conversion_share`` is a share 0..1 of ``conversion_n`` customers. ``score_*`` is one
    score (``csat``, ``nps``, ``ces`` or a custom metric with ``score_min``/``score_max``)
    with its 95% interval and number of responses ``score_n``.
    """

    touchpoint: str
    reach_customers: int | None = None
    conversion_share: float | None = None
    conversion_n: int | None = None
    score_metric: str | None = None
    score_value: float | None = None
    score_ci_low: float | None = None
    score_ci_high: float | None = None
    score_n: int | None = None
    score_min: float | None = None
    score_max: float | None = None
    higher_is_better: bool | None = None

    def __post_init__(self) -> None:
        if self.conversion_share is not None and not 0 <= self.conversion_share <= 1:
            raise DataError(
                f"Conversion share {self.conversion_share!r} of touchpoint {self.touchpoint!r} "
                "is outside 0..1.",
                hint="give a share (0.45), not a percentage (45).",
            )
        if self.score_value is not None and self.score_metric is None:
            self.score_metric = "score"

    # -- derived ---------------------------------------------------------------------------
    @property
    def has_score(self) -> bool:
        return self.score_value is not None and (self.score_n is None or self.score_n > 0)

    @property
    def evidence(self) -> Evidence:
        has_reach = self.reach_customers is not None
        if has_reach and self.has_score:
            return "measured"
        if has_reach or self.has_score or self.conversion_share is not None:
            return "partly"
        return "hypothesis"

    def scale(self) -> tuple[float, float, bool]:
        """(minimum, maximum, higher is better) of the score's scale."""
        known = SCORE_SCALES.get((self.score_metric or "").lower())
        lo = self.score_min if self.score_min is not None else (known[0] if known else None)
        hi = self.score_max if self.score_max is not None else (known[1] if known else None)
        better = (
            self.higher_is_better
            if self.higher_is_better is not None
            else (known[2] if known else True)
        )
        if lo is None or hi is None or hi <= lo:
            raise DataError(
                f"Unknown scale for score {self.score_metric!r} of touchpoint {self.touchpoint!r}.",
                hint=f"use one of {', '.join(SCORE_SCALES)} or give score_min and score_max.",
            )
        return lo, hi, better

    def to_emotion(self, value: float) -> float:
        """A score on its scale mapped linearly to the map's emotion scale −2..+2."""
        lo, hi, better = self.scale()
        pos = (min(max(value, lo), hi) - lo) / (hi - lo)
        if not better:
            pos = 1 - pos
        return -2 + 4 * pos

    def emotion(self) -> tuple[float, float | None, float | None] | None:
        """(value, interval low, interval high) on −2..+2, or None without a score."""
        if not self.has_score or self.score_value is None:
            return None
        mid = self.to_emotion(self.score_value)
        if self.score_ci_low is None or self.score_ci_high is None:
            return mid, None, None
        a, b = self.to_emotion(self.score_ci_low), self.to_emotion(self.score_ci_high)
        return mid, min(a, b), max(a, b)

    def small_sample(self) -> bool:
        ns = [n for n in (self.score_n, self.conversion_n) if n is not None]
        return any(n < SMALL_SAMPLE_N for n in ns)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class MeasuredJourney:
    """Measured numbers per touchpoint id, plus where they came from (period, source)."""

    touchpoints: dict[str, TouchpointMeasure] = field(default_factory=dict)
    period: str | None = None
    source: str | None = None

    def get(self, touchpoint_id: str) -> TouchpointMeasure | None:
        return self.touchpoints.get(touchpoint_id)

    def evidence(self, touchpoint_id: str) -> Evidence:
        m = self.touchpoints.get(touchpoint_id)
        return m.evidence if m is not None else "hypothesis"

    def is_empty(self) -> bool:
        return all(m.evidence == "hypothesis" for m in self.touchpoints.values())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasuredJourney:
        """From ``{"touchpoints": {id: {field: value}}, "period": ..., "source": ...}``.

        A flat ``{id: {field: value}}`` mapping is accepted too.
        """
        raw = data.get("touchpoints", data)
        out: dict[str, TouchpointMeasure] = {}
        allowed = set(TouchpointMeasure.__dataclass_fields__) - {"touchpoint"}
        for tp_id, values in raw.items():
            if not isinstance(values, Mapping):
                continue
            unknown = set(values) - allowed
            if unknown:
                raise DataError(
                    f"Unknown measured field(s) {sorted(unknown)} for touchpoint {tp_id!r}.",
                    hint=f"allowed: {', '.join(sorted(allowed))}.",
                )
            out[str(tp_id)] = TouchpointMeasure(touchpoint=str(tp_id), **_clean(values))
        period = data.get("period") if "touchpoints" in data else None
        source = data.get("source") if "touchpoints" in data else None
        return cls(out, period=period, source=source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "source": self.source,
            "touchpoints": {k: {**v.to_dict()} for k, v in self.touchpoints.items()},
        }


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, float) and math.isnan(v):
            v = None
        if k in {"touchpoint"}:
            continue
        out[k] = v
    return out


def measured_from_scores(
    scores: Any,
    *,
    reach: Mapping[str, int] | None = None,
    metric: str | None = None,
    period: str | None = None,
    source: str | None = None,
) -> MeasuredJourney:
    """A :class:`MeasuredJourney` from the engine's scores result at level ``touchpoint``.

    ``scores`` is a ``ScoresResult`` (or its frame) with columns ``touchpoint``, ``metric``,
    ``n``, ``value``, ``ci_low``, ``ci_high``, ``scale_min``, ``scale_max``. CSAT there is the
    top-2-box share (0..1) and NPS is in points (−100..100); the scale is taken from the
    value's own range so the curve rescales it correctly. With several metrics per touchpoint
    the first row wins unless ``metric`` picks one. ``reach`` maps touchpoint ids to customers.
    """
    frame = scores.frame if hasattr(scores, "frame") else scores
    out: dict[str, TouchpointMeasure] = {}
    for row in frame.to_dict(orient="records"):
        tp = str(row["touchpoint"])
        name = str(row["metric"])
        if tp in out or (metric is not None and name != metric):
            continue
        lo, hi = {"csat": (0.0, 1.0), "nps": (-100.0, 100.0)}.get(
            name, (float(row["scale_min"]), float(row["scale_max"]))
        )
        out[tp] = TouchpointMeasure(
            touchpoint=tp,
            score_metric=name,
            score_value=_num(row.get("value")),
            score_ci_low=_num(row.get("ci_low")),
            score_ci_high=_num(row.get("ci_high")),
            score_n=int(row["n"]),
            score_min=lo,
            score_max=hi,
        )
    for tp, customers in (reach or {}).items():
        out.setdefault(tp, TouchpointMeasure(touchpoint=tp)).reach_customers = int(customers)
    return MeasuredJourney(out, period=period, source=source)


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)
