"""THE route table of the web app and HTTP API: every route, its access level, its handler.

Access levels (see ``auth.py``): public, collector, viewer, editor, admin. A route cannot be
registered without one (``Route.access`` has no default), and ``tests/test_web_roles.py``
probes every route in this table with every role and anonymously.

Pages (``kind="page"``) have a JSON twin (``twin``) under ``/api/v1`` that returns the same
data. HTML form posts (``kind="form"``) redirect back to a page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import HTMLResponse, JSONResponse, Response

from .auth import ACCESS_LEVELS
from .views import board, dashboard, editor, journeys, session, settings, surveys

__all__ = ["ROUTES", "Route", "route_named"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    endpoint: Callable[..., Any]
    access: str
    kind: str  # page | form | api | asset
    summary: str
    twin: str | None = None  # the JSON twin of a page (a route name)

    def __post_init__(self) -> None:
        if self.access not in ACCESS_LEVELS:
            raise ValueError(f"Route {self.path}: unknown access {self.access!r}")

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def in_schema(self) -> bool:
        return self.kind == "api"

    @property
    def tag(self) -> str:
        return {"page": "pages", "form": "forms", "asset": "assets"}.get(self.kind, "api")

    @property
    def response_class(self) -> type[Response]:
        return HTMLResponse if self.kind in ("page", "form") else JSONResponse


J = "/journeys/{journey_id}"
A = "/api/v1"
AJ = A + J
R = Route

ROUTES: tuple[Route, ...] = (
    # -- session, health, assets ------------------------------------------------------------
    R("GET", "/", session.index, "viewer", "page", "Home: the journeys"),
    R("GET", "/login", session.login_form, "public", "page", "Sign-in page"),
    R("POST", "/login", session.login_submit, "public", "form", "Sign in"),
    R("POST", "/logout", session.logout, "viewer", "form", "Sign out"),
    R("GET", "/health", session.health, "public", "api", "Is the server up"),
    R("GET", "/openapi.json", session.openapi_document, "public", "asset", "OpenAPI document"),
    R("GET", "/static/{path:path}", session.static_file, "public", "asset", "CSS, JS, widget"),
    R("GET", A + "/me", session.me, "viewer", "api", "Who am I"),
    # -- journeys, map viewer, comments, history, share links --------------------------------
    R(
        "GET",
        "/journeys",
        journeys.journeys_page,
        "viewer",
        "page",
        "Journeys",
        twin="GET /api/v1/journeys",
    ),
    R("GET", A + "/journeys", journeys.journeys_json, "viewer", "api", "List journeys"),
    R("GET", A + "/templates", journeys.templates_json, "viewer", "api", "List templates"),
    R("GET", "/journeys/new", journeys.journey_new_page, "editor", "page", "New journey"),
    R("POST", "/journeys/new", journeys.journey_create_form, "editor", "form", "Create journey"),
    R(
        "POST",
        A + "/journeys",
        journeys.journey_create_api,
        "editor",
        "api",
        "Create a journey from a template",
    ),
    R(
        "GET",
        J,
        journeys.journey_page,
        "viewer",
        "page",
        "Map of a journey",
        twin="GET /api/v1/journeys/{journey_id}",
    ),
    R("GET", AJ, journeys.journey_json, "viewer", "api", "A journey with its version"),
    R("GET", J + "/yaml", journeys.journey_yaml, "viewer", "asset", "A journey's YAML file"),
    R("GET", AJ + "/comments", journeys.journey_comments_api, "viewer", "api", "Comments"),
    R("POST", AJ + "/comments", journeys.journey_comment_api, "editor", "api", "Add a comment"),
    R("POST", J + "/comments", journeys.journey_comment_form, "editor", "form", "Add a comment"),
    R(
        "GET",
        J + "/history",
        journeys.journey_history_page,
        "viewer",
        "page",
        "History",
        twin="GET /api/v1/journeys/{journey_id}/history",
    ),
    R("GET", AJ + "/history", journeys.journey_history_api, "viewer", "api", "History"),
    R(
        "POST",
        AJ + "/share-links",
        journeys.share_link_api,
        "editor",
        "api",
        "Create a read-only share link",
    ),
    R("GET", "/share/{token}", journeys.share_page, "public", "page", "Shared map (read-only)"),
    # -- map editor --------------------------------------------------------------------------
    R(
        "GET",
        J + "/edit",
        editor.edit_page,
        "editor",
        "page",
        "Map editor",
        twin="GET /api/v1/journeys/{journey_id}",
    ),
    R("POST", J + "/edit", editor.edit_form, "editor", "form", "Apply an edit"),
    R("POST", AJ + "/edits", editor.edit_api, "editor", "api", "Apply an edit"),
    R("POST", J + "/yaml", editor.yaml_form, "editor", "form", "Save YAML"),
    R("PUT", AJ + "/yaml", editor.yaml_put_api, "editor", "api", "Replace the YAML text"),
    # -- dashboard ---------------------------------------------------------------------------
    R(
        "GET",
        J + "/dashboard",
        dashboard.dashboard_page,
        "viewer",
        "page",
        "Dashboard",
        twin="GET /api/v1/journeys/{journey_id}/dashboard",
    ),
    R("GET", AJ + "/dashboard", dashboard.dashboard_json, "viewer", "api", "Dashboard data"),
    # -- priority board ----------------------------------------------------------------------
    R(
        "GET",
        J + "/board",
        board.board_page,
        "viewer",
        "page",
        "Priority board",
        twin="GET /api/v1/journeys/{journey_id}/board",
    ),
    R("GET", AJ + "/board", board.board_json, "viewer", "api", "Board items"),
    R("GET", J + "/board.csv", board.board_csv, "viewer", "asset", "Board as CSV"),
    R("POST", J + "/board", board.board_add_form, "editor", "form", "Add a board item"),
    R(
        "POST",
        J + "/board/import",
        board.board_import,
        "editor",
        "form",
        "Import pain points from the analyses",
    ),
    R(
        "POST",
        J + "/board/{item_id}",
        board.board_update_form,
        "editor",
        "form",
        "Change or delete a board item",
    ),
    R("POST", AJ + "/board", board.board_add_api, "editor", "api", "Add a board item"),
    R(
        "PATCH",
        A + "/board/{item_id}",
        board.board_update_api,
        "editor",
        "api",
        "Change a board item",
    ),
    R(
        "DELETE",
        A + "/board/{item_id}",
        board.board_delete_api,
        "editor",
        "api",
        "Delete a board item",
    ),
    # -- surveys -----------------------------------------------------------------------------
    R(
        "GET",
        J + "/surveys",
        surveys.surveys_page,
        "viewer",
        "page",
        "Surveys of a journey",
        twin="GET /api/v1/journeys/{journey_id}/surveys",
    ),
    R("GET", AJ + "/surveys", surveys.surveys_json, "viewer", "api", "Survey pages and answers"),
    R(
        "POST",
        AJ + "/survey-links",
        surveys.survey_link_api,
        "editor",
        "api",
        "Create a signed survey link",
    ),
    R(
        "GET",
        "/survey/{journey_id}/{touchpoint_id}",
        surveys.survey_page,
        "public",
        "page",
        "Hosted survey page",
    ),
    R(
        "POST",
        "/survey/{journey_id}/{touchpoint_id}",
        surveys.survey_submit,
        "public",
        "form",
        "Answer a hosted survey",
    ),
    R(
        "GET",
        "/survey-link/{token}",
        surveys.survey_link_page,
        "public",
        "page",
        "Survey from a signed link",
    ),
    R(
        "POST",
        "/survey-link/{token}",
        surveys.survey_link_submit,
        "public",
        "form",
        "Answer a survey from a signed link",
    ),
    R(
        "OPTIONS",
        A + "/collect/responses",
        surveys.collect_preflight,
        "public",
        "asset",
        "CORS preflight for the widget",
    ),
    R(
        "POST",
        A + "/collect/responses",
        surveys.collect_response,
        "collector",
        "api",
        "Post a survey answer (widget, collect key)",
    ),
    R(
        "OPTIONS",
        A + "/collect/eligibility",
        surveys.collect_preflight,
        "public",
        "asset",
        "CORS preflight for the widget",
    ),
    R(
        "GET",
        A + "/collect/eligibility",
        surveys.collect_eligibility,
        "collector",
        "api",
        "May this customer be asked now (cooldown)",
    ),
    # -- settings (admin) ----------------------------------------------------------------------
    R(
        "GET",
        "/settings",
        settings.settings_page,
        "admin",
        "page",
        "Users and API keys",
        twin="GET /api/v1/users",
    ),
    R("POST", "/settings", settings.settings_form, "admin", "form", "Change users and keys"),
    R("GET", A + "/users", settings.users_json, "admin", "api", "List users"),
    R("POST", A + "/users", settings.user_add_api, "admin", "api", "Add a user"),
    R("DELETE", A + "/users/{username}", settings.user_remove_api, "admin", "api", "Remove a user"),
    R("GET", A + "/keys", settings.keys_json, "admin", "api", "List API keys"),
    R("POST", A + "/keys", settings.key_create_api, "admin", "api", "Create an API key"),
    R("DELETE", A + "/keys/{key_id}", settings.key_revoke_api, "admin", "api", "Revoke an API key"),
)


def route_named(name: str) -> Route:
    for r in ROUTES:
        if r.name == name:
            return r
    raise KeyError(name)
