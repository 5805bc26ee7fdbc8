"""The journey model: journeys, stages, touchpoints, lanes, personas and match rules.

Pure data, no I/O. A journey is written by hand as YAML (see ``docs/journey-format.md``);
``klantreis.model.yamlio`` loads and saves it, ``klantreis.model.checks`` validates the parts
that span several fields (unknown stages, duplicate ids, ...).

Field order in these classes is the order in which ``save_journey`` writes new keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "CHANNELS",
    "OFFLINE_CHANNELS",
    "Identifier",
    "Journey",
    "Lanes",
    "LocalText",
    "MatchRule",
    "Persona",
    "Segment",
    "Stage",
    "Touchpoint",
]

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]*$", min_length=1, max_length=64),
]
"""Ids are lower-case ascii, digits, ``_`` and ``-``: stable keys for data, URLs and files."""

Text = Annotated[str, StringConstraints(min_length=1)]
Scalar = str | int | float | bool

#: Channels a touchpoint can use. ``online`` defaults from the channel (see OFFLINE_CHANNELS).
CHANNELS: tuple[str, ...] = (
    "website",
    "webshop",
    "search",
    "ads",
    "social",
    "email",
    "app",
    "chat",
    "review_site",
    "call_centre",
    "phone",
    "store",
    "on_site",
    "event",
    "print",
    "mail",
    "tv_radio",
    "word_of_mouth",
    "partner",
    "sales",
    "delivery",
    "other",
)

#: Channels that are offline unless a touchpoint says otherwise.
OFFLINE_CHANNELS: frozenset[str] = frozenset(
    {
        "call_centre",
        "phone",
        "store",
        "on_site",
        "event",
        "print",
        "mail",
        "tv_radio",
        "word_of_mouth",
        "partner",
        "sales",
        "delivery",
    }
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_strip_whitespace=False)


class LocalText(_Strict):
    """A label in English and Dutch (both required)."""

    en: Text
    nl: Text

    def get(self, lang: str) -> str:
        return self.nl if lang == "nl" else self.en


class MatchRule(_Strict):
    """Links raw events to a touchpoint. All given conditions must hold (AND).

    Exactly one of ``event`` (exact name), ``event_glob`` (``*`` and ``?``) or ``event_regex``
    (Python/RE2-compatible syntax, matched against the whole name) names the event. ``channel``
    narrows to one or more channels; ``properties`` maps a property to a value (equals) or a list
    of values (in).
    """

    event: Text | None = None
    event_glob: Text | None = None
    event_regex: Text | None = None
    channel: Text | list[Text] | None = None
    properties: dict[str, Scalar | list[Scalar]] | None = None

    def event_pattern(self) -> tuple[Literal["exact", "glob", "regex"], str] | None:
        if self.event is not None:
            return ("exact", self.event)
        if self.event_glob is not None:
            return ("glob", self.event_glob)
        if self.event_regex is not None:
            return ("regex", self.event_regex)
        return None

    def channels(self) -> list[str]:
        if self.channel is None:
            return []
        return [self.channel] if isinstance(self.channel, str) else list(self.channel)


class Lanes(_Strict):
    """The rows of the map for one stage (M4)."""

    actions: list[Text] = Field(default_factory=list)
    motivations: list[Text] = Field(default_factory=list)
    questions: list[Text] = Field(default_factory=list)
    pain_points: list[Text] = Field(default_factory=list)
    emotions: list[Text] = Field(default_factory=list)
    opportunities: list[Text] = Field(default_factory=list)
    timeline: str | None = None


class Stage(_Strict):
    """A column of the map: one phase of the journey."""

    id: Identifier
    name: LocalText
    order: int = Field(ge=1)
    phase: Literal["buyer", "customer"] | None = None
    goal: str | None = None
    content: list[Text] = Field(default_factory=list)
    lanes: Lanes = Field(default_factory=Lanes)


class Touchpoint(_Strict):
    """A moment where the customer meets the organisation (M3)."""

    id: Identifier
    name: Text
    stage: Identifier
    channel: str
    online: bool | None = None
    branded: bool = True
    owner: str | None = None
    moment: Literal["before", "during", "after"] | None = None
    emotion: int | None = Field(default=None, ge=-2, le=2)
    conversion: bool = False
    notes: str | None = None
    match: list[MatchRule] = Field(default_factory=list)

    @property
    def is_online(self) -> bool:
        """``online`` as written, else derived from the channel."""
        if self.online is not None:
            return self.online
        return self.channel not in OFFLINE_CHANNELS


class Persona(_Strict):
    """A persona; ``attributes`` select its customers (value = equals, list = in)."""

    id: Identifier
    name: Text
    description: str | None = None
    goals: list[Text] = Field(default_factory=list)
    attributes: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


class Segment(_Strict):
    """A named filter on customer attributes (value = equals, list = in)."""

    id: Identifier
    name: Text
    attributes: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


class Journey(_Strict):
    """A designed customer journey: the map a team draws in a workshop.

    ``audience`` selects the customers this journey is about (customer attributes; a value means
    equals, a list means in). Empty: every customer. A workspace with one journey per persona or
    product line gives each journey its audience, so the analyses of one journey never count
    another journey's customers.
    """

    id: Identifier
    name: Text
    description: str | None = None
    kind: Literal["buyer", "customer", "full"] = "full"
    lang: Literal["en", "nl"] = "en"
    stage_model: str | None = None
    audience: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    personas: list[Persona] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    stages: list[Stage] = Field(min_length=1)
    touchpoints: list[Touchpoint] = Field(default_factory=list)

    # -- navigation ------------------------------------------------------------------------
    def stages_in_order(self) -> list[Stage]:
        return sorted(self.stages, key=lambda s: s.order)

    def stage(self, stage_id: str) -> Stage:
        for s in self.stages:
            if s.id == stage_id:
                return s
        known = ", ".join(s.id for s in self.stages)
        raise KeyError(f"Unknown stage {stage_id!r} in journey {self.id!r}. Known stages: {known}.")

    def touchpoint(self, touchpoint_id: str) -> Touchpoint:
        for t in self.touchpoints:
            if t.id == touchpoint_id:
                return t
        known = ", ".join(t.id for t in self.touchpoints)
        raise KeyError(
            f"Unknown touchpoint {touchpoint_id!r} in journey {self.id!r}. Known touchpoints: {known}."
        )

    def touchpoints_in(self, stage_id: str) -> list[Touchpoint]:
        return [t for t in self.touchpoints if t.stage == stage_id]

    def touchpoints_in_order(self) -> list[Touchpoint]:
        """Touchpoints by stage order, then in file order within a stage."""
        rank = {s.id: s.order for s in self.stages}
        indexed = list(enumerate(self.touchpoints))
        indexed.sort(key=lambda it: (rank.get(it[1].stage, 10**6), it[0]))
        return [t for _, t in indexed]

    def conversion_touchpoints(self) -> list[Touchpoint]:
        return [t for t in self.touchpoints if t.conversion]

    def stage_label(self, stage_id: str, lang: str | None = None) -> str:
        return self.stage(stage_id).name.get(lang or self.lang)

    def to_data(self) -> dict[str, Any]:
        """The journey as plain data: fields that were written or differ from their default."""
        return _data(self)


def _data(value: Any) -> Any:
    if isinstance(value, BaseModel):
        out: dict[str, Any] = {}
        fields_set = value.model_fields_set
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            default = info.get_default(call_default_factory=True)
            if name in fields_set or item != default:
                out[name] = _data(item)
        return out
    if isinstance(value, list):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {k: _data(v) for k, v in value.items()}
    return value
