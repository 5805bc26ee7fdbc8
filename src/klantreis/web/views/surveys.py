"""Survey collection: hosted pages per touchpoint, signed e-mail links, the collector endpoint
used by the embeddable widget, and the survey settings page of a journey.

Every answer goes through ``store.surveys.record_answer`` (idempotency key -> response ids,
per-customer cooldown) and reaches the responses table through the store's ingestion API.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from ...errors import CooldownActive, KlantreisError, NotFound, UsageError
from ...model import Journey
from ...store.surveys import SCALES, SurveyAnswer, cooldown_until, recent_answers, record_answer
from ...store.users import sign_token, verify_token
from ..deps import form_data, journey_and_version, principal, web

__all__ = [
    "collect_eligibility",
    "collect_preflight",
    "collect_response",
    "survey_link_api",
    "survey_link_page",
    "survey_link_submit",
    "survey_page",
    "survey_submit",
    "surveys_json",
    "surveys_page",
]

_METRICS = tuple(SCALES)


class CollectedAnswer(BaseModel):
    journey: str = Field(max_length=64)
    touchpoint: str = Field(max_length=64)
    idempotency_key: str = Field(
        min_length=8,
        max_length=128,
        description="one per submission; a retry with it is stored once",
    )
    customer_id: str | None = Field(None, max_length=200)
    csat: int | None = Field(None, ge=1, le=5)
    nps: int | None = Field(None, ge=0, le=10)
    ces: int | None = Field(None, ge=1, le=7)
    comment: str | None = Field(None, max_length=5000)
    channel: str = Field("widget", max_length=40)


class SurveyLinkRequest(BaseModel):
    touchpoint: str = Field(max_length=64)
    customer_id: str = Field(min_length=1, max_length=200)
    valid_days: float = Field(30, gt=0, le=366)


def _touchpoint(journey: Journey, touchpoint_id: str) -> Any:
    try:
        return journey.touchpoint(touchpoint_id)
    except KeyError as exc:
        raise NotFound(str(exc.args[0])) from None


def _scores(values: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in _METRICS:
        raw = values.get(m)
        if raw in (None, ""):
            continue
        try:
            out[m] = float(raw)
        except (TypeError, ValueError):
            raise UsageError(f"Score {raw!r} for {m} is not a number.") from None
    return out


def _record(
    request: Request,
    journey_id: str,
    tp: str,
    values: dict[str, Any],
    customer_id: str | None,
    channel: str,
) -> dict[str, Any]:
    app = web(request)
    journey, _ = journey_and_version(request, journey_id)
    _touchpoint(journey, tp)
    answer = SurveyAnswer(
        journey_id=journey_id,
        touchpoint=tp,
        idempotency_key=str(values.get("idempotency_key") or ""),
        scores=_scores(values),
        comment=(str(values.get("comment") or "").strip() or None),
        customer_id=customer_id,
        channel=channel,
    )
    return record_answer(app.db, answer, cooldown_days=app.cooldown_days).to_dict()


def _page(
    request: Request,
    journey_id: str,
    tp_id: str,
    *,
    action: str,
    customer_id: str | None,
    status: int = 200,
    **extra: Any,
) -> Response:
    app = web(request)
    journey, _ = journey_and_version(request, journey_id)
    tp = _touchpoint(journey, tp_id)
    asked = request.query_params.get("metrics", ",".join(_METRICS)).split(",")
    metrics = [m for m in _METRICS if m in asked] or list(_METRICS)
    done = extra.pop("done", None)
    if (
        done is None
        and customer_id
        and cooldown_until(app.db, customer_id, tp_id, cooldown_days=app.cooldown_days)
    ):
        done = "cooldown"
    ctx = {
        "journey": journey,
        "touchpoint": tp,
        "metrics": metrics,
        "scales": SCALES,
        "action": action,
        "idempotency_key": secrets.token_urlsafe(16),
        "done": done,
        **extra,
    }
    return app.pages.render(request, "survey.html", ctx, status_code=status)


async def survey_page(request: Request, journey_id: str, touchpoint_id: str) -> Response:
    """The hosted survey page of a touchpoint (CSAT, NPS, CES and a comment)."""
    return _page(
        request,
        journey_id,
        touchpoint_id,
        action=f"/survey/{journey_id}/{touchpoint_id}",
        customer_id=None,
    )


async def _submit(
    request: Request, journey_id: str, tp: str, customer_id: str | None, action: str
) -> Response:
    form = await form_data(request)
    try:
        _record(request, journey_id, tp, form, customer_id, "survey_page")
    except CooldownActive:
        return _page(
            request, journey_id, tp, action=action, customer_id=customer_id, done="cooldown"
        )
    except UsageError as exc:
        return _page(
            request,
            journey_id,
            tp,
            action=action,
            customer_id=customer_id,
            status=400,
            error=exc.to_dict(),
        )
    return _page(request, journey_id, tp, action=action, customer_id=customer_id, done="thanks")


async def survey_submit(request: Request, journey_id: str, touchpoint_id: str) -> Response:
    return await _submit(
        request, journey_id, touchpoint_id, None, f"/survey/{journey_id}/{touchpoint_id}"
    )


def _link(request: Request, token: str) -> dict[str, Any]:
    return verify_token(web(request).secret, "survey", token)


async def survey_link_page(request: Request, token: str) -> Response:
    """A survey from a signed e-mail link (carries journey, touchpoint and customer id)."""
    p = _link(request, token)
    return _page(request, p["j"], p["t"], action=f"/survey-link/{token}", customer_id=p["c"])


async def survey_link_submit(request: Request, token: str) -> Response:
    p = _link(request, token)
    return await _submit(request, p["j"], p["t"], p["c"], f"/survey-link/{token}")


def _cors(request: Request, resp: Response) -> Response:
    origin = request.headers.get("origin")
    if origin:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Vary"] = "Origin"
    return resp


async def collect_preflight(request: Request) -> Response:
    """CORS preflight for the widget (the key and its origins are checked on the POST)."""
    resp = Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, X-API-Key",
            "Access-Control-Max-Age": "600",
        },
    )
    return _cors(request, resp)


async def collect_response(request: Request, body: CollectedAnswer) -> Response:
    """Post a survey answer (the widget's endpoint; a collect key may do only this).

    201 when stored, 200 with ``duplicate: true`` for a retried idempotency key, 409
    ``cooldown`` when the customer answered about this touchpoint recently."""
    receipt = _record(
        request, body.journey, body.touchpoint, body.model_dump(), body.customer_id, body.channel
    )
    resp = JSONResponse(receipt, status_code=200 if receipt["duplicate"] else 201)
    return _cors(request, resp)


async def collect_eligibility(
    request: Request, journey: str, touchpoint: str, customer_id: str
) -> Response:
    """May this customer be asked about this touchpoint now (per-customer cooldown)?"""
    app = web(request)
    j, _ = journey_and_version(request, journey)
    _touchpoint(j, touchpoint)
    until = cooldown_until(app.db, customer_id, touchpoint, cooldown_days=app.cooldown_days)
    body = {
        "eligible": until is None,
        "next_at": until.isoformat() if until else None,
        "cooldown_days": app.cooldown_days,
    }
    return _cors(request, JSONResponse(body))


def make_survey_link(request: Request, journey_id: str, body: SurveyLinkRequest) -> str:
    journey, _ = journey_and_version(request, journey_id)
    _touchpoint(journey, body.touchpoint)
    token = sign_token(
        web(request).secret,
        "survey",
        {"j": journey_id, "t": body.touchpoint, "c": body.customer_id},
        valid_days=body.valid_days,
    )
    return f"/survey-link/{token}"


async def survey_link_api(
    request: Request, journey_id: str, body: SurveyLinkRequest
) -> dict[str, Any]:
    """A signed survey link for an e-mail: it carries the customer id and cannot be forged."""
    path = make_survey_link(request, journey_id, body)
    return {"path": path, "url": str(request.base_url).rstrip("/") + path}


def surveys_data(request: Request, journey_id: str) -> dict[str, Any]:
    journey, _ = journey_and_version(request, journey_id)
    base = str(request.base_url).rstrip("/")
    return {
        "journey": journey_id,
        "cooldown_days": web(request).cooldown_days,
        "pages": [
            {"touchpoint": t.id, "name": t.name, "url": f"{base}/survey/{journey_id}/{t.id}"}
            for t in journey.touchpoints_in_order()
        ],
        "widget_url": f"{base}/static/widget.js",
        "latest_answers": recent_answers(web(request).db, journey_id, limit=20),
    }


async def surveys_json(request: Request, journey_id: str) -> dict[str, Any]:
    """Survey pages per touchpoint, the widget, and the latest answers."""
    return surveys_data(request, journey_id)


async def surveys_page(request: Request, journey_id: str) -> Response:
    journey, _ = journey_and_version(request, journey_id)
    ctx = {
        "journey": journey,
        "data": surveys_data(request, journey_id),
        "link": None,
        "can_edit": principal(request).role in ("editor", "admin"),
    }
    q = request.query_params
    if ctx["can_edit"] and q.get("touchpoint") and q.get("customer_id"):
        try:
            ctx["link"] = str(request.base_url).rstrip("/") + make_survey_link(
                request,
                journey_id,
                SurveyLinkRequest(
                    touchpoint=request.query_params["touchpoint"],
                    customer_id=request.query_params["customer_id"],
                ),
            )
        except (KlantreisError, ValueError) as exc:
            ctx["error"] = {"code": "invalid_request", "message": str(exc), "hint": None}
    return web(request).pages.render(request, "surveys.html", ctx)
