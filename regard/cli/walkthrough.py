"""``regard demo`` without a photo folder: the accountable flow, step by step, narrated.

Every step is an ordinary call of the service, so what it shows is what the
library, the CLI and the API do: a purpose declared, consent recorded, an
enrollment, a search, a prohibited purpose refused, a consequential search held
and released by two named reviewers, an erasure with its receipt, the ledger
verified and the fairness gate applied.  It needs only what ``pip install``
brings (scikit-image's sample photo) and can be run again: it works in its own
tenant, recreates its collections, and revokes the reviewer keys it makes.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import typer

from regard.context import CallContext
from regard.errors import NotFoundError, PolicyDeniedError
from regard.fairness.report import parse_report
from regard.fairness.signing import KeySigner, sign_report

if TYPE_CHECKING:
    from regard.service import Regard

TENANT = "demo"
ALBUM, DOOR = "demo-album", "demo-door"
PHOTOS, ACCESS = "demo-photos", "demo-access"
SUBJECT = "eileen"
REVIEWERS = ("ada (demo reviewer)", "ben (demo reviewer)")


@dataclass(frozen=True)
class Photos:
    enroll: bytes  # scikit-image's astronaut (Eileen Collins, NASA, public domain)
    probe: bytes  # the same photo mirrored: another view of the same face


def sample_photos() -> Photos:
    from PIL import Image
    from skimage import data

    def jpeg(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()

    astronaut = np.asarray(data.astronaut())  # type: ignore[no-untyped-call]
    return Photos(jpeg(astronaut), jpeg(np.ascontiguousarray(astronaut[:, ::-1])))


def say(step: str, text: str) -> None:
    typer.secho(f"\n{step}", bold=True)
    typer.echo(f"   {text}")


def did(text: str) -> None:
    typer.echo(f"   -> {text}")


def run(service: Regard) -> None:
    """The whole flow, in the demo tenant; ends with the reviewer keys revoked."""
    typer.echo(f"regard demo: the accountable flow, in tenant '{TENANT}' of {service.settings.resolved_database_url()}")
    local = CallContext.local(TENANT, origin="demo")
    if TENANT not in service.list_tenants(local):
        service.create_tenant(TENANT, local, "regard demo")
    photos = sample_photos()
    declare_purposes(service, local)
    record_consent(service, local.with_purpose(PHOTOS))
    enroll_and_search(service, local.with_purpose(PHOTOS), photos)
    refuse_prohibited(service, local)
    keys = [service.create_api_key(["reviewer"], local, owner=name, label="regard demo", expires_in_days=1)
            for name in REVIEWERS]  # fmt: skip
    try:
        review(service, local.with_purpose(ACCESS), [service.authenticate(k.token) for k in keys], photos)
    finally:
        for key in keys:
            service.revoke_api_key(key.key_id, local)
    erase(service, local.with_purpose(PHOTOS))
    verify(service, local)
    fairness_gate(service, local)
    typer.echo(f"\ndone; the two reviewer keys were revoked.  See it all: regard --tenant {TENANT} ledger show")


def declare_purposes(service: Regard, ctx: CallContext) -> None:
    say("1. Purpose", "Every biometric call names a purpose the tenant declared: why, on whom, on what legal basis.")
    declared = {p.name for p in service.list_purposes(ctx)}
    for name, category, basis, consequential, who in (
        (PHOTOS, "photo-organisation", "consent", False, "people in the demo photo album who agreed"),
        (ACCESS, "access-control", "contract", True, "members allowed through the demo door"),
    ):
        if name not in declared:
            service.declare_purpose(
                name,
                ctx.with_purpose(name),
                category=category,
                legal_basis=basis,
                data_subjects=who,
                retention_days=7,
                max_collection_subjects=100,
                consequential=consequential,
                description="regard demo",
            )
        kind = "consequential: matches are held for human review" if consequential else "not consequential"
        did(f"declared purpose '{name}': {category}, legal basis {basis}, 7-day retention, {kind}")


def record_consent(service: Regard, ctx: CallContext) -> None:
    say("2. Consent", f"'{PHOTOS}' relies on consent: enrolling someone needs a consent in force, with its evidence.")
    service.record_consent(SUBJECT, [PHOTOS], "demo consent form #1", ctx)
    did(f"consent recorded for '{SUBJECT}' to '{PHOTOS}' (evidence: demo consent form #1)")


def enroll_and_search(service: Regard, ctx: CallContext, photos: Photos) -> None:
    size = service.model(service.settings.embedder).spec.embedding_size
    say("3. Enrollment", f"A template ({size} numbers) is kept per face, never the photo; it is deleted after 7 days.")
    for collection, purpose in ((ALBUM, PHOTOS), (DOOR, ACCESS)):
        scoped = ctx.with_purpose(purpose)
        with contextlib.suppress(NotFoundError):
            service.delete_collection(collection, scoped)
        service.create_collection(collection, scoped, description="created by regard demo")
        face = service.enroll(collection, SUBJECT, [photos.enroll], scoped).indexed[0]
        did(f"enrolled '{SUBJECT}' into '{collection}' (purpose '{purpose}', face {face.face_id[:8]})")
    say("4. Search", "A mirrored photo as the probe; the policy engine allows it and the ledger records it.")
    result = service.search(ALBUM, photos.probe, ctx, top_k=1)
    match = result.results[0].matches[0]
    did(
        f"search: '{match.subject}' matched, score {match.score:.1f}"
        f" (cosine {match.similarity:.3f} >= {result.threshold:.3f}, the threshold at FMR {result.fmr:g})"
    )


def refuse_prohibited(service: Regard, ctx: CallContext) -> None:
    say("5. A prohibited purpose", "Some uses no configuration, policy or role can enable: emotion recognition is one.")
    try:
        service.declare_purpose(
            "demo-mood",
            ctx.with_purpose("demo-mood"),
            category="emotion-recognition",
            legal_basis="consent",
            data_subjects="shoppers",
            retention_days=1,
            max_collection_subjects=10,
            consequential=False,
        )
    except PolicyDeniedError as exc:
        did(f"refused: {exc.reason} [rule {exc.rule_id}], and the refusal is in the ledger")
    else:  # pragma: no cover - the built-in prohibition is tested elsewhere
        raise AssertionError("emotion recognition was declared")


def review(service: Regard, requester: CallContext, reviewers: list[CallContext], photos: Photos) -> None:
    say(
        "6. A consequential search",
        f"'{ACCESS}' is consequential: matches are held until two different people, each with their own key, confirm.",
    )
    held = service.search(DOOR, photos.probe, requester, top_k=1)
    assert held.review_case is not None
    case = held.review_case
    entry = service.ledger_entries(requester)[-1].fields["result"]
    did(
        f"held for review as case {case[:8]}: the requester sees no match yet, and the ledger holds"
        f" {entry['candidates']} sealed candidate(s) (a digest), not who"
    )
    for number, reviewer in enumerate(reviewers, 1):
        status = service.review_candidate(case, SUBJECT, "confirm", "same face: nose, ears, hairline", reviewer)
        did(f"reviewer {number}, {reviewer.actor} (key {reviewer.key_id}), confirms: case {status}")
    released = service.review_result(case, requester).released
    did(f"released to the requester: {', '.join(c['subject'] for c in released)}; the ledger now names them")


def erase(service: Regard, ctx: CallContext) -> None:
    say("7. Erasure", f"'{SUBJECT}' asks to be forgotten: every template, thumbnail and index entry goes.")
    receipt = service.erase_subject(SUBJECT, ctx, reason="demo request")
    removed = ", ".join(f"{len(faces)} template(s) from '{c}'" for c, faces in sorted(receipt.removed.items()))
    did(f"erasure receipt: removed {removed}; consents ended: {receipt.consents_ended}")
    did(
        f"nothing of '{SUBJECT}' remains: {'yes' if receipt.verified_absent else 'NO'};"
        f" recorded as ledger entry {receipt.ledger_seq} ({receipt.ledger_hash[:12]}...)"
    )


def verify(service: Regard, ctx: CallContext) -> None:
    say("8. The ledger", "Every call above, allowed or refused, is an entry in a hash chain with signed checkpoints.")
    result = service.verify_ledger(ctx)
    if result.ok:
        did(f"ledger intact: {result.entries} entries, {result.checkpoints} signed checkpoint(s) verified")
    else:
        did("ledger BROKEN: " + "; ".join(result.problems))


def fairness_gate(service: Regard, ctx: CallContext) -> None:
    say(
        "9. The fairness gate",
        "A model is activated only on a trusted audit of its error rates per group that meets the policy's limits.",
    )
    cards = resources.files("regard.fairness").joinpath("cards")
    model = (
        service.settings.embedder
        if cards.joinpath(f"{service.settings.embedder}_gender.json").is_file()
        else "accurate"
    )
    card = cards.joinpath(f"{model}_gender.json").read_bytes()
    fmr = parse_report(card).target_fmr  # the operating point the card audits
    try:
        service.activate_model(model, ctx, signed_report=card, fmr=fmr)
    except PolicyDeniedError as exc:
        did(f"the shipped LFW card of '{model}', unsigned, cannot activate it: {exc.reason}")
    auditor = KeySigner.generate()  # an outside lab's key, for the demo, forgotten after it
    lab = f"demo-lab-{auditor.key_id[:8]}"  # a new lab each run: an auditor's name is never reused
    service.register_auditor(lab, auditor.public_key_hex, ctx, description="an outside lab, for the demo")
    signed = sign_report(parse_report(card), auditor, lab).to_json().encode()
    did(f"the tenant registers an outside auditor, '{lab}' (key {auditor.key_id}), who signs that card")
    try:
        summary = service.activate_model(model, ctx, signed_report=signed, fmr=fmr)
    except PolicyDeniedError as exc:
        did(f"signed, the card is judged on its numbers, and refused: {exc.reason} [rule {exc.rule_id}]")
        did("a tenant states other limits in its policy (fairness_gate.limits); every activation is recorded")
    else:
        did(f"'{model}' activated under this tenant's policy: {summary['gate']}")
    service.revoke_auditor(lab, ctx)
