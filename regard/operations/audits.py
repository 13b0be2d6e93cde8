"""Fairness audits as governed operations: run one on images, audit a score file, keep and show the reports,
and decide which reports can be trusted to activate a model.

Trust rests on keys, never on what a report says of itself.  A report Regard produced from images is signed
with the instance key (the ledger's signer) and recorded in the ledger with the digest of its evaluation set
(manifest and image bytes); a report an outside auditor signed is trusted when the tenant registered that
auditor's public key.  Anything else -- a score-file audit (the scores could say anything), an embeddings
audit, an edited or re-signed report -- is unverified, and shown so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from regard import __version__
from regard.backends.calibration import fmr_key, threshold_for
from regard.context import CallContext
from regard.errors import InvalidInputError
from regard.evaluation.imagesets import FACE_PICKS, EmbeddedSet, FacePick
from regard.evaluation.manifest import Manifest, evaluation_set_digest, read_manifest
from regard.fairness.evaluate import AuditConfig
from regard.fairness.labels import LabelProvenance
from regard.fairness.report import AuditReport, DatasetInfo, Provenance
from regard.fairness.signing import ReportVerification, check_public_key, key_id, sign_report, verify_report
from regard.governance import audit_records as records
from regard.governance import ledger
from regard.governance.audit_records import Auditor, AuditRecord
from regard.governance.roles import Operation
from regard.models_io import spec_to_dict
from regard.operations.collections import check_name
from regard.operations.parts import Parts
from regard.store.tables import utcnow

INSTANCE = "this Regard instance"
# The engine settings an embedding worker needs (it opens no store).
_WORKER_SETTINGS = {
    "detector",
    "detect_max_px",
    "detect_min_confidence",
    "min_face_px",
    "max_faces",
    "max_image_bytes",
    "max_image_pixels",
    "onnx_providers",
}


@dataclass(frozen=True)
class ImageAudit:
    """What to audit: a manifest of labelled images, whose labels came from ``labels``, with one model.

    ``model`` defaults to the settings' embedder, ``fmr`` to the settings' operating point; ``threshold``
    defaults to the model's registry threshold at ``fmr``.  ``face`` picks the face of an image with several
    (``center``: the one nearest the centre, the subject of a portrait or a dataset crop; ``largest``).
    """

    manifest: Path
    images_root: Path
    group_column: str
    labels: LabelProvenance
    model: str | None = None
    fmr: float | None = None
    threshold: float | None = None
    face: FacePick = "center"
    config: AuditConfig = field(default_factory=AuditConfig)
    processes: int = 0
    engine: Literal["processes", "ray"] = "processes"  # ray: a resumable batch job on Ray Data (regard.batch)
    description: str = ""
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredAudit:
    """A stored report, parsed, with whether its signature holds for a key this tenant trusts."""

    record: AuditRecord
    report: AuditReport
    verification: ReportVerification

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def document(self) -> str:
        """The report's JSON exactly as stored and signed: what to hand to someone who will verify it."""
        return self.record.document


class AuditOperations:
    def __init__(self, parts: Parts) -> None:
        self._p = parts
        self._guard = parts.guard
        self._gov = parts.governance

    # -- running audits --------------------------------------------------------------------------
    def audit_images(
        self, request: ImageAudit, ctx: CallContext, progress: Callable[[int, int], None] | None = None
    ) -> StoredAudit:
        """Embed the manifest's labelled images, audit them, sign the report and record it with the set's digest.

        Conflicting labels (one identity, two groups) are refused before any image is read.  Images are read
        once, hashed and embedded; nothing of them is kept.  ``progress(done, total)`` follows the embedding.
        """
        decision = self._guard.allow(ctx, Operation.AUDIT)
        if ctx.remote:
            raise InvalidInputError("an image audit reads a manifest on this machine; remote callers send scores")
        if request.face not in FACE_PICKS:
            raise InvalidInputError(f"face must be one of {', '.join(FACE_PICKS)}, got {request.face!r}")
        from regard.fairness.runner import audit_embeddings

        manifest, rows, identities, groups = self._labelled_rows(request)
        spec, fmr, threshold, source = self._operating_point(request.model, request.fmr, request.threshold)
        embedded = self._embed([manifest.paths[i] for i in rows], spec.id, request, progress)
        digest = evaluation_set_digest(manifest, rows, embedded.sha256)
        provenance = Provenance(
            route="images",
            producer=f"regard {__version__}",
            face_choice=request.face,
            detector=self._p.settings.detector,
            evaluation_set_sha256=digest,
            manifest_sha256=manifest.sha256,
            tenant=ctx.tenant,
        )
        dataset = DatasetInfo(
            name=request.manifest.name,
            labels=request.labels,
            description=request.description or f"images listed in {request.manifest.name}",
            group_column=request.group_column,
            excluded_unlabelled=len(manifest.paths) - len(rows),
        )
        report = audit_embeddings(
            embedded.vectors,
            identities,
            groups,
            system=spec.id,
            threshold=threshold,
            threshold_source=source,
            dataset=dataset,
            found=embedded.found,
            system_version=spec.version,
            config=replace(request.config, target_fmr=fmr),
            caveats=list(request.caveats),
            provenance=provenance,
        )
        signed = sign_report(report, self._gov.ledger.signer, f"Regard instance key {self._gov.ledger.signer.key_id}")
        verification = ReportVerification("verified", f"signed by {INSTANCE}", INSTANCE, self._gov.ledger.signer.key_id)
        return self._store(ctx, decision, signed, "audit", "fairness-audit", verification, inputs=[digest])

    @staticmethod
    def _labelled_rows(request: ImageAudit) -> tuple[Manifest, list[int], list[str], list[str]]:
        """The manifest, its labelled rows, their identities and labels; one identity with two labels is refused
        here, before any image is read."""
        from regard.fairness.runner import identity_groups

        manifest = read_manifest(request.manifest, request.images_root, request.group_column)
        rows = manifest.labelled()  # unlabelled rows are not even read
        if not rows:
            raise InvalidInputError(f"{request.manifest}: no row has a label in {request.group_column!r}")
        identities, groups = [manifest.identities[i] for i in rows], [manifest.groups[i] for i in rows]
        identity_groups(identities, groups)
        return manifest, rows, identities, groups

    def _embed(
        self, paths: list[Path], model_id: str, request: ImageAudit, progress: Callable[[int, int], None] | None
    ) -> EmbeddedSet:
        """One face per image in worker processes that see the engine settings and the registered models."""
        from regard.evaluation.imagesets import embed_paths

        settings = self._p.settings
        worker_settings = {
            **settings.model_dump(include=_WORKER_SETTINGS),
            "model_cache_dir": settings.resolved_model_cache_dir(),
        }
        user_models = [spec_to_dict(s) for s in self._p.registry.specs() if not s.builtin]
        if request.engine == "ray":
            from regard.batch.jobs import JobOptions, embed_job

            journal = {"batch_journal_dir": settings.resolved_batch_journal_dir()}
            options = JobOptions("ray", workers=request.processes or 2)
            return embed_job(
                paths,
                model_id,
                {**worker_settings, **journal},
                options,
                pick=request.face,
                progress=progress,
                user_models=user_models,
            )
        return embed_paths(paths, model_id, worker_settings, request.processes, request.face, progress, user_models)

    def audit_scores(
        self,
        data: bytes,
        ctx: CallContext,
        *,
        labels: LabelProvenance,
        system: str = "third-party system",
        system_version: str = "",
        name: str = "score file",
        fmr: float = 1e-4,
        threshold: float | None = None,
        config: AuditConfig | None = None,
    ) -> StoredAudit:
        """Audit a score file's bytes (any system, an independent tester's route); stored and recorded, unsigned.

        Regard cannot know where the scores came from, so the report is unverified: it informs, it never
        activates a model.
        """
        decision = self._guard.allow(ctx, Operation.AUDIT)
        from regard.fairness.runner import audit_score_file

        if not isinstance(data, bytes | bytearray) or not data:
            raise InvalidInputError("a score file is the CSV file's bytes")
        digest = hashlib.sha256(data).hexdigest()
        provenance = Provenance(route="score-file", producer=f"the caller ({ctx.actor})", inputs_sha256=digest)
        report = audit_score_file(
            bytes(data),
            dataset=DatasetInfo(name=name, labels=labels, description="third-party score file"),
            threshold=threshold,
            system=system,
            system_version=system_version,
            config=replace(config or AuditConfig(), target_fmr=fmr),
            provenance=replace(provenance, tenant=ctx.tenant),
        )
        verification = ReportVerification("unverified", "scores supplied by the caller: Regard cannot vouch for them")
        return self._store(ctx, decision, report, "audit", "fairness-audit-scores", verification, inputs=[digest])

    def _operating_point(
        self, model: str | None, fmr: float | None, threshold: float | None
    ) -> tuple[Any, float, float, str]:
        """The model's registry entry, the FMR, the threshold and where it came from (the registry, or the caller)."""
        spec = self._p.registry.spec(model or self._p.settings.embedder)
        if spec.kind != "embedder":
            raise InvalidInputError(f"model '{spec.id}' is a {spec.kind}, not an embedder")
        point = fmr or self._p.settings.default_fmr
        if not 0 < point < 1:
            raise InvalidInputError(f"the target FMR must be between 0 and 1, got {point}")
        if threshold is not None:
            return spec, point, float(threshold), "given by the auditor"
        value = threshold_for(spec.thresholds, point, spec.id)
        return spec, point, value, f"registry threshold of {spec.id} at FMR {fmr_key(point)} ({spec.calibration})"

    def _store(
        self,
        ctx: CallContext,
        decision: Any,
        report: AuditReport,
        source: str,
        operation: str,
        verification: ReportVerification,
        inputs: list[str],
        document: str | None = None,
    ) -> StoredAudit:
        """Keep the report and record it in the ledger, in one transaction."""
        text = document if document is not None else report.to_json()
        sha = hashlib.sha256(text.encode()).hexdigest()
        report_id = records.new_report_id()
        signature = report.signature
        result = self._ledger_result(report, report_id, sha)
        with self._gov.tx() as s:
            entry = self._guard.record(
                ctx,
                operation,
                decision,
                session=s,
                inputs=inputs,
                model=report.system if report.provenance.route == "images" else None,
                threshold=report.threshold,
                result=result,
            )
            record = records.save_report(
                s,
                AuditRecord(
                    id=report_id,
                    tenant=ctx.tenant,
                    created_at=utcnow(),
                    created_by=ctx.actor,
                    source=source,
                    route=report.provenance.route,
                    system=report.system,
                    system_version=report.system_version,
                    threshold=report.threshold,
                    target_fmr=report.target_fmr,
                    dataset=report.dataset.name,
                    evaluation_set_sha256=report.provenance.evaluation_set_sha256,
                    report_sha256=sha,
                    signature=signature.value if signature else None,
                    key_id=signature.key_id if signature else None,
                    ledger_seq=entry.seq,
                    document=text,
                ),
            )
        return StoredAudit(record, report, verification)

    @staticmethod
    def _ledger_result(report: AuditReport, report_id: str, sha: str) -> dict[str, Any]:
        """What the ledger keeps of a stored report: its id and digest, and how it was made."""
        return {
            "report_id": report_id,
            "report_sha256": sha,
            "route": report.provenance.route,
            "evaluation_set_sha256": report.provenance.evaluation_set_sha256,
            "signed_by_key": report.signature.key_id if report.signature else None,
            "label_source": report.dataset.labels.source,
            "face_choice": report.provenance.face_choice,
        }

    # -- stored reports --------------------------------------------------------------------------
    def audit_reports(self, ctx: CallContext) -> list[StoredAudit]:
        """The tenant's reports, oldest first, each checked against its signature and its ledger entry."""
        self._guard.require(ctx, Operation.AUDIT)
        with self._gov.tx() as s:
            stored = records.reports(s, ctx.tenant)
        trusted = self.trusted_keys(ctx.tenant)
        return [self._checked(ctx.tenant, r, trusted) for r in stored]

    def audit_report(self, report_id: str, ctx: CallContext) -> StoredAudit:
        """One stored report (NotFoundError in another tenant), checked against its signature and ledger entry."""
        self._guard.require(ctx, Operation.AUDIT)
        with self._gov.tx() as s:
            record = records.report(s, ctx.tenant, report_id)
        return self._checked(ctx.tenant, record, self.trusted_keys(ctx.tenant))

    def verify_report(self, data: bytes, ctx: CallContext) -> tuple[AuditReport, ReportVerification]:
        """Whether a report's bytes carry a valid signature by this instance or a registered auditor."""
        self._guard.require(ctx, Operation.AUDIT)
        return verify_report(bytes(data), self.trusted_keys(ctx.tenant))

    def trusted_keys(self, tenant: str) -> dict[str, str]:
        """Public key (hex) -> signer, for this instance and the tenant's active auditors."""
        with self._gov.tx() as s:
            active = [a for a in records.auditors(s, tenant) if a.active]
        return {self._gov.ledger.signer.public_key_hex: INSTANCE} | {a.public_key: f"auditor {a.name}" for a in active}

    def _checked(self, tenant: str, record: AuditRecord, trusted: dict[str, str]) -> StoredAudit:
        report, verification = verify_report(record.document.encode(), trusted)
        problem = self._ledger_problem(tenant, record)
        if problem:
            verification = ReportVerification("invalid", problem, verification.signer, verification.key_id)
        elif record.route == "score-file" and not verification.verified:
            reason = "scores supplied by the caller: Regard cannot vouch for them"
            verification = ReportVerification("unverified", reason, verification.signer, verification.key_id)
        return StoredAudit(record, report, verification)

    def _ledger_problem(self, tenant: str, record: AuditRecord) -> str | None:
        """Why the stored document is not the one the ledger recorded, if it is not."""
        if hashlib.sha256(record.document.encode()).hexdigest() != record.report_sha256:
            return "the stored report was changed after it was recorded"
        with self._gov.tx() as s:
            entry = next(ledger.entries(s, tenant, record.ledger_seq - 1, 1), None)
        if entry is None or entry.seq != record.ledger_seq:
            return f"ledger entry {record.ledger_seq}, which recorded this report, is missing"
        if entry.fields.get("result", {}).get("report_sha256") != record.report_sha256:
            return f"ledger entry {record.ledger_seq} recorded another report"
        return None

    # -- the reports activation may rest on ------------------------------------------------------
    def trusted_report(
        self, ctx: CallContext, report_id: str | None, signed_report: bytes | None
    ) -> tuple[StoredAudit | None, str]:
        """The stored, verified report an activation rests on, or ``(None, why not)``.

        By id: a report stored in this tenant.  By bytes: a report signed by this instance (it must be stored
        in this tenant) or by a registered auditor (stored and recorded now, as submitted).
        """
        if (report_id is None) == (signed_report is None):
            raise InvalidInputError("give a stored report's id or a signed report's bytes, not both")
        if report_id is not None:
            stored = self.audit_report(report_id, ctx)
            return (stored, "") if stored.verification.verified else (None, stored.verification.reason)
        assert signed_report is not None
        trusted = self.trusted_keys(ctx.tenant)
        report, verification = verify_report(bytes(signed_report), trusted)
        if not verification.verified or report.signature is None:
            return None, verification.reason
        with self._gov.tx() as s:
            known = records.report_with_signature(s, ctx.tenant, report.signature.value)
        if known is not None:
            stored = self._checked(ctx.tenant, known, trusted)
            return (stored, "") if stored.verification.verified else (None, stored.verification.reason)
        if verification.signer == INSTANCE:
            return None, "signed by this instance but never recorded in this tenant"
        decision = self._guard.allow(ctx, Operation.DECLARE)
        document = bytes(signed_report).decode("utf-8")
        digest = hashlib.sha256(bytes(signed_report)).hexdigest()
        stored = self._store(
            ctx, decision, report, "submitted", "submit-audit-report", verification, [digest], document
        )
        return stored, ""

    # -- outside auditors ------------------------------------------------------------------------
    def register_auditor(self, name: str, public_key: str, ctx: CallContext, description: str = "") -> Auditor:
        """Trust reports signed with ``public_key`` (a raw Ed25519 key, 64 hex digits) in the caller's tenant."""
        decision = self._guard.allow(ctx, Operation.DECLARE)
        check_name("auditor", name)
        key = check_public_key(public_key)
        if key == self._gov.ledger.signer.public_key_hex:
            raise InvalidInputError("that is this instance's own key: its reports are trusted already")
        with self._gov.tx() as s:
            auditor = records.add_auditor(s, ctx.tenant, name, key, key_id(key), description, ctx.actor)
            result = {"auditor": name, "key_id": auditor.key_id, "public_key": key}
            self._guard.record(ctx, "register-auditor", decision, session=s, result=result)
        return auditor

    def auditors(self, ctx: CallContext) -> list[Auditor]:
        self._guard.require(ctx, Operation.AUDIT)
        with self._gov.tx() as s:
            return records.auditors(s, ctx.tenant)

    def revoke_auditor(self, name: str, ctx: CallContext) -> Auditor:
        """Stop trusting an auditor's key: its reports become unverified (activations made before stay recorded)."""
        decision = self._guard.allow(ctx, Operation.DECLARE)
        with self._gov.tx() as s:
            auditor = records.revoke_auditor(s, ctx.tenant, name)
            result = {"auditor": name, "key_id": auditor.key_id}
            self._guard.record(ctx, "revoke-auditor", decision, session=s, result=result)
        return auditor
