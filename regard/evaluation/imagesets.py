"""Labelled image sets (a folder tree ``identity/*.jpg``) and embedding them in parallel processes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from regard.domain import DetectedFace

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}

# Which face of an image with several is embedded: the largest, or the one nearest the image centre (the
# subject of a portrait or a dataset crop such as LFW's).  Audits record the choice in their report.
FacePick = Literal["largest", "center"]
FACE_PICKS: tuple[FacePick, ...] = ("largest", "center")
ProgressCallback = Callable[[int, int], None]  # (images done, images in all)


@dataclass(frozen=True)
class ImageSet:
    paths: list[Path]
    identities: list[str]


def scan_tree(root: Path) -> ImageSet:
    """Images under ``root/<identity>/``, sorted; files directly under ``root`` are ignored."""
    paths, identities = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                paths.append(path)
                identities.append(folder.name)
    return ImageSet(paths, identities)


@dataclass(frozen=True)
class EmbeddedSet:
    vectors: np.ndarray  # n x d, zero rows where no face was found
    found: np.ndarray  # bool per image
    sha256: list[str] = field(default_factory=list)  # per image, of its bytes; "" where it could not be read


_worker_state: dict[str, Any] = {}


def _init_worker(settings_kwargs: dict[str, Any], user_models: list[dict[str, Any]] | None = None) -> None:
    from regard.backends.registry import ModelRegistry
    from regard.backends.runtime import RuntimeOptions
    from regard.engine import FaceEngine
    from regard.models_io import spec_from_dict
    from regard.settings import Settings

    settings = Settings(**settings_kwargs)
    specs = [spec_from_dict(d) for d in user_models or []]
    runtime = RuntimeOptions(threads=settings.onnx_threads)
    registry = ModelRegistry(settings.resolved_model_cache_dir(), runtime, lambda: specs)
    _worker_state["engine"] = FaceEngine(settings, registry)


def pick_face(faces: Sequence[DetectedFace], shape: tuple[int, ...], pick: FacePick) -> DetectedFace:
    """The largest face (faces come largest first), or the one nearest the image centre (LFW's subject)."""
    if pick == "largest":
        return faces[0]
    height, width = shape[:2]

    def distance(f: DetectedFace) -> float:
        return ((f.box[0] + f.box[2]) / 2 - width / 2) ** 2 + ((f.box[1] + f.box[3]) / 2 - height / 2) ** 2

    return min(faces, key=distance)


def _embed_one(args: tuple[str, str, FacePick, bool]) -> tuple[str, np.ndarray | None]:
    """The image's sha256 and the embedding of its chosen face (None: unreadable, undecodable or no face)."""
    from regard.errors import RegardError

    path, model_id, pick, flip = args
    engine = _worker_state["engine"]
    try:
        data = Path(path).read_bytes()
    except OSError:
        return "", None
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = engine.decode(data)
        faces = engine.find_faces(image)
    except RegardError:
        return digest, None
    if not faces:
        return digest, None
    face = pick_face(faces, (image.info.height, image.info.width), pick)
    return digest, np.asarray(engine.embed(image, engine.align(image, [face]), model_id, flip)[0].embedding)


def embed_paths(
    paths: Sequence[Path],
    model_id: str,
    settings_kwargs: dict[str, Any],
    processes: int = 0,
    pick: FacePick = "largest",
    progress: ProgressCallback | None = None,
    user_models: list[dict[str, Any]] | None = None,
    flip: bool = False,
) -> EmbeddedSet:
    """Embed one face per image with ``processes`` single-threaded workers (0: one per core).

    ``pick`` chooses the face of an image with several; ``progress`` is called after each image;
    ``user_models`` (spec dicts) lets workers load models registered in a store they cannot see.
    """
    processes = processes or os.cpu_count() or 1
    kwargs = {"onnx_threads": 1, **settings_kwargs}
    jobs = [(str(p), model_id, pick, flip) for p in paths]
    results: list[tuple[str, np.ndarray | None]] = []

    def collect(outcomes: Iterable[tuple[str, np.ndarray | None]]) -> None:
        for outcome in outcomes:
            results.append(outcome)
            if progress is not None:
                progress(len(results), len(jobs))

    if processes == 1:
        _init_worker(kwargs, user_models)
        collect(_embed_one(j) for j in jobs)
    else:
        with ProcessPoolExecutor(processes, initializer=_init_worker, initargs=(kwargs, user_models)) as pool:
            collect(pool.map(_embed_one, jobs, chunksize=4))
    dim = next((r.shape[0] for _, r in results if r is not None), 128)
    vectors = np.zeros((len(paths), dim), dtype=np.float32)
    found = np.zeros(len(paths), dtype=bool)
    for i, (_, r) in enumerate(results):
        if r is not None:
            vectors[i], found[i] = r, True
    return EmbeddedSet(vectors, found, [digest for digest, _ in results])


def _embed_every(args: tuple[str, str, bool]) -> np.ndarray:
    from regard.errors import RegardError

    path, model_id, flip = args
    engine = _worker_state["engine"]
    try:
        image = engine.decode(path)
        faces = engine.align(image, engine.find_faces(image))
    except RegardError:
        return np.zeros((0, 0), np.float32)
    return np.stack([e.embedding for e in engine.embed(image, faces, model_id, flip)]) if faces else np.zeros((0, 0))


def embed_every_face(
    paths: Sequence[Path], model_id: str, settings_kwargs: dict[str, Any], processes: int = 0, flip: bool = False
) -> list[np.ndarray]:
    """Templates of every face of each image (faces x d, largest first; 0 rows when none), in parallel."""
    processes = processes or os.cpu_count() or 1
    jobs = [(str(p), model_id, flip) for p in paths]
    with ProcessPoolExecutor(
        processes, initializer=_init_worker, initargs=({"onnx_threads": 1, **settings_kwargs},)
    ) as pool:
        return list(pool.map(_embed_every, jobs, chunksize=8))
