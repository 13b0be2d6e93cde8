"""End-to-end throughput against face_recognition (dlib HOG + ResNet) on the same images, same run.

Regard: decode, YuNet detection (image scaled to <= 640 px), quality, SFace embedding
of every face, one onnxruntime thread per process.  face_recognition: its README's
calls, ``face_locations`` (HOG, one upsample, full image) then ``face_encodings``.
Both run on 1 and 2 processes over CelebA-in-the-wild images.

The peer needs ``pip install --no-deps face_recognition==1.3.0`` (its own
``dlib`` requirement would compile dlib; ``dlib-bin`` from the dlib extra provides it).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from _common import SHARED_DATA, require, write_result

from regard.evaluation.throughput import StageTimes, measure


def face_recognition_worker(paths: list[str], barrier: Any, queue: Any, options: dict[str, Any]) -> None:
    import face_recognition
    import numpy as np
    from PIL import Image

    def load(path: str) -> np.ndarray:
        return np.asarray(Image.open(path).convert("RGB"))

    face_recognition.face_encodings(load(paths[0]))  # load the models before the clock starts
    barrier.wait()
    t_dec = t_det = t_emb = 0.0
    faces = 0
    start = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        image = load(path)
        t1 = time.perf_counter()
        boxes = face_recognition.face_locations(image)
        t2 = time.perf_counter()
        face_recognition.face_encodings(image, boxes)
        t3 = time.perf_counter()
        t_dec, t_det, t_emb, faces = t_dec + t1 - t0, t_det + t2 - t1, t_emb + t3 - t2, faces + len(boxes)
    queue.put(StageTimes(len(paths), faces, time.perf_counter() - start, t_dec, t_det, t_emb))


def sample(count: int) -> list[Path]:
    root = require(SHARED_DATA / "celeba_wild" / "images")
    people = sorted(d for d in root.iterdir() if d.is_dir())
    paths = [sorted(d.iterdir())[i] for i in range(10) for d in people]  # round-robin over identities
    return paths[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    paths = sample(args.images)
    cache = str(Path(__file__).parent / ".cache" / "models")
    results: dict[str, Any] = {"images": [str(p.relative_to(SHARED_DATA)) for p in paths[:3]] + ["..."]}
    for processes in (1, 2):
        regard = measure(paths, processes, options={"settings": {"model_cache_dir": cache}})
        results[f"regard_{processes}p"] = asdict(regard)
        print("regard", processes, regard)
        if not args.skip_peer:
            peer = measure(paths, processes, worker=face_recognition_worker)
            results[f"face_recognition_{processes}p"] = asdict(peer)
            results[f"speedup_{processes}p"] = round(regard.images_per_s / peer.images_per_s, 2)
            print("face_recognition", processes, peer)
    write_result(
        "throughput", {"dataset": f"CelebA in the wild, {len(paths)} images (one per identity in turn)", **results}
    )


if __name__ == "__main__":
    main()
