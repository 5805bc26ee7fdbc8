"""Keeps the default dashboards warm: computes them after start-up and after every ingest.

A daemon thread checks the data version (see ``views/measures.py``) every ``interval_s``
seconds; when it changed (an ingest committed files, or survey answers were flushed) it
computes the unfiltered dashboard and the map numbers of every journey, so the first person to
open a page after an ingest does not wait for the analyses. Filtered views are computed on
demand and cached the same way.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from ..errors import KlantreisError

if TYPE_CHECKING:
    from .app import WebApp

__all__ = ["Warmer"]

log = logging.getLogger("klantreis.web")


class Warmer:
    def __init__(self, app: WebApp, *, interval_s: float = 10.0) -> None:
        self.app = app
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: Any = None
        self.rounds = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="klantreis-warmer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def warm_once(self) -> bool:
        """Compute the default views if the data changed; True when it did."""
        from .editing import file_version
        from .views.dashboard import dashboard_data, engine_measures
        from .views.measures import data_version

        version = data_version(self.app)
        if version == self._seen:
            return False
        ws = self.app.ws
        for jid in ws.journey_ids():
            try:
                journey = ws.journey(jid)
                dashboard_data(self.app, journey, file_version(ws.journey_path(jid)), {})
                engine_measures(self.app, journey)
            except KlantreisError as exc:  # an invalid journey or no data: nothing to warm
                log.info("not warming %s: %s", jid, exc.message)
        self._seen = version
        self.rounds += 1
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.warm_once()
            except Exception:  # keep serving; the page computes on demand instead
                log.exception("warming the dashboards failed")
            self._stop.wait(self.interval_s)
