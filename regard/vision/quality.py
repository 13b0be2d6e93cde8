"""Per-face quality: sharpness, brightness, pose from landmarks, size, and a usability verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from regard.domain import AlignedFace, Pose, Quality, QualityLevel, UnindexedReason
from regard.vision.align import ALIGNED_PX

# Ratio (nose - eyes) / (mouth - eyes) of a frontal face as YuNet places the points
# (the ArcFace template gives 0.49; YuNet puts the nose tip lower, measured on CelebA).
_FRONTAL_NOSE_RATIO = 0.55
# Nose-tip depth in front of the eye/mouth plane as a fraction of the eye-to-mouth distance.
_NOSE_DEPTH = 0.55
# Laplacian variance at which sharpness reads 50 on the 0-100 scale (an in-focus 112 px crop reads 70-95).
_SHARPNESS_HALF = 150.0


@dataclass(frozen=True)
class QualityThresholds:
    """Limits below (or above, for pose) which a face is not used for enrollment."""

    min_confidence: float = 0.8
    min_face_px: int = 60
    min_sharpness: float = 8.0
    min_brightness: float = 15.0
    max_yaw_deg: float = 45.0
    max_pitch_deg: float = 40.0


def estimate_pose(landmarks: tuple[tuple[float, float], ...]) -> Pose:
    """Yaw, pitch and roll in degrees from eyes, nose and mouth corners (rough, about ±10-15°)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    left_eye, right_eye = pts[0], pts[1]
    roll = math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))
    # Undo roll so the remaining offsets measure yaw and pitch only.
    theta = math.radians(-roll)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    eye_mid = (left_eye + right_eye) / 2
    p = (pts - eye_mid) @ rot.T
    mouth_mid = (p[3] + p[4]) / 2
    eye_to_mouth = max(float(np.hypot(*mouth_mid)), 1e-6)
    midline_x = mouth_mid[0] * (p[2][1] / mouth_mid[1]) if abs(mouth_mid[1]) > 1e-6 else 0.0
    lateral = (p[2][0] - midline_x) / (_NOSE_DEPTH * eye_to_mouth)
    vertical = (_FRONTAL_NOSE_RATIO - p[2][1] / eye_to_mouth) / _NOSE_DEPTH
    yaw = math.degrees(math.asin(float(np.clip(lateral, -1, 1))))
    pitch = math.degrees(math.asin(float(np.clip(vertical, -1, 1))))
    return Pose(yaw=round(yaw, 1), pitch=round(pitch, 1), roll=round(roll, 1))


def sharpness_and_brightness(crop: np.ndarray) -> tuple[float, float]:
    """Both on 0-100 scales, measured on the aligned 112 px crop so face size does not bias them."""
    import cv2

    assert crop.shape[0] == ALIGNED_PX, "quality is defined on the shared 112 px crop"
    core = cv2.cvtColor(crop[24:104, 20:92], cv2.COLOR_RGB2GRAY)  # eyes to chin, little background
    variance = float(cv2.Laplacian(core, cv2.CV_64F).var())
    sharpness = 100.0 * variance / (variance + _SHARPNESS_HALF)
    brightness = float(core.mean()) / 255.0 * 100.0
    return round(sharpness, 1), round(brightness, 1)


def assess(aligned: AlignedFace, limits: QualityThresholds) -> Quality:
    """Measure a face on its aligned crop and decide whether it is good enough to enroll."""
    face = aligned.face
    sharpness, brightness = sharpness_and_brightness(aligned.crop)
    pose = estimate_pose(face.landmarks)
    face_px = face.size
    reasons: list[UnindexedReason] = []
    if face.confidence < limits.min_confidence:
        reasons.append(UnindexedReason.LOW_CONFIDENCE)
    if face_px < limits.min_face_px:
        reasons.append(UnindexedReason.SMALL_BOUNDING_BOX)
    if sharpness < limits.min_sharpness:
        reasons.append(UnindexedReason.LOW_SHARPNESS)
    if brightness < limits.min_brightness:
        reasons.append(UnindexedReason.LOW_BRIGHTNESS)
    if abs(pose.yaw) > limits.max_yaw_deg or abs(pose.pitch) > limits.max_pitch_deg:
        reasons.append(UnindexedReason.EXTREME_POSE)
    if reasons:
        level = QualityLevel.LOW
    elif (
        face_px >= 2 * limits.min_face_px
        and sharpness >= 3 * limits.min_sharpness
        and abs(pose.yaw) <= limits.max_yaw_deg / 2
        and abs(pose.pitch) <= limits.max_pitch_deg / 2
        and face.confidence >= 0.9
    ):
        level = QualityLevel.HIGH
    else:
        level = QualityLevel.MEDIUM
    return Quality(
        sharpness=sharpness,
        brightness=brightness,
        pose=pose,
        face_px=round(face_px, 1),
        level=level,
        reasons=tuple(reasons),
    )
