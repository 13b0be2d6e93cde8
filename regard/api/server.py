"""``regard serve``: the API on uvicorn, with one or several worker processes over one database."""

from __future__ import annotations

import os
import shutil
import tempfile

from regard.settings import load_settings


def run(host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    """Migrate the database once, then start ``workers`` processes (settings from the environment).

    Workers each open the database (SQLite in WAL mode lets them read while one
    writes) and build the app with ``create_app``; they learn their number from
    ``REGARD_SERVE_WORKERS`` (each holds its share of the rate limits) and
    write their metrics to one ``PROMETHEUS_MULTIPROC_DIR``.
    """
    import uvicorn

    from regard.service import Regard

    settings = load_settings()
    host = host or settings.serve_host
    port = port or settings.serve_port
    workers = workers or settings.serve_workers
    os.environ["REGARD_SERVE_WORKERS"] = str(workers)
    Regard(settings).close()  # migrations run here, once, not in several workers at the same time
    metrics_dir = None
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        metrics_dir = tempfile.mkdtemp(prefix="regard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "regard.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            timeout_graceful_shutdown=10,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
