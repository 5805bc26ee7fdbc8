"""Every route of the one route table × every role × anonymous: allowed or refused as declared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from klantreis.store.board import add_item
from klantreis.web.auth import allowed
from klantreis.web.routes import ROUTES, Route
from web_helpers import ROLES, client_as, make_app, share_token, survey_token

# what each role may reach, per access level (the definition the matrix checks against)
EXPECTED = {
    "public": set(ROLES),
    "collector": {"collector", "editor", "admin"},
    "viewer": {"viewer", "editor", "admin"},
    "editor": {"editor", "admin"},
    "admin": {"admin"},
}


def test_allowed_matches_the_definition() -> None:
    for access, roles in EXPECTED.items():
        for role in ROLES:
            assert allowed(access, None if role == "anonymous" else role) == (role in roles)


def test_every_app_route_comes_from_the_table(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    registered = {(m, r.path) for r in app.routes for m in getattr(r, "methods", ())}
    declared = {(r.method, r.path) for r in ROUTES}
    assert registered - {("HEAD", p) for _, p in registered} == declared


def test_a_route_needs_an_access_level() -> None:
    with pytest.raises(TypeError):
        Route("GET", "/x", lambda: None, kind="api", summary="x")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown access"):
        Route("GET", "/x", lambda: None, "everyone", "api", "x")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path_factory.mktemp("roles"))
    item = add_item(app.state.web.db, "five-phases", {"title": "x"}, by="t")
    params = {
        "journey_id": "five-phases",
        "touchpoint_id": "social-ad",
        "item_id": str(item["id"]),
        "username": "nobody-here",
        "key_id": "nokey",
        "path": "app.css",
    }
    clients = {role: client_as(app, role) for role in ROLES}
    return app, params, clients


def _url(route: Route, params: dict[str, str], app) -> str:  # type: ignore[no-untyped-def]
    def fill(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[0]
        if name == "token":
            return share_token(app) if route.path.startswith("/share") else survey_token(app)
        assert name in params, f"route {route.name}: no test value for path parameter {name!r}"
        return params[name]

    return re.sub(r"\{([^}]+)\}", fill, route.path)


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_route_checks_its_role(setup, route: Route) -> None:  # type: ignore[no-untyped-def]
    app, params, clients = setup
    url = _url(route, params, app)
    for role in ROLES:
        # logging out ends the session: use a fresh one for that route
        client = client_as(app, role) if route.name == "POST /logout" else clients[role]
        kwargs = {}
        if route.method in ("POST", "PUT", "PATCH"):
            kwargs = {"json": {}} if route.kind == "api" else {"data": {}}
        resp = client.request(route.method, url, follow_redirects=False, **kwargs)
        refused = resp.status_code in (401, 403)
        if route.name == "POST /login":  # a wrong password is a 401 for everyone
            refused = resp.status_code == 403
        if role in EXPECTED[route.access]:
            assert not refused, f"{role} refused on {route.name}: {resp.text[:200]}"
            assert resp.status_code < 500, f"{role} on {route.name}: {resp.text[:300]}"
        else:
            expected = 401 if role == "anonymous" else 403
            assert resp.status_code == expected, f"{role} on {route.name}: {resp.status_code}"
            body = resp.json()
            assert set(body) >= {"code", "message", "hint"}
            assert body["code"] == ("unauthenticated" if expected == 401 else "forbidden")
