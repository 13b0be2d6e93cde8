"""The service end to end with real models on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import declare_default_purpose, encode

from regard import CallContext, Regard
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
    same = service.compare(encode(astronaut), mirrored(astronaut)).best.decision
    assert same.match and same.similarity > 0.8 and same.score > 99
    other = service.compare(astronaut, cameraman).best.decision
    assert not other.match and other.score < 90
    assert same.threshold == service.registry.spec("fast").thresholds["1e-03"]  # default operating point
    strict = service.compare(astronaut, mirrored(astronaut), fmr=1e-5).best.decision
    assert strict.fmr == 1e-5 and strict.threshold > same.threshold


def test_compare_all_faces(service: Regard, grid4: np.ndarray, astronaut: np.ndarray) -> None:
    result = service.compare(grid4, astronaut, all_faces=True)
    assert len(result.pairs) == 4 * 1
    assert all(p.decision.match for p in result.pairs)


def test_compare_needs_faces(service: Regard, astronaut: np.ndarray, cat: np.ndarray) -> None:
    with pytest.raises(NoFaceError, match="second"):
        service.compare(astronaut, cat)


def test_collections_lifecycle(service: Regard) -> None:
    service.create_collection("staff", description="door access")
    with pytest.raises(AlreadyExistsError):
        service.create_collection("staff")
    with pytest.raises(InvalidInputError):
        service.create_collection("bad name!")
    with pytest.raises(InvalidInputError, match="detector"):
        service.create_collection("x", model="yunet")
    for i in range(5):
        service.create_collection(f"c{i}")
    page = service.list_collections(offset=0, limit=4)
    assert page.total == 6 and len(page.items) == 4 and page.next_offset == 4
    assert service.list_collections(offset=4, limit=4).next_offset is None
    info = service.describe_collection("staff")
    assert (info.model_id, info.description, info.face_count) == ("fast", "door access", 0)
    assert service.delete_collection("staff") == 0
    with pytest.raises(NotFoundError):
        service.describe_collection("staff")


def test_tenants_do_not_see_each_other(service: Regard, astronaut: np.ndarray) -> None:
    acme, globex = CallContext(tenant="acme"), CallContext(tenant="globex")
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
        service.describe_collection("people", CallContext(tenant="initech"))


def test_enroll_search_delete(service: Regard, astronaut: np.ndarray, grid4: np.ndarray, cameraman: np.ndarray) -> None:
    service.create_collection("people")
    result = service.enroll("people", "eileen", [encode(astronaut), grid4], display_name="Eileen Collins")
    # grid4: largest face enrolled, the other three are over the per-image limit
    assert len(result.indexed) == 2
    assert [u.reasons[0] for u in result.unindexed] == [UnindexedReason.EXCEEDS_MAX_FACES] * 3
    more = service.enroll("people", "eileen", [grid4], max_faces_per_image=4)
    small = [u for u in more.unindexed if UnindexedReason.SMALL_BOUNDING_BOX in u.reasons]
    assert len(more.indexed) + len(more.unindexed) == 4 and small
    hits = service.search("people", mirrored(astronaut)).results[0].matches
    assert [m.subject for m in hits] == ["eileen"] and hits[0].display_name == "Eileen Collins"
    assert hits[0].score > 95
    assert service.search("people", cameraman).results[0].matches == []
    multi = service.search("people", grid4, all_faces=True)
    assert len(multi.results) == 4 and all(r.matches for r in multi.results)
    faces = service.list_faces("people", subject="eileen")
    assert faces.total == len(result.indexed) + len(more.indexed)
    by_face = service.search_by_face("people", faces.items[0].face_id)
    assert by_face.results[0].matches[0].subject == "eileen"
    assert all(m.face_id != faces.items[0].face_id for m in by_face.results[0].matches)
    assert service.delete_faces("people", [faces.items[0].face_id]) == 1
    with pytest.raises(NotFoundError):
        service.delete_faces("people", [faces.items[0].face_id])
    assert service.delete_subject("people", "eileen") == faces.total - 1
    assert service.search("people", astronaut).results[0].matches == []
    assert service.describe_collection("people").face_count == 0


def test_min_score_and_top_k(service: Regard, astronaut: np.ndarray) -> None:
    service.create_collection("people")
    for name in ("a", "b", "c"):
        service.enroll("people", name, [astronaut])
    result = service.search("people", astronaut, top_k=2, min_score=99)
    assert len(result.results[0].matches) == 2
    assert result.threshold == pytest.approx(service.registry.spec("fast").thresholds["1e-05"], abs=1e-6)
    with pytest.raises(InvalidInputError):
        service.search("people", astronaut, top_k=0)


def test_bad_input_stores_nothing(service: Regard, astronaut: np.ndarray, cat: np.ndarray) -> None:
    service.create_collection("people")
    good = encode(astronaut)
    with pytest.raises(InvalidImageError, match="image #2"):
        service.enroll("people", "eileen", [good, good[: len(good) // 2]])
    with pytest.raises(InvalidImageError):
        service.enroll("people", "eileen", [b"not an image"])
    assert service.describe_collection("people").face_count == 0
    assert service.list_subjects("people").total == 0
    empty = service.enroll("people", "kitty", [cat])
    assert empty.indexed == [] and empty.images_without_faces == ["image #1"]
    assert service.list_subjects("people").total == 0
    with pytest.raises(NoFaceError):
        service.search("people", cat)
    with pytest.raises(NotFoundError):
        service.enroll("nope", "x", [good])


def test_thumbnails_only_when_asked(tmp_path: Path, model_cache: Path, astronaut: np.ndarray) -> None:
    for keep in (False, True):
        with Regard(data_dir=tmp_path / str(keep), model_cache_dir=model_cache, store_thumbnails=keep) as svc:
            declare_default_purpose(svc)
            svc.create_collection("p")
            record = svc.enroll("p", "e", [astronaut]).indexed[0]
            listed = svc.list_faces("p").items[0]
            assert (record.thumbnail_jpeg is not None) == keep == (listed.thumbnail_jpeg is not None)
            if keep:
                assert listed.thumbnail_jpeg is not None and listed.thumbnail_jpeg[:2] == b"\xff\xd8"


def test_models_cannot_be_mixed(service: Regard, astronaut: np.ndarray, tmp_path: Path) -> None:
    sface_file = service.registry.weight_path(service.registry.spec("sface"))
    thresholds = dict(service.registry.spec("sface").thresholds)
    spec = service.register_model("my-arcface", sface_file, thresholds, licence="test")
    assert spec.embedding_size == 128 and not spec.builtin
    with pytest.raises(AlreadyExistsError):
        service.register_model("my-arcface", sface_file, thresholds)
    with pytest.raises(InvalidInputError):
        service.register_model("sface", sface_file, thresholds)
    service.create_collection("a")
    service.create_collection("b", model="my-arcface")
    face_a = service.enroll("a", "e", [astronaut]).indexed[0].face_id
    face_b = service.enroll("b", "e", [astronaut]).indexed[0].face_id
    assert service.search("b", astronaut).results[0].matches[0].subject == "e"
    with pytest.raises(ModelMismatchError):
        service.search_by_face("b", face_a)
    with pytest.raises(ModelMismatchError):
        service.compare_faces(face_a, face_b)
    assert service.compare_faces(face_a, face_a).match


def test_registered_model_survives_reopen(tmp_path: Path, model_cache: Path) -> None:
    with Regard(data_dir=tmp_path, model_cache_dir=model_cache) as svc:
        path = svc.registry.weight_path(svc.registry.spec("sface"))
        svc.register_model("mine", path, {"1e-04": 0.42})
    with Regard(data_dir=tmp_path, model_cache_dir=model_cache) as svc:
        assert svc.registry.spec("mine").thresholds == {"1e-04": 0.42}
    with pytest.raises(InvalidInputError, match="threshold"):
        Regard(data_dir=tmp_path, model_cache_dir=model_cache).register_model("x", path, {})


def test_two_processes_share_the_store(tmp_path: Path, model_cache: Path, astronaut: np.ndarray) -> None:
    """An index cached in one service notices writes made through another."""
    with (
        Regard(data_dir=tmp_path, model_cache_dir=model_cache) as writer,
        Regard(data_dir=tmp_path, model_cache_dir=model_cache) as reader,
    ):
        declare_default_purpose(writer)
        writer.create_collection("p")
        assert reader.search("p", astronaut).results[0].matches == []
        writer.enroll("p", "eileen", [astronaut])
        assert reader.search("p", astronaut).results[0].matches[0].subject == "eileen"
        writer.delete_subject("p", "eileen")
        assert reader.search("p", astronaut).results[0].matches == []
