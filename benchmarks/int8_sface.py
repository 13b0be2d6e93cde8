"""Would an int8 SFace do for the fast profile?  Static quantisation with onnxruntime, measured on LFW.

The prepared fp32 SFace graph is pre-processed (onnxruntime's quant_pre_process,
which folds BatchNorm into the convolutions) and quantised (QDQ, per-channel int8 weights,
uint8 activations with MinMax ranges from 300 LFW crops, seed 0), then every
LFW image is embedded with it (the face nearest the centre, the same crop as
fp32) and scored on View 2 like accuracy.py; the time per face of both graphs
is measured on one thread, interleaved.  Writes results/int8_sface.json.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import CACHE, SHARED_DATA, cached_embeddings, write_result
from accuracy import lfw_pairs
from embed_lfw import lfw_manifest

from regard.evaluation.metrics import equal_error_rate, kfold_accuracy, tar_at_fmr


def lfw_crops(engine: Any, paths: list[Path]) -> np.ndarray:
    """The shared 112 px crop of the face nearest the centre, as the N x 3 x 112 x 112 batch SFace takes."""
    from regard.evaluation.imagesets import pick_face

    crops = np.zeros((len(paths), 3, 112, 112), np.float32)
    for i, path in enumerate(paths):
        image = engine.decode(path)
        faces = engine.find_faces(image)
        if faces:
            aligned = engine.align(image, [pick_face(faces, image.pixels.shape, "center")])[0]
            crops[i] = aligned.crop.transpose(2, 0, 1)
    return crops


def quantise(fp32: Path, calibration: np.ndarray, target: Path) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = target.with_suffix(".pre.onnx")
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)  # folds BatchNorm into Conv first

    class Crops(CalibrationDataReader):
        def __init__(self) -> None:
            self.rows = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            row = next(self.rows, None)
            return None if row is None else {"data": row[None]}

    quantize_static(
        str(prepared),
        str(target),
        Crops(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def embed(sess: Any, crops: np.ndarray) -> np.ndarray:
    out = np.stack([sess.run(None, {"data": c[None]})[0][0] for c in crops])
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def lfw_scores(vectors: np.ndarray, rows: list[dict[str, str]]) -> dict[str, float]:
    a, b, same, fold = lfw_pairs({r["path"]: i for i, r in enumerate(rows)})
    scores = np.einsum("ij,ij->i", vectors[a], vectors[b]).astype(np.float64)
    kfold = kfold_accuracy(scores, same, fold)
    return {
        "accuracy_mean": round(kfold.accuracy_mean, 5),
        "accuracy_std": round(kfold.accuracy_std, 5),
        "tar_at_fmr_1e3": round(tar_at_fmr(scores[same], scores[~same], 1e-3)[0], 5),
        "eer": round(equal_error_rate(scores[same], scores[~same])[0], 5),
    }


def ms_per_face(sess: Any, crops: np.ndarray) -> float:
    start = time.process_time()
    embed(sess, crops)
    return 1000 * (time.process_time() - start) / len(crops)


def main() -> None:
    from regard.backends.registry import ModelRegistry
    from regard.backends.runtime import RuntimeOptions
    from regard.engine import FaceEngine
    from regard.settings import Settings

    cache = CACHE / "models"
    settings = Settings(onnx_threads=1, model_cache_dir=cache)
    registry = ModelRegistry(cache, RuntimeOptions(threads=1))
    registry.embedder("sface")
    fp32 = next(cache.glob("face_recognition_sface_*.1110.onnx"))
    rows = lfw_manifest()
    paths = [SHARED_DATA / "lfw" / r["path"] for r in rows]
    crops = lfw_crops(FaceEngine(settings, registry), paths)
    pick = np.random.default_rng(0).choice(len(paths), 300, replace=False)
    int8 = CACHE / "sface_int8_static.onnx"
    quantise(fp32, crops[pick], int8)
    fp32_vectors, _ = cached_embeddings("lfw", paths, "sface", pick="center")
    int8_vectors = embed(session(int8), crops)
    timing = {"fp32": [], "int8": []}
    for _ in range(5):  # interleaved, CPU time of this process, one thread
        for name, path in (("fp32", fp32), ("int8", int8)):
            timing[name].append(ms_per_face(session(path), crops[:200]))
    result = {
        "quantisation": "onnxruntime quantize_static, QDQ, per-channel int8 weights, uint8 activations, MinMax on"
        " 300 LFW crops (seed 0)",
        "fp32": {**lfw_scores(fp32_vectors, rows), "ms_per_face": round(float(np.median(timing["fp32"])), 2)},
        "int8": {**lfw_scores(int8_vectors, rows), "ms_per_face": round(float(np.median(timing["int8"])), 2)},
        "cosine_fp32_int8": {
            "mean": round(float(np.mean(np.sum(fp32_vectors * int8_vectors, axis=1))), 4),
            "min": round(float(np.min(np.sum(fp32_vectors * int8_vectors, axis=1))), 4),
        },
    }
    print(result)
    write_result("int8_sface", result)


if __name__ == "__main__":
    main()
