"""Verifying a tenant's ledger: the hash chain, the signed checkpoints, the witnesses, and a published report.

Each check catches what the others cannot (docs/governance.md, "Threat model"):
the chain catches a changed, deleted, inserted or reordered entry; a checkpoint
signed by the trusted key catches a rewrite or truncation up to it by someone
without the key; a witness out of reach catches a rewritten, truncated or
forged tail and deleted checkpoints; the checkpoint of a published report
catches a rewrite up to it even by someone holding the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from regard.governance import witness
from regard.governance.ledger import GENESIS, chain_hash, stored_checkpoints
from regard.governance.signing import SignedCheckpoint, TrustedKey
from regard.store.governance_tables import LedgerEntryRow

# A witness line is written just after its entry commits; a verifier reading in between must not cry wolf.
WITNESS_GRACE = timedelta(seconds=5)


@dataclass
class Verification:
    """What ``ledger verify`` found: counts, the key trusted, problems (the ledger fails) and notes."""

    tenant: str
    entries: int = 0
    checkpoints: int = 0
    witnessed: int = 0  # entries a witness holds a hash for
    trusted_key_id: str | None = None
    trusted_key_source: str = ""
    witnesses: list[str] = field(default_factory=list)
    against_seq: int | None = None  # the entry a report's checkpoint signs, when checked against one
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Chain:
    hashes: dict[int, str] = field(default_factory=dict)
    times: dict[int, str] = field(default_factory=dict)

    @property
    def last(self) -> int:
        return max(self.hashes, default=0)


def verify(
    session: Session,
    tenant: str,
    trusted: TrustedKey | None,
    sources: Iterable[tuple[str, Iterable[str]]] = (),
    against: SignedCheckpoint | None = None,
    now: datetime | None = None,
) -> Verification:
    """Check the tenant's ledger against ``trusted``, the witness ``sources`` (read after the database), ``against``."""
    result = Verification(tenant)
    if trusted is not None:
        result.trusted_key_id, result.trusted_key_source = trusted.key_id, trusted.source
        if not trusted.pinned:
            result.notes.append("the public key is not pinned (ledger_public_key): a replaced key would be trusted")
    chain = _check_chain(session, tenant, result)
    stored = [
        SignedCheckpoint(r.tenant, r.seq, r.entry_hash, r.at, r.key_id, "", r.signature)
        for r in stored_checkpoints(session, tenant)
    ]
    records = witness.read(sources, tenant)
    result.witnesses = records.sources
    _check_checkpoints(result, stored, records.checkpoints, chain, trusted)
    _check_witness(result, records, chain, now or datetime.now(UTC))
    if against is not None:
        _check_against(result, against, chain, trusted)
    return result


def _check_chain(session: Session, tenant: str, result: Verification) -> _Chain:
    chain = _Chain()
    prev, expected_seq = GENESIS, 1
    columns = (LedgerEntryRow.seq, LedgerEntryRow.at, LedgerEntryRow.body, LedgerEntryRow.prev_hash)
    rows = session.execute(
        select(*columns, LedgerEntryRow.entry_hash).where(LedgerEntryRow.tenant == tenant).order_by(LedgerEntryRow.seq)
    )
    for seq, at, body, prev_hash, entry_hash in rows:
        result.entries += 1
        if seq != expected_seq:
            result.problems.append(
                f"entry {seq}: expected sequence number {expected_seq} (entries deleted or inserted)"
            )
        if prev_hash != prev:
            result.problems.append(
                f"entry {seq}: does not link to the entry before it (deleted, inserted or reordered)"
            )
        if chain_hash(prev_hash, tenant, seq, at, body) != entry_hash:
            result.problems.append(f"entry {seq}: content does not match its hash (modified)")
        chain.hashes[seq], chain.times[seq] = entry_hash, at
        prev, expected_seq = entry_hash, seq + 1
    return chain


def _check_checkpoints(
    result: Verification,
    stored: list[SignedCheckpoint],
    witnessed: list[SignedCheckpoint],
    chain: _Chain,
    trusted: TrustedKey | None,
) -> None:
    known = {c.signature for c in stored}
    only_witnessed = list({c.signature: c for c in witnessed if c.signature not in known}.values())
    found: dict[str, list[int]] = {}
    for cp in only_witnessed:
        found.setdefault("{} in a witness but missing from the database (checkpoints deleted)", []).append(cp.seq)
    for cp in stored + only_witnessed:
        result.checkpoints += 1
        if trusted is not None and cp.key_id != trusted.key_id:
            found.setdefault(f"{{}} signed by key {cp.key_id}, not the trusted key {trusted.key_id}", []).append(cp.seq)
        elif trusted is not None and not cp.signed_by(trusted.public_key):
            found.setdefault("{}: bad signature", []).append(cp.seq)
        elif cp.seq > chain.last:
            found.setdefault(f"{{}} signed but the ledger ends at {chain.last} (tail truncated)", []).append(cp.seq)
        elif chain.hashes.get(cp.seq) != cp.entry_hash:
            found.setdefault("{}: the entry no longer has the signed hash (rewritten)", []).append(cp.seq)
    for template, seqs in found.items():
        result.problems.append(template.format(f"checkpoint(s) at entry {_listing(seqs)}"))
    if trusted is None and result.checkpoints:
        result.problems.append(
            f"no trusted public key: {result.checkpoints} checkpoint signature(s) cannot be checked "
            "(pin ledger_public_key, pass --public-key, or verify --against a published report)"
        )
    covered = max((c.seq for c in stored + only_witnessed if c.seq <= chain.last), default=0)
    if chain.last > covered:
        result.notes.append(f"entries {covered + 1}-{chain.last} come after the last signed checkpoint")


def _check_witness(result: Verification, records: witness.WitnessRecords, chain: _Chain, now: datetime) -> None:
    result.problems.extend(records.malformed)
    seen = records.entries
    result.witnessed = sum(1 for s in seen if s in chain.hashes)
    if not seen:
        return
    missing = sorted(s for s in seen if s not in chain.hashes)
    beyond = [s for s in missing if s > chain.last]
    if beyond:
        result.problems.append(
            f"a witness holds entries {_listing(beyond)} but the ledger ends at {chain.last} (truncated or deleted)"
        )
    if holes := [s for s in missing if s <= chain.last]:
        result.problems.append(f"entries {_listing(holes)} are witnessed but missing from the ledger (deleted)")
    if changed := [s for s, h in seen.items() if s in chain.hashes and chain.hashes[s] != h]:
        result.problems.append(f"entries {_listing(changed)} differ from their witnessed hash (rewritten)")
    if records.forked:
        result.problems.append(f"a witness holds two hashes for entries {_listing(list(records.forked))}")
    first = min(seen)
    unwitnessed = [s for s in chain.hashes if s > first and s not in seen and not _just_written(chain.times[s], now)]
    if unwitnessed:
        result.problems.append(
            f"entries {_listing(unwitnessed)} are in no witness (added outside Regard, "
            "or written while the witness was unreachable)"
        )


def _just_written(at: str, now: datetime) -> bool:
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return False
    return now - WITNESS_GRACE <= when <= now


def _check_against(result: Verification, claim: SignedCheckpoint, chain: _Chain, trusted: TrustedKey | None) -> None:
    result.against_seq = claim.seq
    if claim.tenant != result.tenant:
        result.problems.append(f"the report is of tenant '{claim.tenant}', not '{result.tenant}'")
        return
    if not claim.signed_by(claim.public_key):
        result.problems.append("the report's checkpoint does not carry a valid signature (the report was altered)")
        return
    if trusted is not None and trusted.public_key != claim.public_key:
        result.problems.append(
            f"the report's checkpoint was signed by key {claim.key_id}, not the trusted key {trusted.key_id}"
        )
    if claim.seq > chain.last:
        result.problems.append(
            f"the report's checkpoint signs entry {claim.seq}; the ledger now ends at {chain.last} "
            "(truncated or deleted since the report)"
        )
    elif chain.hashes.get(claim.seq) != claim.entry_hash:
        result.problems.append(
            f"entry {claim.seq} no longer has the hash the report published: the history was rewritten since"
        )


def _listing(seqs: list[int]) -> str:
    """``3``, ``3-9`` for a run, or the first few and how many more."""
    seqs = sorted(set(seqs))
    if len(seqs) > 1 and seqs[-1] - seqs[0] == len(seqs) - 1:
        return f"{seqs[0]}-{seqs[-1]}"
    shown = ", ".join(str(s) for s in seqs[:5])
    return shown + (f" and {len(seqs) - 5} more" if len(seqs) > 5 else "")
