"""Edits of a journey made in the map editor, as one typed operation each.

An edit is applied to the journey's plain data and validated again as a whole journey (so a
saved journey is always valid YAML that loads again). The parsed YAML document travels with
the journey, so comments and key order in the author's file survive an edit made in the web.

Concurrency: the version of a journey is the SHA-256 of its file. A save names the version it
was based on; when the file changed in the meantime the save is refused with VersionConflict.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from ..errors import NotFound, UsageError, VersionConflict
from ..model import Journey, Lanes
from ..model.yamlio import journey_from_data

__all__ = [
    "EDIT_ACTIONS",
    "LANE_NAMES",
    "JourneyEdit",
    "apply_edit",
    "check_version",
    "file_version",
]

EditAction = Literal[
    "stage.add",
    "stage.update",
    "stage.move",
    "stage.delete",
    "touchpoint.add",
    "touchpoint.update",
    "touchpoint.move",
    "touchpoint.delete",
    "lane.add",
    "lane.update",
    "lane.move",
    "lane.delete",
]
EDIT_ACTIONS: tuple[str, ...] = get_args(EditAction)
#: the list lanes of a stage (every lane but the free-text timeline)
LANE_NAMES: tuple[str, ...] = tuple(n for n in Lanes.model_fields if n != "timeline")


class JourneyEdit(BaseModel):
    """One change to a journey. ``version`` is the version the change was made on."""

    action: EditAction
    version: str = Field(
        description="the journey version (SHA-256 of the file) this edit is based on"
    )
    stage_id: str | None = None
    touchpoint_id: str | None = None
    new_id: str | None = Field(None, description="id of a new stage or touchpoint")
    name: str | None = Field(None, description="touchpoint name")
    name_en: str | None = None
    name_nl: str | None = None
    goal: str | None = None
    timeline: str | None = None
    channel: str | None = None
    owner: str | None = None
    emotion: int | None = Field(None, ge=-2, le=2, description="expected emotion, -2 to 2")
    moment: Literal["before", "during", "after"] | None = None
    notes: str | None = None
    lanes: dict[str, list[str]] | None = Field(None, description="lane name -> items (replaces)")
    lane: str | None = None
    index: int | None = Field(None, ge=0)
    text: str | None = None
    direction: Literal[-1, 1] | None = Field(None, description="-1 = left/up, 1 = right/down")

    def summary(self) -> str:
        target = self.touchpoint_id or self.stage_id or self.new_id or ""
        extra = f" {self.lane}" if self.lane else ""
        return f"{self.action} {target}{extra}".strip()


def file_version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def check_version(path: Path, expected: str) -> str:
    """The current version; VersionConflict when it is not ``expected``."""
    current = file_version(path)
    if expected != current:
        raise VersionConflict(
            f"Journey {path.stem!r} was changed by someone else since you opened it "
            f"(your version {expected[:8] or '(none)'}, now {current[:8]}). Your change was "
            "NOT saved.",
            hint="your text is kept in the form: open the journey again in a new tab, "
            "then apply your change to the new version.",
        )
    return current


def _find(items: list[dict[str, Any]], item_id: str | None, what: str) -> int:
    for i, item in enumerate(items):
        if item.get("id") == item_id:
            return i
    known = ", ".join(str(x.get("id")) for x in items) or "(none)"
    raise NotFound(f"Unknown {what} {item_id!r}. Known {what}s: {known}.")


def _need(value: Any, name: str, action: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UsageError(f"{action} needs {name}.")
    return value.strip() if isinstance(value, str) else value


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, str) and not value.strip():
        target.pop(key, None)
    else:
        target[key] = value.strip() if isinstance(value, str) else value


def _renumber(stages: list[dict[str, Any]]) -> None:
    stages.sort(key=lambda s: s["order"])
    for i, s in enumerate(stages, start=1):
        s["order"] = i


def _lane(edit: JourneyEdit) -> str:
    lane = _need(edit.lane, "lane", edit.action)
    if lane not in LANE_NAMES:
        raise UsageError(f"Unknown lane {lane!r}. Allowed: {', '.join(LANE_NAMES)}.")
    return str(lane)


def _apply(data: dict[str, Any], e: JourneyEdit) -> None:
    stages: list[dict[str, Any]] = data["stages"]
    tps: list[dict[str, Any]] = data.setdefault("touchpoints", [])
    kind, _, verb = e.action.partition(".")
    if e.action == "stage.add":
        new_id = _need(e.new_id, "new_id", e.action)
        en = _need(e.name_en, "name_en", e.action)
        stage: dict[str, Any] = {
            "id": new_id,
            "name": {"en": en, "nl": (e.name_nl or en).strip()},
            "order": max((s["order"] for s in stages), default=0) + 1,
        }
        _set(stage, "goal", e.goal)
        stages.append(stage)
        return
    if kind in ("stage", "lane"):
        i = _find(stages, e.stage_id, "stage")
        stage = stages[i]
        lanes = stage.setdefault("lanes", {})
        if e.action == "stage.update":
            if e.name_en is not None or e.name_nl is not None:
                stage["name"] = {
                    "en": (e.name_en or stage["name"]["en"]).strip(),
                    "nl": (e.name_nl or stage["name"]["nl"]).strip(),
                }
            _set(stage, "goal", e.goal)
            _set(lanes, "timeline", e.timeline)
            for lane, items in (e.lanes or {}).items():
                if lane not in LANE_NAMES:
                    raise UsageError(f"Unknown lane {lane!r}. Allowed: {', '.join(LANE_NAMES)}.")
                clean = [t.strip() for t in items if t.strip()]
                if clean:
                    lanes[lane] = clean
                else:
                    lanes.pop(lane, None)
        elif e.action == "stage.move":
            ordered = sorted(stages, key=lambda s: s["order"])
            pos = ordered.index(stage)
            other = pos + (e.direction or 1)
            if 0 <= other < len(ordered):
                ordered[pos]["order"], ordered[other]["order"] = (
                    ordered[other]["order"],
                    ordered[pos]["order"],
                )
            _renumber(stages)
        elif e.action == "stage.delete":
            used = [t["id"] for t in tps if t.get("stage") == stage["id"]]
            if used:
                raise UsageError(
                    f"Stage {stage['id']!r} still has touchpoints: {', '.join(used)}.",
                    hint="move or delete those touchpoints first.",
                )
            if len(stages) == 1:
                raise UsageError("A journey needs at least one stage.")
            stages.pop(i)
            _renumber(stages)
        else:  # lane.*
            lane = _lane(e)
            entries: list[str] = list(lanes.get(lane, []))
            if verb == "add":
                entries.append(_need(e.text, "text", e.action))
            else:
                if e.index is None or not 0 <= e.index < len(entries):
                    raise NotFound(
                        f"Stage {stage['id']!r} has no item {e.index} in lane {lane!r} "
                        f"({len(entries)} entries)."
                    )
                if verb == "update":
                    entries[e.index] = _need(e.text, "text", e.action)
                elif verb == "delete":
                    entries.pop(e.index)
                else:
                    j = e.index + (e.direction or 1)
                    if 0 <= j < len(entries):
                        entries[e.index], entries[j] = entries[j], entries[e.index]
            if entries:
                lanes[lane] = entries
            else:
                lanes.pop(lane, None)
        if not lanes:
            stage.pop("lanes", None)
        return
    # touchpoints
    if e.action == "touchpoint.add":
        tp: dict[str, Any] = {
            "id": _need(e.new_id, "new_id", e.action),
            "name": _need(e.name, "name", e.action),
            "stage": _need(e.stage_id, "stage_id", e.action),
            "channel": _need(e.channel, "channel", e.action),
        }
        _set(tp, "owner", e.owner)
        _set(tp, "moment", e.moment)
        _set(tp, "notes", e.notes)
        if e.emotion is not None:
            tp["emotion"] = e.emotion
        tps.append(tp)
        return
    i = _find(tps, e.touchpoint_id, "touchpoint")
    tp = tps[i]
    if e.action == "touchpoint.update":
        _set(tp, "name", e.name)
        _set(tp, "stage", e.stage_id)
        _set(tp, "channel", e.channel)
        _set(tp, "owner", e.owner)
        _set(tp, "moment", e.moment)
        _set(tp, "notes", e.notes)
        if e.emotion is not None:
            tp["emotion"] = e.emotion
    elif e.action == "touchpoint.move":
        same = [k for k, t in enumerate(tps) if t.get("stage") == tp.get("stage")]
        pos = same.index(i)
        other = pos + (e.direction or 1)
        if 0 <= other < len(same):
            j = same[other]
            tps[i], tps[j] = tps[j], tps[i]
    else:  # delete
        tps.pop(i)


def apply_edit(journey: Journey, edit: JourneyEdit) -> Journey:
    """A new, validated journey with ``edit`` applied (the YAML document travels along).

    The edited data is validated through the same parser as a file, so problems carry the
    same codes, paths and hints (JourneyValidationError) as in ``klantreis validate``.
    """
    data = journey.to_data()
    data.setdefault("stages", [])
    _apply(data, edit)
    return journey_from_data(data, like=journey)
