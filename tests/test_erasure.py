"""Erasure against insiders: a receipt that overstates, a review case that keeps the erased, bytes left on disk.

Each test is the attempt of someone with that access to keep what was erased, or to claim more than was done.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL, consequential_purpose_args, person

from regard import CallContext, Regard
from regard.errors import ConflictError, NotFoundError
from regard.governance.repository import utcnow

TENANT = "acme"


@pytest.fixture
def svc(tmp_path: Path, model_cache: Path):  # type: ignore[no-untyped-def]
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1, store_thumbnails=True) as s:
        s.create_tenant(TENANT, LOCAL)
        admin = CallContext.local(TENANT, "vip")
        s.declare_purpose("vip", admin, **{**consequential_purpose_args(), "legal_basis": "consent"})  # type: ignore[arg-type]
        s.record_consent("eileen", ["vip"], "form-1", admin)
        s.create_collection("c1", admin)
        s.create_collection("c2", admin)
        yield s


def test_a_partial_erasure_states_what_remains(svc: Regard, astronaut: np.ndarray) -> None:
    ctx = CallContext.local(TENANT, "vip")
    first = svc.enroll("c1", "eileen", [astronaut], ctx).indexed[0].face_id
    second = svc.enroll("c2", "eileen", [astronaut], ctx).indexed[0].face_id
    partial = svc.erase_subject("eileen", ctx, collections=["c1"])
    assert partial.removed == {"c1": [first]} and partial.remaining == {"c2": 1}
    assert not partial.verified_absent and partial.absent_from_scope
    assert partial.consents_ended == 0  # still enrolled elsewhere under that consent
    assert svc.list_faces("c2", ctx, subject="eileen").total == 1
    full = svc.erase_subject("eileen", ctx)
    assert full.removed == {"c2": [second]} and full.remaining == {} and full.verified_absent
    assert full.consents_ended == 1
    assert [e["verified_absent"] for e in svc.erasures(ctx)] == [False, True]


def test_erasure_voids_the_review_cases_that_hold_the_subject(svc: Regard, astronaut: np.ndarray) -> None:
    ctx = CallContext.local(TENANT, "vip")
    svc.enroll("c1", "eileen", [astronaut], ctx)
    requester = person(svc, "olga", ["operator"], TENANT, "vip")
    rita, sam = person(svc, "rita", ["reviewer"], TENANT), person(svc, "sam", ["reviewer"], TENANT)
    case = svc.search("c1", astronaut, requester).review_case
    assert case is not None and svc.review_case(case, rita).probe_thumbnail
    svc.review_candidate(case, "eileen", "confirm", "same", rita)
    receipt = svc.erase_subject("eileen", ctx)
    assert receipt.review_cases_voided == [case] and receipt.verified_absent
    voided = svc.review_case(case, rita)
    assert voided.status == "voided" and voided.candidates == [] and voided.probe_thumbnail is None
    assert all(a.subject != "eileen" for a in voided.actions)
    assert case not in svc.pending_reviews(rita)
    with pytest.raises((ConflictError, NotFoundError)):
        svc.review_candidate(case, "eileen", "confirm", "agree", sam)
    assert svc.review_result(case, requester).released == []
    # Erasure ends the subject's consent: enrolling them again needs a new one.
    assert all(c.withdrawn_at is not None for c in svc.list_consents(ctx) if c.subject == "eileen")
    with pytest.raises(Exception, match="consent"):
        svc.enroll("c1", "eileen", [astronaut], ctx)


def _files_holding(folder: Path, needles: dict[str, bytes]) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{name} in {path.name}" for name, needle in needles.items() if needle in data]
    return found


def test_erased_bytes_are_gone_from_every_file_while_the_process_runs(
    svc: Regard, tmp_path: Path, astronaut: np.ndarray
) -> None:
    ctx = CallContext.local(TENANT, "vip")
    face = svc.enroll("c1", "eileen", [astronaut], ctx).indexed[0]
    _, embedding, _ = svc._parts.store.face(TENANT, face.face_id)
    requester = person(svc, "olga", ["operator"], TENANT, "vip")
    case = svc.search("c1", astronaut, requester).review_case
    assert case is not None
    probe = svc.review_case(case, person(svc, "rita", ["reviewer"], TENANT)).probe_thumbnail
    assert face.thumbnail_jpeg and probe
    needles = {"template": embedding.astype("<f4").tobytes(), "thumbnail": face.thumbnail_jpeg, "probe": probe}
    data_dir = tmp_path / "data"
    assert _files_holding(data_dir, needles)  # the needles are real: they are on disk before the erasure
    svc.erase_subject("eileen", ctx)
    assert _files_holding(data_dir, needles) == []


def test_purged_bytes_are_gone_from_every_file(svc: Regard, tmp_path: Path, astronaut: np.ndarray) -> None:
    ctx = CallContext.local(TENANT, "vip")
    face = svc.enroll("c2", "eileen", [astronaut], ctx).indexed[0]
    _, embedding, _ = svc._parts.store.face(TENANT, face.face_id)
    assert face.thumbnail_jpeg
    needles = {"template": embedding.astype("<f4").tobytes(), "thumbnail": face.thumbnail_jpeg}
    assert svc.purge(ctx, now=utcnow() + timedelta(days=91)).templates == 1
    assert _files_holding(tmp_path / "data", needles) == []
