"""GA4 BigQuery export rows (``events_YYYYMMDD`` tables, as NDJSON, JSON or Parquet) to events.

One export row is one event:

- ``event_name`` → ``event``; ``event_timestamp`` (microseconds since 1970, UTC) → ``timestamp``
- ``user_id`` when set, else ``user_pseudo_id`` → ``customer_id`` (the other is kept as a
  property)
- ``event_params`` (a list of ``{key, value: {string_value, int_value, double_value,
  float_value}}``) → properties under their key; ``ga_session_id`` → ``session_id`` (GA4
  session ids are unique per user only: group sessions by customer and session)
- ``traffic_source.medium`` → ``channel``; ``traffic_source.source``/``.medium``/``.name``,
  ``device.*``, ``geo.*``, ``platform`` and other scalar fields → properties (nested
  fields as ``parent.child``)
- value: ``ecommerce.purchase_revenue``, else the ``value`` parameter, else
  ``event_value_in_usd``
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import UsageError
from .readers import RowMaker, text_value

__all__ = ["ga4_row", "ga4_row_maker"]

_EPOCH = dt.datetime(1970, 1, 1)
_SKIP = {"event_params", "user_properties", "items", "event_name", "event_timestamp", "user_id"}


def _param_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for k in ("string_value", "int_value", "double_value", "float_value"):
        v = value.get(k)
        if v is not None:
            return v
    return None


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        return
    elif value is not None:
        text = text_value(value)
        if text is not None:
            out[prefix] = text


def _timestamp(raw: Any) -> str | None:
    if raw is None:
        return None
    try:
        micros = int(raw)
    except (TypeError, ValueError):
        return str(raw)
    return (_EPOCH + dt.timedelta(microseconds=micros)).isoformat() + "+00:00"


def ga4_row(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    props: dict[str, str] = {}
    params: dict[str, Any] = {}
    for p in rec.get("event_params") or []:
        if isinstance(p, dict) and p.get("key") is not None:
            params[str(p["key"])] = _param_value(p.get("value"))
    for k, v in params.items():
        text = text_value(v)
        if text is not None:
            props[k] = text
    for k, v in rec.items():
        if k not in _SKIP:
            _flatten(k, v, props)
    user_id = text_value(rec.get("user_id"))
    pseudo = text_value(rec.get("user_pseudo_id"))
    customer = user_id or pseudo
    traffic = rec.get("traffic_source") or {}
    value = None
    ecommerce = rec.get("ecommerce") or {}
    if isinstance(ecommerce, dict) and ecommerce.get("purchase_revenue") is not None:
        value = ecommerce.get("purchase_revenue")
    elif params.get("value") is not None:
        value = params.get("value")
    elif rec.get("event_value_in_usd") is not None:
        value = rec.get("event_value_in_usd")
    session = params.get("ga_session_id")
    props.pop("ga_session_id", None)
    props.pop("value", None)
    row = {
        "customer_id": customer,
        "timestamp": _timestamp(rec.get("event_timestamp")),
        "event": text_value(rec.get("event_name")),
        "channel": text_value(traffic.get("medium")) if isinstance(traffic, dict) else None,
        "session_id": text_value(session),
        "value": text_value(value),
        "properties": props,
    }
    return row, None


def ga4_row_maker(table: str) -> tuple[RowMaker, str | None]:
    if table != "events":
        raise UsageError(
            "GA4 exports hold events; ingest them with 'ingest events'.",
        )
    return ga4_row, "properties"
