"""The retention job in a server of several workers: exactly one worker runs it at a time.

Each worker tries to take an exclusive lock (``flock``) on ``data_dir/retention.lock``;
the one that holds it runs the ``PurgeScheduler``.  The operating system
drops the lock when its holder dies, and the other workers keep trying once a
minute, so the job survives a worker's crash.  The lock is per host: workers on
several hosts sharing one PostgreSQL database would each run the job (purging
is idempotent, so that wastes work but harms nothing).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from regard.context import CallContext
from regard.scheduler import PurgeScheduler

if TYPE_CHECKING:
    from regard.service import Regard

log = logging.getLogger(__name__)
RETRY_S = 60.0


class RetentionJob:
    def __init__(self, service: Regard, interval_s: float, lock_file: Path) -> None:
        self._service = service
        self._interval_s = interval_s
        self._lock_file = lock_file
        self._fd: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.scheduler: PurgeScheduler | None = None

    @property
    def holder(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this worker now runs the job."""
        if self._fd is not None:
            return True
        self._lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        # The server process holds the data directory, so it is the local operator; the job acts for every tenant.
        ctx = CallContext.local(origin=f"api:retention:{os.getpid()}")
        self.scheduler = PurgeScheduler(self._service, self._interval_s, ctx)
        self.scheduler.start()
        log.info("worker %d runs the retention job every %.0f s", os.getpid(), self._interval_s)
        return True

    def _loop(self) -> None:
        while not self._stop.is_set() and not self.try_acquire():
            self._stop.wait(RETRY_S)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="regard-retention-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
