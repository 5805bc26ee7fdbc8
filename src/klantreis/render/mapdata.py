"""The map as plain data: the "headless twin" of the drawn map.

:func:`map_data` turns a journey (and, when there is any, its measured numbers) into
:class:`MapData`: the stage columns with their lane texts, the touchpoint cards with their
evidence level, and the two emotion curves with peaks and valleys. The SVG, HTML, report and
slides renderers only draw this; tests and the web app can read it directly
(``MapData.to_dict()``, ``MapData.cards_frame()``, ``MapData.curve_frame()``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

from ..model import Journey
from .labels import Lang, channel_label, label, resolve_lang
from .measured import Evidence, MeasuredJourney, TouchpointMeasure

__all__ = [
    "LANES",
    "Card",
    "CurvePoint",
    "MapData",
    "StageColumn",
    "extremes",
    "map_data",
]

#: The text lanes in the order they are drawn; "touchpoints" and "curve" are drawn specially.
LANES: tuple[str, ...] = (
    "goal",
    "actions",
    "touchpoints",
    "curve",
    "motivations",
    "questions",
    "pain_points",
    "emotions",
    "opportunities",
    "content",
    "timeline",
)


@dataclass
class Card:
    """One touchpoint card."""

    touchpoint: str
    name: str
    stage: str
    channel: str
    channel_label: str
    online: bool
    branded: bool
    owner: str | None
    expected_emotion: int | None
    conversion: bool
    evidence: Evidence
    measure: TouchpointMeasure | None = None


@dataclass
class StageColumn:
    stage: str
    name: str
    order: int
    lanes: dict[str, list[str]]
    cards: list[Card] = field(default_factory=list)


@dataclass
class CurvePoint:
    """A point of an emotion curve, on −2..+2; ``key`` is a touchpoint or stage id."""

    curve: Literal["designed", "measured"]
    key: str
    stage: str
    value: float
    low: float | None = None
    high: float | None = None
    n: int | None = None
    mark: Literal["peak", "valley"] | None = None


@dataclass
class MapData:
    journey: str
    title: str
    lang: Lang
    curve_by: Literal["touchpoint", "stage"]
    columns: list[StageColumn]
    designed: list[CurvePoint]
    measured: list[CurvePoint]
    period: str | None = None
    source: str | None = None

    @property
    def cards(self) -> list[Card]:
        return [c for col in self.columns for c in col.cards]

    def evidence_counts(self) -> dict[str, int]:
        counts = {"hypothesis": 0, "partly": 0, "measured": 0}
        for c in self.cards:
            counts[c.evidence] += 1
        return counts

    @property
    def has_measured(self) -> bool:
        return any(c.evidence != "hypothesis" for c in self.cards)

    def lanes_in_use(self) -> list[str]:
        """Lanes with text in at least one stage (plus touchpoints and curve, always)."""
        out = []
        for lane in LANES:
            if lane in ("touchpoints", "curve") or any(col.lanes.get(lane) for col in self.columns):
                out.append(lane)
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def cards_frame(self) -> pd.DataFrame:
        rows = []
        for c in self.cards:
            m = c.measure
            rows.append(
                {
                    "touchpoint": c.touchpoint,
                    "name": c.name,
                    "stage": c.stage,
                    "channel": c.channel,
                    "online": c.online,
                    "owner": c.owner,
                    "expected_emotion": c.expected_emotion,
                    "evidence": c.evidence,
                    "reach_customers": m.reach_customers if m else None,
                    "conversion_share": m.conversion_share if m else None,
                    "conversion_n": m.conversion_n if m else None,
                    "score_metric": m.score_metric if m else None,
                    "score_value": m.score_value if m else None,
                    "score_ci_low": m.score_ci_low if m else None,
                    "score_ci_high": m.score_ci_high if m else None,
                    "score_n": m.score_n if m else None,
                }
            )
        return pd.DataFrame(rows)

    def curve_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(p) for p in [*self.designed, *self.measured]])


def extremes(values: list[float]) -> list[Literal["peak", "valley"] | None]:
    """Peaks and valleys of a curve: local extremes that stand out (≥ +1 or ≤ −1).

    A point is a peak when it is at least as high as both neighbours, higher than at least
    one, and ≥ 1; on a plateau only the first point is marked. Valleys alike, mirrored. The
    end points compare with their one neighbour. A single point is never marked.
    """
    out: list[Literal["peak", "valley"] | None] = [None] * len(values)
    if len(values) < 2:
        return out
    for i, v in enumerate(values):
        left = values[i - 1] if i > 0 else None
        right = values[i + 1] if i + 1 < len(values) else None
        neighbours = [x for x in (left, right) if x is not None]
        if left is not None and left == v:
            continue  # only the first point of a plateau is marked
        high = all(v >= x for x in neighbours) and (
            any(v > x for x in neighbours) or _plateau_ends_lower(values, i)
        )
        low = all(v <= x for x in neighbours) and (
            any(v < x for x in neighbours) or _plateau_ends_higher(values, i)
        )
        if v >= 1 and high:
            out[i] = "peak"
        elif v <= -1 and low:
            out[i] = "valley"
    return out


def _plateau_ends_lower(values: list[float], i: int) -> bool:
    j = i
    while j + 1 < len(values) and values[j + 1] == values[i]:
        j += 1
    return j + 1 < len(values) and values[j + 1] < values[i]


def _plateau_ends_higher(values: list[float], i: int) -> bool:
    j = i
    while j + 1 < len(values) and values[j + 1] == values[i]:
        j += 1
    return j + 1 < len(values) and values[j + 1] > values[i]


#: Above this many points a curve is dense: only the strongest peak and valley per stage keep
#: their mark, so the labels do not bury the curve.
DENSE_POINTS = 24


def _mark(points: list[CurvePoint]) -> None:
    for p, m in zip(points, extremes([p.value for p in points]), strict=True):
        p.mark = m
    if len(points) <= DENSE_POINTS:
        return
    for stage in {p.stage for p in points}:
        for kind, pick in (("peak", max), ("valley", min)):
            marked = [p for p in points if p.stage == stage and p.mark == kind]
            if marked:
                keep = pick(marked, key=lambda p: p.value)
                for p in marked:
                    if p is not keep:
                        p.mark = None


def map_data(
    journey: Journey,
    measured: MeasuredJourney | None = None,
    *,
    lang: str | None = None,
    curve_by: Literal["touchpoint", "stage"] = "touchpoint",
) -> MapData:
    """The map of ``journey`` as data; ``measured`` adds numbers and the measured curve."""
    lg = resolve_lang(lang, journey.lang)
    measured = measured or MeasuredJourney()
    columns: list[StageColumn] = []
    for stage in journey.stages_in_order():
        lanes = stage.lanes
        col = StageColumn(
            stage=stage.id,
            name=stage.name.get(lg),
            order=stage.order,
            lanes={
                "goal": [stage.goal] if stage.goal else [],
                "actions": list(lanes.actions),
                "motivations": list(lanes.motivations),
                "questions": list(lanes.questions),
                "pain_points": list(lanes.pain_points),
                "emotions": list(lanes.emotions),
                "opportunities": list(lanes.opportunities),
                "content": list(stage.content),
                "timeline": [lanes.timeline] if lanes.timeline else [],
            },
        )
        for tp in journey.touchpoints_in(stage.id):
            m = measured.get(tp.id)
            col.cards.append(
                Card(
                    touchpoint=tp.id,
                    name=tp.name,
                    stage=stage.id,
                    channel=tp.channel,
                    channel_label=channel_label(tp.channel, lg),
                    online=tp.is_online,
                    branded=tp.branded,
                    owner=tp.owner,
                    expected_emotion=tp.emotion,
                    conversion=tp.conversion,
                    evidence=m.evidence if m is not None else "hypothesis",
                    measure=m,
                )
            )
        columns.append(col)

    designed: list[CurvePoint] = []
    measured_pts: list[CurvePoint] = []
    for col in columns:
        if curve_by == "stage":
            emotions = [c.expected_emotion for c in col.cards if c.expected_emotion is not None]
            if emotions:
                designed.append(
                    CurvePoint("designed", col.stage, col.stage, sum(emotions) / len(emotions))
                )
            scored = [(c.measure, c.measure.emotion()) for c in col.cards if c.measure]
            vals = [(m, e) for m, e in scored if e is not None]
            if vals:
                weights = [max(m.score_n or 1, 1) for m, _ in vals]
                total = sum(weights)
                mean = sum(w * e[0] for w, (_, e) in zip(weights, vals, strict=True)) / total
                measured_pts.append(
                    CurvePoint(
                        "measured",
                        col.stage,
                        col.stage,
                        mean,
                        n=sum(m.score_n or 0 for m, _ in vals),
                    )
                )
            continue
        for c in col.cards:
            if c.expected_emotion is not None:
                designed.append(
                    CurvePoint("designed", c.touchpoint, col.stage, float(c.expected_emotion))
                )
            e = c.measure.emotion() if c.measure else None
            if e is not None and c.measure is not None:
                measured_pts.append(
                    CurvePoint(
                        "measured", c.touchpoint, col.stage, e[0], e[1], e[2], c.measure.score_n
                    )
                )
    _mark(designed)
    _mark(measured_pts)
    return MapData(
        journey=journey.id,
        title=journey.name,
        lang=lg,
        curve_by=curve_by,
        columns=columns,
        designed=designed,
        measured=measured_pts,
        period=measured.period,
        source=measured.source,
    )


def lane_label(lane: str, lang: str) -> str:
    return label(f"lane.{lane}", lang)
