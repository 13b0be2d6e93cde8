"""Batch jobs from start (or resumption) to report: plan, reconcile, run window by window, journal, report."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from regard.batch.engines import run_window, shutdown
from regard.batch.journal import Journal
from regard.batch.manifest import BatchItem, read_items
from regard.context import CallContext
from regard.errors import InvalidInputError

if TYPE_CHECKING:
    from regard.evaluation.imagesets import EmbeddedSet
    from regard.service import Regard

Engine = Literal["ray", "processes"]
Progress = Callable[[int, int], None]  # (items finished, items in the job)


@dataclass(frozen=True)
class JobReport:
    job: str
    journal: str
    engine: str
    total: int
    done: int  # items that gave a template
    faces: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (image, why)
    failed: list[tuple[str, str]] = field(default_factory=list)  # not the image's fault: retried by the next run
    already_done: int = 0  # finished by an earlier run of the job
    reconciled: int = 0  # in flight when the earlier run died, and found enrolled in the store
    processed: int = 0  # items this run sent to the workers
    seconds: float = 0.0
    startup_s: float = 0.0  # until the first outcome came back: engine and workers starting, models loading

    @property
    def images_per_s(self) -> float:
        return self.processed / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class JobOptions:
    engine: Engine = "ray"
    workers: int = 2
    batch_size: int = 8  # items per worker call
    window: int = 2048  # items out with the workers at once: after a crash at most this many are uncertain
    job: str | None = None  # journal name; default derived from what the job does, so rerunning it resumes


def _job_name(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _file_sha256(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _run(
    journal: Journal, kind: str, kwargs: dict[str, Any], options: JobOptions, progress: Progress | None
) -> tuple[int, float, float]:
    """Send the pending items out window by window; record each outcome as it comes back.

    Returns the items sent, the seconds taken and the seconds until the first outcome.
    """
    pending = journal.pending()
    total = sum(journal.counts().values())
    finished = total - len(pending)
    start = time.perf_counter()
    first = 0.0
    try:
        for offset in range(0, len(pending), options.window):
            window = pending[offset : offset + options.window]
            journal.mark([i.item_id for i in window], "running")
            for outcomes in run_window(options.engine, kind, kwargs, window, options.workers, options.batch_size):
                first = first or time.perf_counter() - start
                journal.record(outcomes)
                finished += len(outcomes)
                if progress is not None:
                    progress(finished, total)
    finally:
        shutdown(options.engine)
    return len(pending), time.perf_counter() - start, first


def _reconcile_enrolled(service: Regard, collection: str, ctx: CallContext, journal: Journal) -> int:
    """Items in flight when an earlier run died: done if the store holds a face from that image, else pending."""
    found: list[BatchItem] = []
    retry: list[BatchItem] = []
    for item in journal.running():
        sha = _file_sha256(item.path)
        faces = service.list_faces(collection, ctx, subject=item.subject, limit=1000).items
        (found if sha is not None and any(f.image_sha256 == sha for f in faces) else retry).append(item)
    if found:
        from regard.batch.journal import ItemOutcome

        journal.record([ItemOutcome(i.item_id, "done", "enrolled before the interruption", 1) for i in found])
    journal.mark([i.item_id for i in retry], "pending")
    return len(found)


def enroll_job(
    service: Regard,
    collection: str,
    source: Path,
    ctx: CallContext,
    options: JobOptions | None = None,
    *,
    max_faces_per_image: int = 1,
    progress: Progress | None = None,
) -> JobReport:
    """Enroll every (subject, image) of ``source`` into ``collection``; run again after a crash to resume.

    Each image is one ``Regard.enroll`` call made by a worker with ``ctx``:
    denied images (no consent, scale limit) are skipped with the rule that
    denied them, and every call is in the ledger.
    """
    options = options or JobOptions()
    service.describe_collection(collection, ctx)  # fail early on a missing collection or a missing role
    items = read_items(source)
    if not items:
        raise InvalidInputError(f"{source}: no images found")
    name = options.job or "enroll-" + _job_name(ctx.tenant, collection, str(source.resolve()))
    journal = Journal(service.settings.resolved_batch_journal_dir() / f"{name}.journal")
    try:
        journal.plan(items)
        before = journal.counts()
        reconciled = _reconcile_enrolled(service, collection, ctx, journal)
        kwargs = {
            "settings": service.settings.model_dump(),
            "collection": collection,
            "ctx": ctx,
            "max_faces": max_faces_per_image,
        }
        processed, seconds, startup = _run(journal, "enroll", kwargs, options, progress)
        counts = journal.counts()
        return JobReport(
            job=name,
            journal=str(journal.path),
            engine=options.engine,
            total=len(items),
            done=counts.get("done", 0),
            faces=journal.faces(),
            skipped=journal.skipped(),
            failed=journal.skipped("failed"),
            already_done=before.get("done", 0) + before.get("skipped", 0),
            reconciled=reconciled,
            processed=processed,
            seconds=seconds,
            startup_s=startup,
        )
    finally:
        journal.close()


def embed_job(
    paths: Sequence[Path],
    model_id: str,
    settings: dict[str, Any],
    options: JobOptions | None = None,
    *,
    pick: str = "largest",
    progress: Progress | None = None,
    user_models: list[dict[str, Any]] | None = None,
) -> EmbeddedSet:
    """One template per image (zero rows where no face was found), resumable like enrollment.

    The audit's embedding stage: nothing is stored but the journal, which holds
    the templates of finished images until the job is run again or deleted.
    """
    from regard.evaluation.imagesets import EmbeddedSet
    from regard.settings import Settings

    options = options or JobOptions()
    items = [BatchItem(_job_name(str(p)), "", str(p)) for p in paths]
    name = options.job or "embed-" + _job_name(model_id, pick, *(str(p) for p in paths))
    journal = Journal(Settings(**settings).resolved_batch_journal_dir() / f"{name}.journal")
    try:
        journal.plan(items)
        journal.mark([i.item_id for i in journal.running()], "pending")  # nothing stored: just redo them
        kwargs = {"settings": settings, "model_id": model_id, "pick": pick, "user_models": user_models}
        _run(journal, "embed", kwargs, options, progress)
        vectors = journal.vectors()
    finally:
        journal.close()
    dim = next((len(v) // 4 for v in vectors.values()), 128)
    out = np.zeros((len(items), dim), dtype=np.float32)
    found = np.zeros(len(items), dtype=bool)
    for row, item in enumerate(items):
        if item.item_id in vectors:
            out[row], found[row] = np.frombuffer(vectors[item.item_id], dtype="<f4"), True
    return EmbeddedSet(out, found)
