"""End to end in real headless Chromium (Debian's /usr/bin/chromium via Playwright) against a
uvicorn server on 127.0.0.1: log in, create a journey from a template, edit a touchpoint,
answer a survey on a phone-sized screen, see it on the dashboard, a viewer refused an edit."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import klantreis
from klantreis.store.users import add_user, ensure_admin
from klantreis.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs /usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import uvicorn

    ws = klantreis.init(tmp_path_factory.mktemp("e2e") / "ws", template="five-phases")
    app = create_app(ws)
    admin = ensure_admin(app.state.web.db)
    assert admin is not None
    add_user(app.state.web.db, "vera", role="viewer", password="viewer-pass")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield {"url": f"http://127.0.0.1:{port}", "ws": ws, "admin": admin}
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def _login(page: Any, url: str, user: str, password: str) -> None:
    page.goto(f"{url}/journeys")
    assert "/login" in page.url
    page.fill("#username", user)
    page.fill("#password", password)
    page.press("#password", "Enter")  # keyboard only
    page.wait_for_url(f"{url}/journeys")


def test_the_whole_loop_in_a_real_browser(server: dict[str, Any], browser: Any) -> None:
    url = server["url"]
    ctx = browser.new_context()
    page = ctx.new_page()
    _login(page, url, "admin", server["admin"][1])
    # create a journey from a template
    page.click("text=New journey")
    page.select_option("#template", "five-phases")
    page.fill("#id", "webshop")
    page.fill("#name", "Webshop <b>2026</b>")
    page.click("form button[type=submit]:has-text('Create')")
    page.wait_for_url(f"{url}/journeys/webshop/edit")
    assert page.locator("h1").inner_text() == "Edit: Webshop <b>2026</b>"
    # edit a touchpoint
    card = page.locator("#touchpoint-social-ad form.tp-form")
    card.locator("input[name=name]").fill("Instagram advert")
    card.locator("select[name=emotion]").select_option("1")
    card.locator("button[type=submit]").click()
    page.wait_for_load_state()
    saved = klantreis.load_journey(server["ws"].journey_path("webshop"))
    assert saved.touchpoint("social-ad").name == "Instagram advert"
    assert saved.touchpoint("social-ad").emotion == 1
    assert saved.name == "Webshop <b>2026</b>"
    # answer the survey on a phone
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    sp = phone.new_page()
    sp.goto(f"{url}/survey/webshop/social-ad?metrics=csat")
    assert sp.evaluate("document.documentElement.scrollWidth") <= 390
    sp.click("label[for=csat-2]")
    sp.fill("#comment", "The advert promised a discount I did not get")
    sp.click("button[type=submit]")
    sp.wait_for_selector(".thanks")
    phone.close()
    # see it on the dashboard
    page.goto(f"{url}/journeys/webshop/dashboard")
    latest = page.locator("#latest-answers").inner_text()
    assert "The advert promised a discount I did not get" in latest
    assert "social-ad" in latest
    ctx.close()


def test_a_viewer_is_refused_an_edit(server: dict[str, Any], browser: Any) -> None:
    url = server["url"]
    ctx = browser.new_context()
    page = ctx.new_page()
    _login(page, url, "vera", "viewer-pass")
    page.goto(f"{url}/journeys/five-phases")
    assert page.locator("nav >> text=Edit").count() == 0
    resp = page.goto(f"{url}/journeys/five-phases/edit")
    assert resp is not None and resp.status == 403
    assert "may not do this" in page.locator("[role=alert]").inner_text()
    # and the API refuses the same edit
    status = page.evaluate(
        """async () => (await fetch('/api/v1/journeys/five-phases/edits', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({action: 'stage.delete', version: 'x', stage_id: 'loyalty'})})).status"""
    )
    assert status == 403
    ctx.close()


def test_collector_under_bounded_concurrent_load(server: dict[str, Any]) -> None:
    """120 posts from 8 threads on loopback, a quarter of them retries: each answer once."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from klantreis.store.appdb import AppDB
    from klantreis.store.users import create_key

    db = AppDB.of_workspace(server["ws"])
    secret, _ = create_key(db, "load", scope="collect", rate_per_minute=10_000)
    keys = [f"load-key-{i:05d}" for i in range(90)]
    sends = keys + keys[:30]  # 30 retries of accepted submissions

    def post(key: str) -> tuple[str, int]:
        body = {
            "journey": "five-phases",
            "touchpoint": "checkout",
            "idempotency_key": key,
            "csat": 3,
            "ces": 5,
        }
        with httpx.Client(base_url=server["url"], timeout=30) as c:
            r = c.post(
                "/api/v1/collect/responses",
                json=body,
                headers={"Authorization": f"Bearer {secret}"},
            )
            return key, r.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, sends))
    assert {s for _, s in results} <= {200, 201}
    assert sum(1 for _, s in results if s == 201) == 90
    rows = db.rows(
        "SELECT count(*) AS n, count(DISTINCT idempotency_key) AS k FROM survey_answers "
        "WHERE idempotency_key LIKE 'load-key-%'"
    )
    assert rows == [{"n": 180, "k": 90}]  # csat and ces per answer
