"""Segment-spec calls (NDJSON, or a JSON ``{"batch": [...]}`` / array) to events, customers, accounts.

The customer is ``userId``, else ``anonymousId``; ``messageId`` is the event id; the time is
``timestamp``, else ``originalTimestamp``, else ``receivedAt``.

- events: ``track`` → the call's ``event`` with its ``properties``; ``page`` → ``page_view``
  with properties ``name``, ``url``, ``path``, ``title``, ``referrer``, ``search`` (from the
  call's ``properties`` and ``context.page``); ``screen`` → ``screen_view`` with ``name``.
  ``properties.revenue`` (else ``properties.value``) is the value; ``context.campaign.medium``
  (else the call's ``channel``) the channel; ``context.groupId`` the account.
- customers: ``identify`` → the customer with its ``traits`` as attributes
  (``traits.company.id`` or ``context.groupId`` as account).
- accounts: ``group`` → the account ``groupId`` with its ``traits`` as attributes.

Calls of another kind than the table takes are counted in the report's notes (for example
"identify calls (ingest them with 'ingest customers')") and skipped.
"""

from __future__ import annotations

from typing import Any

from .readers import RowMaker, text_value

__all__ = ["segment_row_maker"]

_TABLE_OF = {
    "track": "events",
    "page": "events",
    "screen": "events",
    "identify": "customers",
    "group": "accounts",
}
_HINT = {"events": "ingest events", "customers": "ingest customers", "accounts": "ingest accounts"}


def _flat(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
        return
    text = text_value(value)
    if text is not None:
        out[prefix] = text


def _when(rec: dict[str, Any]) -> Any:
    return rec.get("timestamp") or rec.get("originalTimestamp") or rec.get("receivedAt")


def _customer(rec: dict[str, Any]) -> str | None:
    return text_value(rec.get("userId")) or text_value(rec.get("anonymousId"))


def _event_row(rec: dict[str, Any], kind: str) -> dict[str, Any]:
    props: dict[str, str] = {}
    given = rec.get("properties") or {}
    context = rec.get("context") or {}
    if kind == "track":
        name = rec.get("event")
        _flat("", given, props)
    else:
        page = (context.get("page") or {}) if isinstance(context, dict) else {}
        name = "page_view" if kind == "page" else "screen_view"
        merged = {**(page if isinstance(page, dict) else {}), **given}
        if rec.get("name") is not None:
            merged["name"] = rec.get("name")
        _flat("", merged, props)
    if rec.get("userId") and rec.get("anonymousId"):
        props["anonymous_id"] = str(rec["anonymousId"])
    campaign = context.get("campaign") if isinstance(context, dict) else None
    if isinstance(campaign, dict):
        _flat("campaign", campaign, props)
    value = None
    if isinstance(given, dict):
        value = given.get("revenue", given.get("value"))
    channel = (campaign or {}).get("medium") if isinstance(campaign, dict) else None
    return {
        "event_id": text_value(rec.get("messageId")),
        "customer_id": _customer(rec),
        "account_id": text_value(context.get("groupId")) if isinstance(context, dict) else None,
        "timestamp": text_value(_when(rec)),
        "event": text_value(name),
        "channel": text_value(channel or rec.get("channel")),
        "value": text_value(value),
        "properties": props,
    }


def _customer_row(rec: dict[str, Any]) -> dict[str, Any]:
    traits = rec.get("traits") or {}
    if not traits and isinstance(rec.get("context"), dict):
        traits = rec["context"].get("traits") or {}
    attrs: dict[str, str] = {}
    _flat("", traits, attrs)
    company = traits.get("company") if isinstance(traits, dict) else None
    account = None
    if isinstance(company, dict):
        account = company.get("id")
    if account is None and isinstance(rec.get("context"), dict):
        account = rec["context"].get("groupId")
    return {
        "customer_id": _customer(rec),
        "account_id": text_value(account),
        "attributes": attrs,
    }


def _account_row(rec: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, str] = {}
    _flat("", rec.get("traits") or {}, attrs)
    return {"account_id": text_value(rec.get("groupId")), "attributes": attrs}


def segment_row_maker(table: str) -> tuple[RowMaker, str | None]:
    map_column = "properties" if table == "events" else "attributes"

    def make(rec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        kind = str(rec.get("type") or "")
        target = _TABLE_OF.get(kind)
        if target != table:
            if target is None:
                return None, f"{kind or 'untyped'} calls (not read)"
            return None, f"{kind} calls (ingest them with '{_HINT[target]}')"
        if table == "events":
            return _event_row(rec, kind), None
        if table == "customers":
            return _customer_row(rec), None
        return _account_row(rec), None

    return make, map_column
