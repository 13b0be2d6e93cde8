"""Service methods the REST API needs, as library users see them: idempotent enrollment, one face, readiness."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import LOCAL, encode

from regard import Regard
from regard.errors import ConflictError, InvalidInputError, NotFoundError


def test_enrollment_with_an_idempotency_key_happens_once(service: Regard, astronaut: np.ndarray) -> None:
    service.create_collection("c", LOCAL)
    photo = encode(astronaut)
    first = service.enroll("c", "eileen", [photo], LOCAL, idempotency_key="k1")
    assert service.enroll("c", "eileen", [photo], LOCAL, idempotency_key="k1") == first
    assert service.describe_collection("c", LOCAL).face_count == 1
    with pytest.raises(ConflictError, match="different request"):
        service.enroll("c", "eileen", [photo], LOCAL, idempotency_key="k1", display_name="Eileen")
    with pytest.raises(InvalidInputError, match="idempotency key"):
        service.enroll("c", "eileen", [photo], LOCAL, idempotency_key="")
    assert [e.fields["operation"] for e in service.ledger_entries(LOCAL)].count("enroll") == 1
    assert service.ledger_length(LOCAL) == len(service.ledger_entries(LOCAL))


def test_one_face_and_readiness(service: Regard, astronaut: np.ndarray) -> None:
    service.create_collection("c", LOCAL)
    record = service.enroll("c", "eileen", [encode(astronaut)], LOCAL).indexed[0]
    assert service.face(record.face_id, LOCAL) == record
    with pytest.raises(NotFoundError):
        service.face("nope", LOCAL)
    ready = service.readiness()
    assert ready.ready and ready.database and ready.models == {"yunet": True, "sface": True}


def test_two_workers_creating_one_subject_both_succeed(service: Regard, astronaut: np.ndarray) -> None:
    """Another process inserts the same new subject between our look-up and our insert: we join it."""
    from sqlalchemy import event, insert, select
    from sqlalchemy.orm import Session

    from regard.store.tables import CollectionRow, SubjectRow

    service.create_collection("c", LOCAL)
    engine = service._parts.store.engine
    raced: list[bool] = []

    def other_worker(session: Session, *_: object) -> None:
        if raced:
            return
        raced.append(True)
        with engine.begin() as conn:  # its own connection and transaction, committed first
            collection = conn.scalar(select(CollectionRow.id).where(CollectionRow.name == "c"))
            conn.execute(insert(SubjectRow).values(collection_id=collection, external_id="eileen", display_name="E"))

    event.listen(Session, "before_flush", other_worker)
    try:
        result = service.enroll("c", "eileen", [encode(astronaut)], LOCAL)
    finally:
        event.remove(Session, "before_flush", other_worker)
    assert raced and len(result.indexed) == 1
    info = service.describe_collection("c", LOCAL)
    assert (info.subject_count, info.face_count) == (1, 1)
