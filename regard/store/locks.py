"""A named lock held until the end of the caller's write transaction, on SQLite and PostgreSQL.

Use it where a check and the write that depends on it must not interleave
with another writer's (a chain's tail, a collection's subject count under a
scale limit).  Call it first in the transaction, before the reads it protects:

    with store.transaction() as session:
        serialise(session, f"collection:{ref.id}")
        count = ...            # read, check, then write: no other holder of the name runs in between

PostgreSQL: ``pg_advisory_xact_lock`` on a 64-bit hash of the name; holders
of other names run in parallel.  SQLite has one writer at a time: a no-op
write takes the database's write lock now (not at the first real write), so
reads after it see every committed change and no other writer can start until
commit.  Either way the lock is released by commit or rollback, never by hand.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

_ADVISORY = text("SELECT pg_advisory_xact_lock(:key)")
# Any write statement makes SQLite take the RESERVED (write) lock, even one that changes no row.
_SQLITE_WRITE_LOCK = text("UPDATE collections SET revision = revision WHERE 0")


def dialect_name(session: Session | Connection) -> str:
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name


def lock_key(name: str) -> int:
    """A signed 64-bit key for ``name`` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def serialise(session: Session | Connection, name: str) -> None:
    """Hold the lock ``name`` until the current transaction ends (see the module docstring)."""
    dialect = dialect_name(session)
    if dialect == "postgresql":
        session.execute(_ADVISORY, {"key": lock_key(name)})
    elif dialect == "sqlite":
        session.execute(_SQLITE_WRITE_LOCK)
