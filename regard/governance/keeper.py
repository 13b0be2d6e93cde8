"""The ledger's keeper: appends entries, signs checkpoints when due, copies both to the witnesses after commit.

A checkpoint is signed every ``ledger_checkpoint_every`` entries, at once after
a consequential entry (a held search, a review action, an erasure or purge, a
change of policy, keys or models), when a report is written, and when the
service closes, so the tail no signature covers stays short.  Witness lines
are written only once the transaction that holds their entry has committed.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from regard.errors import InvalidInputError
from regard.governance import ledger, witness
from regard.governance.ledger import LedgerEntry, LedgerFields
from regard.governance.signing import (
    CheckpointSigner,
    LedgerKeyWarning,
    SignedCheckpoint,
    TrustedKey,
    parse_public_key,
    public_key_of,
    warn_beside_data,
)
from regard.settings import Settings

_PENDING = "regard.witness"  # Session.info key: witness records waiting for the commit


class LedgerKeeper:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._every = settings.ledger_checkpoint_every
        self.witness = witness.Witness(settings.resolved_ledger_witness())
        self._signer: CheckpointSigner | None = None
        self._lock = threading.Lock()
        self._written: set[str] = set()  # tenants this process appended to: sealed on shutdown

    # -- signing -----------------------------------------------------------------------------------
    @property
    def signer(self) -> CheckpointSigner:
        """The signing key, loaded (or created) on first use; never by verification."""
        with self._lock:
            if self._signer is None:
                key_file = self._settings.resolved_ledger_key_file()
                signer = CheckpointSigner(key_file)
                if self.key_beside_data():
                    warn_beside_data(key_file)
                if signer.created:
                    self._warn_if_replaced(signer)
                self._signer = signer
            return self._signer

    def _data_dirs(self) -> list[Path]:
        from sqlalchemy.engine import make_url

        folders = [self._settings.data_dir]
        url = make_url(self._settings.resolved_database_url())
        if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
            folders.append(Path(url.database).parent)
        return folders

    def _warn_if_replaced(self, signer: CheckpointSigner) -> None:
        with Session(self._engine) as s:
            others = ledger.other_keys(s, signer.key_id)
        if others:
            warnings.warn(
                LedgerKeyWarning(
                    f"the ledger signing key {signer.key_file} was missing and a new key {signer.key_id} was "
                    f"created, but the database holds checkpoints signed by {', '.join(others)}: verification "
                    "against the old public key will flag every checkpoint signed from now on. Restore the old key "
                    "unless it was lost or compromised"
                ),
                stacklevel=4,
            )

    def sign(self, session: Session | Connection, tenant: str, seq: int, entry_hash: str) -> SignedCheckpoint:
        cp = self.signer.sign(tenant, seq, entry_hash)
        ledger.store_checkpoint(session, cp)
        return cp

    # -- appending ---------------------------------------------------------------------------------
    def append(
        self, session: Session | Connection, tenant: str, fields: LedgerFields
    ) -> tuple[LedgerEntry, list[dict[str, Any]]]:
        """Append inside the caller's transaction; returns the entry and the witness records to publish after it."""
        entry = ledger.append(session, tenant, fields)
        self._written.add(tenant)
        records = [witness.entry_line(tenant, entry.seq, entry.entry_hash)] if self.witness.active else []
        if ledger.checkpoint_due(entry.seq, fields, self._every):
            cp = self.sign(session, tenant, entry.seq, entry.entry_hash)
            if records:
                records.append(witness.checkpoint_line(cp))
        return entry, records

    def publish(self, records: list[dict[str, Any]]) -> None:
        """Copy records of a committed transaction to the witnesses."""
        self.witness.write(records)

    def publish_after_commit(self, session: Session, records: list[dict[str, Any]]) -> None:
        """Copy ``records`` to the witnesses once ``session`` commits; drop them if it rolls back."""
        if not records:
            return
        pending = session.info.get(_PENDING)
        if pending is None:
            pending = session.info[_PENDING] = []
            event.listen(session, "after_commit", lambda s: self.publish(s.info.pop(_PENDING, [])))
            event.listen(session, "after_rollback", lambda s: s.info.pop(_PENDING, None))
        pending.extend(records)

    # -- checkpoints on demand ---------------------------------------------------------------------
    def checkpoint(self, tenant: str, *, reuse: bool = False) -> SignedCheckpoint | None:
        """Sign the tenant's last entry now; with ``reuse``, only when no checkpoint covers it yet."""
        with self._engine.begin() as conn:
            last = ledger.last_entry(conn, tenant)
            if last is None:
                return None
            if reuse and ledger.latest_checkpoint_seq(conn, tenant) >= last[0]:
                found = self._latest_own(conn, tenant, last)
                if found is not None:
                    return found
            cp = self.sign(conn, tenant, *last)
        if self.witness.active:
            self.publish([witness.checkpoint_line(cp)])
        return cp

    def _latest_own(self, conn: Connection, tenant: str, last: tuple[int, str]) -> SignedCheckpoint | None:
        row = ledger.checkpoint_row(conn, tenant, last[0])
        signer = self.signer
        if row is None or row.key_id != signer.key_id:
            return None
        return SignedCheckpoint(
            tenant, row.seq, row.entry_hash, row.at, row.key_id, signer.public_key_hex, row.signature
        )

    def seal(self) -> list[SignedCheckpoint]:
        """On shutdown: sign the last entry of every tenant this process wrote to, unless a checkpoint covers it."""
        sealed = []
        for tenant in sorted(self._written):
            cp = self.checkpoint(tenant, reuse=True)
            if cp is not None:
                sealed.append(cp)
        self._written.clear()
        self.witness.close()
        return sealed

    # -- what verification trusts and reads --------------------------------------------------------
    def trusted_key(
        self, explicit: str | None, report: SignedCheckpoint | None, *, files: bool = True
    ) -> TrustedKey | None:
        """Pinned first (the caller's, then the setting), then a published report's, then the local key file.

        Never the database, and never a key created for the occasion.  Without
        ``files`` (remote callers) the caller's key must be given as hex, not as a file to read here.
        """
        if explicit is not None:
            return TrustedKey(parse_public_key(explicit, files=files), "given by the verifier")
        if self._settings.ledger_public_key:
            return TrustedKey(parse_public_key(self._settings.ledger_public_key), "pinned (ledger_public_key)")
        if report is not None:
            return TrustedKey(report.public_key, "the published report")
        key_file = self._settings.resolved_ledger_key_file()
        found = public_key_of(key_file)
        return TrustedKey(found, f"the signing key file {key_file}", pinned=False) if found else None

    def key_beside_data(self) -> bool:
        """Whether the signing key file sits inside the data directory or beside the SQLite database."""
        key = self._settings.resolved_ledger_key_file().resolve()
        return any(key.is_relative_to(folder.resolve()) for folder in self._data_dirs())

    def witness_sources(self, copies: Mapping[str, str] | None) -> list[tuple[str, Iterable[str]]]:
        """The configured witness files, then the copies a verifier brought (e.g. a syslog server's file)."""
        copies = copies or {}
        if not isinstance(copies, Mapping) or not all(isinstance(t, str) for t in copies.values()):
            raise InvalidInputError("witness copies are texts by name")
        sources: list[tuple[str, Iterable[str]]] = [(str(p), witness.file_lines(p)) for p in self.witness.files()]
        sources += [(str(name), text.splitlines()) for name, text in copies.items()]
        return sources
