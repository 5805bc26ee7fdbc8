"""The simulation model: behaviour parameters derived from a journey map, plus overrides.

``build_model`` turns a :class:`~klantreis.model.Journey` into flat numpy arrays the engine
samples from: stages in order with their touchpoints, delays (from each stage's timeline text,
else from the journey kind), drop-off, persona behaviour, and the concrete events (``EventSpec``)
every touchpoint can produce. Planted truth (pain points, slow spots, drivers) is resolved here
into per-touchpoint and per-stage effect arrays.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from ..errors import UsageError
from ..model import Journey, Touchpoint
from .comments import PER_KIND, comment_table
from .matching import EventSpec, event_specs, property_text, touchpoint_matches

__all__ = [
    "DEFAULT_BEHAVIOURS",
    "NOISE_EVENTS",
    "WEB_CHANNELS",
    "PersonaBehaviour",
    "Plant",
    "SimulationModel",
    "build_model",
    "is_b2b",
    "timeline_seconds",
]

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
WEEK, MONTH, YEAR = 7 * DAY, 30.4 * DAY, 365.0 * DAY

#: Channels whose events belong to a web or app session (session_id, page, page_type, source).
WEB_CHANNELS = frozenset({"website", "webshop", "app", "search", "social", "ads"})

#: Unlinked events that real sites produce and maps leave out (coverage has something to find).
NOISE_EVENTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("page_view", (("page", "/"), ("page_type", "home"))),
    ("page_view", (("page", "/category"), ("page_type", "category"))),
    ("page_view", (("page", "/about"), ("page_type", "info"))),
    ("scroll", (("page", "/category"), ("page_type", "category"))),
    ("login", (("page", "/login"), ("page_type", "account"))),
    ("search", (("page", "/search"), ("page_type", "search"))),
    ("logout", (("page", "/account"), ("page_type", "account"))),
    ("cookie_consent", (("page", "/"), ("page_type", "home"))),
)

_UNITS: tuple[tuple[str, float], ...] = (
    (r"sec|seconde", 1.0),
    (r"min|minuut|minuten", MINUTE),
    (r"hour|uur|uren", HOUR),
    (r"day|dag|dagen", DAY),
    (r"week|weken", WEEK),
    (r"month|maand|maanden", MONTH),
    (r"quarter|kwarta", 3 * MONTH),
    (r"year|jaar|jaren", YEAR),
)


def timeline_seconds(text: str | None) -> tuple[float, float] | None:
    """The (shortest, longest) delay a stage's timeline text names, in seconds.

    ``"minutes to weeks"`` → (60, 604800); ``"dagen tot maanden"`` → (86400, 2626560); one unit
    spans up to the next one: ``"days"`` → (1 day, 1 week). At most two years. None when the
    text names no unit.
    """
    if not text:
        return None
    found = []
    for word in re.findall(r"[a-z]+", text.lower()):
        for rank, (pattern, _seconds) in enumerate(_UNITS):
            if re.match(rf"^(?:{pattern})", word):
                found.append(rank)
                break
    if not found:
        return None
    lo, hi = _UNITS[min(found)][1], _UNITS[max(found)][1]
    if max(found) == min(found):
        hi = _UNITS[min(found) + 1][1] if min(found) + 1 < len(_UNITS) else 2 * YEAR
    return lo, min(hi, 2 * YEAR)


def is_b2b(journey: Journey) -> bool:
    """A B2B journey: stages carry a buyer/customer phase, or the stage model says b2b."""
    if any(s.phase is not None for s in journey.stages):
        return True
    return "b2b" in (journey.stage_model or "").lower() or "b2b" in journey.id.lower()


@dataclass(frozen=True)
class PersonaBehaviour:
    """How the customers of one persona behave (multipliers are relative to the journey's base)."""

    weight: float = 1.0  # relative share of customers
    speed: float = 1.0  # delay multiplier (< 1 is faster)
    drop_off: float = 1.0  # multiplier of the stage drop-off probabilities
    online: float = 0.75  # preference for online touchpoints, 0..1
    spend: float = 1.0  # order-value multiplier
    mood: float = 0.0  # shift of the latent experience (all scores)
    churn: float = 1.0  # multiplier of the churn probability per repeat cycle


#: Behaviours given to a journey's personas in order (cycled); override per persona id.
DEFAULT_BEHAVIOURS = (
    PersonaBehaviour(weight=1.0, speed=1.0, drop_off=1.0, online=0.75, spend=1.0),
    PersonaBehaviour(
        weight=0.8, speed=0.6, drop_off=0.75, online=0.6, spend=1.5, mood=0.2, churn=0.6
    ),
    PersonaBehaviour(
        weight=0.6, speed=1.5, drop_off=1.25, online=0.9, spend=0.7, mood=-0.2, churn=1.3
    ),
    PersonaBehaviour(
        weight=0.5, speed=1.2, drop_off=1.1, online=0.4, spend=1.2, mood=0.1, churn=0.9
    ),
)

PlantKind = Literal["pain", "slow", "driver"]
PLANT_KINDS: tuple[str, ...] = ("pain", "slow", "driver")


@dataclass(frozen=True)
class Plant:
    """A planted truth: ``pain``/``driver`` on a touchpoint, ``slow`` on a touchpoint or stage.

    ``strength`` scales the effect sizes (1.0 = the documented defaults).
    """

    kind: PlantKind
    target: str
    strength: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Plant:
        """``"pain:checkout"``, ``"slow:delivery:2"`` (kind:target[:strength])."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or parts[0] not in PLANT_KINDS or not parts[1]:
            raise UsageError(
                f"Cannot read plant {text!r}.",
                hint="write KIND:TARGET[:STRENGTH] with KIND one of pain, slow, driver, "
                "e.g. pain:checkout or slow:delivery:2.",
            )
        strength = 1.0
        if len(parts) == 3:
            try:
                strength = float(parts[2])
            except ValueError:
                raise UsageError(
                    f"Strength {parts[2]!r} in plant {text!r} is not a number.",
                    hint="e.g. pain:checkout:1.5",
                ) from None
            if not 0 < strength <= 5:
                raise UsageError(
                    f"Strength {strength} in plant {text!r} is out of range.",
                    hint="use a number above 0 and at most 5.",
                )
        kind: PlantKind = parts[0]  # type: ignore[assignment]
        return cls(kind, parts[1], strength)


#: Effect sizes per unit of strength (written to truth.json).
PAIN_SCORE_SHIFT = -1.6  # latent experience at the touchpoint
PAIN_DROP_ADDED = 0.30  # extra probability to drop out after touching it
SLOW_DELAY_FACTOR = 5.0  # delay before the target is (1 + 5 * strength) times longer
SLOW_SCORE_SHIFT = -0.6  # latent experience of the contact that waited
DRIVER_SCORE_SHIFT = 0.6  # latent experience at the touchpoint
DRIVER_NPS_SHIFT = 1.0  # latent customer experience (NPS) of customers who had it
DRIVER_CHURN_FACTOR = 0.5  # churn probability per repeat cycle multiplied by this


@dataclass
class SimulationModel:
    """Everything the engine samples from, as arrays indexed by stage / touchpoint / variant."""

    journey: Journey
    seed: int
    b2b: bool
    start_us: int
    period_days: float
    follow_days: float
    customer_prefix: str
    # personas
    persona_ids: list[str]
    behaviours: list[PersonaBehaviour]
    persona_weights: np.ndarray
    # stages (in order)
    stage_ids: list[str]
    stage_delay: np.ndarray  # (S, 2) seconds: shortest and longest entry delay
    stage_drop: np.ndarray  # (S,) base probability to drop out after the stage
    stage_contacts: np.ndarray  # (S,) mean extra contacts (Poisson) per stage visit
    stage_candidates: list[np.ndarray]  # touchpoint indices chosen freely in a stage
    stage_conversions: list[np.ndarray]  # conversion touchpoint indices of a stage
    stage_ordered: np.ndarray  # (S,) bool: contacts sorted by touchpoint order (funnel stages)
    choice_cdf: list[np.ndarray]  # per stage: (P, k) cumulative choice probabilities
    stage_slow: np.ndarray  # (S,) delay factor for entering the stage
    loop_prob: float
    # touchpoints
    touchpoints: list[Touchpoint]
    tp_online: np.ndarray
    tp_quality: np.ndarray
    tp_pain_shift: np.ndarray
    tp_pain_drop: np.ndarray
    tp_slow: np.ndarray  # delay factor before a contact
    tp_driver: np.ndarray  # driver strength (0 = none)
    tp_ces: np.ndarray  # bool: CES is asked after this touchpoint
    tp_variant_start: np.ndarray  # (T,) first variant of the touchpoint
    tp_variant_count: np.ndarray  # (T,)
    repeat_tp: int  # touchpoint of repeat purchases (-1: none)
    order_value: float
    repeat_interval_days: float
    churn_prob: float
    # variants: concrete events (touchpoint variants first, then noise)
    variants: list[EventSpec]
    variant_tp: np.ndarray  # (V,) touchpoint index, -1 for noise
    variant_web: np.ndarray  # (V,) bool
    noise_variants: np.ndarray  # indices into variants
    noise_share: float
    # the string table of property keys and values, and per-variant property codes
    strings: list[str]
    prop_keys: list[str]
    variant_prop_keys: np.ndarray  # (V, J) codes into strings, -1 = none
    variant_prop_vals: np.ndarray
    variant_source_class: np.ndarray  # (V,) 0 generic, 1 search, 2 social, 3 ads
    extra_attributes: list[tuple[str, list[str]]]  # customer attributes drawn per customer
    persona_attributes: list[dict[str, str]]
    comments: list[str]
    comments_per_kind: int
    decision_persona: int  # B2B: persona of each account's first contact (-1: any)
    plants: list[Plant] = field(default_factory=list)

    def code(self, text: str) -> int:
        return self.strings.index(text)


def _touchpoint_quality(tp: Touchpoint) -> float:
    emotion = tp.emotion if tp.emotion is not None else 0
    return 0.3 * emotion


def _page_type(tp: Touchpoint) -> str:
    ident = tp.id
    for word in ("cart", "checkout", "product", "search", "account", "contact", "pricing"):
        if word in ident:
            return word
    if tp.conversion:
        return "confirmation"
    return "content"


def build_model(
    journey: Journey,
    *,
    seed: int = 0,
    plant: list[Plant] | None = None,
    personas: dict[str, PersonaBehaviour] | None = None,
    drop_off: dict[str, float] | None = None,
    delays: dict[str, tuple[float, float]] | None = None,
    order_value: float | None = None,
    noise_share: float = 0.07,
    loop_prob: float = 0.12,
    start: dt.date = dt.date(2024, 1, 1),
    period_days: float = 365.0,
    follow_days: float = 365.0,
    customer_prefix: str = "c",
) -> SimulationModel:
    """Derive the model from the journey; every keyword overrides one derived parameter."""
    if not 0 <= noise_share < 0.5:
        raise UsageError(f"noise_share {noise_share} is out of range.", hint="use 0 to 0.5.")
    b2b = is_b2b(journey)
    stages = journey.stages_in_order()
    stage_ids = [s.id for s in stages]
    tps = journey.touchpoints_in_order()
    tp_index = {t.id: i for i, t in enumerate(tps)}
    T, S = len(tps), len(stages)
    if T == 0:
        raise UsageError(
            f"Journey {journey.id!r} has no touchpoints to simulate.",
            hint="add touchpoints with match rules to the journey.",
        )

    # personas
    persona_ids = [p.id for p in journey.personas] or ["all"]
    overrides = dict(personas or {})
    unknown = sorted(set(overrides) - set(persona_ids))
    if unknown:
        raise UsageError(
            f"Unknown persona {unknown[0]!r} in persona overrides. Known personas: {', '.join(persona_ids)}."
        )
    behaviours = [
        overrides.get(pid, DEFAULT_BEHAVIOURS[i % len(DEFAULT_BEHAVIOURS)])
        for i, pid in enumerate(persona_ids)
    ]
    weights = np.array([b.weight for b in behaviours], dtype=float)
    weights = weights / weights.sum()

    # repeat purchases use a post-conversion touchpoint named like "repeat", else the conversion one
    conv_stage_order = min(
        (journey.stage(t.stage).order for t in tps if t.conversion), default=10**6
    )
    repeat_tp = -1
    for i, t in enumerate(tps):
        words = f"{t.id} {t.name}".lower()
        if journey.stage(t.stage).order > conv_stage_order and any(
            w in words for w in ("repeat", "herhaal", "renew", "verleng", "reorder")
        ):
            repeat_tp = i
            break
    if repeat_tp < 0:
        conv = [i for i, t in enumerate(tps) if t.conversion]
        repeat_tp = conv[0] if conv else -1

    # stages
    delays = dict(delays or {})
    drop_off = dict(drop_off or {})
    for name, mapping in (("delays", delays), ("drop_off", drop_off)):
        bad = sorted(set(mapping) - set(stage_ids))
        if bad:
            raise UsageError(
                f"Unknown stage {bad[0]!r} in {name}. Known stages: {', '.join(stage_ids)}."
            )
    default_delay = (WEEK, 3 * MONTH) if b2b else (HOUR, 2 * WEEK)
    stage_delay = np.zeros((S, 2))
    stage_drop = np.zeros(S)
    stage_contacts = np.zeros(S)
    candidates: list[np.ndarray] = []
    conversions: list[np.ndarray] = []
    ordered = np.zeros(S, dtype=bool)
    for s, stage in enumerate(stages):
        rng_delay = delays.get(stage.id) or timeline_seconds(stage.lanes.timeline) or default_delay
        stage_delay[s] = rng_delay
        in_stage = [tp_index[t.id] for t in journey.touchpoints_in(stage.id)]
        conv = [i for i in in_stage if tps[i].conversion and i != repeat_tp]
        free = [i for i in in_stage if not tps[i].conversion and i != repeat_tp]
        if not free:
            free = [i for i in in_stage if i != repeat_tp] or in_stage
        candidates.append(np.array(sorted(free), dtype=np.int64))
        conversions.append(np.array(sorted(conv), dtype=np.int64))
        ordered[s] = bool(conv)
        if stage.order < conv_stage_order:
            base = 0.35
        elif stage.order == conv_stage_order:
            base = 0.30
        else:
            base = 0.20
        stage_drop[s] = drop_off.get(stage.id, base)
        stage_contacts[s] = 1.6 if b2b else 0.9

    # plants
    plants = list(plant or [])
    tp_pain_shift = np.zeros(T)
    tp_pain_drop = np.zeros(T)
    tp_slow = np.ones(T)
    tp_driver = np.zeros(T)
    stage_slow = np.ones(S)
    for p in plants:
        if p.kind == "slow" and p.target in stage_ids:
            stage_slow[stage_ids.index(p.target)] = 1 + SLOW_DELAY_FACTOR * p.strength
            continue
        if p.target not in tp_index:
            allowed = ", ".join(tp_index)
            if p.kind == "slow":
                allowed += "; or a stage: " + ", ".join(stage_ids)
            raise UsageError(
                f"Unknown touchpoint {p.target!r} in plant {p.kind}:{p.target}. Known: {allowed}.",
                hint="plant a touchpoint id of the journey (see 'klantreis journeys').",
            )
        i = tp_index[p.target]
        if p.kind == "pain":
            tp_pain_shift[i] += PAIN_SCORE_SHIFT * p.strength
            tp_pain_drop[i] += PAIN_DROP_ADDED * p.strength
        elif p.kind == "slow":
            tp_slow[i] = 1 + SLOW_DELAY_FACTOR * p.strength
        else:
            tp_driver[i] = p.strength

    # choice probabilities per persona: online preference times a popularity per touchpoint
    pop_rng = np.random.default_rng(np.random.SeedSequence([seed, 2**31 - 1]))
    popularity = 0.6 + 0.8 * pop_rng.random(T)
    tp_online = np.array([t.is_online for t in tps], dtype=bool)
    cdfs = []
    for s in range(S):
        cand = candidates[s]
        rows = []
        for b in behaviours:
            w = popularity[cand] * np.where(tp_online[cand], b.online, 1 - b.online)
            w = np.maximum(w, 1e-6)
            rows.append(np.cumsum(w / w.sum()))
        cdf = np.array(rows)
        cdf[:, -1] = 1.0
        cdfs.append(cdf)

    # variants: every touchpoint's concrete events, preferring ones no other touchpoint accepts
    strings: list[str] = []
    index: dict[str, int] = {}

    def code(text: str) -> int:
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    variants: list[EventSpec] = []
    variant_tp: list[int] = []
    starts, counts = [], []
    for i, t in enumerate(tps):
        chosen: list[EventSpec] = []
        ambiguous: list[EventSpec] = []
        for plain in event_specs(t):
            paged = _with_page(plain, t)
            if not _matches_other(paged, t, tps):
                chosen.append(paged)
            elif not _matches_other(plain, t, tps):
                chosen.append(plain)
            else:
                ambiguous.append(paged)
        chosen = chosen or ambiguous
        starts.append(len(variants))
        counts.append(len(chosen))
        variants.extend(chosen)
        variant_tp.extend([i] * len(chosen))
    noise = []
    for name, props in NOISE_EVENTS:
        spec = EventSpec(name, "website", props)
        if not any(touchpoint_matches(t, spec.event, spec.channel, spec.props()) for t in tps):
            noise.append(len(variants))
            variants.append(spec)
            variant_tp.append(-1)
    for key in ("journey", "page", "page_type", "source", "device"):
        code(key)
    code(journey.id)
    max_props = max(len(v.properties) for v in variants)
    vk = np.full((len(variants), max(max_props, 1)), -1, dtype=np.int32)
    vv = np.full_like(vk, -1)
    for r, v in enumerate(variants):
        for j, (k, val) in enumerate(v.properties):
            vk[r, j] = code(k)
            vv[r, j] = code(val)
    prop_keys = list(
        dict.fromkeys(
            ["journey", "page", "page_type", "source", "device"]
            + [k for v in variants for k, _ in v.properties]
        )
    )
    for text in (*SOURCES, *DEVICES):
        code(text)

    # customer attributes: the persona's own, plus segment attributes drawn per customer
    persona_attributes = [
        {k: property_text(v[0] if isinstance(v, list) else v) for k, v in p.attributes.items()}
        for p in journey.personas
    ] or [{}]
    taken = {k for attrs in persona_attributes for k in attrs}
    extra: dict[str, list[str]] = {}
    for seg in journey.segments:
        for k, wanted in seg.attributes.items():
            if k in taken or k in _BUILTIN_ATTRIBUTES:
                continue
            options = wanted if isinstance(wanted, list) else [wanted]
            values = [property_text(x) for x in options]
            extra.setdefault(k, [])
            extra[k].extend(x for x in values if x not in extra[k])
    extra_attributes = [(k, [*vals, "other"]) for k, vals in extra.items()]

    return SimulationModel(
        journey=journey,
        seed=seed,
        b2b=b2b,
        start_us=_epoch_us(start),
        period_days=period_days,
        follow_days=follow_days,
        customer_prefix=customer_prefix,
        persona_ids=persona_ids,
        behaviours=behaviours,
        persona_weights=weights,
        stage_ids=stage_ids,
        stage_delay=stage_delay,
        stage_drop=stage_drop,
        stage_contacts=stage_contacts,
        stage_candidates=candidates,
        stage_conversions=conversions,
        stage_ordered=ordered,
        choice_cdf=cdfs,
        stage_slow=stage_slow,
        loop_prob=loop_prob,
        touchpoints=tps,
        tp_online=tp_online,
        tp_quality=np.array([_touchpoint_quality(t) for t in tps]),
        tp_pain_shift=tp_pain_shift,
        tp_pain_drop=tp_pain_drop,
        tp_slow=tp_slow,
        tp_driver=tp_driver,
        tp_ces=np.array(
            [t.moment == "during" or t.conversion or t.channel in _SERVICE for t in tps]
        ),
        tp_variant_start=np.array(starts, dtype=np.int64),
        tp_variant_count=np.array(counts, dtype=np.int64),
        repeat_tp=repeat_tp,
        order_value=order_value or (24000.0 if b2b else 65.0),
        repeat_interval_days=365.0 if b2b else 75.0,
        churn_prob=0.35 if b2b else 0.45,
        variants=variants,
        variant_tp=np.array(variant_tp, dtype=np.int64),
        variant_web=np.array([v.channel in WEB_CHANNELS for v in variants]),
        noise_variants=np.array(noise, dtype=np.int64),
        noise_share=noise_share if noise else 0.0,
        strings=strings,
        prop_keys=prop_keys,
        variant_prop_keys=vk,
        variant_prop_vals=vv,
        variant_source_class=np.array(
            [{"search": 1, "social": 2, "ads": 3}.get(v.channel, 0) for v in variants],
            dtype=np.int64,
        ),
        extra_attributes=extra_attributes,
        persona_attributes=persona_attributes,
        comments=comment_table([t.name for t in tps], journey.lang),
        comments_per_kind=PER_KIND,
        decision_persona=next(
            (
                i
                for i, p in enumerate(journey.personas)
                if "decision" in p.id or persona_attributes[i].get("role") == "decision_maker"
            ),
            -1,
        ),
        plants=plants,
    )


_BUILTIN_ATTRIBUTES = frozenset(
    {"journey", "persona", "device", "role", "status", "industry", "account_size"}
)
_SERVICE = frozenset({"call_centre", "phone", "chat"})
SOURCES = (
    "direct",
    "google",
    "bing",
    "facebook",
    "instagram",
    "linkedin",
    "newsletter",
    "referral",
)
DEVICES = ("desktop", "mobile", "tablet")


def _epoch_us(day: dt.date) -> int:
    epoch = dt.date(1970, 1, 1)
    return (day - epoch).days * 86_400_000_000


def _with_page(spec: EventSpec, tp: Touchpoint) -> EventSpec:
    """Web events carry ``page`` and ``page_type`` unless the rule already sets them."""
    if spec.channel not in WEB_CHANNELS:
        return spec
    props = spec.props()
    props.setdefault("page", f"/{tp.id}")
    props.setdefault("page_type", _page_type(tp))
    return replace(spec, properties=tuple(props.items()))


def _matches_other(spec: EventSpec, own: Touchpoint, tps: list[Touchpoint]) -> bool:
    return any(
        t.id != own.id and touchpoint_matches(t, spec.event, spec.channel, spec.props())
        for t in tps
    )
