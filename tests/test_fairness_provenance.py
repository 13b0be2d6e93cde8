"""Which fairness reports can activate a model: signed by this instance from images, or by a registered auditor.

The attack of issue 14: a hand-made score file audited with ``--system sface --threshold 0.4244`` passes the
strict default gate on its numbers; it must not activate sface.  Nor may an edited report, a report signed with
an unknown key, or one signed by an auditor the tenant has revoked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import encode, shared_purpose_args, trusted
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from regard import CallContext, Regard
from regard.errors import AlreadyExistsError, InvalidInputError, NotFoundError, PermissionDeniedError, PolicyDeniedError
from regard.evaluation.manifest import evaluation_set_digest, read_manifest
from regard.fairness import AuditConfig, DatasetInfo, LabelProvenance, audit_embeddings
from regard.fairness.signing import KeySigner, sign_report
from regard.fairness.synthetic import synthetic_set
from regard.operations.audits import ImageAudit

ADMIN = trusted(actor="alice", tenant="acme", purpose="door")
PEOPLE = LabelProvenance("assigned-by-people", "two annotators", "majority of two")
SFACE_1E4 = 0.4244  # sface's registry threshold at FMR 1e-4
QUICK = AuditConfig(bootstrap_replicates=50)


@pytest.fixture
def gov(tmp_path: Path, model_cache: Path):  # type: ignore[no-untyped-def]
    # The audits here are of sface at FMR 1e-4, the operating point of the published LFW cards.
    settings = {"embedder": "sface", "default_fmr": 1e-4}
    with Regard(data_dir=tmp_path / "data", model_cache_dir=model_cache, onnx_threads=1, **settings) as svc:
        svc.create_tenant("acme", ADMIN)
        svc.create_tenant("globex", ADMIN)
        svc.declare_purpose("door", ADMIN, **shared_purpose_args())  # type: ignore[arg-type]
        yield svc


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray, cat: np.ndarray) -> Path:
    root = tmp_path_factory.mktemp("audit-images")
    (root / "e1.jpg").write_bytes(encode(astronaut))
    (root / "e2.png").write_bytes(encode(np.ascontiguousarray(astronaut[:, ::-1]), "PNG"))
    (root / "e3.jpg").write_bytes(encode(astronaut[20:480, 30:470]))
    (root / "cat.jpg").write_bytes(encode(cat))
    (root / "manifest.csv").write_text(
        "path,identity,grp\ne1.jpg,eileen,a\ne2.png,eileen,a\ne3.jpg,eileen2,a\ncat.jpg,kitty,b\nmissing.jpg,ghost,\n"
    )
    return root


def image_audit(svc: Regard, images: Path, ctx: CallContext = ADMIN, **kw: object):  # type: ignore[no-untyped-def]
    request = ImageAudit(images / "manifest.csv", images, "grp", PEOPLE, processes=1, config=QUICK, **kw)  # type: ignore[arg-type]
    return svc.audit_images(request, ctx)


def ledger_ops(svc: Regard, tenant: str = "acme") -> list[tuple[str, str]]:
    return [(e.fields["operation"], e.fields["decision"]) for e in svc.ledger_entries(trusted(tenant=tenant))]


def fabricated_scores() -> bytes:
    """A score file anyone can type: two groups, perfect separation, enough pairs to pass every adequacy rule."""
    rng = np.random.default_rng(0)
    lines = ["score,genuine,group_a,group_b,identity_a,identity_b"]
    for group in ("female", "male"):
        people = [f"{group}{i}" for i in range(60)]
        lines += [f"{rng.uniform(0.7, 0.9):.4f},1,{group},{group},{p},{p}" for p in people for _ in range(3)]
        for _ in range(31_000):
            x, y = rng.choice(60, 2, replace=False)
            lines.append(f"{rng.uniform(-0.1, 0.2):.4f},0,{group},{group},{people[x]},{people[y]}")
    return ("\n".join(lines) + "\n").encode()


def auditor_key(tmp_path: Path) -> tuple[Path, KeySigner]:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path / "auditor.pem"
    path.write_bytes(pem)
    return path, KeySigner.from_pem(path)


def synthetic_sface_report():  # type: ignore[no-untyped-def]
    """An audit of two adequate groups at sface's operating point, as an outside auditor could produce."""
    data = synthetic_set({"a": 300, "b": 300}, {"a": 0.02, "b": 0.03}, images_per_identity=(2, 4), seed=3)
    return audit_embeddings(
        data.vectors,
        data.identities,
        data.groups,
        system="sface",
        threshold=SFACE_1E4,
        dataset=DatasetInfo(name="auditor's set", labels=LabelProvenance("self-reported", "the participants")),
        config=QUICK,
    )


def test_image_audit_is_signed_and_recorded_with_the_evaluation_set(gov: Regard, images: Path) -> None:
    seen: list[tuple[int, int]] = []
    request = ImageAudit(images / "manifest.csv", images, "grp", PEOPLE, processes=1, config=QUICK)
    stored = gov.audit_images(request, ADMIN, lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]  # a progress report per image, unlabelled rows never read
    assert stored.verification.verified and stored.verification.signer == "this Regard instance"
    report = stored.report
    instance_key = gov.ledger_public_key(ADMIN)
    assert report.signature is not None and report.signature.public_key == instance_key
    assert report.provenance.route == "images" and report.provenance.face_choice == "center"
    assert report.dataset.labels == PEOPLE and "two annotators" in report.to_markdown()
    # The digest is recomputable from the files: manifest bytes, then each labelled row with its image's sha256.
    manifest = read_manifest(images / "manifest.csv", images, "grp")
    rows = manifest.labelled()
    hashes = [hashlib.sha256(manifest.paths[i].read_bytes()).hexdigest() for i in rows]
    digest = evaluation_set_digest(manifest, rows, hashes)
    assert report.provenance.evaluation_set_sha256 == digest
    entry = gov.ledger_entries(ADMIN)[-1]
    assert entry.fields["operation"] == "fairness-audit" and entry.fields["input_sha256"] == [digest]
    assert entry.fields["result"]["report_id"] == stored.id
    assert entry.fields["result"]["report_sha256"] == hashlib.sha256(stored.document.encode()).hexdigest()
    assert [s.id for s in gov.audit_reports(ADMIN)] == [stored.id]
    assert gov.audit_report(stored.id, ADMIN).verification.verified
    with pytest.raises(NotFoundError):
        gov.audit_report(stored.id, trusted(tenant="globex"))
    # The largest face instead: recorded as such.
    assert image_audit(gov, images, face="largest").report.provenance.face_choice == "largest"


def test_a_fabricated_score_file_cannot_activate_sface(gov: Regard, tmp_path: Path) -> None:
    stored = gov.audit_scores(fabricated_scores(), ADMIN, labels=PEOPLE, system="sface", threshold=SFACE_1E4)
    report = stored.report
    assert report.threshold == SFACE_1E4 and all(not g.flagged and g.fmr == 0 for g in report.groups)
    assert stored.verification.status == "unverified" and "cannot vouch" in stored.verification.reason
    assert "Unsigned" in report.to_html() and "cannot activate a model" in report.to_markdown()
    # By its id, by its bytes, and signed with a key nobody registered: refused, and the refusals recorded.
    with pytest.raises(PolicyDeniedError, match="unverified"):
        gov.activate_model("sface", ADMIN, report_id=stored.id)
    with pytest.raises(PolicyDeniedError, match="unverified"):
        gov.activate_model("sface", ADMIN, signed_report=stored.document.encode())
    forged = sign_report(report, auditor_key(tmp_path)[1], "Regard instance key 0994f77c793afe70")
    with pytest.raises(PolicyDeniedError, match="neither this instance's nor a registered auditor's"):
        gov.activate_model("sface", ADMIN, signed_report=forged.to_json().encode())
    assert ledger_ops(gov)[-3:] == [("activate-model", "deny")] * 3
    assert gov.deployments(ADMIN) == []


def test_an_edited_signed_report_is_invalid(gov: Regard, images: Path) -> None:
    stored = image_audit(gov, images)
    document = json.loads(stored.document)
    document["groups"][0]["fmr"] = 0.0
    edited = json.dumps(document).encode()
    _, verification = gov.verify_audit_report(edited, ADMIN)
    assert verification.status == "invalid"
    with pytest.raises(PolicyDeniedError, match="altered"):
        gov.activate_model("sface", ADMIN, signed_report=edited)
    # Re-indenting keeps the signature (it covers the canonical JSON), so the report's own bytes still verify.
    assert gov.verify_audit_report(json.dumps(json.loads(stored.document)).encode(), ADMIN)[1].verified
    # A stored report changed in the database no longer matches the ledger, or its signature.
    from sqlalchemy import text

    with gov._parts.store.engine.begin() as conn:  # the test plays an intruder with write access to the database
        conn.execute(text("update audit_reports set document = replace(document, '\"fmr\"', '\"fmr\" ')"))
    assert gov.audit_report(stored.id, ADMIN).verification.status == "invalid"
    with pytest.raises(PolicyDeniedError, match="changed after it was recorded"):
        gov.activate_model("sface", ADMIN, report_id=stored.id)


def test_an_instance_report_activates_through_the_tenants_gate(gov: Regard, images: Path) -> None:
    stored = image_audit(gov, images)
    # Both groups are too small to measure a differential: the default gate fails closed.
    with pytest.raises(PolicyDeniedError, match="unmeasurable"):
        gov.activate_model("sface", ADMIN, report_id=stored.id)
    # A tenant that checks only what its policy lists (and switches the group FMR off explicitly) lets it through.
    gov.apply_policy("version: v2\nfairness_gate:\n  limits: {max_flagged_groups: 2, max_group_fmr: null}\n", ADMIN)
    summary = gov.activate_model("sface", ADMIN, report_id=stored.id)
    assert [g["rule"] for g in summary["gate"]] == ["flagged_groups"] and summary["switched_off"] == ["max_group_fmr"]
    assert summary["verified_by"] == "this Regard instance" and summary["report_id"] == stored.id
    assert gov.deployments(ADMIN)[-1]["evaluation_set_sha256"] == stored.report.provenance.evaluation_set_sha256
    # Another tenant cannot use this tenant's report, by id or by its signed bytes.
    other = trusted(actor="alice", tenant="globex")
    with pytest.raises(NotFoundError):
        gov.activate_model("sface", other, report_id=stored.id)
    with pytest.raises(PolicyDeniedError, match="never recorded in this tenant"):
        gov.activate_model("sface", other, signed_report=stored.document.encode())
    with pytest.raises(InvalidInputError, match="audits 'sface'"):
        gov.activate_model("dlib-resnet", ADMIN, report_id=stored.id)
    with pytest.raises(InvalidInputError, match="threshold"):
        gov.activate_model("sface", ADMIN, report_id=stored.id, fmr=1e-3)


def test_a_registered_auditors_report_activates_until_revoked(gov: Regard, tmp_path: Path) -> None:
    _, signer = auditor_key(tmp_path)
    signed = sign_report(synthetic_sface_report(), signer, "Independent Audits Ltd").to_json().encode()
    assert gov.verify_audit_report(signed, ADMIN)[1].status == "unverified"
    lenient = "limits: {max_fmr_ratio: 10.0, max_fnmr_ratio: 10.0, max_group_fmr: 0.5}"
    gov.apply_policy(f"version: v3\nfairness_gate:\n  {lenient}\n", ADMIN)
    with pytest.raises(PolicyDeniedError, match="unverified"):
        gov.activate_model("sface", ADMIN, signed_report=signed)
    auditor = gov.register_auditor("independent-audits", signer.public_key_hex, ADMIN, "key handed over in person")
    assert auditor.key_id == signer.key_id and ledger_ops(gov)[-1] == ("register-auditor", "allow")
    with pytest.raises(AlreadyExistsError):
        gov.register_auditor("independent-audits", signer.public_key_hex, ADMIN)
    with pytest.raises(InvalidInputError, match="own key"):
        gov.register_auditor("me", gov.ledger_public_key(ADMIN), ADMIN)
    summary = gov.activate_model("sface", ADMIN, signed_report=signed)
    assert summary["verified_by"] == "auditor independent-audits"
    stored = gov.audit_report(summary["report_id"], ADMIN)
    assert stored.record.source == "submitted" and stored.verification.verified
    assert ("submit-audit-report", "allow") in ledger_ops(gov) and ledger_ops(gov)[-1] == ("activate-model", "allow")
    gov.revoke_auditor("independent-audits", ADMIN)
    assert gov.audit_report(summary["report_id"], ADMIN).verification.status == "unverified"
    with pytest.raises(PolicyDeniedError, match="unverified"):
        gov.activate_model("sface", ADMIN, signed_report=signed)
    assert not gov.auditors(ADMIN)[0].active and gov.deployments(ADMIN)[-1]["active"]  # history stays


def test_audits_need_their_roles(gov: Regard, images: Path, tmp_path: Path) -> None:
    def key(roles: list[str]) -> CallContext:
        return gov.authenticate(gov.create_api_key(roles, trusted(tenant="acme"), owner="o").token, "door")

    operator, auditor = key(["operator"]), key(["auditor"])
    with pytest.raises(PermissionDeniedError):
        gov.audit_scores(b"score,genuine,group_a,group_b\n0.5,1,a,a\n", operator, labels=PEOPLE)
    stored = gov.audit_scores(fabricated_scores(), auditor, labels=PEOPLE, system="sface", threshold=SFACE_1E4)
    assert gov.audit_reports(auditor)[0].id == stored.id
    _, signer = auditor_key(tmp_path)
    with pytest.raises(PermissionDeniedError):
        gov.register_auditor("x", signer.public_key_hex, auditor)
    with pytest.raises(PermissionDeniedError):
        gov.activate_model("sface", auditor, report_id=stored.id)
    remote = gov.authenticate(
        gov.create_api_key(["admin"], trusted(tenant="acme"), owner="r").token, "door", remote=True
    )
    with pytest.raises(InvalidInputError, match="remote"):
        image_audit(gov, images, remote)


def test_conflicting_labels_are_refused_before_any_image_is_read(gov: Regard, tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,identity,grp\nnowhere/1.jpg,x,a\nnowhere/2.jpg,x,b\n")
    seen: list[int] = []
    before = ledger_ops(gov)
    request = ImageAudit(manifest, tmp_path, "grp", PEOPLE, processes=1, config=QUICK)
    with pytest.raises(InvalidInputError, match="different group labels"):
        gov.audit_images(request, ADMIN, lambda done, total: seen.append(done))
    assert seen == [] and ledger_ops(gov) == before and gov.audit_reports(ADMIN) == []


def test_label_provenance_is_required_and_proxies_carry_their_caveats() -> None:
    with pytest.raises(InvalidInputError, match="label source"):
        LabelProvenance("guessed", "someone")
    with pytest.raises(InvalidInputError, match="who assigned"):
        LabelProvenance("self-reported", " ")
    data = synthetic_set({"a": 30, "b": 30}, {"a": 0.02, "b": 0.03}, images_per_identity=(2, 3), seed=1)
    proxy = LabelProvenance("machine-proxy", "attribute classifiers of Kumar et al. (2009)", "binarised")
    report = audit_embeddings(
        data.vectors,
        data.identities,
        data.groups,
        system="sface",
        threshold=SFACE_1E4,
        dataset=DatasetInfo(name="proxies", labels=proxy, group_column="race_proxy"),
        config=QUICK,
    )
    assert any("MACHINE-DERIVED PROXIES" in c for c in report.caveats)
    assert "Kumar et al." in report.caveats[0] and "supplied by the auditor" not in report.to_json()
    page, md = report.to_html(), report.to_markdown()
    assert "MACHINE-DERIVED PROXIES" in page and "MACHINE-DERIVED PROXIES" in md and "embeddings" in md


def test_a_required_gate_refuses_models_not_activated(gov: Regard, images: Path, astronaut: np.ndarray) -> None:
    gov.create_collection("staff", ADMIN)
    gov.apply_policy("version: fair-1\nfairness_gate:\n  required: true\n  limits: {max_flagged_groups: 2}\n", ADMIN)
    with pytest.raises(PolicyDeniedError) as info:
        gov.enroll("staff", "eileen", [astronaut], ADMIN)
    assert info.value.rule_id == "FAIRNESS-GATE" and "not been activated" in info.value.reason
    gov.activate_model("sface", ADMIN, report_id=image_audit(gov, images).id)
    assert gov.enroll("staff", "eileen", [astronaut], ADMIN).indexed
    assert gov.deployments(ADMIN)[-1]["active"]
    assert "verified by this Regard instance" in gov.accountability_report(ADMIN).models[0]["fairness"]


def test_a_registered_model_is_audited_at_its_own_operating_point(gov: Regard, images: Path) -> None:
    sface = gov._parts.registry.weight_path(gov.model("sface").spec).read_bytes()
    gov.register_model("mine", sface, {"1e-03": 0.31, "1e-04": 0.52}, ADMIN)
    request = ImageAudit(images / "manifest.csv", images, "grp", PEOPLE, model="mine", processes=2, config=QUICK)
    report = gov.audit_images(request, ADMIN).report  # two worker processes load the registered model
    assert report.system == "mine" and report.threshold == 0.52
    assert report.threshold_source.startswith("registry threshold of mine at FMR 1e-04")
    assert report.groups[0].genuine_pairs == 1  # the faces were found and embedded
    loose = gov.audit_images(
        ImageAudit(images / "manifest.csv", images, "grp", PEOPLE, model="mine", fmr=1e-3, processes=1, config=QUICK),
        ADMIN,
    )
    assert loose.report.threshold == 0.31 and loose.report.target_fmr == 1e-3
