"""The map editor: edit operations, the YAML editor, and the one place that saves a journey.

Every save goes through :func:`commit_journey`: under a per-journey lock it checks the version
the user started from (the SHA-256 of the file), writes the journey with
``Workspace.save_journey`` (which validates), and records the change in the history.
A stale save raises VersionConflict (HTTP 409); the HTML editor shows it and keeps the text.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from ...errors import KlantreisError, UsageError
from ...model import CHANNELS, Journey, parse_journey
from ...store.collab import record_change
from ..deps import form_data, journey_and_version, principal, web
from ..editing import LANE_NAMES, JourneyEdit, apply_edit, check_version, file_version

__all__ = [
    "commit_journey",
    "edit_api",
    "edit_form",
    "edit_page",
    "yaml_form",
    "yaml_put_api",
]


class YamlSave(BaseModel):
    version: str = Field(description="the version the text was based on")
    text: str = Field(min_length=1, max_length=1_000_000)


def commit_journey(request: Request, journey: Journey, *, version: str | None, summary: str) -> str:
    """Save ``journey`` if the file is still at ``version`` (None = must not exist yet)."""
    app = web(request)
    path = app.ws.journey_path(journey.id)
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    old_version = check_version(path, version or "")
    app.ws.save_journey(journey)
    new_version = file_version(path)
    record_change(
        app.db,
        journey.id,
        author=principal(request).name or "?",
        summary=summary,
        version_before=old_version or None,
        version_after=new_version,
        yaml_before=before,
    )
    return new_version


def apply_and_save(request: Request, journey_id: str, edit: JourneyEdit) -> str:
    app = web(request)
    with app.journey_lock(journey_id):
        journey, _ = journey_and_version(request, journey_id)
        check_version(app.ws.journey_path(journey_id), edit.version)  # before judging the edit
        new = apply_edit(journey, edit)
        return commit_journey(request, new, version=edit.version, summary=edit.summary())


async def edit_api(request: Request, journey_id: str, body: JourneyEdit) -> dict[str, Any]:
    """Apply one edit (add/update/move/delete a stage, touchpoint or lane item).

    ``version`` must be the journey's current version, else 409 version_conflict."""
    version = apply_and_save(request, journey_id, body)
    journey, _ = journey_and_version(request, journey_id)
    return {"id": journey_id, "version": version, "journey": journey.to_data()}


async def yaml_put_api(request: Request, journey_id: str, body: YamlSave) -> dict[str, Any]:
    """Replace a journey's YAML text (validated; the id in the text must match)."""
    return {"id": journey_id, "version": save_yaml(request, journey_id, body)}


def save_yaml(request: Request, journey_id: str, body: YamlSave) -> str:
    app = web(request)
    web(request).ws.journey(journey_id)
    journey = parse_journey(body.text, file=f"{journey_id}.yaml")
    if journey.id != journey_id:
        raise UsageError(
            f"The text has id {journey.id!r}, the journey is {journey_id!r}.",
            hint="keep the id; create a new journey to change it.",
        )
    with app.journey_lock(journey_id):
        path = app.ws.journey_path(journey_id)
        check_version(path, body.version)
        before = path.read_text(encoding="utf-8")
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(
            body.text if body.text.endswith("\n") else body.text + "\n", encoding="utf-8"
        )
        tmp.replace(path)
        new_version = file_version(path)
        record_change(
            app.db,
            journey_id,
            author=principal(request).name or "?",
            summary="YAML edited",
            version_before=body.version,
            version_after=new_version,
            yaml_before=before,
        )
        return new_version


def _editor_context(request: Request, journey_id: str) -> dict[str, Any]:
    journey, version = journey_and_version(request, journey_id)
    return {
        "journey": journey,
        "version": version,
        "channels": CHANNELS,
        "lane_names": LANE_NAMES,
        "yaml_text": web(request).ws.journey_path(journey_id).read_text(encoding="utf-8"),
        "draft": {},
        "draft_target": None,
    }


async def edit_page(request: Request, journey_id: str) -> Response:
    return web(request).pages.render(request, "editor.html", _editor_context(request, journey_id))


def edit_from_form(form: dict[str, str]) -> JourneyEdit:
    data: dict[str, Any] = {k: v for k, v in form.items() if k in JourneyEdit.model_fields}
    for k in ("emotion", "index", "direction"):
        if data.get(k) in ("", None):
            data.pop(k, None)
    for k in ("moment",):
        if data.get(k) == "":
            data[k] = None
    lanes = {
        lane: form[f"lane_{lane}"].splitlines() for lane in LANE_NAMES if f"lane_{lane}" in form
    }
    if lanes:
        data["lanes"] = lanes
    try:
        return JourneyEdit.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(
            f"Invalid value for {'.'.join(str(p) for p in first['loc'])}: {first['msg']}."
        ) from None


async def edit_form(request: Request, journey_id: str) -> Response:
    """An edit posted by the HTML editor; on an error the page comes back with the text kept."""
    form = await form_data(request)
    try:
        edit = edit_from_form(form)
        apply_and_save(request, journey_id, edit)
    except KlantreisError as exc:
        from ..errors import status_of

        ctx = _editor_context(request, journey_id)
        ctx.update(
            {"error": exc.to_dict(), "draft": form, "draft_target": form.get("target") or None}
        )
        return web(request).pages.render(request, "editor.html", ctx, status_code=status_of(exc))
    anchor = form.get("target", "").replace(":", "-")
    return RedirectResponse(f"/journeys/{journey_id}/edit#{anchor}", status_code=303)


async def yaml_form(request: Request, journey_id: str) -> Response:
    form = await form_data(request)
    try:
        save_yaml(
            request,
            journey_id,
            YamlSave(version=form.get("version", ""), text=form.get("text", "") or " "),
        )
    except KlantreisError as exc:
        from ..errors import status_of

        ctx = _editor_context(request, journey_id)
        ctx.update(
            {"error": exc.to_dict(), "yaml_text": form.get("text", ""), "draft_target": "yaml"}
        )
        return web(request).pages.render(request, "editor.html", ctx, status_code=status_of(exc))
    return RedirectResponse(f"/journeys/{journey_id}/edit", status_code=303)
