"""Where a window of items runs: Ray Data over an actor pool, or plain worker processes (the peer).

Both hand back outcomes as workers finish them, so the journal and the
progress display move while the job runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from regard.batch.journal import ItemOutcome
from regard.batch.manifest import BatchItem
from regard.batch.workers import EmbedWorker, EnrollWorker, make_worker
from regard.errors import ModelUnavailableError

# Ray's shared-memory object store: outcomes are small, so keep it small on a machine shared with others.
_OBJECT_STORE_BYTES = 256 * 2**20


class RayBatchActor:
    """A Ray Data actor: builds its worker (models, sessions, database connection) once, then takes batches."""

    def __init__(self, kind: str, kwargs: dict[str, Any]) -> None:
        self._worker = make_worker(kind, kwargs)

    def __call__(self, batch: Any) -> Any:
        import pandas as pd

        items = [
            BatchItem(str(i), str(s), str(p))
            for i, s, p in zip(batch["item_id"], batch["subject"], batch["path"], strict=True)
        ]
        outcomes = self._worker.run(items)
        return pd.DataFrame(
            {
                "item_id": [o.item_id for o in outcomes],
                "status": [o.status for o in outcomes],
                "reason": [o.reason for o in outcomes],
                "faces": [o.faces for o in outcomes],
                "vector": [o.vector for o in outcomes],
            }
        )


def on_ray(
    kind: str, kwargs: dict[str, Any], items: Sequence[BatchItem], workers: int, batch_size: int
) -> Iterator[list[ItemOutcome]]:
    """``map_batches`` over a pool of ``workers`` actors (one CPU each) on the local Ray, started if needed."""
    import logging

    try:
        import ray
    except ImportError as exc:
        raise ModelUnavailableError("engine 'ray' needs the 'ray' extra: pip install 'regard[ray]'") from exc

    if not ray.is_initialized():
        ray.init(
            num_cpus=workers,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            object_store_memory=_OBJECT_STORE_BYTES,
        )
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Ray's own context warns about its own fields
        context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the caller shows its own
    rows = [{"item_id": i.item_id, "subject": i.subject, "path": i.path} for i in items]
    outputs = ray.data.from_items(rows).map_batches(
        RayBatchActor,
        fn_constructor_args=(kind, kwargs),
        batch_size=batch_size,
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    frame: Any
    for frame in outputs.iter_batches(batch_size=None, batch_format="pandas"):
        yield [
            ItemOutcome(str(r.item_id), str(r.status), str(r.reason), int(r.faces), r.vector if r.vector else None)
            for r in frame.itertuples(index=False)
        ]


# One worker per process, made by the pool's initializer: the only way to keep models loaded across tasks.
_PROCESS_WORKER: list[EnrollWorker | EmbedWorker] = []


def _start_process_worker(kind: str, kwargs: dict[str, Any]) -> None:
    _PROCESS_WORKER.append(make_worker(kind, kwargs))


def _run_in_process(items: list[BatchItem]) -> list[ItemOutcome]:
    return _PROCESS_WORKER[0].run(items)


def on_processes(
    kind: str, kwargs: dict[str, Any], items: Sequence[BatchItem], workers: int, batch_size: int
) -> Iterator[list[ItemOutcome]]:
    """The same work on ``workers`` plain processes (spawned: no database connection crosses a fork)."""
    import multiprocessing

    chunks = [list(items[i : i + batch_size]) for i in range(0, len(items), batch_size)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_process_worker, initargs=(kind, kwargs)
    ) as pool:
        running: set[Future[list[ItemOutcome]]] = {pool.submit(_run_in_process, chunk) for chunk in chunks}
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()


def run_window(
    engine: str, kind: str, kwargs: dict[str, Any], items: Sequence[BatchItem], workers: int, batch_size: int
) -> Iterator[list[ItemOutcome]]:
    if engine == "ray":
        return on_ray(kind, kwargs, items, workers, batch_size)
    return on_processes(kind, kwargs, items, workers, batch_size)


def shutdown(engine: str) -> None:
    if engine == "ray":
        import ray

        if ray.is_initialized():
            ray.shutdown()
