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
from dataclasses import asdict
from pathlib import Path
from typing import Any

from _common import CACHE, SHARED_DATA, require, write_result

from regard.evaluation.throughput import Pipeline, measure, timed_run


def face_recognition_worker(paths: list[str], barrier: Any, queue: Any, options: dict[str, Any]) -> None:
    import face_recognition
    import numpy as np
    from PIL import Image

    pipeline = Pipeline(
        decode=lambda path: np.asarray(Image.open(path).convert("RGB")),
        detect=face_recognition.face_locations,
        embed=face_recognition.face_encodings,
    )
    queue.put(timed_run(paths, pipeline, barrier))


def sample(count: int) -> list[Path]:
    root = require(SHARED_DATA / "celeba_wild" / "images")
    people = sorted(d for d in root.iterdir() if d.is_dir())
    paths = [sorted(d.iterdir())[i] for i in range(10) for d in people]  # round-robin over identities
    return paths[:count]


def enlarged(paths: list[Path]) -> list[Path]:
    """The same photos as camera-sized JPEGs (longest side 1600 to 2280 px), cached under .cache/large.

    CelebA's files are small (about 400x600); real uploads are phone photos,
    where decoding and scaling for detection cost more.
    """
    from PIL import Image

    target_dir = CACHE / "large"
    target_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for i, path in enumerate(paths):
        target = target_dir / f"{path.parent.name}_{path.stem}.jpg"
        if not target.exists():
            image = Image.open(path).convert("RGB")
            side = 1600 + (i * 97) % 681
            factor = side / max(image.size)
            image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.BICUBIC).save(
                target, quality=90
            )
        out.append(target)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    small = sample(args.images)
    cache = str(CACHE / "models")
    results: dict[str, Any] = {}
    for name, paths in (("celeba_small", small), ("celeba_enlarged", enlarged(small[: args.images // 2]))):
        runs: dict[str, Any] = {"images": len(paths)}
        for processes in (1, 2):
            regard = measure(paths, processes, options={"settings": {"model_cache_dir": cache}})
            runs[f"regard_{processes}p"] = asdict(regard)
            print(name, "regard", processes, regard)
            if not args.skip_peer:
                peer = measure(paths, processes, worker=face_recognition_worker)
                runs[f"face_recognition_{processes}p"] = asdict(peer)
                runs[f"speedup_{processes}p"] = round(regard.images_per_s / peer.images_per_s, 2)
                print(name, "face_recognition", processes, peer)
        results[name] = runs
    datasets = {
        "celeba_small": f"CelebA in the wild, {len(small)} images (about 400x600), one per identity in turn",
        "celeba_enlarged": "half of them enlarged to camera size (longest side 1600-2280 px), JPEG q90",
    }
    write_result("throughput", {"datasets": datasets, **results})


if __name__ == "__main__":
    main()
