"""The service end to end with real models on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL, declare_default_purpose, encode, trusted

from regard import Regard
from regard.domain import UnindexedReason
from regard.errors import (
    AlreadyExistsError,
    InvalidImageError,
    InvalidInputError,
    ModelMismatchError,
    NoFaceError,
    NotFoundError,
)


def mirrored(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def test_compare_same_and_different(service: Regard, astronaut: np.ndarray, cameraman: np.ndarray) -> None:
    same = service.compare(encode(astronaut), mirrored(astronaut), LOCAL).best.decision
    assert same.match and same.similarity > 0.8 and same.score > 99
    other = service.compare(astronaut, cameraman, LOCAL).best.decision
    assert not other.match and other.score < 90
    assert same.threshold == service.model("fast").spec.thresholds["1e-03"]  # the default operating point
    strict = service.compare(astronaut, mirrored(astronaut), LOCAL, fmr=1e-5).best.decision
    assert strict.fmr == 1e-5 and strict.threshold > same.threshold


def test_compare_all_faces(service: Regard, grid4: np.ndarray, astronaut: np.ndarray) -> None:
    result = service.compare(grid4, astronaut, LOCAL, all_faces=True)
    assert len(result.pairs) == 4 * 1
    assert all(p.decision.match for p in result.pairs)


def test_compare_needs_faces(service: Regard, astronaut: np.ndarray, cat: np.ndarray) -> None:
    with pytest.raises(NoFaceError, match="second"):
        service.compare(astronaut, cat, LOCAL)


def test_collections_lifecycle(service: Regard) -> None:
    service.create_collection("staff", LOCAL, description="door access")
    with pytest.raises(AlreadyExistsError):
        service.create_collection("staff", LOCAL)
    with pytest.raises(InvalidInputError):
        service.create_collection("bad name!", LOCAL)
    with pytest.raises(InvalidInputError, match="detector"):
        service.create_collection("x", LOCAL, model="yunet")
    for i in range(5):
        service.create_collection(f"c{i}", LOCAL)
    page = service.list_collections(LOCAL, offset=0, limit=4)
    assert page.total == 6 and len(page.items) == 4 and page.next_offset == 4
    assert service.list_collections(LOCAL, offset=4, limit=4).next_offset is None
    info = service.describe_collection("staff", LOCAL)
    assert (info.model_id, info.description, info.face_count) == ("fast", "door access", 0)
    assert service.delete_collection("staff", LOCAL) == 0
    with pytest.raises(NotFoundError):
        service.describe_collection("staff", LOCAL)


def test_tenants_do_not_see_each_other(service: Regard, astronaut: np.ndarray) -> None:
    acme, globex = trusted(tenant="acme"), trusted(tenant="globex")
    declare_default_purpose(service, "acme")
    declare_default_purpose(service, "globex")
    service.create_collection("people", acme)
    service.create_collection("people", globex)  # same name, other tenant
    service.enroll("people", "eileen", [astronaut], acme)
    assert service.describe_collection("people", globex).face_count == 0
    assert service.search("people", astronaut, globex).results[0].matches == []
    face_id = service.list_faces("people", acme).items[0].face_id
    with pytest.raises(NotFoundError):
        service.search_by_face("people", face_id, globex)
    with pytest.raises(NotFoundError):
        service.describe_collection("people", trusted(tenant="initech"))


def test_enroll_search_delete(service: Regard, astronaut: np.ndarray, grid4: np.ndarray, cameraman: np.ndarray) -> None:
    service.create_collection("people", LOCAL)
    result = service.enroll("people", "eileen", [encode(astronaut), grid4], LOCAL, display_name="Eileen Collins")
    # grid4: largest face enrolled, the other three are over the per-image limit
    assert len(result.indexed) == 2
    assert [u.reasons[0] for u in result.unindexed] == [UnindexedReason.EXCEEDS_MAX_FACES] * 3
    more = service.enroll("people", "eileen", [grid4], LOCAL, max_faces_per_image=4)
    small = [u for u in more.unindexed if UnindexedReason.SMALL_BOUNDING_BOX in u.reasons]
    assert len(more.indexed) + len(more.unindexed) == 4 and small
    hits = service.search("people", mirrored(astronaut), LOCAL).results[0].matches
    assert [m.subject for m in hits] == ["eileen"] and hits[0].display_name == "Eileen Collins"
    assert hits[0].score > 95
    assert service.search("people", cameraman, LOCAL).results[0].matches == []
    multi = service.search("people", grid4, LOCAL, all_faces=True)
    assert len(multi.results) == 4 and all(r.matches for r in multi.results)
    faces = service.list_faces("people", LOCAL, subject="eileen")
    assert faces.total == len(result.indexed) + len(more.indexed)
    by_face = service.search_by_face("people", faces.items[0].face_id, LOCAL)
    assert by_face.results[0].matches[0].subject == "eileen"
    assert all(m.face_id != faces.items[0].face_id for m in by_face.results[0].matches)
    assert service.delete_faces("people", [faces.items[0].face_id], LOCAL) == 1
    with pytest.raises(NotFoundError):
        service.delete_faces("people", [faces.items[0].face_id], LOCAL)
    assert service.delete_subject("people", "eileen", LOCAL) == faces.total - 1
    assert service.search("people", astronaut, LOCAL).results[0].matches == []
    assert service.describe_collection("people", LOCAL).face_count == 0


def test_min_score_and_top_k(service: Regard, astronaut: np.ndarray) -> None:
    service.create_collection("people", LOCAL)
    for name in ("a", "b", "c"):
        service.enroll("people", name, [astronaut], LOCAL)
    result = service.search("people", astronaut, LOCAL, top_k=2, min_score=99)
    assert len(result.results[0].matches) == 2
    assert result.threshold == pytest.approx(service.model("fast").spec.thresholds["1e-05"], abs=1e-6)
    with pytest.raises(InvalidInputError):
        service.search("people", astronaut, LOCAL, top_k=0)


def test_bad_input_stores_nothing(service: Regard, astronaut: np.ndarray, cat: np.ndarray) -> None:
    service.create_collection("people", LOCAL)
    good = encode(astronaut)
    with pytest.raises(InvalidImageError, match="image #2"):
        service.enroll("people", "eileen", [good, good[: len(good) // 2]], LOCAL)
    with pytest.raises(InvalidImageError):
        service.enroll("people", "eileen", [b"not an image"], LOCAL)
    assert service.describe_collection("people", LOCAL).face_count == 0
    assert service.list_subjects("people", LOCAL).total == 0
    empty = service.enroll("people", "kitty", [cat], LOCAL)
    assert empty.indexed == [] and empty.images_without_faces == ["image #1"]
    assert service.list_subjects("people", LOCAL).total == 0
    with pytest.raises(NoFaceError):
        service.search("people", cat, LOCAL)
    with pytest.raises(NotFoundError):
        service.enroll("nope", "x", [good], LOCAL)


def test_thumbnails_only_when_asked(tmp_path: Path, model_cache: Path, astronaut: np.ndarray) -> None:
    for keep in (False, True):
        with Regard(data_dir=tmp_path / str(keep), model_cache_dir=model_cache, store_thumbnails=keep) as svc:
            declare_default_purpose(svc)
            svc.create_collection("p", LOCAL)
            record = svc.enroll("p", "e", [astronaut], LOCAL).indexed[0]
            listed = svc.list_faces("p", LOCAL).items[0]
            assert (record.thumbnail_jpeg is not None) == keep == (listed.thumbnail_jpeg is not None)
            if keep:
                assert listed.thumbnail_jpeg is not None and listed.thumbnail_jpeg[:2] == b"\xff\xd8"


def test_models_cannot_be_mixed(service: Regard, astronaut: np.ndarray, tmp_path: Path) -> None:
    sface_file = service._parts.registry.weight_path(service.model("sface").spec).read_bytes()
    thresholds = dict(service.model("sface").spec.thresholds)
    spec = service.register_model("my-arcface", sface_file, thresholds, LOCAL, licence="test")
    assert spec.embedding_size == 128 and not spec.builtin
    with pytest.raises(AlreadyExistsError):
        service.register_model("my-arcface", sface_file, thresholds, LOCAL)
    with pytest.raises(InvalidInputError):
        service.register_model("sface", sface_file, thresholds, LOCAL)
    service.create_collection("a", LOCAL)
    service.create_collection("b", LOCAL, model="my-arcface")
    face_a = service.enroll("a", "e", [astronaut], LOCAL).indexed[0].face_id
    face_b = service.enroll("b", "e", [astronaut], LOCAL).indexed[0].face_id
    assert service.search("b", astronaut, LOCAL).results[0].matches[0].subject == "e"
    with pytest.raises(ModelMismatchError):
        service.search_by_face("b", face_a, LOCAL)
    with pytest.raises(ModelMismatchError):
        service.compare_faces(face_a, face_b, LOCAL)
    assert service.compare_faces(face_a, face_a, LOCAL).match


def test_registered_model_survives_reopen(tmp_path: Path, model_cache: Path) -> None:
    with Regard(data_dir=tmp_path, model_cache_dir=model_cache) as svc:
        path = svc._parts.registry.weight_path(svc.model("sface").spec).read_bytes()
        svc.register_model("mine", path, {"1e-04": 0.42}, LOCAL)
    with Regard(data_dir=tmp_path, model_cache_dir=model_cache) as svc:
        assert svc.model("mine").spec.thresholds == {"1e-04": 0.42}
    with pytest.raises(InvalidInputError, match="threshold"):
        Regard(data_dir=tmp_path, model_cache_dir=model_cache).register_model("x", path, {}, LOCAL)


def test_two_processes_share_the_store(tmp_path: Path, model_cache: Path, astronaut: np.ndarray) -> None:
    """An index cached in one service notices writes made through another."""
    with (
        Regard(data_dir=tmp_path, model_cache_dir=model_cache) as writer,
        Regard(data_dir=tmp_path, model_cache_dir=model_cache) as reader,
    ):
        declare_default_purpose(writer)
        writer.create_collection("p", LOCAL)
        assert reader.search("p", astronaut, LOCAL).results[0].matches == []
        writer.enroll("p", "eileen", [astronaut], LOCAL)
        assert reader.search("p", astronaut, LOCAL).results[0].matches[0].subject == "eileen"
        writer.delete_subject("p", "eileen", LOCAL)
        assert reader.search("p", astronaut, LOCAL).results[0].matches == []
