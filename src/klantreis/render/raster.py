"""PNG and PDF from our HTML, rendered by Debian's headless Chromium through Playwright.

Playwright only drives the browser the system has (``/usr/bin/chromium``, or the path in
``KLANTREIS_CHROMIUM``); it never downloads one. Pages are rendered offline: every network
request is refused and JavaScript is off (our pages have none).

    with Browser() as browser:          # reuse one browser for many pages
        png = browser.png(html)
        pdf = browser.pdf(html)

or, for one page, ``html_to_png(html)`` / ``html_to_pdf(html)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import EngineNotAvailable

__all__ = ["CHROMIUM_ARGS", "Browser", "chromium_path", "html_to_pdf", "html_to_png"]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def chromium_path() -> Path:
    """The Chromium executable: ``$KLANTREIS_CHROMIUM`` or ``/usr/bin/chromium``."""
    path = Path(os.environ.get("KLANTREIS_CHROMIUM", "/usr/bin/chromium"))
    if not path.is_file():
        raise EngineNotAvailable(
            f"Chromium not found at {str(path)!r}; it renders maps and reports to PNG and PDF.",
            hint="install it with 'bash scripts/setup-system.sh' (Debian package chromium), "
            "set KLANTREIS_CHROMIUM to another Chromium, or export to .html or .svg instead.",
        )
    return path


class Browser:
    """One headless Chromium, started on enter and stopped on exit."""

    def __init__(self) -> None:
        self._pw: Any = None
        self._browser: Any = None

    def __enter__(self) -> Browser:
        executable = chromium_path()
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=str(executable), args=CHROMIUM_ARGS, headless=True
            )
        except Exception as exc:
            self._pw.stop()
            raise EngineNotAvailable(
                f"Chromium at {str(executable)!r} did not start: {exc}",
                hint="check that 'chromium --headless --version' runs on this machine.",
            ) from exc
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._pw is not None:
            self._pw.stop()
        self._browser = self._pw = None

    def _page(self, width_px: int, height_px: int, scale: float) -> Any:
        if self._browser is None:
            raise RuntimeError("use Browser as a context manager: 'with Browser() as b: ...'")
        context = self._browser.new_context(
            viewport={"width": width_px, "height": height_px},
            device_scale_factor=scale,
            java_script_enabled=False,
            offline=True,
        )
        page = context.new_page()
        page.route("**/*", lambda route: route.abort())
        return page

    def png(self, html: str, *, width_px: int = 1400, scale: float = 2.0) -> bytes:
        """A full-page PNG of ``html`` at ``width_px`` CSS pixels (× ``scale`` device pixels)."""
        page = self._page(width_px, 800, scale)
        try:
            page.set_content(html, wait_until="load")
            data: bytes = page.screenshot(full_page=True, type="png")
            return data
        finally:
            page.context.close()

    def pdf(self, html: str, *, paper: str = "A3", landscape: bool = True) -> bytes:
        """A PDF of ``html`` with its print style (paper size A3/A4, landscape by default)."""
        page = self._page(1400, 900, 1.0)
        try:
            page.set_content(html, wait_until="load")
            page.emulate_media(media="print")
            data: bytes = page.pdf(
                format=paper,
                landscape=landscape,
                print_background=True,
                prefer_css_page_size=False,
                margin={"top": "10mm", "bottom": "10mm", "left": "10mm", "right": "10mm"},
            )
            return data
        finally:
            page.context.close()


def html_to_png(html: str, *, width_px: int = 1400, scale: float = 2.0) -> bytes:
    """PNG of one page (starts and stops a browser; use :class:`Browser` for many)."""
    with Browser() as browser:
        return browser.png(html, width_px=width_px, scale=scale)


def html_to_pdf(html: str, *, paper: str = "A3", landscape: bool = True) -> bytes:
    """PDF of one page (starts and stops a browser; use :class:`Browser` for many)."""
    with Browser() as browser:
        return browser.pdf(html, paper=paper, landscape=landscape)
