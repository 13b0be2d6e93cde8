"""End-to-end throughput of the pipeline: images/s with 1..N worker processes, ms per stage."""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A worker: (paths, barrier, queue, options) -> puts a StageTimes on the queue.
Worker = Callable[[list[str], Any, Any, dict[str, Any]], None]


@dataclass(frozen=True)
class StageTimes:
    images: int
    faces: int
    seconds: float
    decode_s: float
    detect_s: float
    embed_s: float
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0  # the worker's own CPU time over the timed loop (less disturbed by a busy machine)


@dataclass(frozen=True)
class ThroughputReport:
    processes: int
    images: int
    faces: int
    wall_s: float
    images_per_s: float
    faces_per_s: float
    ms_decode_per_image: float
    ms_detect_per_image: float
    ms_embed_per_face: float
    peak_rss_mb: float  # the largest worker's peak resident memory
    images_per_cpu_s: float  # images per second of the workers' own CPU time


@dataclass(frozen=True)
class Pipeline:
    """The three stages a throughput run times; ``decode`` may raise one of ``skip`` to pass a file by."""

    decode: Callable[[str], Any]
    detect: Callable[[Any], Sequence[Any]]
    embed: Callable[[Any, Sequence[Any]], Any]
    skip: tuple[type[Exception], ...] = ()


def pin_to_cpu(options: dict[str, Any]) -> None:
    """Keep a worker on one core (``options["cpu"]``) with one OpenCV thread, when asked."""
    if "cpu" in options:
        import cv2

        os.sched_setaffinity(0, {int(options["cpu"])})
        cv2.setNumThreads(1)


def timed_run(paths: list[str], pipeline: Pipeline, barrier: Any) -> StageTimes:
    """Warm the models up on the first usable file, wait for the other workers, then time every stage."""
    for path in paths:
        try:
            warm = pipeline.decode(path)
        except pipeline.skip:
            continue
        pipeline.embed(warm, list(pipeline.detect(warm))[:1])
        break
    barrier.wait()
    t_dec = t_det = t_emb = 0.0
    faces = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for path in paths:
        t0 = time.perf_counter()
        try:
            image = pipeline.decode(path)
        except pipeline.skip:
            continue
        t1 = time.perf_counter()
        found = pipeline.detect(image)
        t2 = time.perf_counter()
        pipeline.embed(image, found)
        t3 = time.perf_counter()
        t_dec, t_det, t_emb, faces = t_dec + t1 - t0, t_det + t2 - t1, t_emb + t3 - t2, faces + len(found)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    return StageTimes(len(paths), faces, seconds, t_dec, t_det, t_emb, round(peak_mb, 1), cpu)


def regard_worker(paths: list[str], barrier: Any, queue: Any, options: dict[str, Any]) -> None:
    """Decode, detect, align (with quality) and embed every face with one onnxruntime thread."""
    pin_to_cpu(options)
    from regard.backends.registry import ModelRegistry
    from regard.backends.runtime import RuntimeOptions
    from regard.engine import FaceEngine
    from regard.errors import RegardError
    from regard.settings import Settings

    settings = Settings(onnx_threads=1, **options.get("settings", {}))
    registry = ModelRegistry(settings.resolved_model_cache_dir(), RuntimeOptions(threads=1))
    engine = FaceEngine(settings, registry)
    model = options.get("model", settings.embedder)
    pipeline = Pipeline(
        decode=engine.decode,
        detect=engine.find_faces,
        embed=lambda image, faces: engine.embed(image, engine.align(image, faces), model),
        skip=(RegardError,),
    )
    queue.put(timed_run(paths, pipeline, barrier))


def measure(
    paths: Sequence[Path], processes: int, worker: Worker = regard_worker, options: dict[str, Any] | None = None
) -> ThroughputReport:
    """Run ``worker`` in ``processes`` processes over disjoint shares of ``paths``, all starting together."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    queue = ctx.Queue()
    shares = [[str(p) for p in paths[i::processes]] for i in range(processes)]
    procs = [ctx.Process(target=worker, args=(share, barrier, queue, options or {})) for share in shares]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=3600) for _ in procs]
    for proc in procs:
        proc.join()
    images = sum(r.images for r in results)
    faces = sum(r.faces for r in results)
    wall = max(r.seconds for r in results)
    return ThroughputReport(
        processes=processes,
        images=images,
        faces=faces,
        wall_s=round(wall, 3),
        images_per_s=round(images / wall, 2),
        faces_per_s=round(faces / wall, 2),
        ms_decode_per_image=round(1000 * sum(r.decode_s for r in results) / max(images, 1), 2),
        ms_detect_per_image=round(1000 * sum(r.detect_s for r in results) / max(images, 1), 2),
        ms_embed_per_face=round(1000 * sum(r.embed_s for r in results) / max(faces, 1), 2),
        peak_rss_mb=max(r.peak_rss_mb for r in results),
        images_per_cpu_s=round(images / max(sum(r.cpu_s for r in results), 1e-9), 2),
    )
