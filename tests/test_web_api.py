"""The HTTP API and pages through the ASGI test client: errors, edits, board, surveys, links."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import klantreis
from klantreis.store.surveys import pending_frame
from klantreis.store.users import create_key, ensure_admin, login
from web_helpers import JOURNEY, TOUCHPOINT, client_as, make_app, share_token, survey_token

ERROR_KEYS = {"code", "message", "hint"}


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_app(tmp_path)


def _version(client) -> str:  # type: ignore[no-untyped-def]
    return str(client.get(f"/api/v1/journeys/{JOURNEY}").json()["version"])


def test_one_error_shape_everywhere(app) -> None:  # type: ignore[no-untyped-def]
    anon = client_as(app, "anonymous")
    viewer = client_as(app, "viewer")
    editor = client_as(app, "editor")
    cases = [
        (anon.get("/no/such/route"), 404, "not_found"),
        (anon.get(f"/api/v1/journeys/{JOURNEY}"), 401, "unauthenticated"),
        (
            viewer.post(
                f"/api/v1/journeys/{JOURNEY}/comments", json={"element": "journey", "text": "x"}
            ),
            403,
            "forbidden",
        ),
        (viewer.get("/api/v1/journeys/nope"), 404, "journey_not_found"),
        (editor.post("/api/v1/journeys", json={"template": "five-phases"}), 422, "invalid_request"),
        (
            editor.post(
                f"/api/v1/journeys/{JOURNEY}/edits",
                json={"action": "stage.delete", "version": "stale", "stage_id": "awareness"},
            ),
            409,
            "version_conflict",
        ),
        (editor.delete("/api/v1/board/999"), 404, "not_found"),
        (editor.put("/api/v1/journeys", json={}), 405, "method_not_allowed"),
        (anon.get("/share/forged.token"), 403, "invalid_link"),
    ]
    for resp, status, code in cases:
        assert resp.status_code == status, resp.text
        body = resp.json()
        assert set(body) >= ERROR_KEYS, body
        assert body["code"] == code
        assert body["message"]


def test_invalid_journey_edit_lists_problems(app) -> None:  # type: ignore[no-untyped-def]
    editor = client_as(app, "editor")
    resp = editor.post(
        f"/api/v1/journeys/{JOURNEY}/edits",
        json={
            "action": "touchpoint.add",
            "version": _version(editor),
            "new_id": "x",
            "name": "X",
            "stage_id": "awareness",
            "channel": "web",
        },
    )
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "journey_invalid"
    assert "Unknown channel 'web'" in body["problems"][0]["message"]


def test_edit_then_stale_save_gets_409_and_file_stays_valid(app) -> None:  # type: ignore[no-untyped-def]
    editor = client_as(app, "editor")
    v1 = _version(editor)
    resp = editor.post(
        f"/api/v1/journeys/{JOURNEY}/edits",
        json={
            "action": "touchpoint.update",
            "version": v1,
            "touchpoint_id": TOUCHPOINT,
            "name": "Instagram ad",
            "emotion": 1,
        },
    )
    assert resp.status_code == 200, resp.text
    v2 = resp.json()["version"]
    assert v2 != v1
    # a second person still on v1: refused, nothing overwritten
    stale = editor.post(
        f"/api/v1/journeys/{JOURNEY}/edits",
        json={
            "action": "touchpoint.update",
            "version": v1,
            "touchpoint_id": TOUCHPOINT,
            "name": "Other name",
        },
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["message"]
    ws = app.state.web.ws
    journey = klantreis.load_journey(ws.journey_path(JOURNEY))
    assert journey.touchpoint(TOUCHPOINT).name == "Instagram ad"
    assert journey.touchpoint(TOUCHPOINT).emotion == 1
    # the author's comments in the YAML file survive an edit from the web
    assert ws.journey_path(JOURNEY).read_text().startswith("# Five phases")
    hist = editor.get(f"/api/v1/journeys/{JOURNEY}/history").json()
    assert [h["summary"] for h in hist] == [f"touchpoint.update {TOUCHPOINT}"]
    assert hist[0]["version_before"] == v1 and hist[0]["version_after"] == v2


def test_stage_move_and_lane_items(app) -> None:  # type: ignore[no-untyped-def]
    editor = client_as(app, "editor")
    url = f"/api/v1/journeys/{JOURNEY}/edits"
    r = editor.post(
        url,
        json={
            "action": "stage.move",
            "version": _version(editor),
            "stage_id": "awareness",
            "direction": 1,
        },
    )
    stages = sorted(r.json()["journey"]["stages"], key=lambda s: s["order"])
    assert [s["id"] for s in stages][:2] == ["consideration", "awareness"]
    r = editor.post(
        url,
        json={
            "action": "lane.add",
            "version": r.json()["version"],
            "stage_id": "awareness",
            "lane": "pain_points",
            "text": "Slow site",
        },
    )
    lanes = next(s for s in r.json()["journey"]["stages"] if s["id"] == "awareness")["lanes"]
    assert lanes["pain_points"][-1] == "Slow site"
    n = len(lanes["pain_points"])
    r = editor.post(
        url,
        json={
            "action": "lane.delete",
            "version": r.json()["version"],
            "stage_id": "awareness",
            "lane": "pain_points",
            "index": n - 1,
        },
    )
    lanes = next(s for s in r.json()["journey"]["stages"] if s["id"] == "awareness")["lanes"]
    assert len(lanes["pain_points"]) == n - 1


def test_html_editor_conflict_keeps_the_text(app) -> None:  # type: ignore[no-untyped-def]
    editor = client_as(app, "editor")
    editor.headers["accept"] = "text/html"
    form = {
        "csrf_token": editor.headers["x-csrf-token"],
        "action": "touchpoint.update",
        "target": f"touchpoint:{TOUCHPOINT}",
        "touchpoint_id": TOUCHPOINT,
        "version": "0" * 64,
        "name": "My carefully written name",
        "channel": "social",
        "stage_id": "awareness",
    }
    resp = editor.post(f"/journeys/{JOURNEY}/edit", data=form)
    assert resp.status_code == 409
    assert "changed by someone else" in resp.text
    assert 'value="My carefully written name"' in resp.text


def test_user_text_is_escaped(app) -> None:  # type: ignore[no-untyped-def]
    editor = client_as(app, "editor")
    evil = "<script>alert(1)</script>"
    r = editor.post(
        f"/api/v1/journeys/{JOURNEY}/edits",
        json={
            "action": "touchpoint.update",
            "version": _version(editor),
            "touchpoint_id": TOUCHPOINT,
            "name": evil,
        },
    )
    assert r.status_code == 200
    editor.post(f"/api/v1/journeys/{JOURNEY}/comments", json={"element": "journey", "text": evil})
    editor.post(f"/api/v1/journeys/{JOURNEY}/board", json={"title": evil})
    for page in ("", "/edit", "/board", "/surveys", "/dashboard"):
        html = editor.get(f"/journeys/{JOURNEY}{page}", headers={"accept": "text/html"}).text
        assert "<script>alert(1)" not in html, page
        if page != "/dashboard":
            assert "&lt;script&gt;alert(1)" in html, page
    survey = client_as(app, "anonymous").get(f"/survey/{JOURNEY}/{TOUCHPOINT}").text
    assert "<script>alert(1)" not in survey and "&lt;script&gt;" in survey


def test_session_form_post_needs_csrf(app) -> None:  # type: ignore[no-untyped-def]
    editor = client_as(app, "editor")
    del editor.headers["x-csrf-token"]
    resp = editor.post(f"/journeys/{JOURNEY}/comments", data={"element": "journey", "text": "x"})
    assert resp.status_code == 403
    assert "security token" in resp.json()["message"]


def test_login_logout_and_first_admin(app) -> None:  # type: ignore[no-untyped-def]
    db = app.state.web.db
    created = ensure_admin(db)
    assert created is not None and created[0] == "admin"
    assert ensure_admin(db) is None  # only once
    assert login(db, "admin", created[1]).role == "admin"
    anon = client_as(app, "anonymous")
    bad = anon.post("/login", json={"username": "admin", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json()["code"] == "unauthenticated"
    ok = anon.post("/login", json={"username": "admin", "password": created[1]})
    assert ok.status_code == 200
    assert anon.get("/api/v1/me").json()["role"] == "admin"
    assert anon.get("/api/v1/users").status_code == 200
    row = db.rows("SELECT password_hash FROM users WHERE username = 'admin'")[0]
    assert row["password_hash"].startswith("$argon2id$")


def test_board_sort_and_csv(app) -> None:  # type: ignore[no-untyped-def]
    editor = client_as(app, "editor")
    url = f"/api/v1/journeys/{JOURNEY}/board"
    for title, owner in [("Slow delivery", "Logistics"), ("Confusing checkout", "E-commerce")]:
        assert editor.post(url, json={"title": title, "owner": owner}).status_code == 200
    items = editor.get(url, params={"sort": "title", "order": "asc"}).json()
    assert [i["title"] for i in items] == ["Confusing checkout", "Slow delivery"]
    change = editor.patch(
        f"/api/v1/board/{items[1]['id']}",
        json={
            "status": "in_progress",
            "root_cause": "one carrier",
            "actions": "add a second carrier",
        },
    )
    assert change.json()["status"] == "in_progress"
    text = editor.get(
        f"/journeys/{JOURNEY}/board.csv", params={"sort": "owner", "order": "asc"}
    ).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["title"], r["owner"], r["status"]) for r in rows] == [
        ("Confusing checkout", "E-commerce", "open"),
        ("Slow delivery", "Logistics", "in_progress"),
    ]
    assert (
        editor.patch(f"/api/v1/board/{items[1]['id']}", json={"status": "bogus"}).status_code == 422
    )


def _answer(key: str, **extra):  # type: ignore[no-untyped-def]
    return {
        "journey": JOURNEY,
        "touchpoint": TOUCHPOINT,
        "idempotency_key": key,
        "csat": 4,
        "nps": 9,
        "comment": "fine",
        **extra,
    }


def test_collector_stores_an_answer_once_and_respects_cooldown(app) -> None:  # type: ignore[no-untyped-def]
    coll = client_as(app, "collector")
    first = coll.post("/api/v1/collect/responses", json=_answer("key-000001", customer_id="c-9"))
    assert first.status_code == 201, first.text
    again = coll.post("/api/v1/collect/responses", json=_answer("key-000001", customer_id="c-9"))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["response_ids"] == first.json()["response_ids"]
    assert len(first.json()["response_ids"]) == 2  # csat and nps
    cooldown = coll.post("/api/v1/collect/responses", json=_answer("key-000002", customer_id="c-9"))
    assert cooldown.status_code == 409 and cooldown.json()["code"] == "cooldown"
    elig = coll.get(
        "/api/v1/collect/eligibility",
        params={"journey": JOURNEY, "touchpoint": TOUCHPOINT, "customer_id": "c-9"},
    ).json()
    assert elig["eligible"] is False
    frame = pending_frame(app.state.web.db)
    assert sorted(frame["metric"]) == ["csat", "nps"]
    assert frame.loc[frame.metric == "nps", "score"].item() == 9
    # a collect key may do nothing else
    assert coll.get(f"/api/v1/journeys/{JOURNEY}").status_code == 403
    bad = coll.post("/api/v1/collect/responses", json=_answer("key-000003", nps=11))
    assert bad.status_code == 422


def test_collector_origin_allow_list_and_rate_limit(app) -> None:  # type: ignore[no-untyped-def]
    db = app.state.web.db
    secret, _ = create_key(
        db, "shop", scope="collect", origins=["https://shop.example"], rate_per_minute=3
    )
    c = client_as(app, "anonymous")
    c.headers["authorization"] = f"Bearer {secret}"
    refused = c.post(
        "/api/v1/collect/responses",
        json=_answer("key-100000"),
        headers={"origin": "https://evil.example"},
    )
    assert refused.status_code == 403 and "evil.example" in refused.json()["message"]
    statuses = [
        c.post(
            "/api/v1/collect/responses",
            json=_answer(f"key-20000{i}"),
            headers={"origin": "https://shop.example"},
        ).status_code
        for i in range(4)
    ]
    assert statuses == [201, 201, 429, 429] or statuses == [201, 201, 201, 429]
    ok = c.post("/api/v1/collect/responses", json=_answer("key-300000"))
    assert ok.status_code == 429 and ok.json()["code"] == "rate_limited"


def test_signed_survey_link_and_tampering(app) -> None:  # type: ignore[no-untyped-def]
    anon = client_as(app, "anonymous")
    token = survey_token(app, "cust-42")
    page = anon.get(f"/survey-link/{token}")
    assert page.status_code == 200 and "<form" in page.text
    raw, sig = token.split(".")
    import base64
    import json

    body = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    body["c"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    for bad in (f"{forged}.{sig}", f"{raw}.{sig[:-2]}xx", raw):
        resp = anon.get(f"/survey-link/{bad}")
        assert resp.status_code == 403 and resp.json()["code"] == "invalid_link"
    # a share token is not a survey token
    assert anon.get(f"/survey-link/{share_token(app)}").status_code == 403
    sent = anon.post(f"/survey-link/{token}", data={"csat": "2", "idempotency_key": "abcdefgh12"})
    assert sent.status_code == 200 and "Thank you" in sent.text
    row = app.state.web.db.rows("SELECT customer_id, score FROM survey_answers")
    assert row == [{"customer_id": "cust-42", "score": 2.0}]
    again = anon.get(f"/survey-link/{token}")
    assert "answered this survey recently" in again.text


def test_hosted_survey_in_dutch(app) -> None:  # type: ignore[no-untyped-def]
    anon = client_as(app, "anonymous")
    page = anon.get(f"/survey/{JOURNEY}/{TOUCHPOINT}", params={"lang": "nl"})
    assert "Hoe tevreden bent u over" in page.text and 'lang="nl"' in page.text
    assert anon.get(f"/survey/{JOURNEY}/nope").status_code == 404


def test_share_link_is_read_only(app) -> None:  # type: ignore[no-untyped-def]
    editor = client_as(app, "editor")
    path = editor.post(f"/api/v1/journeys/{JOURNEY}/share-links", json={"valid_days": 1}).json()[
        "path"
    ]
    anon = client_as(app, "anonymous")
    page = anon.get(path)
    assert page.status_code == 200 and "Read only" in page.text
    assert "<form" not in page.text.split("<main", 1)[1]


@pytest.mark.skipif(
    not hasattr(klantreis.Workspace, "ingest_feedback"), reason="no store ingestion"
)
def test_answers_reach_the_responses_table_exactly_once(app) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    from klantreis.store.surveys import flush_answers

    coll = client_as(app, "collector")
    for i in range(3):
        coll.post("/api/v1/collect/responses", json=_answer(f"flush-key-{i}", customer_id=f"c{i}"))
    web = app.state.web
    assert flush_answers(web.db, web.ws) == 6
    assert flush_answers(web.db, web.ws) == 0
    # a flush repeated after a crash (rows not marked) adds nothing twice
    web.db.execute("UPDATE survey_answers SET flushed_at = NULL")
    flush_answers(web.db, web.ws)
    files = [str(p) for p in web.ws.data_files("responses")]
    n, distinct = duckdb.sql(
        f"SELECT count(*), count(DISTINCT response_id) FROM read_parquet({files!r})"
    ).fetchall()[0]
    assert (n, distinct) == (6, 6)


@pytest.mark.skipif(
    not hasattr(klantreis.Workspace, "ingest_feedback"), reason="no store ingestion"
)
def test_dashboard_is_fresh_after_new_answers(app) -> None:  # type: ignore[no-untyped-def]
    import klantreis.engine

    if "scores" not in klantreis.engine.ANALYSES:
        pytest.skip("no scores analysis in the engine")
    viewer = client_as(app, "viewer")
    url = f"/api/v1/journeys/{JOURNEY}/dashboard"
    before = viewer.get(url).json()["sections"]["scores"]
    assert before["rows"] == []
    coll = client_as(app, "collector")
    for i, score in enumerate((5, 4, 2)):
        answer = {
            "journey": JOURNEY,
            "touchpoint": TOUCHPOINT,
            "idempotency_key": f"fresh-{i:04d}",
            "csat": score,
        }
        assert coll.post("/api/v1/collect/responses", json=answer).status_code == 201
    after = viewer.get(url).json()["sections"]["scores"]["rows"]
    row = next(r for r in after if r["touchpoint"] == TOUCHPOINT and r["metric"] == "csat")
    assert row["n"] == 3
    assert row["value"] == pytest.approx(2 / 3)  # top-2-box share: 5 and 4 of 5, 4, 2


def test_pages_load_nothing_from_outside(app) -> None:  # type: ignore[no-untyped-def]
    import re

    editor = client_as(app, "editor")
    editor.headers["accept"] = "text/html"
    pages = [
        "/journeys",
        f"/journeys/{JOURNEY}",
        f"/journeys/{JOURNEY}/edit",
        f"/journeys/{JOURNEY}/dashboard",
        f"/journeys/{JOURNEY}/board",
        f"/journeys/{JOURNEY}/surveys",
        f"/survey/{JOURNEY}/{TOUCHPOINT}",
        "/login",
    ]
    for page in pages:
        html = editor.get(page).text
        # absolute links only to the app itself (its own survey URLs)
        assert not re.search(r"""(src|href)=["']?(https?:)?//(?!testserver/)""", html), page
        for asset in re.findall(r"""(?:src|href)="(/static/[^"]+)""", html):
            assert editor.get(asset).status_code == 200, asset
