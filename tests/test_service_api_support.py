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
