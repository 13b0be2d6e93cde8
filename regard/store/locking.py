"""Serialised writes: the one place that knows how each database takes a write lock before reading.

A limit checked on a count read in one transaction and enforced in another lets
concurrent writers race past it (six processes enrolling under a limit of three
all succeed).  So a write that depends on what it reads takes the lock first and
reads inside the same transaction:

    with store.transaction() as session:
        serialise(session, f"collection:{ref.id}")
        count = ...            # read, check, then write: no other holder of the name runs in between

* SQLite has one writer at a time.  ``BEGIN IMMEDIATE`` takes the write lock
  before the first read (or, in a transaction that has already read, a write
  that changes nothing takes it now); other writers wait for it
  (``busy_timeout``) instead of reading a count that is about to change, or
  failing when their snapshot turns out stale.
* PostgreSQL: ``pg_advisory_xact_lock`` on a 64-bit hash of the name; holders
  of other names run in parallel.

Either way the lock is released by commit or rollback, never by hand.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

_ADVISORY = text("SELECT pg_advisory_xact_lock(:key)")
# Any write statement makes SQLite take the RESERVED (write) lock, even one that changes no row.
_SQLITE_WRITE_LOCK = text("UPDATE collections SET revision = revision WHERE 0")


def dialect_name(target: Session | Connection) -> str:
    bind = target.get_bind() if isinstance(target, Session) else target
    return bind.dialect.name


def lock_key(name: str) -> int:
    """A signed 64-bit key for ``name`` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def begin_write(target: Session | Connection) -> None:
    """Take SQLite's write lock now, at the start of the transaction (nothing to do on other databases).

    Must come before the transaction's first statement to use ``BEGIN
    IMMEDIATE``; later, ``serialise`` takes the lock with a write instead.
    """
    connection = target.connection() if isinstance(target, Session) else target
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:  # type: ignore[attr-defined]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def serialise(target: Session | Connection, name: str) -> None:
    """Hold the lock ``name`` until the current transaction ends (see the module docstring)."""
    dialect = dialect_name(target)
    if dialect == "postgresql":
        target.execute(_ADVISORY, {"key": lock_key(name)})
    elif dialect == "sqlite":
        begin_write(target)
        target.execute(_SQLITE_WRITE_LOCK)


def lock_collection(session: Session, collection_id: int) -> None:
    """Serialise every writer of one collection until this transaction ends (its subject count stays true)."""
    serialise(session, f"collection:{collection_id}")
