"""Alignment (Umeyama) and quality measures on hand-made and real faces."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest
from conftest import LOCAL

from regard.domain import AlignedFace, DetectedFace, UnindexedReason
from regard.vision.align import ARCFACE_TEMPLATE, align_face, align_faces, umeyama
from regard.vision.decode import decode_image
from regard.vision.quality import QualityThresholds, assess, estimate_pose


def test_umeyama_recovers_a_similarity_transform() -> None:
    angle, scale, shift = math.radians(25), 2.5, np.array([40.0, -12.0])
    rot = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    src = ARCFACE_TEMPLATE
    dst = src @ rot.T + shift
    matrix = umeyama(src, dst)
    assert np.allclose(matrix[:, :2], rot, atol=1e-9)
    assert np.allclose(matrix[:, 2], shift, atol=1e-9)


def test_umeyama_least_squares_with_noise() -> None:
    rng = np.random.default_rng(1)
    dst = ARCFACE_TEMPLATE * 3 + 7
    noisy = dst + rng.normal(0, 0.5, dst.shape)
    matrix = umeyama(ARCFACE_TEMPLATE, noisy)
    assert abs(matrix[0, 0] - 3) < 0.1 and abs(matrix[0, 1]) < 0.05


def test_align_maps_landmarks_onto_the_template() -> None:
    image = np.zeros((400, 400, 3), np.uint8)
    pts = ARCFACE_TEMPLATE * 2 + 100
    for x, y in pts:
        cv2.circle(image, (int(x), int(y)), 3, (255, 255, 255), -1)
    crop = align_face(image, pts.tolist())
    assert crop.shape == (112, 112, 3)
    for x, y in ARCFACE_TEMPLATE:
        assert crop[round(y), round(x)].max() > 100


def _face(landmarks: np.ndarray, size: float = 120, confidence: float = 0.95) -> DetectedFace:
    cx, cy = landmarks.mean(axis=0)
    box = (cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2)
    return DetectedFace(box=box, landmarks=tuple(map(tuple, landmarks)), confidence=confidence)  # type: ignore[arg-type]


def test_pose_of_a_rolled_face() -> None:
    angle = math.radians(30)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = (ARCFACE_TEMPLATE - 56) @ rot.T + 56
    pose = estimate_pose(tuple(map(tuple, pts)))  # type: ignore[arg-type]
    assert pose.roll == pytest.approx(30, abs=1)


def test_pose_yaw_follows_the_nose() -> None:
    pts = ARCFACE_TEMPLATE.copy()
    straight = estimate_pose(tuple(map(tuple, pts)))  # type: ignore[arg-type]
    pts[2, 0] += 18  # nose far to the side: head turned
    turned = estimate_pose(tuple(map(tuple, pts)))  # type: ignore[arg-type]
    assert abs(straight.yaw) < 5
    assert turned.yaw > 40


def test_quality_reasons(astronaut: np.ndarray, service) -> None:  # type: ignore[no-untyped-def]
    face = service.detect(astronaut, LOCAL).faces[0]
    limits = QualityThresholds()

    def aligned(image: np.ndarray, detected: DetectedFace = face) -> AlignedFace:
        return align_faces(decode_image(image), [detected])[0]

    good = assess(aligned(astronaut), limits)
    assert good.reasons == () and good.level.value in ("high", "medium")
    blurred = assess(aligned(cv2.GaussianBlur(astronaut, (0, 0), 5)), limits)
    assert UnindexedReason.LOW_SHARPNESS in blurred.reasons
    dark = assess(aligned((astronaut * 0.08).astype(np.uint8)), limits)
    assert UnindexedReason.LOW_BRIGHTNESS in dark.reasons
    weak = assess(aligned(astronaut, replace(face, confidence=0.5)), limits)
    assert UnindexedReason.LOW_CONFIDENCE in weak.reasons
    small = assess(aligned(astronaut), QualityThresholds(min_face_px=200))
    assert UnindexedReason.SMALL_BOUNDING_BOX in small.reasons
    assert all(r.value == r.name for r in UnindexedReason)
