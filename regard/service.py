"""Regard: the front door.  Every operation of the library, the CLI and the API is a method here.

Each method takes a ``CallContext`` (actor, tenant, declared purpose, roles);
none has a default.  The work is done by one part per resource
(``regard/operations/``), and every part passes each call through one guard
(``regard/guard.py``): role, policy decision, ledger entry.  So the CLI, the
API and library users go through the same rules, and a new feature goes into
the part of its resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from regard.backends.registry import ModelRegistry
from regard.backends.runtime import RuntimeOptions
from regard.backends.specs import ModelSpec
from regard.context import CallContext
from regard.domain import (
    CollectionInfo,
    Comparison,
    Decision,
    Detection,
    EnrollResult,
    FaceRecord,
    Page,
    SearchResult,
)
from regard.engine import FaceEngine
from regard.fairness.evaluate import AuditConfig
from regard.fairness.gate import GateResult
from regard.fairness.labels import LabelProvenance
from regard.fairness.report import AuditReport
from regard.fairness.signing import ReportVerification
from regard.governance.audit_records import Auditor
from regard.governance.consent import Consent
from regard.governance.keys import KeyInfo, NewKey
from regard.governance.ledger import LedgerEntry
from regard.governance.policy import PolicyDecision
from regard.governance.purposes import Purpose
from regard.governance.report import AccountabilityReport
from regard.governance.repository import Application, Governance, PolicyVersion
from regard.governance.review import ReviewCase
from regard.governance.roles import Operation
from regard.governance.signing import SignedCheckpoint
from regard.governance.verification import Verification
from regard.guard import Guard
from regard.index.base import IndexCheck
from regard.index.catalog import IndexCatalog
from regard.index.choice import open_backend
from regard.models_io import spec_from_dict
from regard.operations.administration import AdministrationOperations, Readiness
from regard.operations.audits import AuditOperations, ImageAudit, StoredAudit
from regard.operations.collections import CollectionOperations
from regard.operations.erasure import ErasureOperations, ErasureReceipt, PurgeReport
from regard.operations.faces import FaceOperations
from regard.operations.models import ModelInfo, ModelOperations
from regard.operations.oversight import OversightOperations
from regard.operations.parts import Parts
from regard.operations.records import RecordOperations
from regard.settings import Settings, load_settings
from regard.store.database import open_engine
from regard.store.repository import Store
from regard.vision.decode import ImageSource

if TYPE_CHECKING:
    from regard.fairness.report import AuditReport


class Regard:
    """Face detection, comparison, enrollment and search, governed, over an embedded store."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        settings = settings or load_settings(**overrides)
        store = Store(open_engine(settings.resolved_database_url()))
        runtime = RuntimeOptions(
            threads=settings.onnx_threads,
            providers=tuple(settings.onnx_providers),
            batch_size=settings.embed_batch_size,
        )
        registry = ModelRegistry(
            settings.resolved_model_cache_dir(),
            runtime,
            lambda: [spec_from_dict(d) for d in store.user_model_specs()],
            store.user_model_weights,
        )
        governance = Governance(store.engine, settings)
        parts = Parts(
            settings=settings,
            store=store,
            registry=registry,
            engine=FaceEngine(settings, registry),
            indexes=IndexCatalog(store, open_backend(settings, store)),
            governance=governance,
            guard=Guard(governance, registry),
        )
        self.settings = settings
        self._parts = parts
        self._faces = FaceOperations(parts)
        self._collections = CollectionOperations(parts)
        self._admin = AdministrationOperations(parts)
        self._erasure = ErasureOperations(parts)
        self._oversight = OversightOperations(parts, self._erasure)
        self._audits = AuditOperations(parts)
        self._models = ModelOperations(parts, self._audits)
        self._records = RecordOperations(parts, self._oversight, self._models)

    def close(self) -> None:
        """Sign the ledger of every tenant this process wrote to (a shutdown checkpoint), then let go of the store."""
        try:
            self._records.seal()
        finally:
            self._parts.indexes.close()
            self._parts.store.engine.dispose()

    def __enter__(self) -> Regard:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- faces: detect, compare, enroll, search (operations/faces.py) ------------------------------
    def detect(self, image: ImageSource, ctx: CallContext, detector: str | None = None) -> Detection:
        """Faces in an image, largest first, with landmarks and quality."""
        return self._faces.detect(image, ctx, detector)

    def compare(
        self,
        image_a: ImageSource,
        image_b: ImageSource,
        ctx: CallContext,
        *,
        all_faces: bool = False,
        fmr: float | None = None,
        model: str | None = None,
    ) -> Comparison:
        """1:1 verification: the first image's largest face (every face with ``all_faces``) against every face of
        the second, as Rekognition's CompareFaces does; ``best`` is the decision."""
        return self._faces.compare(image_a, image_b, ctx, all_faces=all_faces, fmr=fmr, model=model)

    def compare_faces(self, face_id_a: str, face_id_b: str, ctx: CallContext, fmr: float | None = None) -> Decision:
        """1:1 between two stored faces; refused when their models differ."""
        return self._faces.compare_faces(face_id_a, face_id_b, ctx, fmr)

    def enroll(
        self,
        collection: str,
        subject: str,
        images: ImageSource | Sequence[ImageSource],
        ctx: CallContext,
        *,
        display_name: str | None = None,
        max_faces_per_image: int = 1,
        provenance: str = "upload",
        idempotency_key: str | None = None,
    ) -> EnrollResult:
        """Add the faces of ``images`` to ``subject`` (created on first use), all or nothing.

        Per image, the largest ``max_faces_per_image`` faces are candidates; the
        rest are reported unindexed with EXCEEDS_MAX_FACES, and candidates of
        low quality with their reasons.  Every image is decoded before anything
        is written, so a bad file stores nothing.  ``provenance`` says where the
        images come from; scraped images are refused.  With ``idempotency_key``
        a retry of the same request returns the first result and stores nothing
        twice (a different request under the same key is a ``ConflictError``).
        """
        return self._faces.enroll(
            collection,
            subject,
            images,
            ctx,
            display_name=display_name,
            max_faces_per_image=max_faces_per_image,
            provenance=provenance,
            idempotency_key=idempotency_key,
        )

    def search(
        self,
        collection: str,
        image: ImageSource,
        ctx: CallContext,
        *,
        top_k: int = 5,
        fmr: float | None = None,
        min_score: float | None = None,
        all_faces: bool = False,
        source: str = "upload",
    ) -> SearchResult:
        """1:N: subjects whose best face matches the probe's largest face (or each face) above the threshold.

        For consequential purposes the matches are held for human review: the
        result then carries ``review_case`` and no matches until the reviewers
        confirm them (``review_result``).
        """
        return self._faces.search(
            collection, image, ctx, top_k=top_k, fmr=fmr, min_score=min_score, all_faces=all_faces, source=source
        )

    def search_by_face(
        self,
        collection: str,
        face_id: str,
        ctx: CallContext,
        *,
        top_k: int = 5,
        fmr: float | None = None,
        min_score: float | None = None,
    ) -> SearchResult:
        """1:N with a stored face as the probe; the probe face itself is not returned."""
        return self._faces.search_by_face(collection, face_id, ctx, top_k=top_k, fmr=fmr, min_score=min_score)

    def check_index(self, collection: str, ctx: CallContext, *, repair: bool = False) -> IndexCheck:
        """Do the collection's index and its stored templates agree (counts and ids)?  ``repair`` rebuilds it."""
        return self._collections.check_index(collection, ctx, repair=repair)

    # -- collections, subjects, faces (operations/collections.py) ----------------------------------
    def create_collection(
        self, name: str, ctx: CallContext, *, model: str | None = None, description: str = ""
    ) -> CollectionInfo:
        """A collection serves the caller's declared purpose and one embedding model, for life."""
        return self._collections.create_collection(name, ctx, model=model, description=description)

    def list_collections(self, ctx: CallContext, offset: int = 0, limit: int = 100) -> Page:
        return self._collections.list_collections(ctx, offset, limit)

    def describe_collection(self, name: str, ctx: CallContext) -> CollectionInfo:
        return self._collections.describe_collection(name, ctx)

    def delete_collection(self, name: str, ctx: CallContext) -> int:
        """Delete a collection, its subjects, templates and index; returns templates removed."""
        return self._collections.delete_collection(name, ctx)

    def list_subjects(self, collection: str, ctx: CallContext, offset: int = 0, limit: int = 100) -> Page:
        return self._collections.list_subjects(collection, ctx, offset, limit)

    def list_faces(
        self, collection: str, ctx: CallContext, *, subject: str | None = None, offset: int = 0, limit: int = 100
    ) -> Page:
        return self._collections.list_faces(collection, ctx, subject=subject, offset=offset, limit=limit)

    def face(self, face_id: str, ctx: CallContext) -> FaceRecord:
        """One stored face of the tenant, with its thumbnail when thumbnails are kept."""
        return self._collections.face(face_id, ctx)

    def delete_faces(self, collection: str, face_ids: Sequence[str], ctx: CallContext) -> int:
        """Delete templates and their index entries; returns how many were removed."""
        return self._collections.delete_faces(collection, face_ids, ctx)

    def delete_subject(self, collection: str, subject: str, ctx: CallContext) -> int:
        """Delete a subject, its templates and index entries; returns templates removed."""
        return self._collections.delete_subject(collection, subject, ctx)

    # -- tenants, keys, purposes, policies, applications (operations/administration.py) ------------
    def create_tenant(self, tenant: str, ctx: CallContext, display_name: str = "") -> None:
        """A new tenant (system role)."""
        self._admin.create_tenant(tenant, ctx, display_name)

    def list_tenants(self, ctx: CallContext) -> list[str]:
        """Every tenant (system role)."""
        return self._admin.list_tenants(ctx)

    def create_api_key(
        self,
        roles: list[str],
        ctx: CallContext,
        *,
        owner: str | None = None,
        label: str = "",
        expires_in_days: int | None = 365,
        tenant: str | None = None,
    ) -> NewKey:
        """A new key for ``tenant`` (default: the caller's), belonging to ``owner``; the token is shown once."""
        return self._admin.create_api_key(
            roles, ctx, owner=owner, label=label, expires_in_days=expires_in_days, tenant=tenant
        )

    def list_api_keys(self, ctx: CallContext) -> list[KeyInfo]:
        return self._admin.list_api_keys(ctx)

    def revoke_api_key(self, key_id: str, ctx: CallContext) -> None:
        self._admin.revoke_api_key(key_id, ctx)

    def readiness(self) -> Readiness:
        """Whether the database answers and the configured models are installed (for health checks)."""
        return self._admin.readiness()

    def authenticate(
        self,
        token: str,
        purpose: str = "unspecified",
        case_reference: str | None = None,
        origin: str = "",
        remote: bool = False,
    ) -> CallContext:
        """The call context of an API key: its tenant, owner and roles, with the purpose the caller declares."""
        return self._admin.authenticate(token, purpose, case_reference, origin, remote)

    def declare_purpose(
        self,
        name: str,
        ctx: CallContext,
        *,
        category: str,
        legal_basis: str,
        data_subjects: str,
        retention_days: int,
        max_collection_subjects: int,
        consequential: bool,
        description: str = "",
    ) -> Purpose:
        """Declare why the tenant uses faces; prohibited categories are refused."""
        return self._admin.declare_purpose(
            name,
            ctx,
            category=category,
            legal_basis=legal_basis,
            data_subjects=data_subjects,
            retention_days=retention_days,
            max_collection_subjects=max_collection_subjects,
            consequential=consequential,
            description=description,
        )

    def list_purposes(self, ctx: CallContext) -> list[Purpose]:
        return self._admin.list_purposes(ctx)

    def apply_policy(self, text: str, ctx: CallContext) -> PolicyVersion:
        """Apply a new version of the tenant's YAML policy."""
        return self._admin.apply_policy(text, ctx)

    def policy_history(self, ctx: CallContext) -> list[PolicyVersion]:
        return self._admin.policy_history(ctx)

    def policy_text(self, ctx: CallContext) -> str:
        return self._admin.policy_text(ctx)

    def explain(
        self,
        ctx: CallContext,
        operation: Operation,
        collection: str | None = None,
        *,
        subjects_after: int | None = None,
        probe_faces: int = 1,
        source: str = "upload",
        provenance: str = "upload",
    ) -> PolicyDecision:
        """Dry run: what the policy engine would decide for such a call, with its trace.  Records nothing."""
        return self._admin.explain(
            ctx,
            operation,
            collection,
            subjects_after=subjects_after,
            probe_faces=probe_faces,
            source=source,
            provenance=provenance,
        )

    def submit_application(
        self,
        kind: Literal["scale", "category"],
        purpose: str,
        requested: dict[str, Any],
        justification: str,
        ctx: CallContext,
    ) -> Application:
        """Apply to exceed a scale limit or to use a restricted category."""
        return self._admin.submit_application(kind, purpose, requested, justification, ctx)

    def decide_application(
        self, application_id: int, approve: bool, reason: str, ctx: CallContext, valid_days: int = 365
    ) -> Application:
        """Approve or reject an application (an authenticated reviewer who did not submit it)."""
        return self._admin.decide_application(application_id, approve, reason, ctx, valid_days)

    def list_applications(self, ctx: CallContext) -> list[Application]:
        return self._admin.list_applications(ctx)

    # -- consent, erasure, retention, review (operations/oversight.py, operations/erasure.py) ------
    def record_consent(
        self,
        subject: str,
        purposes: list[str],
        evidence_ref: str,
        ctx: CallContext,
        *,
        scope: str = "",
        given_at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> Consent:
        """Record a subject's consent to declared purposes, with a reference to its evidence."""
        return self._oversight.record_consent(
            subject, purposes, evidence_ref, ctx, scope=scope, given_at=given_at, expires_at=expires_at
        )

    def list_consents(self, ctx: CallContext) -> list[Consent]:
        return self._oversight.list_consents(ctx)

    def withdraw_consent(self, subject: str, ctx: CallContext) -> ErasureReceipt:
        """Withdraw every consent of the subject and erase their templates everywhere in the tenant."""
        return self._oversight.withdraw_consent(subject, ctx)

    def erase_subject(
        self, subject: str, ctx: CallContext, *, collections: list[str] | None = None, reason: str = "request"
    ) -> ErasureReceipt:
        """Erase a subject's templates, thumbnails, index entries and review candidacies (everywhere, or in
        ``collections``); a full erasure ends their consents.  The receipt states what went and what remains."""
        return self._erasure.erase_subject(subject, ctx, collections=collections, reason=reason)

    def erasures(self, ctx: CallContext) -> list[dict[str, Any]]:
        """The tenant's erasure receipts, oldest first."""
        return self._erasure.erasures(ctx)

    def purge(self, ctx: CallContext, *, now: datetime | None = None, all_tenants: bool = False) -> PurgeReport:
        """Delete templates past their delete-by date: the caller's tenant, or every tenant (system role)."""
        return self._erasure.purge(ctx, now=now, all_tenants=all_tenants)

    def pending_reviews(self, ctx: CallContext) -> list[str]:
        return self._oversight.pending_reviews(ctx)

    def review_case(self, case_id: str, ctx: CallContext) -> ReviewCase:
        """The probe, candidates, operating threshold and the model's measured error rates."""
        return self._oversight.review_case(case_id, ctx)

    def review_candidate(
        self,
        case_id: str,
        subject: str,
        action: Literal["confirm", "reject"],
        justification: str,
        ctx: CallContext,
    ) -> str:
        """One reviewer's confirm or reject on one candidate; returns the case status.

        Reviewers are people authenticated by their own API key (never the local
        operator), each counted once however many keys they hold, and never the
        person who ran the search.
        """
        return self._oversight.review_candidate(case_id, subject, action, justification, ctx)

    def review_image(self, case_id: str, ctx: CallContext, subject: str | None = None) -> bytes | None:
        """The probe's face thumbnail (JPEG) of a case, or a candidate's when ``subject`` is given."""
        return self._oversight.review_image(case_id, ctx, subject)

    def review_result(self, case_id: str, ctx: CallContext) -> ReviewCase:
        """The case as the requester sees it: only confirmed candidates are released."""
        return self._oversight.review_result(case_id, ctx)

    # -- the ledger and the accountability report (operations/records.py) --------------------------
    def verify_ledger(
        self,
        ctx: CallContext,
        *,
        against: str | None = None,
        public_key: str | None = None,
        witness_copies: Mapping[str, str] | None = None,
    ) -> Verification:
        """Check the chain, the signed checkpoints (trusted key), the witnesses, and optionally a published report.

        ``against``: a report's text (Markdown, HTML or JSON) whose checkpoint the history must still match;
        ``public_key``: the key to trust (hex or a file); ``witness_copies``: witness lines kept elsewhere.
        """
        return self._records.verify_ledger(ctx, against=against, public_key=public_key, witness_copies=witness_copies)

    def ledger_entries(self, ctx: CallContext, after_seq: int = 0, limit: int | None = None) -> list[LedgerEntry]:
        return self._records.ledger_entries(ctx, after_seq, limit)

    def ledger_length(self, ctx: CallContext) -> int:
        """How many entries the tenant's ledger holds."""
        return self._records.ledger_length(ctx)

    def export_ledger(self, ctx: CallContext) -> Iterator[str]:
        """The tenant's ledger as JSON Lines, one line per entry, streamed."""
        return self._records.export_ledger(ctx)

    def checkpoint_ledger(self, ctx: CallContext) -> SignedCheckpoint | None:
        """Sign the tenant's last ledger entry now."""
        return self._records.checkpoint_ledger(ctx)

    def ledger_public_key(self, ctx: CallContext) -> str:
        return self._records.ledger_public_key(ctx)

    def accountability_report(self, ctx: CallContext, purpose: str | None = None) -> AccountabilityReport:
        """What the tenant declared, did, was refused and reviewed (optionally for one purpose)."""
        return self._records.accountability_report(ctx, purpose)

    # -- models and the fairness gate (operations/models.py) ---------------------------------------
    def models(self) -> list[ModelInfo]:
        """Every model the registry knows, and whether it is installed here."""
        return self._models.models()

    def model(self, model_id: str) -> ModelInfo:
        """One model's registry entry: licence, thresholds, measured accuracy, whether it is installed."""
        return self._models.model(model_id)

    def register_model(
        self,
        model_id: str,
        model: bytes,
        thresholds: dict[str, float],
        ctx: CallContext,
        licence: str = "user-supplied",
    ) -> ModelSpec:
        """Register your own ArcFace-style ONNX embedder (its bytes) with its calibrated thresholds."""
        return self._models.register_model(model_id, model, thresholds, ctx, licence)

    def activate_model(
        self,
        model_id: str,
        ctx: CallContext,
        *,
        report_id: str | None = None,
        signed_report: bytes | None = None,
        fmr: float | None = None,
    ) -> dict[str, Any]:
        """Activate a model at an operating point if a trusted fairness report (a stored one's id, or a signed
        one's bytes) passes the tenant's gate."""
        return self._models.activate_model(model_id, ctx, report_id=report_id, signed_report=signed_report, fmr=fmr)

    def deployments(self, ctx: CallContext) -> list[dict[str, Any]]:
        return self._models.deployments(ctx)

    def fairness_gate(self, report_id: str, ctx: CallContext) -> GateResult:
        """The tenant's fairness gate applied to a stored audit report, without activating anything."""
        return self._models.fairness_gate(report_id, ctx)

    # -- fairness audits and outside auditors (operations/audits.py) -------------------------------
    def audit_images(
        self, request: ImageAudit, ctx: CallContext, progress: Callable[[int, int], None] | None = None
    ) -> StoredAudit:
        """Embed a manifest's labelled images, audit them, sign the report and record it (local callers only)."""
        return self._audits.audit_images(request, ctx, progress)

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
        """Audit a score file's bytes (any system); the report is stored and recorded, and stays unverified."""
        return self._audits.audit_scores(
            data,
            ctx,
            labels=labels,
            system=system,
            system_version=system_version,
            name=name,
            fmr=fmr,
            threshold=threshold,
            config=config,
        )

    def audit_reports(self, ctx: CallContext) -> list[StoredAudit]:
        """The tenant's stored audit reports, each with whether it verifies."""
        return self._audits.audit_reports(ctx)

    def audit_report(self, report_id: str, ctx: CallContext) -> StoredAudit:
        """One stored audit report, with whether it verifies."""
        return self._audits.audit_report(report_id, ctx)

    def verify_audit_report(self, data: bytes, ctx: CallContext) -> tuple[AuditReport, ReportVerification]:
        """Whether a report's bytes are signed by this instance or by an auditor the tenant registered."""
        return self._audits.verify_report(data, ctx)

    def register_auditor(self, name: str, public_key: str, ctx: CallContext, description: str = "") -> Auditor:
        """Trust reports signed with an outside auditor's Ed25519 public key (hex) in the caller's tenant."""
        return self._audits.register_auditor(name, public_key, ctx, description)

    def auditors(self, ctx: CallContext) -> list[Auditor]:
        return self._audits.auditors(ctx)

    def revoke_auditor(self, name: str, ctx: CallContext) -> Auditor:
        """Stop trusting an auditor's key; activations made on its reports stay recorded."""
        return self._audits.revoke_auditor(name, ctx)

    def fairness_cards(self, ctx: CallContext) -> list[AuditReport]:
        """The fairness audits shipped with Regard for its built-in models: the published cards, with their data."""
        return self._models.fairness_cards(ctx)
