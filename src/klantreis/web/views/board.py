"""The priority board of a journey: pain points from the analyses and added by hand."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from ...store.board import (
    BOARD_SORTS,
    BOARD_STATUSES,
    add_item,
    board_frame,
    delete_item,
    get_item,
    import_pain_points,
    list_items,
    update_item,
)
from ..deps import form_data, journey_and_version, principal, web
from .dashboard import _engine_section

__all__ = [
    "board_add_api",
    "board_add_form",
    "board_csv",
    "board_delete_api",
    "board_import",
    "board_json",
    "board_page",
    "board_update_api",
    "board_update_form",
]

Sort = Literal[
    "priority", "title", "owner", "status", "touchpoint", "stage", "updated_at", "created_at"
]


#: a board item id as SQLite stores it (larger numbers are refused with 422, not a crash)
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class BoardItem(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    touchpoint: str | None = Field(None, max_length=64)
    stage: str | None = Field(None, max_length=64)
    owner: str | None = Field(None, max_length=200, description="owner department")
    status: Literal["open", "in_progress", "done", "wont_fix"] = "open"
    root_cause: str | None = Field(None, max_length=5000)
    actions: str | None = Field(None, max_length=5000)
    impact: str | None = Field(None, max_length=1000, description="estimated impact of fixing it")


class BoardChange(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=500)
    touchpoint: str | None = Field(None, max_length=64)
    stage: str | None = Field(None, max_length=64)
    owner: str | None = Field(None, max_length=200)
    status: Literal["open", "in_progress", "done", "wont_fix"] | None = None
    root_cause: str | None = Field(None, max_length=5000)
    actions: str | None = Field(None, max_length=5000)
    impact: str | None = Field(None, max_length=1000)


def _items(request: Request, journey_id: str, sort: str, order: str) -> list[dict[str, Any]]:
    web(request).ws.journey(journey_id)
    return list_items(web(request).db, journey_id, sort=sort, descending=order != "asc")


async def board_json(
    request: Request,
    journey_id: str,
    sort: Sort = "priority",
    order: Literal["asc", "desc"] = "desc",
) -> list[dict[str, Any]]:
    """The board's items, sorted."""
    return _items(request, journey_id, sort, order)


async def board_page(
    request: Request,
    journey_id: str,
    sort: Sort = "priority",
    order: Literal["asc", "desc"] = "desc",
) -> Response:
    journey, _ = journey_and_version(request, journey_id)
    return web(request).pages.render(
        request,
        "board.html",
        {
            "journey": journey,
            "items": _items(request, journey_id, sort, order),
            "sort": sort,
            "order": order,
            "sorts": BOARD_SORTS,
            "statuses": BOARD_STATUSES,
        },
    )


async def board_csv(
    request: Request,
    journey_id: str,
    sort: Sort = "priority",
    order: Literal["asc", "desc"] = "desc",
) -> Response:
    """The board as CSV (one row per item)."""
    buf = io.StringIO()
    board_frame(_items(request, journey_id, sort, order)).to_csv(buf, index=False)
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{journey_id}-board.csv"'},
    )


async def board_add_api(request: Request, journey_id: str, body: BoardItem) -> dict[str, Any]:
    """Add an item by hand."""
    web(request).ws.journey(journey_id)
    return add_item(
        web(request).db, journey_id, body.model_dump(), by=principal(request).name or "?"
    )


async def board_update_api(request: Request, item_id: ItemId, body: BoardChange) -> dict[str, Any]:
    """Change an item (owner, status, root cause, actions, impact, ...)."""
    return update_item(web(request).db, item_id, body.model_dump(exclude_unset=True))


async def board_delete_api(request: Request, item_id: ItemId) -> dict[str, Any]:
    """Delete an item."""
    delete_item(web(request).db, item_id)
    return {"deleted": item_id}


_FIELDS = ("title", "touchpoint", "stage", "owner", "status", "root_cause", "actions", "impact")


async def board_add_form(request: Request, journey_id: str) -> Response:
    form = await form_data(request)
    web(request).ws.journey(journey_id)
    add_item(
        web(request).db,
        journey_id,
        {k: form[k] for k in _FIELDS if k in form},
        by=principal(request).name or "?",
    )
    return RedirectResponse(f"/journeys/{journey_id}/board", status_code=303)


async def board_update_form(request: Request, journey_id: str, item_id: ItemId) -> Response:
    form = await form_data(request)
    if get_item(web(request).db, item_id)["journey_id"] != journey_id:
        from ...errors import NotFound

        raise NotFound(f"No board item {item_id} in journey {journey_id!r}.")
    if form.get("delete"):
        delete_item(web(request).db, item_id)
    else:
        update_item(web(request).db, item_id, {k: form[k] for k in _FIELDS if k in form})
    return RedirectResponse(f"/journeys/{journey_id}/board#item-{item_id}", status_code=303)


async def board_import(request: Request, journey_id: str) -> Response:
    """Add (or refresh) the pain points found by the analyses."""
    app = web(request)
    journey, _ = journey_and_version(request, journey_id)
    section = _engine_section(app, "pain_points", journey, {})
    names = {t.id: t for t in journey.touchpoints}
    rows = []
    for r in section.get("rows", []):
        tp = r.get("touchpoint")
        if not tp:
            continue
        known = names.get(str(tp))
        rows.append(
            {
                "touchpoint": tp,
                "title": known.name if known else str(tp),
                "stage": r.get("stage") or (known.stage if known else None),
                "owner": known.owner if known else None,
                "reach": r.get("reach_share"),
                "severity": r.get("severity"),
                "priority": r.get("priority"),
            }
        )
    n = import_pain_points(app.db, journey_id, rows, by=principal(request).name or "?")
    if "json" in request.headers.get("accept", "") or request.url.path.startswith("/api/"):
        from fastapi.responses import JSONResponse

        return JSONResponse({"imported": n, "note": section.get("note")})
    return RedirectResponse(f"/journeys/{journey_id}/board", status_code=303)
