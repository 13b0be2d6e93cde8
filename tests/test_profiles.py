"""Profiles: registry entries made of member embedders, fused into one template, used like any model."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL

from regard import Regard
from regard.backends.fusion import fuse, impostor_weights
from regard.backends.registry import ModelRegistry
from regard.backends.runtime import RuntimeOptions
from regard.backends.specs import ACCURATE, DLIB_RESNET, FAST, SFACE, profile_spec
from regard.errors import InvalidInputError, ModelMismatchError, ModelUnavailableError
from regard.models_io import spec_from_dict, spec_to_dict
from regard.vision.decode import decode_image

needs_dlib = pytest.mark.skipif(importlib.util.find_spec("dlib") is None, reason="dlib is not installed")


def test_profiles_are_registry_entries(service: Regard) -> None:
    specs = {m.spec.id: m.spec for m in service.models()}
    for profile in (FAST, ACCURATE):
        spec = specs[profile.id]
        assert spec.is_profile and spec.kind == "embedder" and spec.version
        assert sum(m.weight for m in spec.members) == pytest.approx(1.0)
        assert spec.embedding_size == sum(specs[m.model_id].embedding_size for m in spec.members)
        assert len(spec.sha256) == 64 and spec.measured
        assert spec.thresholds["1e-03"] < spec.thresholds["1e-04"] < spec.thresholds["1e-05"]
    assert [m.model_id for m in ACCURATE.members] == ["sface", "dlib-resnet"] and ACCURATE.flip
    assert "Apache-2.0" in ACCURATE.licence and "Public domain" in ACCURATE.licence
    # The digest follows the composition: other weights, another profile.
    other = profile_spec("x", "1", ((SFACE, 0.5), (DLIB_RESNET, 0.5)), True, {}, {})
    assert other.sha256 != ACCURATE.sha256
    assert spec_from_dict(json.loads(json.dumps(spec_to_dict(ACCURATE)))) == ACCURATE


def test_fused_cosine_is_the_weighted_sum_of_member_cosines() -> None:
    rng = np.random.default_rng(3)
    a = [v / np.linalg.norm(v, axis=1, keepdims=True) for v in (rng.normal(size=(4, 128)), rng.normal(size=(4, 64)))]
    b = [v / np.linalg.norm(v, axis=1, keepdims=True) for v in (rng.normal(size=(4, 128)), rng.normal(size=(4, 64)))]
    weights = impostor_weights([0.089, 0.035])
    assert sum(weights) == pytest.approx(1.0) and weights[1] > weights[0]  # the tighter impostor spread weighs more
    fa, fb = fuse(a, weights), fuse(b, weights)
    assert np.allclose(np.linalg.norm(fa, axis=1), 1.0, atol=1e-6)
    expected = sum(w * np.sum(x * y, axis=1) for w, x, y in zip(weights, a, b, strict=True))
    assert np.allclose(np.sum(fa * fb, axis=1), expected, atol=1e-6)
    with pytest.raises(InvalidInputError):
        fuse(a, [0.5, 0.6])


@needs_dlib
def test_accurate_profile_on_real_faces(service: Regard, astronaut: np.ndarray, cameraman: np.ndarray) -> None:
    engine = service._parts.engine
    images = [decode_image(x) for x in (astronaut, np.ascontiguousarray(astronaut[:, ::-1]), cameraman)]
    faces = [engine.align(i, engine.find_faces(i)[:1]) for i in images]
    fused = np.stack([engine.embed(i, f, "accurate")[0].embedding for i, f in zip(images, faces, strict=True)])
    assert fused.shape == (3, 256) and np.allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-5)
    members = []
    for member in ACCURATE.members:
        embedder = service._parts.registry.embedder(member.model_id)
        members.append(np.concatenate([embedder.embed(i, f, flip=True) for i, f in zip(images, faces, strict=True)]))
    assert np.allclose(fused, fuse(members, [m.weight for m in ACCURATE.members]), atol=1e-6)
    same, other = float(fused[0] @ fused[1]), float(fused[0] @ fused[2])
    weighted = [m.weight * float(v[0] @ v[2]) for m, v in zip(ACCURATE.members, members, strict=True)]
    assert other == pytest.approx(sum(weighted), abs=1e-5)
    threshold = ACCURATE.thresholds["1e-04"]
    assert same > threshold > other


@needs_dlib
def test_enroll_search_compare_with_a_profile(service: Regard, astronaut: np.ndarray, cameraman: np.ndarray) -> None:
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    info = service.create_collection("crew", LOCAL, model="accurate")
    assert info.model_id == "accurate"
    service.enroll("crew", "eileen", [astronaut], LOCAL)
    service.enroll("crew", "camera", [cameraman], LOCAL)
    matches = service.search("crew", mirrored, LOCAL, top_k=2).results[0].matches
    assert [m.subject for m in matches] == ["eileen"]
    assert matches[0].score > 95
    decision = service.compare(astronaut, mirrored, LOCAL, model="accurate").best.decision
    assert decision.match and decision.threshold == ACCURATE.thresholds["1e-03"]  # the default operating point
    assert not service.compare(astronaut, cameraman, LOCAL, model="accurate").best.decision.match


def test_templates_of_different_profiles_are_never_compared(service: Regard, astronaut: np.ndarray) -> None:
    service.create_collection("fast-crew", LOCAL, model="fast")
    service.create_collection("sface-crew", LOCAL, model="sface")
    service.enroll("fast-crew", "eileen", [astronaut], LOCAL)
    service.enroll("sface-crew", "eileen", [astronaut], LOCAL)
    fast_face = service.list_faces("fast-crew", LOCAL).items[0].face_id
    sface_face = service.list_faces("sface-crew", LOCAL).items[0].face_id
    with pytest.raises(ModelMismatchError):
        service.compare_faces(fast_face, sface_face, LOCAL)
    with pytest.raises(ModelMismatchError):
        service.search_by_face("sface-crew", fast_face, LOCAL)


def test_a_profile_says_which_member_is_missing(tmp_path: Path) -> None:
    absent = replace(DLIB_RESNET, id="dlib-absent", source_package="no-such-distribution", builtin=False)
    profile = replace(
        profile_spec("needs-absent", "1", ((SFACE, 0.5), (absent, 0.5)), False, {"1e-04": 0.5}, {}), builtin=False
    )
    registry = ModelRegistry(tmp_path, RuntimeOptions(threads=1), lambda: [absent, profile])
    assert not registry.available("needs-absent") and registry.available("fast")
    with pytest.raises(ModelUnavailableError, match=r"needs 'dlib-absent': package 'no_such_distribution' is not"):
        registry.embedder("needs-absent")


def test_the_default_is_the_accurate_profile_at_fmr_1e_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from regard.settings import Settings

    monkeypatch.delenv("REGARD_EMBEDDER")  # the suite runs on the fast profile
    settings = Settings(data_dir=tmp_path)
    assert (settings.embedder, settings.default_fmr) == ("accurate", 1e-3)
