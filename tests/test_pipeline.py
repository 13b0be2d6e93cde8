"""The engine's pipeline: one alignment per face shared by quality, embedder and thumbnail; compare's face choice."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import LOCAL

import regard.vision.align as align_module
from regard import Regard
from regard.vision.decode import decode_image
from regard.vision.quality import sharpness_and_brightness


@pytest.fixture
def align_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts warps to the shared crop (the real function still runs)."""
    calls: list[int] = []
    real = align_module.warp

    def counted(*args: object, **kwargs: object) -> np.ndarray:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(align_module, "warp", counted)
    return calls


def test_the_embedder_gets_the_crop_quality_saw(service: Regard, grid4: np.ndarray, align_calls: list[int]) -> None:
    engine = service._parts.engine
    image = decode_image(grid4)
    aligned = engine.analyse(image)
    assert len(aligned) == 4 and len(align_calls) == 4  # one warp per face
    embedded = engine.embed(image, aligned, "sface")
    assert len(align_calls) == 4  # the embedder warped nothing again
    sface = service._parts.registry.embedder("sface")
    for a, e in zip(aligned, embedded, strict=True):
        assert e.crop is a.crop
        assert a.face.quality is not None
        assert (a.face.quality.sharpness, a.face.quality.brightness) == sharpness_and_brightness(a.crop)
        direct = sface.embed_crops(a.crop.transpose(2, 0, 1)[None].astype(np.float32))[0]  # type: ignore[attr-defined]
        assert np.allclose(e.embedding, direct, atol=1e-6)
    thumb = cv2.imdecode(np.frombuffer(engine.thumbnail(embedded[0]), np.uint8), cv2.IMREAD_COLOR)
    assert thumb.shape == (service._parts.settings.thumbnail_px, service._parts.settings.thumbnail_px, 3)
    assert len(align_calls) == 4  # nor did the thumbnail


def test_search_assesses_only_the_probe_face(service: Regard, grid4: np.ndarray, align_calls: list[int]) -> None:
    service.create_collection("people", LOCAL)
    result = service.search("people", grid4, LOCAL)
    assert len(align_calls) == 1
    assert result.results[0].probe is not None and result.results[0].probe.quality is not None


def test_compare_finds_the_person_beside_someone_larger(
    service: Regard, astronaut: np.ndarray, cameraman: np.ndarray
) -> None:
    """The second image's largest face is someone else; CompareFaces' choice still finds her."""
    scene = np.full((700, 900, 3), 180, np.uint8)
    scene[:512, :512] = cameraman[:512, :512]
    scene[400:656, 600:856] = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    result = service.compare(astronaut, scene, LOCAL)
    assert len(result.faces_b) == 2 and len(result.pairs) == 2
    assert result.best.index_b == 1 and result.best.decision.match  # not the largest face of the scene
    assert not result.pairs[0].decision.match
    assert (
        service.compare(scene, astronaut, LOCAL).best.decision.match is False
    )  # the first image's largest face decides


def test_compare_all_faces_compares_every_pair(service: Regard, grid4: np.ndarray, astronaut: np.ndarray) -> None:
    assert len(service.compare(astronaut, grid4, LOCAL).pairs) == 4
    assert len(service.compare(grid4, astronaut, LOCAL).pairs) == 1
    assert len(service.compare(grid4, grid4, LOCAL, all_faces=True).pairs) == 16


def test_a_large_photo_is_read_from_its_preview(service: Regard, astronaut: np.ndarray) -> None:
    """Detection and the crops of large faces use the JPEG's 1/n-scale preview; the full decode is never needed."""
    from conftest import encode

    data = encode(cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC), "JPEG", quality=95)
    engine = service._parts.engine
    image = engine.decode(data)
    assert image.preview is not None and image.preview_factor == 2.0  # 1024 px: the smallest scale keeping 640
    faces = engine.find_faces(image)
    embedded = engine.embed(image, engine.align(image, faces), "fast")
    assert len(faces) == 1 and not image.decoded_in_full
    full = decode_image(image.pixels)  # the same photo without a preview
    reference = engine.embed(full, engine.align(full, engine.find_faces(full)), "fast")
    assert np.abs(np.subtract(faces[0].box, reference[0].face.box)).max() < 8  # full-image pixels, within a few
    assert float(embedded[0].embedding @ reference[0].embedding) > 0.97


def test_a_small_face_in_a_large_photo_is_cropped_from_the_full_image(service: Regard, astronaut: np.ndarray) -> None:
    from conftest import encode

    canvas = np.full((2400, 2400, 3), 128, np.uint8)
    canvas[800:1500, 800:1500] = cv2.resize(astronaut, (700, 700), interpolation=cv2.INTER_AREA)
    image = service._parts.engine.decode(encode(canvas, "JPEG", quality=95))
    faces = service._parts.engine.find_faces(image)
    assert len(faces) == 1 and not image.decoded_in_full
    service._parts.engine.align(image, faces)  # the face's crop would enlarge the preview: read the full image
    assert image.decoded_in_full
