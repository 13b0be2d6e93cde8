"""Every index backend behind the same interface: same top subject, store and index checked and repaired."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from regard import CallContext, Regard
from regard.store.repository import NewFace

# (index backend, system of record): pgvector lives in PostgreSQL; the others are tried on SQLite.
BACKENDS = [("exact", "sqlite"), ("faiss-hnsw", "sqlite"), ("pgvector", "postgresql"), ("milvus", "sqlite")]
CTX = CallContext.local(tenant="acme")
SUBJECTS, PER_SUBJECT, DIM = 150, 4, 128


def clustered(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Templates that look like real ones: a few per subject, close to the subject's centre."""
    centres = rng.normal(size=(SUBJECTS, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors = np.repeat(centres, PER_SUBJECT, axis=0) + rng.normal(0, 0.04, (SUBJECTS * PER_SUBJECT, DIM))
    vectors = vectors.astype(np.float32) / np.linalg.norm(vectors, axis=1, keepdims=True).astype(np.float32)
    return centres, vectors


@pytest.fixture(params=BACKENDS, ids=[b for b, _ in BACKENDS])
def backend_service(request: pytest.FixtureRequest, tmp_path: Path, model_cache: Path) -> Iterator[tuple[Regard, str]]:
    from conftest import declare_default_purpose, postgres_url

    backend, database = request.param
    url = (
        postgres_url(request.getfixturevalue("postgres_server"))
        if database == "postgresql"
        else f"sqlite:///{tmp_path / 'data' / 'regard.db'}"
    )
    with Regard(
        data_dir=tmp_path / "data",
        database_url=url,
        model_cache_dir=model_cache,
        onnx_threads=1,
        index_backend=backend,
    ) as svc:
        declare_default_purpose(svc, "acme")
        svc.create_collection("synthetic", CTX, model="sface")
        yield svc, backend


def fill(svc: Regard, vectors: np.ndarray) -> None:
    """Store synthetic templates through the store and the index catalog, as enrollment does."""
    ref = svc._parts.store.collection("acme", "synthetic")
    for s in range(SUBJECTS):
        faces = [
            NewFace(vectors[s * PER_SUBJECT + j], "sface", (0.0, 0.0, 100.0, 100.0), 0.99, {}, f"{s:064x}")
            for j in range(PER_SUBJECT)
        ]
        _, rows, subject_row = svc._parts.store.add_faces(ref, f"s{s}", None, faces)
        added = np.stack([f.embedding for f in faces])
        svc._parts.indexes.apply(
            ref, lambda index, r=rows, v=added, label=subject_row: index.add(r, [label] * len(r), v)
        )


def test_same_top_subject_on_every_backend(backend_service: tuple[Regard, str]) -> None:
    svc, backend = backend_service
    rng = np.random.default_rng(7)
    centres, vectors = clustered(rng)
    fill(svc, vectors)
    ref = svc._parts.store.collection("acme", "synthetic")
    index = svc._parts.indexes.get(ref)
    assert len(index) == SUBJECTS * PER_SUBJECT
    probes = centres[:40] + rng.normal(0, 0.04, (40, DIM)).astype(np.float32)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    stored = svc._parts.store.templates(ref)
    for i, probe in enumerate(probes):
        hits = index.search(probe[None], 3, 0.3)[0]
        assert hits, f"{backend}: probe {i} found nothing"
        subject = svc._parts.store.subjects_by_row([hits[0].label])[hits[0].label][0]
        assert subject == f"s{i}", f"{backend}: probe {i} -> {subject}"
        # The reported similarity is the entry's own cosine (f32 storage everywhere).
        position = int(np.flatnonzero(stored.ids == hits[0].entry_id)[0])
        assert hits[0].similarity == pytest.approx(float(stored.vectors[position] @ probe), abs=1e-4)
        assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    # Exclusion and threshold behave as in the exact index.
    first = index.search(probes[0][None], 1, 0.3)[0][0]
    again = index.search(probes[0][None], 1, 0.3, exclude=[first.entry_id])[0][0]
    assert again.entry_id != first.entry_id and again.label == first.label
    assert index.search(probes[0][None], 3, 0.999)[0] == []


def test_real_photos_enroll_search_erase(backend_service: tuple[Regard, str], astronaut: np.ndarray) -> None:
    svc, backend = backend_service
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    svc.enroll("synthetic", "eileen", [astronaut, mirrored], CTX)
    match = svc.search("synthetic", astronaut, CTX, top_k=1).results[0].matches
    assert [m.subject for m in match] == ["eileen"], backend
    assert svc.check_index("synthetic", CTX).ok
    receipt = svc.erase_subject("eileen", CTX)
    assert receipt.verified_absent and len(receipt.face_ids) == 2
    assert svc.search("synthetic", astronaut, CTX).results[0].matches == []
    assert svc.check_index("synthetic", CTX).ok
    if backend == "pgvector":  # nothing of the subject is left in the index table either
        with svc._parts.store.engine.connect() as conn:
            assert conn.scalar(text("select count(*) from face_vectors")) == 0


def test_check_finds_drift_and_repair_rebuilds(backend_service: tuple[Regard, str]) -> None:
    svc, backend = backend_service
    _, vectors = clustered(np.random.default_rng(3))
    fill(svc, vectors)
    ref = svc._parts.store.collection("acme", "synthetic")
    assert svc.check_index("synthetic", CTX).ok
    lost = int(svc._parts.store.template_ids(ref)[5])
    if backend == "pgvector":  # someone deletes an index row behind the store's back
        with svc._parts.store.engine.begin() as conn:
            conn.execute(text("delete from face_vectors where face_row_id = :f"), {"f": lost})
    else:
        svc._parts.indexes.get(ref).remove([lost])
    check = svc.check_index("synthetic", CTX)
    assert not check.ok and check.missing == [lost] and check.index_count == check.store_count - 1
    repaired = svc.check_index("synthetic", CTX, repair=True)
    assert repaired.ok and repaired.repaired and repaired.index_count == SUBJECTS * PER_SUBJECT
    assert svc.ledger_entries(CTX)[-1].fields["operation"] == "index-repair"


def test_collection_delete_drops_the_index(backend_service: tuple[Regard, str]) -> None:
    svc, _ = backend_service
    _, vectors = clustered(np.random.default_rng(5))
    fill(svc, vectors)
    svc.delete_collection("synthetic", CTX)
    svc.create_collection("synthetic", CTX)
    ref = svc._parts.store.collection("acme", "synthetic")
    assert len(svc._parts.indexes.get(ref)) == 0 and svc.check_index("synthetic", CTX).ok
