"""Service methods the REST API and the dashboard need, as library users see them: idempotent enrollment, one face,
readiness, a collection's purpose, applications for the reviewers who decide them, the shipped fairness cards."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import LOCAL, encode, person

from regard import CallContext, Regard
from regard.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError


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
    assert ready.ready and ready.database and ready.models == {"yunet": True, "fast": True}


def test_a_collection_says_which_purpose_it_serves(service: Regard) -> None:
    created = service.create_collection("c", LOCAL)
    assert created.purpose == "unspecified" == service.describe_collection("c", LOCAL).purpose
    assert [c.purpose for c in service.list_collections(LOCAL).items] == ["unspecified"]


def test_reviewers_read_the_applications_they_decide_and_nothing_else(service: Regard) -> None:
    service.create_tenant("default", LOCAL)
    submitted = service.submit_application("scale", "unspecified", {"max_subjects": 50_000}, "archive", LOCAL)
    reviewer = person(service, "rita", ["reviewer"])
    assert [a.id for a in service.list_applications(reviewer)] == [submitted.id]
    with pytest.raises(PermissionDeniedError):
        service.list_collections(reviewer)
    with pytest.raises(PermissionDeniedError):
        service.list_applications(CallContext("nobody"))  # no role at all


def test_the_shipped_fairness_cards_are_readable_by_every_reader(service: Regard) -> None:
    service.create_tenant("default", LOCAL)
    cards = service.fairness_cards(person(service, "aude", ["auditor"]))
    assert [(c.system, c.dataset.name) for c in cards] == [("accurate", "LFW"), ("fast", "LFW"), ("sface", "LFW")]
    assert cards[0].groups and cards[0].det
    with pytest.raises(PermissionDeniedError):
        service.fairness_cards(person(service, "rita", ["reviewer"]))
