"""Journeys: the list, a new journey from a template, the map viewer, YAML, comments, history."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from ...errors import ConflictError, KlantreisError
from ...model import journey_from_data, list_templates, load_template
from ...store.collab import add_comment, comments, history
from ...store.users import sign_token, verify_token
from ..deps import form_data, journey_and_version, principal, web
from .editor import commit_journey
from .mapview import map_view

__all__ = [
    "NewJourney",
    "journey_comment_api",
    "journey_comment_form",
    "journey_comments_api",
    "journey_create_api",
    "journey_create_form",
    "journey_history_api",
    "journey_history_page",
    "journey_json",
    "journey_new_page",
    "journey_page",
    "journey_yaml",
    "journeys_json",
    "journeys_page",
    "share_link_api",
    "share_page",
    "templates_json",
]


@lru_cache(maxsize=1)
def _templates() -> list[Any]:
    """The shipped templates (package files: they do not change while the app runs)."""
    return list_templates()


class NewJourney(BaseModel):
    template: str = Field(description="a shipped template, e.g. five-phases")
    lang: str = Field("en", pattern="^(en|nl)$")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)
    name: str | None = Field(None, min_length=1, max_length=200)


class NewComment(BaseModel):
    element: str = Field(description="journey, stage:<id>, touchpoint:<id> or lane:<stage>:<lane>")
    text: str = Field(min_length=1, max_length=5000)


def journeys_data(request: Request) -> dict[str, Any]:
    ws = web(request).ws
    rows = []
    problems = []
    for jid in ws.journey_ids():
        try:
            j = ws.journey(jid)
        except KlantreisError as exc:  # an invalid file is listed with its error, not hidden
            problems.append({"id": jid, **exc.to_dict()})
            continue
        rows.append(
            {
                "id": j.id,
                "name": j.name,
                "lang": j.lang,
                "stages": len(j.stages),
                "touchpoints": len(j.touchpoints),
            }
        )
    return {"journeys": rows, "invalid": problems}


async def journeys_json(request: Request) -> dict[str, Any]:
    """The journeys of the workspace (invalid files are listed with their error)."""
    return journeys_data(request)


async def journeys_page(request: Request) -> Response:
    return web(request).pages.render(request, "journeys.html", journeys_data(request))


async def templates_json(request: Request) -> list[dict[str, Any]]:
    """The journey templates shipped with klantreis."""
    return [
        {
            "template": t.name,
            "lang": t.lang,
            "title": t.title,
            "stages": t.stages,
            "touchpoints": t.touchpoints,
        }
        for t in _templates()
    ]


def create_journey(request: Request, new: NewJourney) -> str:
    app = web(request)
    if new.id in app.ws.journey_ids():
        raise ConflictError(
            f"A journey {new.id!r} exists already.", hint="pick another id or edit that journey."
        )
    template = load_template(new.template, new.lang)
    data = template.to_data()
    data["id"] = new.id
    if new.name:
        data["name"] = new.name.strip()
    journey = journey_from_data(data, like=template)
    with app.journey_lock(new.id):
        commit_journey(
            request,
            journey,
            version=None,
            summary=f"created from template {new.template}.{new.lang}",
        )
    return new.id


async def journey_new_page(request: Request) -> Response:
    return web(request).pages.render(
        request, "journey_new.html", {"templates": _templates(), "form": {}}
    )


async def journey_create_form(request: Request) -> Response:
    form = await form_data(request)
    try:
        new = NewJourney(
            template=form.get("template", ""),
            lang=form.get("lang", "en"),
            id=form.get("id", ""),
            name=form.get("name") or None,
        )
        jid = create_journey(request, new)
    except (KlantreisError, ValueError) as exc:
        err = (
            exc.to_dict()
            if isinstance(exc, KlantreisError)
            else {
                "code": "invalid_request",
                "message": "; ".join(
                    f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                if isinstance(exc, ValidationError)
                else str(exc),
                "hint": "ids use a-z, 0-9, - and _.",
            }
        )
        return web(request).pages.render(
            request,
            "journey_new.html",
            {"templates": _templates(), "form": form, "error": err},
            status_code=400,
        )
    return RedirectResponse(f"/journeys/{jid}/edit", status_code=303)


async def journey_create_api(request: Request, body: NewJourney) -> dict[str, Any]:
    """Create a journey from a shipped template."""
    jid = create_journey(request, body)
    journey, version = journey_and_version(request, jid)
    return {"id": jid, "version": version, "journey": journey.to_data()}


async def journey_json(request: Request, journey_id: str) -> dict[str, Any]:
    """A journey as data, with its version (use it for edits) and its comments."""
    journey, version = journey_and_version(request, journey_id)
    return {
        "id": journey.id,
        "version": version,
        "journey": journey.to_data(),
        "comments": comments(web(request).db, journey_id),
    }


async def journey_page(request: Request, journey_id: str) -> Response:
    app = web(request)
    journey, version = journey_and_version(request, journey_id)
    lang = app.pages.lang_of(request)
    ctx = {
        "journey": journey,
        "version": version,
        "map": map_view(app, journey, lang=lang),
        "comments": comments(app.db, journey_id),
        "read_only": principal(request).role not in ("editor", "admin"),
    }
    return app.pages.render(request, "journey.html", ctx)


async def journey_yaml(request: Request, journey_id: str) -> Response:
    """The journey's YAML file as it is in the workspace."""
    ws = web(request).ws
    ws.journey(journey_id)
    return PlainTextResponse(
        ws.journey_path(journey_id).read_text(encoding="utf-8"), media_type="application/yaml"
    )


async def journey_comments_api(request: Request, journey_id: str) -> list[dict[str, Any]]:
    """Comments on a journey's elements."""
    web(request).ws.journey(journey_id)
    return comments(web(request).db, journey_id)


async def journey_comment_api(
    request: Request, journey_id: str, body: NewComment
) -> dict[str, Any]:
    """Comment on an element of a journey."""
    web(request).ws.journey(journey_id)
    author = principal(request).name or "?"
    return add_comment(web(request).db, journey_id, body.element, author, body.text)


async def journey_comment_form(request: Request, journey_id: str) -> Response:
    form = await form_data(request)
    web(request).ws.journey(journey_id)
    add_comment(
        web(request).db,
        journey_id,
        form.get("element", "journey"),
        principal(request).name or "?",
        form.get("text", ""),
    )
    back = form.get("back") or f"/journeys/{journey_id}"
    return RedirectResponse(back if back.startswith("/journeys/") else "/journeys", status_code=303)


async def journey_history_api(request: Request, journey_id: str) -> list[dict[str, Any]]:
    """Every saved change of a journey, newest first."""
    web(request).ws.journey(journey_id)
    return history(web(request).db, journey_id)


async def journey_history_page(request: Request, journey_id: str) -> Response:
    journey, version = journey_and_version(request, journey_id)
    return web(request).pages.render(
        request,
        "history.html",
        {"journey": journey, "version": version, "history": history(web(request).db, journey_id)},
    )


class ShareLinkRequest(BaseModel):
    valid_days: float = Field(30, gt=0, le=366)


def make_share_link(request: Request, journey_id: str, valid_days: float) -> str:
    web(request).ws.journey(journey_id)
    token = sign_token(web(request).secret, "share", {"j": journey_id}, valid_days=valid_days)
    return f"/share/{token}"


async def share_link_api(
    request: Request, journey_id: str, body: ShareLinkRequest
) -> dict[str, Any]:
    """A read-only link to a journey's map (signed; expires after valid_days)."""
    path = make_share_link(request, journey_id, body.valid_days)
    return {"path": path, "url": str(request.base_url).rstrip("/") + path}


async def share_page(request: Request, token: str) -> Response:
    """A journey's map, read-only, for whoever has the signed link."""
    app = web(request)
    payload = verify_token(app.secret, "share", token)
    journey, version = journey_and_version(request, str(payload["j"]))
    lang = app.pages.lang_of(request)
    ctx = {
        "journey": journey,
        "version": version,
        "map": map_view(app, journey, lang=lang),
        "comments": [],
        "read_only": True,
        "shared": True,
    }
    return app.pages.render(request, "journey.html", ctx)
