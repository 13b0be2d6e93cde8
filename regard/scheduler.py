"""The retention job: purge expired templates of every tenant on a fixed interval, in a background thread.

The REST server starts one; ``regard purge --every HOURS`` runs one in the foreground.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from regard.context import CallContext
from regard.errors import InvalidInputError, RegardError

if TYPE_CHECKING:
    from regard.operations.erasure import PurgeReport
    from regard.service import Regard

log = logging.getLogger(__name__)


class PurgeScheduler:
    def __init__(self, service: Regard, interval_s: float, ctx: CallContext) -> None:
        """``ctx`` must carry the system role: the job purges every tenant."""
        if not interval_s > 0:
            raise InvalidInputError(f"the purge interval must be positive, got {interval_s:g} s")
        self._service = service
        self._interval_s = interval_s
        self._ctx = replace(ctx, actor="scheduler:retention", purpose="retention")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs: list[PurgeReport] = []

    def run_once(self) -> PurgeReport:
        report = self._service.purge(self._ctx, all_tenants=True)
        self.runs.append(report)
        return report

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except RegardError:  # a failed run is retried at the next tick, not fatal to the server
                log.exception("retention purge failed")
            self._stop.wait(self._interval_s)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="regard-purge", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
