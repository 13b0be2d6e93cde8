"""Roles and tenants against insiders: a tenant's admin, a garbage key, a local operator changing $USER.

Each test is the attempt of someone with that access to get round a rule.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL, encode, person, shared_purpose_args, watchlist_purpose_args
from typer.testing import CliRunner

from regard import CallContext, Regard
from regard.cli.app import app
from regard.context import normalise_actor
from regard.errors import (
    InvalidInputError,
    PermissionDeniedError,
    PolicyDeniedError,
)
from regard.governance.roles import Operation


@pytest.fixture
def svc(tmp_path: Path, model_cache: Path):  # type: ignore[no-untyped-def]
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1) as service:
        for tenant in ("acme", "globex"):
            service.create_tenant(tenant, LOCAL)
            service.declare_purpose("door", CallContext.local(tenant, "door"), **shared_purpose_args())
        yield service


def admin_of(svc: Regard, tenant: str) -> CallContext:
    token = svc.create_api_key(["admin", "operator"], CallContext.local(tenant), owner=f"{tenant}-admin").token
    return svc.authenticate(token, "door")


def test_a_tenant_admin_cannot_act_across_tenants(svc: Regard, astronaut: np.ndarray) -> None:
    acme = admin_of(svc, "acme")
    with pytest.raises(PermissionDeniedError, match="system"):
        svc.create_tenant("initech", acme)
    with pytest.raises(PermissionDeniedError, match="system"):
        svc.list_tenants(acme)
    with pytest.raises(PermissionDeniedError, match="own tenant"):
        svc.create_api_key(["admin"], acme, tenant="globex")
    with pytest.raises(PermissionDeniedError, match="system"):
        svc.create_api_key(["system"], acme)
    # globex has a template past its delete-by date; acme's admin tries to purge every tenant.
    globex = CallContext.local("globex", "door")
    svc.create_collection("staff", globex)
    svc.enroll("staff", "eileen", [astronaut], globex)
    with pytest.raises(PermissionDeniedError, match="system"):
        svc.purge(acme, all_tenants=True, now=_far_future())
    assert svc.describe_collection("staff", globex).face_count == 1
    assert all(e.fields["operation"] != "purge" for e in svc.ledger_entries(globex))
    # Their own tenant's purge touches nothing of globex.
    assert svc.purge(acme, now=_far_future()).templates == 0
    assert svc.describe_collection("staff", globex).face_count == 1
    # The system caller may; each tenant's ledger records the purge of its own templates.
    assert svc.purge(LOCAL, all_tenants=True, now=_far_future()).by_tenant == {"globex": 1}
    assert svc.ledger_entries(globex)[-1].fields["operation"] == "purge"


def _far_future():  # type: ignore[no-untyped-def]
    from regard.governance.repository import utcnow

    return utcnow() + timedelta(days=10_000)


def test_tenant_listing_and_creation_need_authentication(tmp_path: Path, model_cache: Path) -> None:
    runner = CliRunner()
    env = {"REGARD_DATA_DIR": str(tmp_path / "data"), "REGARD_MODEL_CACHE_DIR": str(model_cache)}
    assert runner.invoke(app, ["tenant", "create", "acme"], env=env).exit_code == 0
    garbage = runner.invoke(app, ["--api-key", "garbage", "tenant", "list"], env=env)
    assert garbage.exit_code == 12 and "acme" not in garbage.stdout
    forged = runner.invoke(app, ["--api-key", "rgk_0123456789ab_nope", "tenant", "create", "x"], env=env)
    assert forged.exit_code == 12
    admin = runner.invoke(app, ["--tenant", "acme", "key", "create", "--role", "admin"], env=env).stdout.strip()
    by_admin = runner.invoke(app, ["--api-key", admin, "tenant", "list"], env=env)
    assert by_admin.exit_code == 13 and "acme" not in by_admin.stdout
    assert runner.invoke(app, ["--api-key", admin, "tenant", "create", "evil"], env=env).exit_code == 13
    across = runner.invoke(app, ["--api-key", admin, "purge", "--all-tenants"], env=env)
    assert across.exit_code == 13 and "purged" not in across.stdout
    assert runner.invoke(app, ["tenant", "list"], env=env).stdout.split() == ["acme"]


def test_actor_names_are_one_person_however_spelled() -> None:
    assert (
        normalise_actor("rev1") == normalise_actor("rev1 ") == normalise_actor(" REV1") == normalise_actor("ｒｅｖ１")
    )
    assert CallContext("rev1 ", roles=frozenset({"reviewer"})).actor == "rev1"
    assert normalise_actor("rev 1") != normalise_actor("rev1")


def test_key_owners_are_people(svc: Regard) -> None:
    ctx = CallContext.local("acme")
    a = svc.authenticate(svc.create_api_key(["reviewer"], ctx, owner="Rev1").token)
    b = svc.authenticate(svc.create_api_key(["reviewer"], ctx, owner="rev1 ").token)
    c = svc.authenticate(svc.create_api_key(["reviewer"], ctx).token)
    assert a.actor == b.actor == "rev1" and a.key_id != b.key_id
    assert c.actor == f"key:{c.key_id}"
    for reserved in ("local", " LOCAL", "system", "scheduler:retention"):
        with pytest.raises(InvalidInputError, match="owner"):
            svc.create_api_key(["reviewer"], ctx, owner=reserved)


def test_the_local_operator_is_one_person_whatever_user_says(svc: Regard, monkeypatch: pytest.MonkeyPatch) -> None:
    from regard.cli.state import CliState

    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LOGNAME", "alice")
    first = CliState(tenant="acme").context()
    monkeypatch.setenv("USER", "bob")
    monkeypatch.setenv("LOGNAME", "bob")
    second = CliState(tenant="acme").context()
    assert first.actor == second.actor == "local" and first.origin != second.origin
    app_ = svc.submit_application("scale", "door", {"max_subjects": 500}, "growing", first)
    # Not even once: approvals are made by people with their own keys, and `local` is no such person.
    with pytest.raises(PermissionDeniedError, match="own API key"):
        svc.decide_application(app_.id, True, "fine by me", second)


def test_the_service_has_no_default_caller(svc: Regard, astronaut: np.ndarray) -> None:
    with pytest.raises(TypeError):
        svc.list_collections()  # type: ignore[call-arg]
    with pytest.raises(InvalidInputError, match="CallContext"):
        svc.list_collections(None)  # type: ignore[arg-type]
    assert CallContext("someone").roles == frozenset()
    with pytest.raises(PermissionDeniedError):
        svc.list_collections(CallContext("someone", "acme"))


def test_wrong_argument_types_are_regard_errors(svc: Regard, astronaut: np.ndarray) -> None:
    ctx = CallContext.local("acme", "door")
    svc.record_consent("eileen", ["door"], "form", ctx)
    svc.create_collection("staff", ctx)
    with pytest.raises(InvalidInputError, match="subject"):
        svc.enroll("staff", 42, [astronaut], ctx)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="top_k"):
        svc.search("staff", astronaut, ctx, top_k="5")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="collection name"):
        svc.create_collection(None, ctx)  # type: ignore[arg-type]


def test_remote_callers_cannot_make_the_server_read_its_disk(
    svc: Regard, tmp_path: Path, astronaut: np.ndarray
) -> None:
    photo = tmp_path / "on-the-server.jpg"
    photo.write_bytes(encode(astronaut))
    token = svc.create_api_key(["operator"], CallContext.local("acme")).token
    remote = svc.authenticate(token, "door", remote=True)
    with pytest.raises(InvalidInputError, match="bytes"):
        svc.detect(str(photo), remote)
    with pytest.raises(InvalidInputError, match="bytes"):
        svc.detect(photo, remote)
    assert svc.detect(photo.read_bytes(), remote).faces


def test_a_registered_model_reaches_every_worker(tmp_path: Path, astronaut: np.ndarray) -> None:
    """Two services on one database, each with its own model cache, as two worker processes on two hosts."""
    with (
        Regard(data_dir=tmp_path / "a", model_cache_dir=tmp_path / "a-cache") as first,
        Regard(
            database_url=f"sqlite:///{tmp_path / 'a' / 'regard.db'}",
            data_dir=tmp_path / "b",
            model_cache_dir=tmp_path / "b-cache",
        ) as second,
    ):
        sface = first._parts.registry.weight_path(first.model("sface").spec).read_bytes()
        first.register_model("mine", sface, dict(first.model("sface").spec.thresholds), LOCAL)
        shutil.rmtree(tmp_path / "a-cache" / "user")  # the first worker's disk is not the second's
        ctx = CallContext.local()
        second.declare_purpose("unspecified", ctx, **shared_purpose_args())
        second.create_collection("c", ctx, model="mine")
        assert second.enroll("c", "eileen", [astronaut], ctx).indexed
        assert (tmp_path / "b-cache" / "user").is_dir()


def _watchlist(svc: Regard, astronaut: np.ndarray) -> None:
    admin = CallContext.local("acme", "leads")
    svc.declare_purpose("leads", admin, **watchlist_purpose_args())  # type: ignore[arg-type]
    application = svc.submit_application("category", "leads", {}, "detective unit, documented cases", admin)
    svc.decide_application(application.id, True, "case process reviewed", person(svc, "rita", ["reviewer"], "acme"))
    svc.create_collection("persons", admin)
    svc.enroll("persons", "p1", [astronaut], admin)


@pytest.mark.parametrize(
    "reference",
    ["", "   ", "\t\n", "n/a", "N/A", " none ", "-", "--", "TBD", "test", "unknown", "xxx", "?", "null", "0000", "..."],
)
def test_a_blank_or_placeholder_case_reference_is_no_documented_target(
    svc: Regard, astronaut: np.ndarray, reference: str
) -> None:
    _watchlist(svc, astronaut)
    officer = CallContext.local("acme", "leads", case_reference=reference)
    with pytest.raises(PolicyDeniedError, match="documented") as info:
        svc.search("persons", astronaut, officer)
    assert info.value.rule_id == "PROHIBIT-UNTARGETED-SURVEILLANCE"
    assert svc.explain(officer, Operation.SEARCH, "persons").effect == "deny"


def test_a_documented_case_reference_is_recorded_with_the_search(svc: Regard, astronaut: np.ndarray) -> None:
    _watchlist(svc, astronaut)
    officer = CallContext.local("acme", "leads", case_reference=" 2026-CR-0042 ")
    assert svc.search("persons", astronaut, officer).review_case
    entry = svc.ledger_entries(officer)[-1].fields
    assert entry["operation"] == "search" and entry["result"]["case_reference"] == "2026-CR-0042"


def test_sources_are_a_closed_set(svc: Regard, astronaut: np.ndarray) -> None:
    _watchlist(svc, astronaut)
    officer = CallContext.local("acme", "leads", case_reference="2026-CR-0042")
    door = CallContext.local("acme", "door")
    svc.create_collection("staff", door)
    svc.enroll("staff", "eileen", [astronaut], door)
    for ctx, collection in ((officer, "persons"), (door, "staff")):
        for unknown in ("camera-feed", "Upload", "", "cctv"):
            with pytest.raises(PolicyDeniedError, match="source") as info:
                svc.search(collection, astronaut, ctx, source=unknown)
            assert info.value.rule_id == "PROHIBIT-UNKNOWN-SOURCE"
            assert svc.explain(ctx, Operation.SEARCH, collection, source=unknown).effect == "deny"
    assert svc.ledger_entries(door)[-1].fields["result"]["denied"]
    assert svc.search("staff", astronaut, door, source="camera").results[0].matches
    assert svc.search("persons", astronaut, officer, source="camera").review_case  # one still, one face: targeted
    for untargeted in ("stream", "bulk"):
        with pytest.raises(PolicyDeniedError, match=untargeted):
            svc.search("persons", astronaut, officer, source=untargeted)
        assert svc.search("staff", astronaut, door, source=untargeted).results[0].matches


def test_the_local_cli_makes_keys_for_another_tenant(tmp_path: Path, model_cache: Path) -> None:
    runner = CliRunner()
    env = {"REGARD_DATA_DIR": str(tmp_path / "data"), "REGARD_MODEL_CACHE_DIR": str(model_cache)}
    assert runner.invoke(app, ["tenant", "create", "acme"], env=env).exit_code == 0
    made = runner.invoke(app, ["key", "create", "--for-tenant", "acme", "--role", "auditor", "--owner", "ann"], env=env)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    listed = runner.invoke(app, ["--api-key", token, "key", "list"], env=env)
    assert listed.exit_code == 13  # an auditor key: it exists, in acme, and cannot manage keys
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache) as svc:
        ctx = svc.authenticate(token)
        assert ctx.tenant == "acme" and ctx.actor == "ann" and ctx.roles == frozenset({"auditor"})
        assert svc.ledger_entries(ctx)[-1].fields["operation"] == "create-key"
