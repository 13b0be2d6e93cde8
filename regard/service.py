"""Regard: the front door.  Every operation of the library, the CLI and the API is a method here.

Each method takes a ``CallContext`` (actor, tenant, declared purpose, roles);
none has a default.  The work is done by one part per resource
(``regard/operations/``), and every part passes each call through one guard
(``regard/guard.py``): role, policy decision, ledger entry.  So the CLI, the
API and library users go through the same rules, and a new feature goes into
the part of its resource.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from regard.backends.registry import ModelRegistry
from regard.backends.runtime import RuntimeOptions
from regard.engine import FaceEngine
from regard.governance.repository import Governance
from regard.guard import Guard
from regard.index.catalog import IndexCatalog
from regard.index.choice import open_backend
from regard.models_io import spec_from_dict
from regard.operations.administration import AdministrationOperations
from regard.operations.audits import AuditOperations
from regard.operations.collections import CollectionOperations
from regard.operations.erasure import ErasureOperations
from regard.operations.faces import FaceOperations
from regard.operations.models import ModelOperations
from regard.operations.oversight import OversightOperations
from regard.operations.parts import Parts
from regard.operations.records import RecordOperations
from regard.settings import Settings, load_settings
from regard.store.database import open_engine
from regard.store.repository import Store

Part = TypeVar("Part")
P = ParamSpec("P")
R = TypeVar("R")


def delegate(
    part: str, method: Callable[Concatenate[Part, P], R], doc: str | None = None
) -> Callable[Concatenate[Any, P], R]:
    """A method of ``Regard`` that hands the call to ``method`` of the part held in the attribute ``part``.

    The signature is the part's, so type checkers and ``help()`` see the real
    parameters, and the front door cannot drift from the operation it names.
    """

    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(getattr(self, part), *args, **kwargs)

    functools.update_wrapper(call, method)
    if doc:
        call.__doc__ = doc
    return call


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
    detect = delegate("_faces", FaceOperations.detect, "Faces in an image, largest first, with landmarks and quality.")
    compare = delegate(
        "_faces",
        FaceOperations.compare,
        """1:1 verification: the first image's largest face (every face with ``all_faces``) against every face of
        the second, as Rekognition's CompareFaces does; ``best`` is the decision.""",
    )
    compare_faces = delegate(
        "_faces",
        FaceOperations.compare_faces,
        "1:1 between two stored faces; refused when their models differ.",
    )
    enroll = delegate(
        "_faces",
        FaceOperations.enroll,
        """Add the faces of ``images`` to ``subject`` (created on first use), all or nothing.

        Per image, the largest ``max_faces_per_image`` faces are candidates; the
        rest are reported unindexed with EXCEEDS_MAX_FACES, and candidates of
        low quality with their reasons.  Every image is decoded before anything
        is written, so a bad file stores nothing.  ``provenance`` says where the
        images come from; scraped images are refused.  With ``idempotency_key``
        a retry of the same request returns the first result and stores nothing
        twice (a different request under the same key is a ``ConflictError``).""",
    )
    search = delegate(
        "_faces",
        FaceOperations.search,
        """1:N: subjects whose best face matches the probe's largest face (or each face) above the threshold.

        For consequential purposes the matches are held for human review: the
        result then carries ``review_case`` and no matches until the reviewers
        confirm them (``review_result``).""",
    )
    search_by_face = delegate(
        "_faces",
        FaceOperations.search_by_face,
        "1:N with a stored face as the probe; the probe face itself is not returned.",
    )
    check_index = delegate(
        "_collections",
        CollectionOperations.check_index,
        "Do the collection's index and its stored templates agree (counts and ids)?  ``repair`` rebuilds it.",
    )

    # -- collections, subjects, faces (operations/collections.py) ----------------------------------
    create_collection = delegate(
        "_collections",
        CollectionOperations.create_collection,
        "A collection serves the caller's declared purpose and one embedding model, for life.",
    )
    list_collections = delegate("_collections", CollectionOperations.list_collections)
    describe_collection = delegate("_collections", CollectionOperations.describe_collection)
    delete_collection = delegate(
        "_collections",
        CollectionOperations.delete_collection,
        "Delete a collection, its subjects, templates and index; returns templates removed.",
    )
    list_subjects = delegate("_collections", CollectionOperations.list_subjects)
    list_faces = delegate("_collections", CollectionOperations.list_faces)
    face = delegate(
        "_collections",
        CollectionOperations.face,
        "One stored face of the tenant, with its thumbnail when thumbnails are kept.",
    )
    delete_faces = delegate(
        "_collections",
        CollectionOperations.delete_faces,
        "Delete templates and their index entries; returns how many were removed.",
    )
    delete_subject = delegate(
        "_collections",
        CollectionOperations.delete_subject,
        "Delete a subject, its templates and index entries; returns templates removed.",
    )

    # -- tenants, keys, purposes, policies, applications (operations/administration.py) ------------
    create_tenant = delegate("_admin", AdministrationOperations.create_tenant, "A new tenant (system role).")
    list_tenants = delegate("_admin", AdministrationOperations.list_tenants, "Every tenant (system role).")
    create_api_key = delegate(
        "_admin",
        AdministrationOperations.create_api_key,
        "A new key for ``tenant`` (default: the caller's), belonging to ``owner``; the token is shown once.",
    )
    list_api_keys = delegate("_admin", AdministrationOperations.list_api_keys)
    revoke_api_key = delegate("_admin", AdministrationOperations.revoke_api_key)
    readiness = delegate(
        "_admin",
        AdministrationOperations.readiness,
        "Whether the database answers and the configured models are installed (for health checks).",
    )
    authenticate = delegate(
        "_admin",
        AdministrationOperations.authenticate,
        "The call context of an API key: its tenant, owner and roles, with the purpose the caller declares.",
    )
    declare_purpose = delegate(
        "_admin",
        AdministrationOperations.declare_purpose,
        "Declare why the tenant uses faces; prohibited categories are refused.",
    )
    list_purposes = delegate("_admin", AdministrationOperations.list_purposes)
    apply_policy = delegate(
        "_admin",
        AdministrationOperations.apply_policy,
        "Apply a new version of the tenant's YAML policy.",
    )
    policy_history = delegate("_admin", AdministrationOperations.policy_history)
    policy_text = delegate("_admin", AdministrationOperations.policy_text)
    explain = delegate(
        "_admin",
        AdministrationOperations.explain,
        "Dry run: what the policy engine would decide for such a call, with its trace.  Records nothing.",
    )
    submit_application = delegate(
        "_admin",
        AdministrationOperations.submit_application,
        "Apply to exceed a scale limit or to use a restricted category.",
    )
    decide_application = delegate(
        "_admin",
        AdministrationOperations.decide_application,
        "Approve or reject an application (an authenticated reviewer who did not submit it).",
    )
    list_applications = delegate("_admin", AdministrationOperations.list_applications)

    # -- consent, erasure, retention, review (operations/oversight.py, operations/erasure.py) ------
    record_consent = delegate(
        "_oversight",
        OversightOperations.record_consent,
        "Record a subject's consent to declared purposes, with a reference to its evidence.",
    )
    list_consents = delegate("_oversight", OversightOperations.list_consents)
    withdraw_consent = delegate(
        "_oversight",
        OversightOperations.withdraw_consent,
        "Withdraw every consent of the subject and erase their templates everywhere in the tenant.",
    )
    erase_subject = delegate(
        "_erasure",
        ErasureOperations.erase_subject,
        """Erase a subject's templates, thumbnails, index entries and review candidacies (everywhere, or in
        ``collections``); a full erasure ends their consents.  The receipt states what went and what remains.""",
    )
    erasures = delegate("_erasure", ErasureOperations.erasures, "The tenant's erasure receipts, oldest first.")
    purge = delegate(
        "_erasure",
        ErasureOperations.purge,
        "Delete templates past their delete-by date: the caller's tenant, or every tenant (system role).",
    )
    pending_reviews = delegate("_oversight", OversightOperations.pending_reviews)
    review_case = delegate(
        "_oversight",
        OversightOperations.review_case,
        "The probe, candidates, operating threshold and the model's measured error rates.",
    )
    review_candidate = delegate(
        "_oversight",
        OversightOperations.review_candidate,
        """One reviewer's confirm or reject on one candidate; returns the case status.

        Reviewers are people authenticated by their own API key (never the local
        operator), each counted once however many keys they hold, and never the
        person who ran the search.""",
    )
    review_image = delegate(
        "_oversight",
        OversightOperations.review_image,
        "The probe's face thumbnail (JPEG) of a case, or a candidate's when ``subject`` is given.",
    )
    review_result = delegate(
        "_oversight",
        OversightOperations.review_result,
        "The case as the requester sees it: only confirmed candidates are released.",
    )

    # -- the ledger and the accountability report (operations/records.py) --------------------------
    verify_ledger = delegate(
        "_records",
        RecordOperations.verify_ledger,
        """Check the chain, the signed checkpoints (trusted key), the witnesses, and optionally a published report.

        ``against``: a report's text (Markdown, HTML or JSON) whose checkpoint the history must still match;
        ``public_key``: the key to trust (hex or a file); ``witness_copies``: witness lines kept elsewhere.""",
    )
    ledger_entries = delegate("_records", RecordOperations.ledger_entries)
    ledger_length = delegate("_records", RecordOperations.ledger_length, "How many entries the tenant's ledger holds.")
    export_ledger = delegate(
        "_records",
        RecordOperations.export_ledger,
        "The tenant's ledger as JSON Lines, one line per entry, streamed.",
    )
    checkpoint_ledger = delegate(
        "_records",
        RecordOperations.checkpoint_ledger,
        "Sign the tenant's last ledger entry now.",
    )
    ledger_public_key = delegate("_records", RecordOperations.ledger_public_key)
    accountability_report = delegate(
        "_records",
        RecordOperations.accountability_report,
        "What the tenant declared, did, was refused and reviewed (optionally for one purpose).",
    )

    # -- models and the fairness gate (operations/models.py) ---------------------------------------
    models = delegate(
        "_models",
        ModelOperations.models,
        "Every model the registry knows, and whether it is installed here.",
    )
    model = delegate(
        "_models",
        ModelOperations.model,
        "One model's registry entry: licence, thresholds, measured accuracy, whether it is installed.",
    )
    register_model = delegate(
        "_models",
        ModelOperations.register_model,
        "Register your own ArcFace-style ONNX embedder (its bytes) with its calibrated thresholds.",
    )
    activate_model = delegate(
        "_models",
        ModelOperations.activate_model,
        """Activate a model at an operating point if a trusted fairness report (a stored one's id, or a signed
        one's bytes) passes the tenant's gate.""",
    )
    deployments = delegate("_models", ModelOperations.deployments)
    fairness_gate = delegate(
        "_models",
        ModelOperations.fairness_gate,
        "The tenant's fairness gate applied to a stored audit report, without activating anything.",
    )

    # -- fairness audits and outside auditors (operations/audits.py) -------------------------------
    audit_images = delegate(
        "_audits",
        AuditOperations.audit_images,
        "Embed a manifest's labelled images, audit them, sign the report and record it (local callers only).",
    )
    audit_scores = delegate(
        "_audits",
        AuditOperations.audit_scores,
        "Audit a score file's bytes (any system); the report is stored and recorded, and stays unverified.",
    )
    audit_reports = delegate(
        "_audits",
        AuditOperations.audit_reports,
        "The tenant's stored audit reports, each with whether it verifies.",
    )
    audit_report = delegate(
        "_audits",
        AuditOperations.audit_report,
        "One stored audit report, with whether it verifies.",
    )
    verify_audit_report = delegate(
        "_audits",
        AuditOperations.verify_report,
        "Whether a report's bytes are signed by this instance or by an auditor the tenant registered.",
    )
    register_auditor = delegate(
        "_audits",
        AuditOperations.register_auditor,
        "Trust reports signed with an outside auditor's Ed25519 public key (hex) in the caller's tenant.",
    )
    auditors = delegate("_audits", AuditOperations.auditors)
    revoke_auditor = delegate(
        "_audits",
        AuditOperations.revoke_auditor,
        "Stop trusting an auditor's key; activations made on its reports stay recorded.",
    )
    fairness_cards = delegate(
        "_models",
        ModelOperations.fairness_cards,
        "The fairness audits shipped with Regard for its built-in models: the published cards, with their data.",
    )
