"""The OpenAPI document checked by schemathesis (property-based): no server errors, responses
as documented. Runs as an admin API key; a bounded number of examples keeps it fast."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

import klantreis
from klantreis.store.users import create_key
from klantreis.web import create_app

_ws = klantreis.init(Path(tempfile.mkdtemp(prefix="kr-openapi-")) / "ws", template="five-phases")
_app = create_app(_ws, public_posts_per_minute=100_000)
_secret, _ = create_key(_app.state.web.db, "schemathesis", scope="admin")
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


def test_openapi_document_lists_every_api_route() -> None:
    from klantreis.web.routes import ROUTES

    doc = _app.openapi()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == {(r.method, r.path) for r in ROUTES if r.kind == "api"}


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {_secret}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        assert isinstance(body, dict), f"{where}: {response.text[:200]}"
        assert {"code", "message", "hint"} <= set(body), f"{where}: {body}"
