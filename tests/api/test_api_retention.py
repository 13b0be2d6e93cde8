"""The retention job runs in one worker: whoever holds the lock file; another takes over when it goes."""

from __future__ import annotations

from pathlib import Path

from harness import make_service

from regard.api.retention import RetentionJob


def test_one_worker_holds_the_retention_job(tmp_path: Path, model_cache: Path) -> None:
    lock = tmp_path / "data" / "retention.lock"
    with make_service(tmp_path / "data", model_cache) as first, make_service(tmp_path / "data", model_cache) as second:
        a, b = RetentionJob(first, 3600, lock), RetentionJob(second, 3600, lock)
        assert a.try_acquire() and a.holder and a.scheduler is not None
        assert not b.try_acquire() and b.scheduler is None
        a.stop()  # the holder goes (a dead process drops its lock the same way)
        assert b.try_acquire() and b.holder
        b.stop()
        assert a.scheduler is not None and a.scheduler.runs  # it purged every tenant once when it started
