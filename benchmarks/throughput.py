"""End to end on one core against two peers, same images, same run, interleaved in rounds.

Every worker decodes each file, finds every face, aligns it and embeds it, alone
on one pinned core (one onnxruntime and one OpenCV thread):

* Regard: the engine as the service runs it (``fast`` profile: YuNet + SFace, with
  quality on the shared crop); optionally the ``accurate`` profile too.
* bare: the fewest steps doing the same work with the same two networks on
  onnxruntime: ``cv2.imread``, resize to <= 640 px, YuNet, NMS, a similarity
  transform and ``warpAffine`` per face, one SFace run per face (the fastest
  batch size on a CPU).
* face_recognition as its README uses it: ``load_image_file`` then
  ``face_locations`` (HOG, one upsample, full-size image) and ``face_encodings``.

Images: CelebA-in-the-wild photos enlarged to camera size (1600-2280 px,
JPEG q90) and the Solvay 1927 group photo (29 faces).  Rounds rotate the order
of the peers; the report gives medians over rounds and the spread.

The face_recognition peer needs ``pip install --no-deps face_recognition==1.3.0``
(its ``dlib`` requirement would compile dlib; ``dlib-bin`` from the dlib extra provides it).
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from _common import CACHE, SHARED_DATA, require, write_result

from regard.evaluation.throughput import Pipeline, ThroughputReport, measure, pin_to_cpu, timed_run


def face_recognition_worker(paths: list[str], barrier: Any, queue: Any, options: dict[str, Any]) -> None:
    pin_to_cpu(options)
    import face_recognition

    pipeline = Pipeline(
        decode=face_recognition.load_image_file,
        detect=face_recognition.face_locations,
        embed=face_recognition.face_encodings,
    )
    queue.put(timed_run(paths, pipeline, barrier))


def bare_worker(paths: list[str], barrier: Any, queue: Any, options: dict[str, Any]) -> None:
    """YuNet + SFace on onnxruntime with nothing else: no checks, no quality, no EXIF, no hashing."""
    pin_to_cpu(options)
    import cv2
    import onnxruntime as ort

    from regard.backends.yunet import decode_yunet
    from regard.vision.align import ARCFACE_TEMPLATE

    session_options = ort.SessionOptions()
    session_options.intra_op_num_threads = 1
    yunet = ort.InferenceSession(options["yunet"], session_options, providers=["CPUExecutionProvider"])
    sface = ort.InferenceSession(options["sface"], session_options, providers=["CPUExecutionProvider"])
    names = [f"{kind}_{s}" for s in (8, 16, 32) for kind in ("cls", "obj", "bbox", "kps")]

    def detect(image: np.ndarray) -> list[np.ndarray]:
        height, width = image.shape[:2]
        factor = min(1.0, 640 / max(height, width))
        small = cv2.resize(image, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)
        blob = np.zeros((1, 3, -(-small.shape[0] // 32) * 32, -(-small.shape[1] // 32) * 32), np.float32)
        blob[0, :, : small.shape[0], : small.shape[1]] = small.transpose(2, 0, 1)
        boxes, scores, points = decode_yunet(yunet.run(names, {"input": blob}), blob.shape[2], blob.shape[3], 0.6)
        xywh = [[x1, y1, x2 - x1, y2 - y1] for x1, y1, x2, y2 in boxes.tolist()]
        keep = cv2.dnn.NMSBoxes(xywh, scores.tolist(), 0.6, 0.3)
        return [points[i].reshape(5, 2) / factor for i in np.asarray(keep, dtype=int).reshape(-1)]

    def embed(image: np.ndarray, faces: list[np.ndarray]) -> np.ndarray:
        if not faces:
            return np.zeros((0, 128), np.float32)
        out = []
        for points in faces:  # one face per run: faster per face than batches on the CPU
            matrix = cv2.estimateAffinePartial2D(points, ARCFACE_TEMPLATE, method=cv2.LMEDS)[0]
            crop = cv2.warpAffine(image, matrix, (112, 112))[:, :, ::-1].transpose(2, 0, 1)  # BGR to RGB, CHW
            out.append(sface.run(None, {"data": np.asarray(crop, np.float32)[None]})[0][0])
        return np.asarray(out / np.linalg.norm(out, axis=1, keepdims=True))

    def decode(path: str) -> np.ndarray:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        return image if image is not None else np.zeros((32, 32, 3), np.uint8)

    queue.put(timed_run(paths, Pipeline(decode=decode, detect=detect, embed=embed), barrier))


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


def prepared_graphs(cache: Path) -> dict[str, str]:
    """The fp32 graphs Regard prepares from the shipped files (onnxruntime cannot run those as they are)."""
    from regard.backends.registry import ModelRegistry
    from regard.backends.runtime import RuntimeOptions

    registry = ModelRegistry(cache, RuntimeOptions(threads=1))
    registry.detector("yunet"), registry.embedder("sface")  # prepares both into the cache
    return {
        "yunet": str(next(cache.glob("face_detection_yunet_*.1111.onnx"))),
        "sface": str(next(cache.glob("face_recognition_sface_*.1110.onnx"))),
    }


def summarise(runs: list[ThroughputReport]) -> dict[str, Any]:
    rates = [r.images_per_s for r in runs]
    return {
        "images_per_s_median": round(statistics.median(rates), 2),
        "images_per_s_min": min(rates),
        "images_per_s_max": max(rates),
        "images_per_cpu_s_median": round(statistics.median(r.images_per_cpu_s for r in runs), 2),
        "ms_decode_per_image": round(statistics.median(r.ms_decode_per_image for r in runs), 2),
        "ms_detect_per_image": round(statistics.median(r.ms_detect_per_image for r in runs), 2),
        "ms_embed_per_face": round(statistics.median(r.ms_embed_per_face for r in runs), 2),
        "peak_rss_mb_max": max(r.peak_rss_mb for r in runs),
        "faces": runs[0].faces,
        "runs": [asdict(r) for r in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=65, help="CelebA photos to enlarge (plus the group photo)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=1, help="the core every worker is pinned to")
    parser.add_argument("--accurate", action="store_true", help="also time the accurate profile")
    parser.add_argument("--skip-peer", action="store_true", help="leave face_recognition out")
    args = parser.parse_args()
    paths = [*enlarged(sample(args.images)), require(SHARED_DATA / "fixtures" / "solvay_conference_1927.png")]
    cache = CACHE / "models"
    settings = {"model_cache_dir": str(cache)}
    peers: dict[str, tuple[Any, dict[str, Any]]] = {
        "regard": (None, {"settings": settings, "model": "fast"}),
        "bare": (bare_worker, prepared_graphs(cache)),
    }
    if args.accurate:
        peers["regard_accurate"] = (None, {"settings": settings, "model": "accurate"})
    if not args.skip_peer:
        peers["face_recognition"] = (face_recognition_worker, {})
    runs: dict[str, list[ThroughputReport]] = {name: [] for name in peers}
    names = list(peers)
    for round_no in range(args.rounds):
        for name in names[round_no % len(names) :] + names[: round_no % len(names)]:
            worker, options = peers[name]
            extra = {"worker": worker} if worker else {}
            report = measure(paths, 1, options={**options, "cpu": args.cpu}, **extra)
            runs[name].append(report)
            print(
                f"round {round_no + 1} {name}: {report.images_per_s} img/s ({report.images_per_cpu_s} per CPU s),"
                f" peak {report.peak_rss_mb} MB",
                flush=True,
            )
    results = {name: summarise(r) for name, r in runs.items()}
    ratios = {
        f"regard_over_{peer}{suffix}": round(
            statistics.median(
                getattr(a, key) / getattr(b, key) for a, b in zip(runs["regard"], runs[peer], strict=True)
            ),
            2,
        )
        for peer in ("bare", "face_recognition")
        if peer in runs
        for key, suffix in (("images_per_s", ""), ("images_per_cpu_s", "_cpu_time"))
    }
    write_result(
        "throughput",
        {
            "images": f"{args.images} CelebA photos enlarged to 1600-2280 px (JPEG q90) + the Solvay group photo",
            "count": len(paths),
            "rounds": args.rounds,
            "method": "one process pinned to one core per run, peers interleaved, medians over rounds",
            "ratios_median_over_rounds": ratios,
            **results,
        },
    )
    print(ratios)


if __name__ == "__main__":
    main()
